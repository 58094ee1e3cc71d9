"""databridge: a Python web framework served by a Go engine.

>>> from databridge import App
>>> app = App()
>>> @app.get("/")
... def index(request):
...     return {"message": "hello"}

Serve it with ``python -m databridge run module:app`` or ``app.run()``; test
it with :class:`databridge.testing.TestClient`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

# ``python -m databridge`` may be the worker supervisor, which must not load
# the Go runtime (databridge._core): it spawns the workers, and a process
# running Go must never fork. While -m locates the package, sys.argv[0] is
# "-m"; the names below are then imported on first use (or by _init(),
# which the command line calls before loading an app).
_LAZY = ("App", "HTTPError", "Header", "Path", "Query", "RequestValidator", "Response", "Route", "Router", "Server")

from ._version import __version__

__all__ = [
    "App", "HTTPError", "Header", "Path", "Query", "RequestValidator", "Response", "Route", "Router", "Server",
    "__version__",
]

_logger = logging.getLogger("databridge")


def _report(kind: str, route: str, exc: BaseException) -> None:
    """Log an error the client only sees as a 500 (called by the engine)."""
    if kind == "response":
        message = 'handler for route %s returned a value that cannot be sent'
    else:
        message = 'handler for route %s raised'
    _logger.error(message, route, exc_info=(type(exc), exc, exc.__traceback__))


def _init() -> None:
    """Import the engine and configure it (once)."""
    global _initialized
    if _initialized:
        return
    from . import _core
    from .app import App
    from .exceptions import HTTPError
    from .params import Header, Path, Query, RequestValidator
    from .responses import Response, jsonable
    from .routing import Route, Router
    from .server import Server

    _core.configure(response_class=Response, http_error_class=HTTPError, report=_report, jsonable=jsonable)
    globals().update(
        App=App, HTTPError=HTTPError, Header=Header, Path=Path, Query=Query, RequestValidator=RequestValidator,
        Response=Response, Route=Route, Router=Router, Server=Server,
    )
    _initialized = True


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        _init()
        return globals()[name]
    raise AttributeError(f"module 'databridge' has no attribute {name!r}")


_initialized = False
if sys.argv[:1] != ["-m"]:
    _init()
