"""Streamed responses: StreamingResponse and returned generators, over a
real socket (HTTP/1.1 and HTTP/2) and through the TestClient."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
import time
import weakref
from collections.abc import Callable

import httpx
import pytest

from databridge import App, Server, StreamingResponse, is_disconnected
from databridge.testing import TestClient

Serve = Callable[[App], Server]


def connect(server: Server, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    return sock


def send_get(sock: socket.socket, path: str, method: str = "GET") -> None:
    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())


def read_until(sock: socket.socket, marker: bytes, data: bytes = b"") -> bytes:
    while marker not in data:
        more = sock.recv(65536)
        if not more:
            raise AssertionError(f"connection closed before {marker!r}; got {data!r}")
        data += more
    return data


def wait_for(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def streaming_app() -> App:
    app = App()

    @app.get("/sync")
    def sync_gen(request):
        def gen():
            yield b"one,"
            yield "two,"
            yield bytearray(b"three")

        return gen()

    @app.get("/async")
    async def async_gen(request):
        async def gen():
            for i in range(3):
                await asyncio.sleep(0)
                yield f"{i};"

        return gen()

    @app.get("/response")
    def response(request):
        return StreamingResponse(
            iter([b"a", b"b"]), status_code=201, headers={"X-Custom": "1"}, media_type="text/csv"
        )

    @app.get("/list")
    def a_list(request):
        return StreamingResponse(["x", "y", "é"], media_type="application/octet-stream")

    @app.get("/empty")
    def empty(request):
        return StreamingResponse(iter(()))

    return app


CASES = [
    ("/sync", 200, b"one,two,three", None),
    ("/async", 200, b"0;1;2;", None),
    ("/response", 201, b"ab", "text/csv; charset=utf-8"),
    ("/list", 200, "xyé".encode(), "application/octet-stream"),
    ("/empty", 200, b"", None),
]


@pytest.mark.parametrize(("path", "status", "body", "ctype"), CASES)
def test_stream_over_http1(serve: Serve, path: str, status: int, body: bytes, ctype: str | None) -> None:
    server = serve(streaming_app())
    r = httpx.get(f"http://127.0.0.1:{server.port}{path}")
    assert (r.status_code, r.content) == (status, body)
    assert r.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in r.headers
    assert r.headers.get("content-type") == ctype
    if path == "/response":
        assert r.headers["x-custom"] == "1"


@pytest.mark.parametrize(("path", "status", "body", "ctype"), CASES)
def test_stream_over_http2(serve: Serve, path: str, status: int, body: bytes, ctype: str | None) -> None:
    server = serve(streaming_app())
    with httpx.Client(http1=False, http2=True) as client:
        r = client.get(f"http://127.0.0.1:{server.port}{path}")
    assert r.http_version == "HTTP/2"
    assert (r.status_code, r.content) == (status, body)
    assert r.headers.get("content-type") == ctype


@pytest.mark.parametrize(("path", "status", "body", "ctype"), CASES)
def test_stream_through_test_client(path: str, status: int, body: bytes, ctype: str | None) -> None:
    with TestClient(streaming_app()) as client:
        r = client.get(path)
    assert (r.status_code, r.content) == (status, body)
    assert r.headers.get("content-type") == ctype


def head_app(started: threading.Event) -> App:
    app = App()

    @app.get("/s")
    def s(request):
        def gen():
            started.set()
            yield b"body"

        return gen()

    return app


def test_head_sends_no_body_and_never_starts_the_generator(serve: Serve) -> None:
    started = threading.Event()
    server = serve(head_app(started))
    with httpx.Client() as client:
        r = client.head(f"http://127.0.0.1:{server.port}/s")
        assert r.status_code == 200 and r.content == b""
        assert not started.is_set()
        assert client.get(f"http://127.0.0.1:{server.port}/s").content == b"body"  # the connection lives on
    with httpx.Client(http1=False, http2=True) as client:
        started.clear()
        r = client.head(f"http://127.0.0.1:{server.port}/s")
        assert r.status_code == 200 and r.content == b""
        assert not started.is_set()


def test_head_through_test_client() -> None:
    started = threading.Event()
    with TestClient(head_app(started)) as tc:
        r = tc.request("HEAD", "/s")
    assert r.status_code == 200 and r.content == b""
    assert not started.is_set()


def test_chunk_arrives_before_the_async_generator_finishes(serve: Serve) -> None:
    app = App()
    go_on = threading.Event()

    @app.get("/s")
    async def s(request):
        async def gen():
            yield b"first"
            await asyncio.get_running_loop().run_in_executor(None, go_on.wait, 10)
            yield b"second"

        return gen()

    server = serve(app)
    with connect(server) as sock:
        send_get(sock, "/s")
        data = read_until(sock, b"first")
        assert not go_on.is_set()
        go_on.set()
        data = read_until(sock, b"0\r\n\r\n", data)
    assert data.endswith(b"6\r\nsecond\r\n0\r\n\r\n")


def test_chunk_arrives_before_the_sync_generator_finishes(serve: Serve) -> None:
    app = App()
    go_on = threading.Event()

    @app.get("/s")
    def s(request):
        def gen():
            yield "first"
            go_on.wait(10)  # blocks the loop thread: fine for this test only
            yield "second"

        return gen()

    server = serve(app)
    with connect(server) as sock:
        send_get(sock, "/s")
        data = read_until(sock, b"first")
        go_on.set()
        read_until(sock, b"0\r\n\r\n", data)


def test_http2_chunk_arrives_before_the_generator_finishes(serve: Serve) -> None:
    app = App()
    go_on = threading.Event()

    @app.get("/s")
    async def s(request):
        async def gen():
            yield b"first"
            await asyncio.get_running_loop().run_in_executor(None, go_on.wait, 10)
            yield b"second"

        return gen()

    server = serve(app)
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        with client.stream("GET", f"http://127.0.0.1:{server.port}/s") as r:
            chunks = r.iter_raw()
            assert next(chunks) == b"first"
            go_on.set()
            assert b"".join(chunks) == b"second"


CHUNK = 64 * 1024


def test_slow_reader_bounds_what_the_server_holds(serve: Serve) -> None:
    """The generator is not advanced while the socket is full."""
    app = App()
    produced = [0]
    finished = threading.Event()

    @app.get("/forever")
    async def forever(request):
        async def gen():
            try:
                while True:
                    produced[0] += 1
                    yield b"x" * CHUNK
            finally:
                finished.set()

        return gen()

    server = serve(app)
    sock = connect(server, rcvbuf=64 * 1024)
    try:
        send_get(sock, "/forever")
        # Read nothing: production stops once the socket buffers are full.
        last, stable_since = -1, time.monotonic()
        deadline = time.monotonic() + 15
        while time.monotonic() - stable_since < 0.5:
            assert time.monotonic() < deadline, "the generator never stopped"
            if produced[0] != last:
                last, stable_since = produced[0], time.monotonic()
            time.sleep(0.02)
        stalled = produced[0]
        # The bound: the socket buffers (a few MiB on loopback at most) plus
        # the one chunk in flight.
        assert stalled <= 128, f"{stalled} chunks of 64 KiB produced for a client that reads nothing"
        # The client reads: production resumes.
        want = (stalled + 20) * CHUNK
        got = 0
        while got < want:
            got += len(sock.recv(1 << 20))
        wait_for(lambda: produced[0] > stalled + 10)
    finally:
        sock.close()
    assert finished.wait(10), "the generator was not closed after the client left"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_disconnect_stops_the_generator(serve: Serve, kind: str) -> None:
    app = App()
    finished = threading.Event()
    seen: list[bool] = []

    if kind == "sync":

        @app.get("/s")
        def s(request):
            def gen():
                try:
                    while True:
                        yield b"y" * 4096
                except GeneratorExit:
                    seen.append(True)
                    raise
                finally:
                    finished.set()

            return gen()

    else:

        @app.get("/s")
        async def s(request):
            async def gen():
                try:
                    while True:
                        await asyncio.sleep(0.001)
                        yield b"y" * 4096
                finally:
                    seen.append(await is_disconnected(request))
                    finished.set()

            return gen()

    server = serve(app)
    with connect(server) as sock:
        send_get(sock, "/s")
        read_until(sock, b"yyyy")
    assert finished.wait(10), "the generator's finally did not run"
    assert seen == [True]
    # The server still serves.
    with connect(server) as sock:
        send_get(sock, "/s")
        read_until(sock, b"yyyy")


def test_http2_reset_cancels_an_idle_generator(serve: Serve) -> None:
    """An h2 client that leaves while the generator awaits: the pending
    step is cancelled (the request's context ends), no write needed."""
    app = App()
    finished = threading.Event()

    @app.get("/s")
    async def s(request):
        async def gen():
            try:
                yield b"first"
                await asyncio.sleep(3600)
                yield b"never"
            finally:
                finished.set()

        return gen()

    server = serve(app)
    client = httpx.Client(http1=False, http2=True, timeout=10)
    with client.stream("GET", f"http://127.0.0.1:{server.port}/s") as r:
        assert next(r.iter_raw()) == b"first"
    client.close()
    assert finished.wait(10)


def test_is_disconnected_is_false_while_the_client_reads(client: TestClient, app: App) -> None:
    @app.get("/s")
    async def s(request):
        async def gen():
            yield str(await is_disconnected(request))

        return gen()

    assert client.get("/s").text == "False"


def test_exception_mid_stream_cuts_the_response(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.get("/boom")
    def boom(request):
        def gen():
            yield b"partial"
            raise RuntimeError("boom mid-stream")

        return gen()

    server = serve(app)
    url = f"http://127.0.0.1:{server.port}/boom"
    with caplog.at_level(logging.ERROR, logger="databridge"):
        with connect(server) as sock:
            send_get(sock, "/boom")
            data = b""
            while more := sock.recv(65536):  # the server closes the connection
                data += more
        assert b"partial" in data and not data.endswith(b"0\r\n\r\n")  # no last chunk
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url)
        with httpx.Client(http1=False, http2=True) as h2:
            with pytest.raises(httpx.RemoteProtocolError, match="StreamReset"):
                h2.get(url)
    messages = [r for r in caplog.records if r.name == "databridge" and "boom" in r.getMessage()]
    assert len(messages) == 3
    assert all(r.exc_info and "boom mid-stream" in str(r.exc_info[1]) for r in messages)


def test_bad_chunk_type_cuts_the_response(client: TestClient, app: App) -> None:
    @app.get("/s")
    def s(request):
        return StreamingResponse([b"ok", 42])

    assert client.get("/s").status_code == 500  # the in-process client sees the cut as a 500


def test_every_reference_is_released(serve: Serve) -> None:
    app = App()
    refs: list[weakref.ref] = []

    def track(gen):
        refs.append(weakref.ref(gen))
        return gen

    def sync_gen():
        yield b"a"
        yield b"b"

    async def async_gen():
        yield b"a"
        yield b"b"

    def failing():
        yield b"a"
        raise ValueError("x")

    @app.get("/sync")
    def s(request):
        return track(sync_gen())

    @app.get("/async")
    async def a(request):
        return StreamingResponse(track(async_gen()))

    @app.get("/fail")
    def f(request):
        return track(failing())

    server = serve(app)
    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client() as c:
        c.get(base + "/sync")
        c.get(base + "/async")
        c.head(base + "/sync")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(base + "/fail")
    with connect(server) as sock:  # a client that leaves mid-stream
        send_get(sock, "/sync")
        read_until(sock, b"a")
    assert len(refs) == 5

    def all_released() -> bool:
        gc.collect()
        return all(r() is None for r in refs)

    wait_for(all_released)


def test_streaming_response_checks_its_content() -> None:
    with pytest.raises(TypeError):
        StreamingResponse(42)  # type: ignore[arg-type]
    r = StreamingResponse(b"whole")
    assert r.status_code == 200


def test_server_stop_closes_an_idle_stream() -> None:
    """Stopping: streams still running when the grace period ends are cut,
    and their generators closed (a pending step cancelled)."""
    app = App()
    finished = threading.Event()

    @app.get("/s")
    async def s(request):
        async def gen():
            try:
                yield b"first"
                await asyncio.sleep(3600)
            finally:
                finished.set()

        return gen()

    server = Server(app, host="127.0.0.1", port=0, timeout_graceful_shutdown=0.2)
    server.start()
    try:
        with connect(server) as sock:
            send_get(sock, "/s")
            read_until(sock, b"first")
            started = time.monotonic()
            server.stop(timeout=10)
            assert time.monotonic() - started < 5
            assert finished.wait(5)
    finally:
        server.stop(timeout=10)


def test_http1_close_cancels_an_idle_generator(serve: Serve) -> None:
    """An HTTP/1.1 client that leaves while the generator awaits: the
    engine reads ahead on the connection while it streams, so the close is
    seen without a write; the pending step is cancelled."""
    app = App()
    finished = threading.Event()
    seen: list[bool] = []

    @app.get("/s")
    async def s(request):
        async def gen():
            try:
                yield b"first"
                await asyncio.sleep(3600)
                yield b"never"
            finally:
                seen.append(await is_disconnected(request))
                finished.set()

        return gen()

    server = serve(app)
    with connect(server) as sock:
        send_get(sock, "/s")
        read_until(sock, b"first")
    assert finished.wait(10)
    assert seen == [True]


def test_pipelined_request_after_a_stream(serve: Serve) -> None:
    """The read-ahead keeps a pipelined request's bytes for the next request."""
    server = serve(streaming_app())
    with connect(server) as sock:
        sock.sendall(b"GET /sync HTTP/1.1\r\nHost: t\r\n\r\n")
        data = read_until(sock, b"0\r\n\r\n")
        sock.sendall(b"GET /async HTTP/1.1\r\nHost: t\r\n\r\nGET /list HTTP/1.1\r\nHost: t\r\n\r\n")
        data = read_until(sock, "é".encode() + b"\r\n0\r\n\r\n", data)
    assert data.count(b"HTTP/1.1 200 OK") == 3
    assert b"2\r\n2;\r\n0\r\n\r\n" in data  # the async stream's last chunk, then its end


class Countdown:
    """An async iterator that is not a generator: __anext__ is a plain
    method returning an awaitable, and raises StopAsyncIteration itself."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __aiter__(self) -> Countdown:
        return self

    def __anext__(self):
        if self.n == 0:
            raise StopAsyncIteration
        self.n -= 1
        future = asyncio.get_running_loop().create_future()
        future.set_result(f"{self.n} ")
        return future


class Items:
    """A sync iterable (not an iterator, not a generator)."""

    def __iter__(self):
        return iter(["p", "q"])


def test_iterables_that_are_not_generators(client: TestClient, app: App) -> None:
    @app.get("/async")
    def a(request):
        return StreamingResponse(Countdown(3))

    @app.get("/sync")
    def s(request):
        return StreamingResponse(Items())

    assert client.get("/async").content == b"2 1 0 "
    assert client.get("/sync").content == b"pq"


def test_background_runs_after_the_stream(serve: Serve) -> None:
    app = App()
    order: list[str] = []
    ran = threading.Event()

    async def background() -> None:
        order.append("background")
        ran.set()

    @app.get("/s")
    def s(request):
        def gen():
            yield b"a"
            order.append("last chunk")
            yield b"b"

        return StreamingResponse(gen(), background=background)

    server = serve(app)
    assert httpx.get(f"http://127.0.0.1:{server.port}/s").content == b"ab"
    assert ran.wait(10)
    assert order == ["last chunk", "background"]


def test_request_object_has_is_disconnected() -> None:
    from databridge import Request

    request = Request({"method": "GET"})
    assert asyncio.run(request.is_disconnected()) is False
