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

from . import _core
from ._version import __version__
from .app import App
from .exceptions import HTTPError
from .params import Header, Path, Query, RequestValidator
from .responses import Response, jsonable
from .routing import Route, Router
from .server import Server
from .websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = [
    "App", "HTTPError", "Header", "Path", "Query", "RequestValidator", "Response", "Route", "Router", "Server",
    "WebSocket", "WebSocketDisconnect", "WebSocketState", "__version__",
]

_logger = logging.getLogger("databridge")


def _report(kind: str, route: str, exc: BaseException) -> None:
    """Log an error the client only sees as a 500 (called by the engine)."""
    if kind == "response":
        message = 'handler for route %s returned a value that cannot be sent'
    else:
        message = 'handler for route %s raised'
    _logger.error(message, route, exc_info=(type(exc), exc, exc.__traceback__))


_core.configure(response_class=Response, http_error_class=HTTPError, report=_report, jsonable=jsonable)
