"""The production options of :class:`~databridge.server.Server` (issue #11),
kept apart from the limits so that server.py stays small: validated here
and passed to the engine in the same JSON (prod.go)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Server

__all__ = ["ACCESS_LOG_FORMATS", "production_options", "startup_line"]

ACCESS_LOG_FORMATS = ("combined", "common", "json")

#: Server(...) keyword -> type. ``fd`` serves an inherited listening socket
#: instead of binding host:port; ``control_fd`` and ``max_requests`` are the
#: worker's (supervisor.py).
_PRODUCTION: dict[str, type | tuple[type, ...]] = {
    "fd": int,
    "access_log": bool,
    "access_log_format": str,
    "limit_concurrency": int,
    "proxy_headers": bool,
    "forwarded_allow_ips": str,
    "root_path": str,
    "metrics": bool,
    "metrics_port": int,
    "metrics_host": str,
    "control_fd": int,
    "max_requests": int,
}


def production_options(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        kind = _PRODUCTION[name]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"databridge: {name} must be an int, not {type(value).__name__}")
        if kind is int and value < 0 and not (name == "metrics_port" and value == -1):
            raise ValueError(f"databridge: {name} must be 0 or more, not {value!r}")
        if kind is bool:
            value = bool(value)
        if kind is str and not isinstance(value, str):
            raise TypeError(f"databridge: {name} must be a str, not {type(value).__name__}")
        if name == "access_log_format" and value not in ACCESS_LOG_FORMATS:
            raise ValueError(f"databridge: access_log_format must be one of {', '.join(ACCESS_LOG_FORMATS)}")
        out[name] = value
    return out


def startup_line(server: Server, workers: int) -> str:
    """``databridge: 1 worker, http://127.0.0.1:8000, TLS off, HTTP/2 on (h2c)``"""
    return describe_setup(server.display_url or server.url, workers, server.ssl, server.http2,
                          server._options)


def describe_setup(url: str, workers: int, ssl: bool, http2: bool, options: dict[str, Any]) -> str:
    parts = [f"{workers} worker{'s' if workers != 1 else ''}", url, "TLS on" if ssl else "TLS off"]
    parts.append(("HTTP/2 on (h2 by ALPN)" if ssl else "HTTP/2 on (h2c)") if http2 else "HTTP/2 off")
    if options.get("access_log"):
        parts.append(f"access log {options.get('access_log_format') or 'combined'}")
    if options.get("limit_concurrency"):
        parts.append(f"limit {options['limit_concurrency']} in flight")
    if options.get("proxy_headers"):
        parts.append(f"proxy headers from {options.get('forwarded_allow_ips', '127.0.0.1')}")
    return "databridge: " + ", ".join(parts)
