"""Native middleware: configured here, run by the Go engine with no Python
call per request.

>>> from databridge import App
>>> from databridge.middleware import CORSMiddleware, GZipMiddleware
>>> app = App()
>>> app.add_middleware(CORSMiddleware, allow_origins=["https://example.com"])
>>> app.add_middleware(GZipMiddleware, minimum_size=1000)

The classes take Starlette's keyword arguments, with its defaults, and
behave as Starlette's middleware of the same name (starlette 1.10). As in
Starlette, the middleware added last is the outermost: it sees the request
first and the response last.

Differences: ``allow_origin_regex`` is Go's RE2 syntax (Python's without
look-around and back-references), matched against the whole origin;
:class:`GZipMiddleware` also offers br and zstd (see its docstring).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any, ClassVar

__all__ = ["CORSMiddleware", "GZipMiddleware", "TrustedHostMiddleware", "HTTPSRedirectMiddleware", "NativeMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
SAFELISTED_HEADERS = {"Accept", "Accept-Language", "Content-Language", "Content-Type"}

DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/grpc",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "audio/*",
    "font/woff",
    "font/woff2",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/event-stream",
    "video/*",
)


class NativeMiddleware:
    """A middleware the engine runs in Go: its options, checked when it is
    made, and the ``kind`` that names it to the engine."""

    kind: ClassVar[str]

    def options(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def options_json(self) -> str:
        return json.dumps(self.options())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({args})"


def _strings(cls: str, name: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (Collection, Sequence)):
        raise TypeError(f'databridge: {cls}({name}=...) must be a list of str, such as ["{value}"]'
                        if isinstance(value, str) else f"databridge: {cls}({name}=...) must be a list of str")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"databridge: {cls}({name}=...) must be a list of str, not one holding {item!r}")
    return items


class CORSMiddleware(NativeMiddleware):
    """Cross-origin resource sharing, as Starlette's CORSMiddleware: a
    preflight (OPTIONS with Origin and Access-Control-Request-Method) is
    answered by the engine; other responses get the access-control-*
    fields and ``Vary: Origin``."""

    kind = "cors"

    def __init__(
        self,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        allow_headers: Collection[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Collection[str] = (),
        max_age: int = 600,
    ) -> None:
        name = "CORSMiddleware"
        self.allow_origins = _strings(name, "allow_origins", allow_origins)
        self.allow_methods = _strings(name, "allow_methods", allow_methods)
        self.allow_headers = _strings(name, "allow_headers", allow_headers)
        self.allow_credentials = bool(allow_credentials)
        if allow_origin_regex is not None and not isinstance(allow_origin_regex, str):
            raise TypeError("databridge: CORSMiddleware(allow_origin_regex=...) must be a str or None")
        self.allow_origin_regex = allow_origin_regex
        self.allow_private_network = bool(allow_private_network)
        self.expose_headers = _strings(name, "expose_headers", expose_headers)
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            raise TypeError("databridge: CORSMiddleware(max_age=...) must be an int (seconds)")
        self.max_age = max_age


class GZipMiddleware(NativeMiddleware):
    """Response compression, as Starlette's GZipMiddleware, negotiating
    gzip, br and zstd from Accept-Encoding: the highest q-value wins; on a
    tie br is preferred, then zstd, then gzip. A response whose body
    reaches ``minimum_size`` bytes, or that is streamed, is compressed;
    responses already encoded, 206s, ``exclude_content_types``, HEAD
    requests, 204/304 and smaller bodies are left alone. ``compresslevel``
    (1-9) is gzip's level, zstd's and brotli's quality.
    ``thread_minimum_size`` is accepted for Starlette's signature and
    unused: the engine compresses on the request's goroutine."""

    kind = "gzip"

    def __init__(
        self,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = 128 * 1024,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        for key, value in (("minimum_size", minimum_size), ("compresslevel", compresslevel),
                           ("thread_minimum_size", thread_minimum_size)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"databridge: GZipMiddleware({key}=...) must be an int")
        if minimum_size < 0:
            raise ValueError("databridge: GZipMiddleware(minimum_size=...) must be 0 or more")
        if not 1 <= compresslevel <= 9:
            raise ValueError(f"databridge: GZipMiddleware(compresslevel={compresslevel}) must be in 1..9")
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = _strings("GZipMiddleware", "exclude_content_types", exclude_content_types)


class TrustedHostMiddleware(NativeMiddleware):
    """Only serves requests whose Host is in ``allowed_hosts`` (``"*"``:
    any; ``"*.example.com"``: its subdomains), else 400 "Invalid host
    header", as Starlette's; with ``www_redirect``, a host whose ``www.``
    form is allowed is redirected there."""

    kind = "trustedhost"

    def __init__(self, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True) -> None:
        hosts = ["*"] if allowed_hosts is None else _strings("TrustedHostMiddleware", "allowed_hosts", allowed_hosts)
        for pattern in hosts:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*" and not pattern.startswith("*.")):
                raise ValueError("databridge: TrustedHostMiddleware: Domain wildcard patterns must be like '*.example.com'.")
        self.allowed_hosts = hosts
        self.www_redirect = bool(www_redirect)


class HTTPSRedirectMiddleware(NativeMiddleware):
    """Redirects http:// requests to https:// (ws:// to wss://) with a 307,
    as Starlette's."""

    kind = "httpsredirect"

    def __init__(self) -> None:
        pass
