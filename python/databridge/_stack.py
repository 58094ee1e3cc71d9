"""The app's Python stack: ``@app.middleware("http")`` functions and
exception handlers, around each route's endpoint, and the response hook that
passes the responses Go makes (404, 405, 413, 422 ...) through the same
stack.

Layers, outermost first, as in Starlette:

1. server errors: an exception nothing handled goes to the handler for 500
   or ``Exception`` (else it propagates: the engine logs it, answers 500);
2. the middleware, the last one added outermost;
3. exception handlers for every other class or status, and HTTPError's own
   response;
4. the endpoint (or, for a Go-made response, that response).

The stack is built when a server or a test client starts (App._build): an
app without middleware or exception handlers keeps its plain endpoints and
no hook, so it never enters Python for what Go answers.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._runtime import call_endpoint, wraps_endpoint
from .background import after_response
from .exceptions import HTTPError, HTTPException, RequestValidationError
from .requests import Request
from .responses import Response
from .validation import ValidationErrorResponse

if TYPE_CHECKING:
    from .app import App

__all__ = ["as_response", "Stack"]

CallNext = Callable[[Request], Awaitable[Response]]


def as_response(value: Any) -> Response:
    """What a handler returned, as the :class:`Response` the engine would
    send (README: "What a handler returns")."""
    if isinstance(value, Response):
        return value
    if value is None:
        return Response(None, 204)
    if isinstance(value, dict):
        status = value.get("status")
        if isinstance(status, int) and not isinstance(status, bool) and set(value) <= {"status", "body", "headers"}:
            return _with_body(status, value, "body" in value, value.get("body"), value.get("headers"))
        return Response(value)
    if isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], int) and not isinstance(value[0], bool):
        return _with_body(value[0], None, True, value[1], value[2] if len(value) == 3 else None)
    return Response(value)


def _with_body(status: int, _: Any, has_body: bool, body: Any, headers: Any) -> Response:
    if has_body and body is None:  # an explicit None body is JSON null
        response = Response(b"null", status, headers)
        if "content-type" not in response.headers:
            response.headers["content-type"] = "application/json"
        return response
    return Response(body, status, headers)


def http_error_response(exc: HTTPError) -> Response:
    return Response({"error": exc.detail}, exc.status, exc.headers)


async def _call(handler: Callable[..., Any], *args: Any) -> Any:
    result = handler(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


class Stack:
    """The app's middleware and exception handlers, frozen when built."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.middleware = list(app._http_middleware)  # outermost first
        handlers = dict(app.exception_handlers)
        self.server_error = handlers.pop(500, None) or handlers.pop(Exception, None)
        handlers.pop(Exception, None)
        self.handlers = handlers
        # The chain is made once: each request carries its endpoint.
        chain: CallNext = self._handled
        for mw in reversed(self.middleware):
            chain = _bind(mw, chain)
        self._chain = chain

    @property
    def empty(self) -> bool:
        return not self.middleware and self.server_error is None and not self.handlers

    @property
    def wants_hook(self) -> bool:
        """Whether Go-made responses must come to Python."""
        if self.middleware:
            return True
        return any(
            isinstance(key, int)
            or (isinstance(key, type) and (issubclass(key, (HTTPError, RequestValidationError)) or issubclass(HTTPError, key)))
            for key in self.handlers
        )

    # -- lookups -----------------------------------------------------------

    def _for_exception(self, exc: BaseException) -> Callable[..., Any] | None:
        for cls in type(exc).__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None

    def _for_http_error(self, exc: HTTPError) -> Callable[..., Any] | None:
        """By status, then by class; HTTPError and HTTPException (FastAPI's
        name, a subclass) are interchangeable, as Starlette's and FastAPI's
        HTTPException are."""
        return self.handlers.get(exc.status) or self._for_exception(exc) or self.handlers.get(HTTPException)

    # -- the layers ----------------------------------------------------------

    async def _handled(self, request: Request) -> Response:
        """Layer 3 around the request's endpoint (layer 4)."""
        endpoint = request._endpoint
        if endpoint is None:
            raise RuntimeError("databridge: call_next() must be given the Request the middleware received")
        try:
            result = await call_endpoint(endpoint, request.scope, **request._kwargs)
            response = as_response(result)
        except RequestValidationError as exc:
            handler = self.handlers.get(RequestValidationError) or self.handlers.get(422) or self._for_exception(exc)
            if handler is None:
                raise
            return as_response(await _call(handler, request, exc))
        except HTTPError as exc:
            handler = self._for_http_error(exc)
            if handler is None:
                return http_error_response(exc)
            return as_response(await _call(handler, request, exc))
        except Exception as exc:
            handler = self._for_exception(exc)
            if handler is None:
                raise
            return as_response(await _call(handler, request, exc))
        if isinstance(response, ValidationErrorResponse):
            handler = self.handlers.get(RequestValidationError) or self.handlers.get(422)
            if handler is not None:
                details = response.body.get("details", []) if isinstance(response.body, dict) else []
                error = RequestValidationError(details, body=request.scope.get("body"))
                return as_response(await _call(handler, request, error))
        return response

    async def _run(self, request: Request) -> Response:
        """Layers 1-3 around the request's endpoint."""
        try:
            response = as_response(await self._chain(request))
        except Exception as exc:
            if self.server_error is None:
                raise
            self.app._log_server_error(request, exc)
            response = as_response(await _call(self.server_error, request, exc))
        return response

    # -- what the engine calls ------------------------------------------------

    def wrap(self, endpoint: Callable[..., Any]) -> Callable[..., Any]:
        """The endpoint with the stack around it: ``await wrapped(request, **kwargs)``."""
        run = self._run

        async def wrapped(request: dict[str, Any], **kwargs: Any) -> Response:
            return await run(Request(request, kwargs, endpoint))

        return wraps_endpoint(wrapped, endpoint)

    def hook(self) -> Callable[..., Any]:
        """The response hook: ``hook(request, status=, headers=, body=)`` for
        a response Go made."""
        handled_statuses = {key for key in self.handlers if isinstance(key, int)}
        run = self._run

        async def go_response(request: dict[str, Any], *, status: int, headers: list[list[str]], body: bytes) -> Response:
            made = Response(body, status, [(name, value) for name, value in headers])

            def produce(scope: dict[str, Any]) -> Any:
                if status == 422:
                    details = _json_field(body, "details")
                    if RequestValidationError in self.handlers or 422 in self.handlers:
                        raise RequestValidationError(details if isinstance(details, list) else [])
                elif status in handled_statuses or self._for_http_error(HTTPException(status)) is not None:
                    detail = _json_field(body, "error")
                    hdrs = {name: value for name, value in made.headers.items() if name.lower() in ("allow",)}
                    raise HTTPException(status, detail if detail is not None else None, hdrs or None)
                return made

            produce.__databridge_inline__ = True  # type: ignore[attr-defined]
            return await run(Request(request, None, produce))

        go_response.__qualname__ = go_response.__name__ = "databridge.response_hook"
        return go_response


def _bind(mw: Callable[..., Any], call_next: CallNext) -> CallNext:
    async def call(request: Request) -> Response:
        return as_response(await mw(request, call_next))

    return call


def _json_field(body: bytes, key: str) -> Any:
    import json

    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value.get(key) if isinstance(value, dict) else None
