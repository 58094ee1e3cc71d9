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

import importlib
import logging
import sys
from typing import TYPE_CHECKING, Any

from ._version import __version__

# The public names and the modules that define them. ``python -m databridge``
# may be the worker supervisor, which must not load the Go runtime
# (databridge._core): it spawns the workers, and a process running Go must
# never fork. While -m locates the package, sys.argv[0] is "-m"; the names
# are then imported on first use (or by _init(), which the command line
# calls before loading an app). Anywhere else they are imported at once.
_PUBLIC = {
    "App": ".app",
    "BackgroundTasks": ".background",
    "Depends": ".dependencies",
    "FileResponse": ".responses",
    "HTMLResponse": ".responses",
    "HTTPError": ".exceptions",
    "HTTPException": ".exceptions",
    "Header": ".params",
    "Form": ".params",
    "File": ".params",
    "JSONResponse": ".responses",
    "MutableHeaders": ".responses",
    "Path": ".params",
    "PlainTextResponse": ".responses",
    "Query": ".params",
    "RedirectResponse": ".responses",
    "Request": ".requests",
    "RequestValidationError": ".exceptions",
    "RequestValidator": ".params",
    "Response": ".responses",
    "Route": ".routing",
    "Router": ".routing",
    "Server": ".server",
    "StartupError": ".server",
    "State": ".requests",
    "ServerSentEvent": ".streaming",
    "StaticFiles": ".staticfiles",
    "StreamingResponse": ".streaming",
    "EventSourceResponse": ".streaming",
    "is_disconnected": ".streaming",
    "WebSocket": ".websockets",
    "WebSocketDisconnect": ".websockets",
    "WebSocketException": ".exceptions",
    "WebSocketState": ".websockets",
    "inline": "._runtime",
    "UploadFile": ".uploads",
    "ClientDisconnect": ".requests",
}

__all__ = [
    "App", "BackgroundTasks", "Depends", "FileResponse", "HTMLResponse", "HTTPError", "HTTPException", "Header",
    "JSONResponse", "MutableHeaders", "Path", "PlainTextResponse", "Query", "RedirectResponse", "Request",
    "RequestValidationError", "RequestValidator", "Response", "Route", "Router", "Server", "StartupError", "State",
    "StaticFiles", "__version__", "inline",
    "StreamingResponse", "EventSourceResponse", "ServerSentEvent", "is_disconnected",
    "WebSocket", "WebSocketDisconnect", "WebSocketException", "WebSocketState",
    "UploadFile", "ClientDisconnect", "Form", "File",
]

if TYPE_CHECKING:
    from ._runtime import inline
    from .app import App
    from .background import BackgroundTasks
    from .dependencies import Depends
    from .exceptions import HTTPError, HTTPException, RequestValidationError, WebSocketException
    from .params import File, Form, Header, Path, Query, RequestValidator
    from .requests import ClientDisconnect, Request, State
    from .responses import (
        FileResponse,
        HTMLResponse,
        JSONResponse,
        MutableHeaders,
        PlainTextResponse,
        RedirectResponse,
        Response,
    )
    from .routing import Route, Router
    from .server import Server, StartupError
    from .staticfiles import StaticFiles
    from .streaming import EventSourceResponse, ServerSentEvent, StreamingResponse, is_disconnected
    from .uploads import UploadFile
    from .websockets import WebSocket, WebSocketDisconnect, WebSocketState

_logger = logging.getLogger("databridge")


def _report(kind: str, route: str, exc: BaseException) -> None:
    """Log an error the client only sees as a 500 (called by the engine)."""
    if kind == "response":
        message = 'handler for route %s returned a value that cannot be sent'
    else:
        message = 'handler for route %s raised'
    _logger.error(message, route, exc_info=(type(exc), exc, exc.__traceback__))


def _init() -> None:
    """Import the engine, configure it and the public names (once)."""
    global _initialized
    if _initialized:
        return
    from . import _core
    from .exceptions import HTTPError
    from .responses import FileResponse, Response, jsonable

    _core.configure(
        response_class=Response, http_error_class=HTTPError, report=_report, jsonable=jsonable,
        file_response_class=FileResponse,
    )
    for name, module in _PUBLIC.items():
        globals()[name] = getattr(importlib.import_module(module, __name__), name)
    _initialized = True


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        _init()
        return globals()[name]
    raise AttributeError(f"module 'databridge' has no attribute {name!r}")


_initialized = False
if sys.argv[:1] != ["-m"]:
    _init()
