"""Exceptions a handler raises to answer with an HTTP error, and a
websocket endpoint or dependency to close the connection."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

__all__ = ["HTTPError", "HTTPException", "RequestValidationError", "WebSocketException"]


class HTTPError(Exception):
    """Raise in a handler to answer ``status`` with ``{"error": detail}``.

    >>> raise HTTPError(404, "no such user")              # doctest: +SKIP
    >>> raise HTTPError(401, headers={"WWW-Authenticate": "Bearer"})  # doctest: +SKIP

    ``detail`` defaults to the reason phrase of ``status`` ("Not Found"), or
    "Error" for a code without one; it may be any JSON-encodable value.
    The engine reads :attr:`status`, :attr:`detail` and :attr:`headers`.
    """

    status: int
    detail: Any
    headers: dict[str, str] | None

    def __init__(
        self,
        status: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError(f"databridge: HTTPError status must be an int, not {type(status).__name__}")
        if not 100 <= status <= 599:
            raise ValueError(f"databridge: HTTPError status {status} is not an HTTP status code (100-599)")
        if detail is None:
            detail = _reason(status)
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers) if headers is not None else None

    @property
    def status_code(self) -> int:
        """``status``, by FastAPI's and Starlette's name."""
        return self.status

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status!r}, {self.detail!r}, headers={self.headers!r})"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class HTTPException(HTTPError):
    """FastAPI's and Starlette's name: ``HTTPException(status_code, detail=None,
    headers=None)``. The same as :class:`HTTPError` (the body is still
    ``{"error": detail}``); an exception handler for either catches both."""

    def __init__(self, status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code, detail, headers)


class RequestValidationError(Exception):
    """The request did not validate: what an exception handler for it (or for
    422) receives, as in FastAPI. :meth:`errors` lists the problems, each
    ``{"loc": [...], "msg": ..., "type": ...}``; :attr:`body` is the parsed
    JSON body (None without one)."""

    def __init__(self, errors: list[dict[str, Any]], *, body: Any = None) -> None:
        super().__init__(errors)
        self._errors = list(errors)
        self.body = body

    def errors(self) -> list[dict[str, Any]]:
        return list(self._errors)

    def __str__(self) -> str:
        return f"{len(self._errors)} validation error(s): {self._errors!r}"


class WebSocketException(Exception):
    """Raise in a websocket endpoint or one of its dependencies to close the
    connection with ``code`` and ``reason``, as Starlette's: once accepted,
    with a close frame; before, the handshake is refused with 403 (a close
    code cannot be sent before the handshake)."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"
