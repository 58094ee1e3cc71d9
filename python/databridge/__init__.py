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
from .background import BackgroundTasks
from .dependencies import Depends
from .exceptions import HTTPError, HTTPException, RequestValidationError
from .params import Header, Path, Query, RequestValidator
from .requests import Request, State
from .responses import (
    HTMLResponse,
    JSONResponse,
    MutableHeaders,
    PlainTextResponse,
    RedirectResponse,
    Response,
    jsonable,
)
from .routing import Route, Router
from .server import Server, StartupError
from .streaming import EventSourceResponse, ServerSentEvent, StreamingResponse, is_disconnected

__all__ = [
    "App", "BackgroundTasks", "Depends", "HTMLResponse", "HTTPError", "HTTPException", "Header", "JSONResponse",
    "MutableHeaders", "Path", "PlainTextResponse", "Query", "RedirectResponse", "Request", "RequestValidationError",
    "RequestValidator", "Response", "Route", "Router", "Server", "StartupError", "State", "__version__",
    "StreamingResponse", "EventSourceResponse", "ServerSentEvent", "is_disconnected",
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
