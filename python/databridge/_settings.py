"""The engine's limits and timeouts (docs/http1.md): the ``Server(...)``
keywords and ``run`` flags. In a module of their own, without
``databridge._core``, so that the worker supervisor can parse the command
line without loading the Go runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SETTINGS", "Setting", "LOOPS", "check_loop"]


@dataclass(frozen=True)
class Setting:
    """One limit or timeout of the engine: the ``Server(...)`` keyword and,
    with dashes, the ``python -m databridge run`` flag."""

    name: str
    kind: type  # int (bytes or a count) or float (seconds)
    default: float
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


#: The engine's limits and timeouts, with their defaults (docs/http1.md).
SETTINGS: tuple[Setting, ...] = (
    Setting("max_target_size", int, 16 * 1024, "longest request-target in bytes; longer gets 414"),
    Setting("max_header_size", int, 64 * 1024, "largest request line + header section in bytes; larger gets 431"),
    Setting("max_header_count", int, 100, "most header fields in a request; more gets 431"),
    Setting("max_body_size", int, 16 * 1024 * 1024, "largest request body in bytes; larger gets 413"),
    Setting("timeout_read_header", float, 10.0, "seconds to receive a request's header section"),
    Setting("timeout_read_body", float, 30.0, "seconds to receive a request body"),
    Setting("timeout_write", float, 30.0, "seconds to write a response (each write of a streamed one)"),
    Setting("timeout_keep_alive", float, 5.0, "seconds an idle keep-alive connection stays open"),
    Setting("max_requests_per_connection", int, 0, "requests served on one connection before it closes; 0: no limit"),
    Setting("timeout_graceful_shutdown", float, 30.0, "seconds requests in flight get to finish when stopping"),
)

_SETTING_NAMES = frozenset(s.name for s in SETTINGS)

#: The event loops a server can run its handlers on (``Server(loop=...)``,
#: ``--loop``), named as uvicorn names them: ``auto`` is uvloop when it is
#: installed, else asyncio's own.
LOOPS = ("auto", "asyncio", "uvloop")


def uvloop_module() -> Any:
    """The uvloop module, or None when it is not installed."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop


def check_loop(loop: str) -> str:
    """``loop`` if it names one of :data:`LOOPS` that can run here."""
    if loop not in LOOPS:
        raise ValueError(f"databridge: loop must be one of {', '.join(LOOPS)}, not {loop!r}")
    if loop == "uvloop" and uvloop_module() is None:
        raise ValueError("databridge: loop='uvloop' needs uvloop installed (pip install uvloop)")
    return loop
