"""Server-Sent Events: EventSourceResponse and ServerSentEvent, read
directly and through nginx (which must not buffer the stream)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from databridge import App, EventSourceResponse, Server, ServerSentEvent
from databridge.testing import TestClient

Serve = Callable[[App], Server]


@pytest.mark.parametrize(
    ("event", "wire"),
    [
        (ServerSentEvent("hello"), "data: hello\r\n\r\n"),
        (ServerSentEvent("a\nb\r\nc\rd"), "data: a\r\ndata: b\r\ndata: c\r\ndata: d\r\n\r\n"),
        (ServerSentEvent("x", event="update", id=7, retry=3000), "id: 7\r\nevent: update\r\ndata: x\r\nretry: 3000\r\n\r\n"),
        (ServerSentEvent(comment="ping"), ": ping\r\n\r\n"),
        (ServerSentEvent(""), "data: \r\n\r\n"),
        (ServerSentEvent("trailing\n"), "data: trailing\r\ndata: \r\n\r\n"),
    ],
)
def test_event_encoding(event: ServerSentEvent, wire: str) -> None:
    assert event.encode() == wire.encode()


def test_event_encoding_with_lf_separator() -> None:
    assert ServerSentEvent("a\nb", event="e").encode("\n") == b"event: e\ndata: a\ndata: b\n\n"


def test_event_fields_cannot_hold_line_breaks() -> None:
    with pytest.raises(ValueError):
        ServerSentEvent("x", event="a\nb").encode()
    with pytest.raises(ValueError):
        ServerSentEvent("x", id="1\r2").encode()


def sse_app(go_on: threading.Event, finished: threading.Event, ping: float = 60) -> App:
    app = App()

    @app.get("/events")
    async def events(request):
        async def gen():
            try:
                yield "first\nline two"
                await asyncio.get_running_loop().run_in_executor(None, go_on.wait, 10)
                yield ServerSentEvent("second", event="update", id="2")
                yield {"data": "third", "retry": 500}
            finally:
                finished.set()

        return EventSourceResponse(gen(), ping=ping)

    @app.get("/sync")
    def sync(request):
        def gen():
            yield "a"
            go_on.wait(10)  # runs in the thread pool: pings still go out
            yield "b"

        return EventSourceResponse(gen(), ping=ping, headers={"Cache-Control": "no-store"})

    return app


FIRST = b"data: first\r\ndata: line two\r\n\r\n"
REST = b"id: 2\r\nevent: update\r\ndata: second\r\n\r\ndata: third\r\nretry: 500\r\n\r\n"


def read_first_event_then_rest(url: str, go_on: threading.Event, finished: threading.Event) -> httpx.Response:
    with httpx.Client(timeout=10) as client:
        with client.stream("GET", url) as r:
            raw = r.iter_raw()
            data = b""
            while FIRST not in data:
                data += next(raw)
            assert not finished.is_set(), "the event arrived only after the generator finished"
            go_on.set()
            data += b"".join(raw)
    assert data == FIRST + REST
    return r


def test_events_directly(serve: Serve) -> None:
    go_on, finished = threading.Event(), threading.Event()
    server = serve(sse_app(go_on, finished))
    r = read_first_event_then_rest(f"http://127.0.0.1:{server.port}/events", go_on, finished)
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-accel-buffering"] == "no"
    assert finished.wait(10)


def test_events_through_test_client() -> None:
    go_on, finished = threading.Event(), threading.Event()
    go_on.set()
    with TestClient(sse_app(go_on, finished)) as client:
        r = client.get("/events")
    assert r.content == FIRST + REST
    assert r.headers["x-accel-buffering"] == "no"


def test_ping_while_idle(serve: Serve) -> None:
    go_on, finished = threading.Event(), threading.Event()
    server = serve(sse_app(go_on, finished, ping=0.05))
    for path, first in (("/events", FIRST), ("/sync", b"data: a\r\n\r\n")):
        go_on.clear()
        with httpx.Client(timeout=10) as client:
            with client.stream("GET", f"http://127.0.0.1:{server.port}{path}") as r:
                raw = r.iter_raw()
                data = b""
                while data.count(b": ping\r\n\r\n") < 2:
                    data += next(raw)
                go_on.set()
                data += b"".join(raw)
        assert data.startswith(first + b": ping\r\n\r\n")
        if path == "/sync":
            assert r.headers["cache-control"] == "no-store"  # the handler's header wins
            assert data.endswith(b"data: b\r\n\r\n")
        else:
            assert data.endswith(REST)


# -- through nginx -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def nginx() -> Iterator[Callable[[int], int]]:
    """``nginx(upstream_port)`` starts nginx proxying a free loopback port
    to the upstream (proxy_http_version 1.1, buffering left at nginx's
    default) and returns that port; stopped at teardown."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    procs: list[subprocess.Popen[bytes]] = []
    tmp = tempfile.TemporaryDirectory(prefix="databridge-nginx-")

    def start(upstream: int) -> int:
        port = free_port()
        root = Path(tmp.name)
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp_paths = "".join(
            f"    {kind}_temp_path {root / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (root / "nginx.conf").write_text(
            f"""{user}worker_processes 1;
daemon off;
error_log {root / "error.log"};
pid {root / "nginx.pid"};
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp_paths}    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
        }}
    }}
}}
"""
        )
        proc = subprocess.Popen(
            [binary, "-p", str(root), "-c", str(root / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        procs.append(proc)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    log = (root / "error.log").read_text() if (root / "error.log").exists() else ""
                    pytest.fail(f"nginx did not start: {err}{log}")
                time.sleep(0.02)

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stderr:
            proc.stderr.close()
    tmp.cleanup()


def test_events_through_nginx(serve: Serve, nginx: Callable[[int], int]) -> None:
    go_on, finished = threading.Event(), threading.Event()
    server = serve(sse_app(go_on, finished))
    port = nginx(server.port)
    r = read_first_event_then_rest(f"http://127.0.0.1:{port}/events", go_on, finished)
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert "x-accel-buffering" not in r.headers  # nginx acts on it and drops it
    assert finished.wait(10)
