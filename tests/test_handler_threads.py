"""Blocking handlers block nobody (issue #9): sync handlers run on handler
threads, so one blocked in I/O delays neither async handlers, nor other
sync handlers (up to ``thread_pool_size``), nor Go-only routes, nor a
SIGTERM. Ordering is by events, not sleeps."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

import databridge
from databridge import App, Server
from databridge.testing import TestClient
from tests.conftest import LiveServer

TIMEOUT = 10


class Gate:
    """Blocking handlers count themselves in, then wait for :meth:`open`."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.cond = threading.Condition()
        self.entered = 0
        self.threads: set[str] = set()

    def enter(self) -> None:
        with self.cond:
            self.entered += 1
            self.threads.add(threading.current_thread().name)
            self.cond.notify_all()
        assert self.released.wait(TIMEOUT), "the test never opened the gate"

    def wait_entered(self, n: int, timeout: float = TIMEOUT) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.entered >= n, timeout)

    def open(self) -> None:
        self.released.set()


def blocking_app(gate: Gate) -> App:
    app = App()

    @app.get("/block/<int:n>")
    def block(request: dict[str, Any]) -> dict[str, int]:
        gate.enter()
        return {"n": request["path_params"]["n"]}

    @app.get("/hello")
    def hello(request: dict[str, Any]) -> dict[str, str]:
        return {"message": "hello"}

    @app.get("/hello-async")
    async def hello_async(request: dict[str, Any]) -> dict[str, str]:
        return {"message": "hello async"}

    @app.get("/hello-inline")
    @databridge.inline
    def hello_inline(request: dict[str, Any]) -> dict[str, str]:
        return {"message": "hello inline"}

    app.add_fixed_response("/go", {"message": "go"})
    return app


def get(server: Server, path: str) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{server.port}{path}", timeout=TIMEOUT)


def test_a_blocked_sync_handler_delays_nobody(start_server: Callable[..., Server]) -> None:
    gate = Gate()
    server = start_server(blocking_app(gate))
    with ThreadPoolExecutor(2) as pool:
        blocked = [pool.submit(get, server, f"/block/{i}") for i in range(2)]
        assert gate.wait_entered(2), "two blocking calls did not run at the same time"
        # Both are blocked: everything else still answers.
        assert get(server, "/hello").json() == {"message": "hello"}
        assert get(server, "/hello-async").json() == {"message": "hello async"}
        assert get(server, "/hello-inline").json() == {"message": "hello inline"}
        assert get(server, "/go").json() == {"message": "go"}
        assert not any(f.done() for f in blocked)
        gate.open()
        assert sorted(f.result(TIMEOUT).json()["n"] for f in blocked) == [0, 1]
    assert all(name.startswith("databridge-handler-") for name in gate.threads)
    assert len(gate.threads) == 2


def test_the_pool_size_limits_concurrent_sync_calls(start_server: Callable[..., Server]) -> None:
    size = 3
    gate = Gate()
    server = start_server(blocking_app(gate), thread_pool_size=size)
    with ThreadPoolExecutor(size + 1) as pool:
        first = [pool.submit(get, server, f"/block/{i}") for i in range(size)]
        assert gate.wait_entered(size)
        extra = pool.submit(get, server, f"/block/{size}")
        # The extra call waits for a thread: it has not started while the
        # loop keeps answering.
        assert get(server, "/hello-async").status_code == 200
        assert not gate.wait_entered(size + 1, timeout=0.3)
        assert gate.entered == size
        gate.open()
        assert sorted(f.result(TIMEOUT).json()["n"] for f in [*first, extra]) == list(range(size + 1))
    assert gate.entered == size + 1
    assert len(gate.threads) <= size


def test_pool_size_0_runs_sync_handlers_on_the_loop_thread(start_server: Callable[..., Server]) -> None:
    names: list[str] = []
    app = App()
    app.get("/")(lambda request: names.append(threading.current_thread().name))
    server = start_server(app, thread_pool_size=0)
    assert get(server, "/").status_code == 204
    assert names == ["databridge-server"]


def test_inline_under_the_route_decorator_keeps_the_handler(start_server: Callable[..., Server]) -> None:
    app = App()

    @app.get("/")
    @databridge.inline
    def handler(request: dict[str, Any]) -> str:
        return threading.current_thread().name

    assert handler.__databridge_inline__ is True  # type: ignore[attr-defined]
    assert get(start_server(app), "/").text == "databridge-server"


@pytest.mark.parametrize("value", [-1, 10_001, 2.0, True, "4"])
def test_thread_pool_size_is_checked(value: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="thread_pool_size"):
        Server(App(), thread_pool_size=value)


def test_test_client_runs_sync_handlers(start_server: Callable[..., Server]) -> None:
    gate = Gate()
    gate.open()
    with TestClient(blocking_app(gate)) as client:
        assert client.get("/block/7").json() == {"n": 7}
        assert client.get("/hello").json() == {"message": "hello"}


def test_many_sync_and_async_requests_get_their_own_answers(start_server: Callable[..., Server]) -> None:
    app = App()

    @app.get("/sync/<int:n>")
    def sync_echo(request: dict[str, Any]) -> dict[str, Any]:
        return {"n": request["path_params"]["n"], "kind": "sync"}

    @app.get("/async/<int:n>")
    async def async_echo(request: dict[str, Any]) -> dict[str, Any]:
        return {"n": request["path_params"]["n"], "kind": "async"}

    server = start_server(app, thread_pool_size=4)
    with ThreadPoolExecutor(16) as pool:
        paths = [f"/{'sync' if i % 2 else 'async'}/{i}" for i in range(400)]
        results = list(pool.map(lambda p: get(server, p).json(), paths))
    assert results == [{"n": i, "kind": "sync" if i % 2 else "async"} for i in range(400)]


def test_sigterm_while_a_sync_handler_blocks(start_live: Callable[..., LiveServer]) -> None:
    """The loop thread is free, so SIGTERM is handled at once; the server
    waits for the blocked request up to the graceful timeout, then exits 0."""
    live = start_live("tests.apps.live:app", "--port", "0", "--timeout-graceful-shutdown", "1",
                      "--thread-pool-size", "2")
    with ThreadPoolExecutor(1) as pool:
        blocked = pool.submit(requests.get, live.url + "/block?seconds=30", timeout=TIMEOUT)
        live.wait_for_line(r"block request started", timeout=10)
        # Blocked on a handler thread: the loop still answers.
        assert requests.get(live.url + "/", timeout=TIMEOUT).status_code == 200
        started = time.monotonic()
        live.proc.send_signal(signal.SIGTERM)
        assert live.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        with pytest.raises(requests.RequestException):
            blocked.result(timeout=TIMEOUT)


def test_sigterm_finishes_a_blocked_sync_request_within_the_timeout(start_live: Callable[..., LiveServer]) -> None:
    live = start_live("tests.apps.live:app", "--port", "0")
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, live.url + "/block?seconds=1", timeout=TIMEOUT)
        live.wait_for_line(r"block request started", timeout=10)
        live.proc.send_signal(signal.SIGTERM)
        response = slow.result(timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["slept"] >= 0.99
    assert live.wait(timeout=10) == 0
    assert "Traceback" not in live.stderr()


def test_a_handler_returning_after_its_app_is_freed() -> None:
    """A stop that gives up on a blocked handler, then the app collected:
    the handler thread finishes later on a queue kept alive for it."""
    import subprocess
    import sys

    code = """
import gc, threading, requests
from databridge import App, Server
gate, entered = threading.Event(), threading.Event()
app = App()
@app.get("/b")
def b(request):
    entered.set(); gate.wait(10); return "late"
server = Server(app, port=0, timeout_graceful_shutdown=0.2); server.start()
client = threading.Thread(target=lambda: requests.get(f"http://127.0.0.1:{server.port}/b", timeout=10), daemon=True)
client.start(); assert entered.wait(10)
server.stop(timeout=10)
del server, app; gc.collect()
gate.set()
client.join(10)
print("survived")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "survived" in result.stdout
