"""WebSockets, with Starlette's API; the protocol runs in the Go engine.

>>> from databridge import App, WebSocket, WebSocketDisconnect
>>> app = App()
>>> @app.websocket("/ws/{room}")
... async def chat(websocket: WebSocket, room: str):
...     await websocket.accept()
...     try:
...         async for text in websocket.iter_text():
...             await websocket.send_text(f"{room}: {text}")
...     except WebSocketDisconnect:
...         pass

The engine validates the upgrade (a plain GET is answered 426, a malformed
upgrade 400), runs the handshake when the endpoint calls :meth:`accept`,
and does the framing, fragmentation, UTF-8 checks, permessage-deflate,
ping/pong, the idle timeout and the message size limit. An endpoint that
returns closes the connection with 1000; one that raises closes it with
1011 (and the exception is logged); one that raises
:class:`~databridge.WebSocketException` closes it with that exception's code
and reason; one that returns (or raises) without accepting is answered 403.

The endpoint's parameters after the WebSocket are those of an HTTP handler:
path parameters, query parameters (a repeated key gives its last value),
``Header(...)`` and ``Depends(...)``, checked and converted before it runs
(a session without a required one, or with an invalid one, is refused with
403, where FastAPI closes with 1008 before accepting). A dependency takes
the session's WebSocket through a parameter annotated :class:`WebSocket`;
a yield dependency is torn down once the endpoint returns or raises (the
exception thrown in at its ``yield``, WebSocketDisconnect included), before
the close frame is sent.

Backpressure: ``await send_*`` waits while ``send_queue`` frames wait to be
written; the engine stops reading from the client while ``receive_queue``
messages wait for the endpoint.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from . import _core
from .dependencies import solve
from .exceptions import WebSocketException

if TYPE_CHECKING:
    from .validation import WebSocketPlan

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState", "QueryParams"]

_logger = logging.getLogger("databridge")

_TEXT, _BYTES, _DISCONNECT = 0, 1, 2
_QUEUED, _FULL = 0, -1


class WebSocketDisconnect(Exception):
    """The client closed the connection (or it was lost: 1006), with the
    close ``code`` and ``reason`` it sent."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __repr__(self) -> str:
        return f"WebSocketDisconnect(code={self.code!r}, reason={self.reason!r})"


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


_CONNECTING, _CONNECTED, _CLOSED = WebSocketState.CONNECTING, WebSocketState.CONNECTED, WebSocketState.DISCONNECTED


class QueryParams(Mapping[str, str]):
    """The query string's parameters: ``params["q"]`` is the last value of
    ``q``, :meth:`getlist` all of them in order."""

    def __init__(self, query: str) -> None:
        self._list = parse_qsl(query, keep_blank_values=True)
        self._dict = dict(self._list)

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._list)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __repr__(self) -> str:
        return f"QueryParams({self._list!r})"


class WebSocket:
    """One WebSocket connection, as Starlette's ``WebSocket``: the handshake
    (:meth:`accept`), messages both ways, :meth:`close`, and the request's
    ``path_params``, ``query_params``, ``headers``, ``url``, ``client`` and
    ``scope`` (an ASGI-like dict with ``subprotocols``)."""

    def __init__(self, handle: int, queues: Any, path: str, query: str, headers: list[list[str]], path_params: dict[str, Any],
                 subprotocols: list[str], client: str, scheme: str) -> None:
        self._handle = handle
        self._q = queues  # the session's message queues (a capsule: pybridge/ws.c)
        self.path_params = path_params
        self.query_params = QueryParams(query)
        self.headers = _Headers(headers)
        host, _, port = client.rpartition(":")
        self.client = (host.strip("[]"), int(port) if port.isdigit() else 0)
        self.url = f"{scheme}://{self.headers.get('host', 'localhost')}{path}" + (f"?{query}" if query else "")
        self.scope: dict[str, Any] = {
            "type": "websocket", "path": path, "query_string": query.encode(), "scheme": scheme,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "subprotocols": subprotocols, "path_params": path_params, "client": self.client,
        }
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        self._loop = asyncio.get_running_loop()

    # -- handshake and close ----------------------------------------------

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        """Complete the handshake: 101 with ``subprotocol`` (one the client
        offered) and any extra ``headers`` (a mapping or (name, value)
        pairs, str or bytes)."""
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError('Cannot call "accept" more than once.')
        if subprotocol is not None and subprotocol not in self.scope["subprotocols"]:
            raise RuntimeError(f"subprotocol {subprotocol!r} was not offered by the client")
        pairs = _header_pairs(headers)
        future = self._loop.create_future()
        _core.ws_accept(self._handle, subprotocol, pairs, future)
        (ok,) = await future
        if not ok:
            self.application_state = self.client_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(1006)
        self.application_state = self.client_state = WebSocketState.CONNECTED

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Send a close frame with ``code`` and ``reason`` (at most 123
        bytes of UTF-8)."""
        if self.application_state is WebSocketState.DISCONNECTED:
            raise RuntimeError('Cannot call "close" once a close message has been sent.')
        reason = reason or ""
        if not (code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014) or 3000 <= code <= 4999):
            raise ValueError(f"{code} is not a close code an endpoint may send")
        if len(reason.encode()) > 123:
            raise ValueError("a close reason is at most 123 bytes of UTF-8")
        was_connecting = self.application_state is WebSocketState.CONNECTING
        self.application_state = WebSocketState.DISCONNECTED
        if not was_connecting:
            _core.ws_close(self._q, code, reason)

    # -- receiving --------------------------------------------------------

    def _next(self) -> Any:
        """The next message tuple, or a future resolved with it. A plain
        call, not a coroutine: each receive awaits at most once (one
        suspension per message is what the session costs Python)."""
        if self.client_state is _CLOSED:
            raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')
        if self.application_state is _CONNECTING:
            raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
        # One call into the engine: the message when one is waiting, else the
        # future is kept and resolved with the next one.
        future = self._loop.create_future()
        message = _core.ws_receive(self._q, future)
        return future if message is None else message

    def _disconnected(self, message: tuple[Any, ...]) -> WebSocketDisconnect:
        self.client_state = _CLOSED
        return WebSocketDisconnect(message[1], message[2])

    async def _receive(self) -> tuple[Any, ...]:
        message = self._next()
        if message.__class__ is not tuple:
            message = await message
        if message[0] == _DISCONNECT:
            raise self._disconnected(message)
        return message  # type: ignore[no-any-return]

    async def receive(self) -> dict[str, Any]:
        """The next message as an ASGI event: ``websocket.receive`` with
        ``text`` or ``bytes``, or ``websocket.disconnect`` with ``code``."""
        message = self._next()
        if message.__class__ is not tuple:
            message = await message
        kind = message[0]
        if kind == _TEXT:
            return {"type": "websocket.receive", "text": message[1]}
        if kind == _BYTES:
            return {"type": "websocket.receive", "bytes": message[1]}
        exc = self._disconnected(message)
        return {"type": "websocket.disconnect", "code": exc.code, "reason": exc.reason}

    async def receive_text(self) -> str:
        message = self._next()
        if message.__class__ is not tuple:
            message = await message
        return self._data(message, _TEXT)  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        message = self._next()
        if message.__class__ is not tuple:
            message = await message
        return self._data(message, _BYTES)  # type: ignore[no-any-return]

    def _data(self, message: tuple[Any, ...], kind: int) -> Any:
        """The data of a message of that kind; a disconnect raises it."""
        if message[0] == kind:
            return message[1]
        if message[0] == _DISCONNECT:
            raise self._disconnected(message)
        raise TypeError("expected a text message, got a binary one" if kind == _TEXT
                        else "expected a binary message, got a text one")

    async def receive_json(self, mode: str = "text") -> Any:
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        kind, data = await self._receive()
        return json.loads(data if kind == _TEXT else data.decode())

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects (then it ends)."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    # -- sending ----------------------------------------------------------

    async def _send(self, kind: int, data: str | bytes) -> None:
        if self.application_state is not _CONNECTED:
            if self.application_state is _CONNECTING:
                raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
            raise RuntimeError('Cannot call "send" once a close message has been sent.')
        rc = _core.ws_send(self._q, kind, data, None)
        while rc == _FULL:  # wait for room in the send queue
            future = self._loop.create_future()
            rc = _core.ws_send(self._q, kind, data, future)
            if rc == _FULL:
                await future
                rc = _core.ws_send(self._q, kind, data, None)
        if rc != _QUEUED:
            self.client_state = _CLOSED
            raise WebSocketDisconnect(rc)

    async def send_text(self, data: str) -> None:
        if data.__class__ is not str and not isinstance(data, str):
            raise TypeError(f"send_text expects a str, not {type(data).__name__}")
        # Fast path: connected and sent (or queued) at once; else _send
        # waits for room or raises (nothing was queued by this try).
        if self.application_state is not _CONNECTED or _core.ws_send(self._q, _TEXT, data, None) != _QUEUED:
            await self._send(_TEXT, data)

    async def send_bytes(self, data: bytes) -> None:
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, bytes):
            raise TypeError(f"send_bytes expects bytes, not {type(data).__name__}")
        if self.application_state is not _CONNECTED or _core.ws_send(self._q, _BYTES, data, None) != _QUEUED:
            await self._send(_BYTES, data)

    async def send_json(self, data: Any, mode: str = "text") -> None:
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        await self._send(_TEXT if mode == "text" else _BYTES, text if mode == "text" else text.encode())

    async def send(self, message: Mapping[str, Any]) -> None:
        """Send an ASGI event: ``websocket.accept``, ``websocket.send`` or
        ``websocket.close``."""
        kind = message["type"]
        if kind == "websocket.accept":
            await self.accept(message.get("subprotocol"), message.get("headers"))
        elif kind == "websocket.send":
            if message.get("text") is not None:
                await self.send_text(message["text"])
            else:
                await self.send_bytes(message["bytes"])
        elif kind == "websocket.close":
            await self.close(message.get("code", 1000), message.get("reason"))
        else:
            raise RuntimeError(f"unexpected ASGI message type {kind!r}")


class _Headers(Mapping[str, str]):
    def __init__(self, raw: list[list[str]]) -> None:
        self.raw = [(k, v) for k, v in raw]
        self._d: dict[str, str] = {}
        for k, v in self.raw:
            self._d[k] = f"{self._d[k]}, {v}" if k in self._d else v

    def __getitem__(self, key: str) -> str:
        return self._d[key.lower()]

    def getlist(self, key: str) -> list[str]:
        """Every value of header ``key``, in order."""
        key = key.lower()
        return [v for k, v in self.raw if k.lower() == key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for k, v in items:
        k = k.decode("latin-1") if isinstance(k, bytes) else str(k)
        v = v.decode("latin-1") if isinstance(v, bytes) else str(v)
        out.append((k, v))
    return out


_CONVERT: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "uuid": uuid.UUID}


def entry(endpoint: Callable[..., Any], plan: WebSocketPlan, label: str) -> Callable[[list[Any]], Any]:
    """The function the engine calls for each session of a route: builds
    the :class:`WebSocket`, reads its parameters and solves the
    dependencies (``plan``: see :func:`~databridge.validation.plan_websocket`),
    calls ``endpoint`` and closes the connection when it returns (1000) or
    raises (1011, or a WebSocketException's code)."""
    names = [(param.name, _CONVERT.get(param.kind)) for param in plan.path_params]

    async def session(ws: WebSocket) -> None:
        values, details = plan.read(ws)
        if details:
            _logger.debug("websocket route %s: session refused, invalid parameters: %s", label, details)
            raise WebSocketException(1008, "invalid parameters")  # FastAPI's; not accepted: 403
        if plan.solver is None:
            await endpoint(ws, **values)
            return
        root, extra = plan.solver
        solved = await solve(root, extra, ws, values, _no_background)
        if solved.stack is None:
            await endpoint(ws, **solved.kwargs)
            return
        async with solved.stack:  # the yield dependencies, torn down with the endpoint's exception, if any
            await endpoint(ws, **solved.kwargs)

    async def run(payload: list[Any]) -> None:
        handle, address, req_path, query, headers, raw_path_params, subprotocols, client, scheme = payload
        queues = _core.ws_bind(address)
        path_params = {}
        for (name, convert), raw in zip(names, raw_path_params):
            path_params[name] = convert(raw) if convert is not None else raw
        ws = WebSocket(handle, queues, req_path, query, headers, path_params, subprotocols, client, scheme)
        code = 1000
        try:
            await session(ws)
        except WebSocketDisconnect:
            pass
        except WebSocketException as exc:  # Starlette's: close with its code (before accept: 403)
            if ws.application_state is WebSocketState.CONNECTED:
                try:
                    await ws.close(exc.code, exc.reason)
                except ValueError as bad:
                    code = 1011
                    _logger.error("websocket endpoint for route %s raised %r: %s", label, exc, bad)
        except Exception as exc:  # noqa: BLE001: logged and closed with 1011
            code = 1011
            _logger.error("websocket endpoint for route %s raised", label, exc_info=(type(exc), exc, exc.__traceback__))
        if ws.application_state is WebSocketState.CONNECTED:
            ws.application_state = WebSocketState.DISCONNECTED
            try:
                _core.ws_close(queues, code, "")
            except RuntimeError:
                pass

    return run


def _no_background() -> Any:
    """``solve``'s ``new_background``: never called, the planner refuses
    BackgroundTasks on websocket routes."""
    raise RuntimeError("databridge: a websocket route has no background tasks")
