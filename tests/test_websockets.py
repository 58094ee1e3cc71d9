"""WebSocket routes over a real socket, with the websockets client."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from databridge import App, Server, WebSocket, WebSocketDisconnect

seen: dict[str, Any] = {}


def make_app() -> App:
    app = App()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if "text" in message:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message["bytes"])

    @app.websocket("/json")
    async def json_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for value in websocket.iter_json():
            await websocket.send_json({"got": value})

    @app.websocket("/iter")
    async def iter_text(websocket: WebSocket) -> None:
        await websocket.accept()
        texts = []
        async for text in websocket.iter_text():
            texts.append(text)
            if text == "end":
                break
        await websocket.send_text(",".join(texts))

    @app.websocket("/rooms/{room}/<int:n>")
    async def rooms(websocket: WebSocket, room: str, n: int, q: str = "none") -> None:
        await websocket.accept()
        await websocket.send_json({
            "room": room, "n": n, "q": q, "path_params": websocket.path_params,
            "query": dict(websocket.query_params), "all": websocket.query_params.getlist("q"),
        })
        await websocket.close()

    @app.websocket("/client-closes")
    async def client_closes(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            seen["code"], seen["reason"] = exc.code, exc.reason

    @app.websocket("/server-closes")
    async def server_closes(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(4002, "bye")

    @app.websocket("/small", max_message_size=1024)
    async def small(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            async for text in websocket.iter_text():
                await websocket.send_text(text)
        finally:
            seen["small"] = True

    @app.websocket("/proto")
    async def proto(websocket: WebSocket) -> None:
        offered = websocket.scope["subprotocols"]
        await websocket.accept(subprotocol="chat.v2" if "chat.v2" in offered else None, headers={"x-extra": "1"})
        await websocket.send_text(",".join(offered))
        await websocket.close()

    @app.websocket("/boom")
    async def boom(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise ValueError("boom")

    @app.websocket("/reject")
    async def reject(websocket: WebSocket) -> None:
        return

    @app.websocket("/burst")
    async def burst(websocket: WebSocket) -> None:
        await websocket.accept()
        n = int(await websocket.receive_text())
        for i in range(n):
            await websocket.send_text(str(i))
        await websocket.close()

    @app.websocket("/idle", idle_timeout=0.3, ping_interval=None)
    async def idle(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            seen["idle"] = exc.code

    @app.websocket("/slow", receive_queue=4)
    async def slow(websocket: WebSocket) -> None:
        await websocket.accept()
        await asyncio.sleep(0.3)  # the client's messages pile up: the engine stops reading
        got = [await websocket.receive_text() for _ in range(200)]
        await websocket.send_text(",".join(got))

    @app.websocket("/wait-for")
    async def wait_for(websocket: WebSocket) -> None:
        await websocket.accept()
        try:  # a receive cancelled by its timeout (asyncio.wait_for)
            await asyncio.wait_for(websocket.receive_text(), 0.05)
        except asyncio.TimeoutError:
            await websocket.send_text("timed out")
        await websocket.send_text("got " + await websocket.receive_text())
        await websocket.close()

    @app.websocket("/bulk")
    async def bulk(websocket: WebSocket) -> None:
        await websocket.accept()
        n = int(await websocket.receive_text())
        for i in range(n):
            await websocket.send_bytes(_bulk_message(i))
        await websocket.send_text("end")
        await websocket.receive_text()

    return app


def _bulk_message(i: int) -> bytes:
    """Message i of /bulk: sizes from 1 byte to ~300 KB, mixed, so that some
    go out whole by the GIL thread's own write, some in part (the socket is
    full) and the rest after them through the engine's writer."""
    size = 1 + (i * 7919) % 300_000 if i % 3 else 1 + i % 200
    return (i.to_bytes(4, "big") * (size // 4 + 1))[:size]


@pytest.fixture(scope="module")
def port() -> Any:
    server = Server(make_app(), host="127.0.0.1", port=0)
    server.start()
    yield server.port
    server.stop(timeout=10)


def run(coro_fn: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro_fn(), 20))


def test_echo_text_and_bytes(port: int) -> None:
    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/echo") as ws:
            await ws.send("héllo")
            assert await ws.recv() == "héllo"
            await ws.send(b"\x00\x01\xff")
            assert await ws.recv() == b"\x00\x01\xff"
            big = "x" * 200_000
            await ws.send(big)
            assert await ws.recv() == big
            # fragmented
            await ws.send(["ab", "cd", "ef"])
            assert await ws.recv() == "abcdef"
    run(go)


def test_echo_without_compression(port: int) -> None:
    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/echo", compression=None) as ws:
            await ws.send("plain")
            assert await ws.recv() == "plain"
    run(go)


def test_compression_negotiated(port: int) -> None:
    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/echo") as ws:
            assert "permessage-deflate" in (ws.response.headers.get("sec-websocket-extensions") or "")
            await ws.send("z" * 10000)
            assert await ws.recv() == "z" * 10000
    run(go)


def test_json(port: int) -> None:
    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/json") as ws:
            await ws.send('{"a": [1, 2]}')
            assert await ws.recv() == '{"got":{"a":[1,2]}}'
    run(go)


def test_iter_text(port: int) -> None:
    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/iter") as ws:
            for text in ("a", "b", "end"):
                await ws.send(text)
            assert await ws.recv() == "a,b,end"
    run(go)


def test_path_and_query_params(port: int) -> None:
    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{port}/rooms/blue/7?q=x&q=y&z=1") as ws:
            return await ws.recv()
    import json

    got = json.loads(run(go))
    assert got == {"room": "blue", "n": 7, "q": "y", "path_params": {"room": "blue", "n": 7},
                   "query": {"q": "y", "z": "1"}, "all": ["x", "y"]}


def test_client_close_code_reaches_handler(port: int) -> None:
    seen.clear()

    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/client-closes") as ws:
            await ws.close(4001, "done")
        for _ in range(100):
            if "code" in seen:
                break
            await asyncio.sleep(0.02)
    run(go)
    assert seen["code"] == 4001
    assert seen["reason"] == "done"


def test_server_close_code_reaches_client(port: int) -> None:
    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{port}/server-closes") as ws:
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            return info.value.rcvd
    rcvd = run(go)
    assert (rcvd.code, rcvd.reason) == (4002, "bye")


def test_oversize_message_closes_1009(port: int) -> None:
    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{port}/small", compression=None) as ws:
            await ws.send("x" * 1000)
            assert await ws.recv() == "x" * 1000
            await ws.send("x" * 2000)
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            return info.value.rcvd
    assert run(go).code == 1009


def _raw_upgrade(port: int, path: str, extra: str = "") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def _read_close(s: socket.socket) -> int:
    data = b""
    while len(data) < 4:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data[0] == 0x88, data  # FIN + close
    return int.from_bytes(data[2:4], "big")


def test_invalid_utf8_closes_1007(port: int) -> None:
    s = _raw_upgrade(port, "/echo")
    payload = b"\xff\xfe"
    mask = b"\x01\x02\x03\x04"
    s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    assert _read_close(s) == 1007
    s.close()


def test_subprotocol_negotiation(port: int) -> None:
    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{port}/proto", subprotocols=["chat.v1", "chat.v2"]) as ws:
            assert ws.subprotocol == "chat.v2"
            assert ws.response.headers["x-extra"] == "1"
            return await ws.recv()
    assert run(go) == "chat.v1,chat.v2"


def test_no_subprotocol(port: int) -> None:
    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{port}/proto") as ws:
            assert ws.subprotocol is None
            return await ws.recv()
    assert run(go) == ""


def test_plain_get_is_refused(port: int) -> None:
    import requests

    r = requests.get(f"http://127.0.0.1:{port}/echo", timeout=5)
    assert r.status_code == 426
    assert r.headers["upgrade"].lower() == "websocket"
    r = requests.get(f"http://127.0.0.1:{port}/echo", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                                               "Sec-WebSocket-Version": "13"}, timeout=5)
    assert r.status_code == 400  # no key
    r = requests.post(f"http://127.0.0.1:{port}/echo", timeout=5)
    assert r.status_code == 405


def test_handler_exception_closes_1011(port: int, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{port}/boom") as ws:
            await ws.send("go")
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            return info.value.rcvd
    with caplog.at_level(logging.ERROR, logger="databridge"):
        assert run(go).code == 1011
    assert any("boom" in r.getMessage() or (r.exc_info and "boom" in str(r.exc_info[1])) for r in caplog.records)


def test_not_accepted_is_403(port: int) -> None:
    async def go() -> None:
        with pytest.raises(InvalidStatus) as info:
            async with connect(f"ws://127.0.0.1:{port}/reject"):
                pass
        assert info.value.response.status_code == 403
    run(go)


def test_send_backpressure_many_messages(port: int) -> None:
    # More messages than the send queue holds, read slowly: every one arrives in order.
    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/burst", max_queue=4) as ws:
            await ws.send("2000")
            got = []
            async for message in ws:
                got.append(message)
                if len(got) % 500 == 0:
                    await asyncio.sleep(0.05)
            assert got == [str(i) for i in range(2000)]
    run(go)


def test_receive_backpressure_many_messages(port: int) -> None:
    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/echo") as ws:
            for i in range(1000):
                await ws.send(str(i))
            for i in range(1000):
                assert await ws.recv() == str(i)
    run(go)


def test_websocket_route_validation() -> None:
    app = App()
    with pytest.raises(TypeError):
        app.websocket("/x")(lambda ws: None)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError):
        app.websocket("/x", bogus=1)


def test_testclient_websocket_connect() -> None:
    from databridge.testing import TestClient

    with TestClient(make_app()) as client:
        with client.websocket_connect("/echo") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi"
            ws.send_bytes(b"\x00")
            assert ws.receive_bytes() == b"\x00"
        with client.websocket_connect("/json") as ws:
            ws.send_json({"a": 1})
            assert ws.receive_json() == {"got": {"a": 1}}
        with client.websocket_connect("/rooms/red/3?q=k") as ws:
            assert ws.receive_json()["q"] == "k"
        with client.websocket_connect("/server-closes") as ws:
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_text()
            assert info.value.code == 4002
        with client.websocket_connect("/proto", subprotocols=["chat.v2"]) as ws:
            assert ws.accepted_subprotocol == "chat.v2"
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/reject"):
                pass
        assert client.get("/echo").status_code == 426


def test_idle_timeout_closes(port: int) -> None:
    seen.clear()
    s = _raw_upgrade(port, "/idle")
    s.settimeout(5)
    data = s.recv(4096)  # the server gives up on the silent client
    assert data == b"" or data[0] == 0x88
    for _ in range(100):
        if "idle" in seen:
            break
        import time

        time.sleep(0.02)
    assert seen["idle"] == 1006
    s.close()


def test_receive_backpressure_keeps_order(port: int) -> None:
    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{port}/slow") as ws:
            for i in range(200):
                await ws.send(str(i))
            return await ws.recv()
    assert run(go) == ",".join(str(i) for i in range(200))


def test_server_stop_closes_sessions_1001() -> None:
    import time

    app = App()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            seen["stop"] = exc.code

    server = Server(app, host="127.0.0.1", port=0)
    server.start()

    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
            start = time.monotonic()
            await asyncio.get_running_loop().run_in_executor(None, lambda: server.stop(timeout=5))
            assert time.monotonic() - start < 2
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            return info.value.rcvd.code

    seen.clear()
    assert run(go) == 1001
    assert seen["stop"] == 1001


def test_websocket_behind_gzip_and_python_middleware() -> None:
    """Middleware that wrap the response writer (GZip in Go, the Python
    stack's response hook) pass the connection hand-over through."""
    from databridge.middleware import GZipMiddleware

    app = App()
    app.add_middleware(GZipMiddleware, minimum_size=10)

    @app.middleware("http")
    async def tag(request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers["x-tagged"] = "1"
        return response

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())

    server = Server(app, host="127.0.0.1", port=0)
    server.start()
    try:
        async def go() -> None:
            async with connect(f"ws://127.0.0.1:{server.port}/echo") as ws:
                await ws.send("through the middleware " * 4)
                assert await ws.recv() == "through the middleware " * 4
        run(go)
    finally:
        server.stop(timeout=10)


def test_cancelled_receive_loses_nothing(port: int) -> None:
    # A receive cancelled by a timeout neither keeps the next message from
    # the next receive nor makes it fail ("another receive is waiting").
    async def go() -> Any:
        async with connect(f"ws://127.0.0.1:{port}/wait-for") as ws:
            assert await ws.recv() == "timed out"
            await ws.send("hello")
            return await ws.recv()
    assert run(go) == "got hello"


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_mixed_sizes_to_a_slow_reader_with_pings(port: int, compression: str | None) -> None:
    # Large and small messages to a client that reads slowly (the server's
    # socket fills, so frames are cut and finished by the engine's writer)
    # while the client pings (the server's pongs go between frames): every
    # message arrives whole and in order, and every ping is answered.
    n = 120

    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/bulk", compression=compression, max_size=None,
                           max_queue=2, ping_interval=None) as ws:
            await ws.send(str(n))
            pongs = []
            for i in range(n):
                if i % 10 == 0:
                    pongs.append(await ws.ping())
                    await asyncio.sleep(0.01)  # fall behind: the server's writes wait on the socket
                assert await ws.recv() == _bulk_message(i), i
            assert await ws.recv() == "end"
            await asyncio.wait_for(asyncio.gather(*pongs), 5)
            await ws.send("bye")
    run(go)
