"""Depends(...) on websocket routes, over a real loopback server: values
reach the endpoint, nested and cached dependencies, yield dependencies torn
down after the session, the WebSocket and query parameters in a dependency,
dependencies= on the decorator, a router and the app, and the handshake
refused (403) by a WebSocketException or an invalid parameter."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from databridge import App, Server, WebSocket, WebSocketException

TIMEOUT = 10
Serve = Callable[[App], Server]


def open_ws(server: Server, path: str) -> ClientConnection:
    return connect(f"ws://127.0.0.1:{server.port}{path}", open_timeout=TIMEOUT, close_timeout=TIMEOUT)


def refused_status(server: Server, path: str) -> int:
    """The HTTP status the handshake to ``path`` is refused with."""
    with pytest.raises(InvalidStatus) as info:
        with open_ws(server, path):
            pass
    return info.value.response.status_code


def close_of(ws: ClientConnection) -> tuple[int, str]:
    """The close code and reason the server sends next."""
    with pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=TIMEOUT)
    assert info.value.rcvd is not None
    return info.value.rcvd.code, info.value.rcvd.reason


def test_websocket_exception_after_accept_closes_with_its_code(serve: Serve) -> None:
    app = App()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise WebSocketException(4003, "not allowed")

    server = serve(app)
    with open_ws(server, "/ws") as ws:
        ws.send("go")
        assert close_of(ws) == (4003, "not allowed")


def test_websocket_exception_before_accept_refuses_with_403(serve: Serve) -> None:
    ran: queue.Queue[str] = queue.Queue()
    app = App()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        ran.put("endpoint")
        raise WebSocketException(1008)

    server = serve(app)
    assert refused_status(server, "/ws") == 403
    assert ran.get(timeout=TIMEOUT) == "endpoint"


def test_websocket_exception_with_a_code_that_cannot_be_sent_closes_1011(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(1005)  # reserved: never sent in a close frame

    server = serve(app)
    with open_ws(server, "/ws") as ws:
        assert close_of(ws)[0] == 1011
    assert any("1005" in record.getMessage() for record in caplog.records)


def test_websocket_exception_is_exported_with_starlettes_shape() -> None:
    exc = WebSocketException(4000, "bye")
    assert (exc.code, exc.reason, str(exc)) == (4000, "bye", "4000: bye")
    assert repr(exc) == "WebSocketException(code=4000, reason='bye')"
    assert WebSocketException(1000).reason == ""
