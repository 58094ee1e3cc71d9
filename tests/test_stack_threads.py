"""The app's Python stack (middleware, exception handlers) with the handler
threads: a blocking sync handler behind a Python middleware blocks nobody,
and App(thread_pool_size=...) sets the pool."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from databridge import App, Server

TIMEOUT = 10


def test_a_blocking_handler_behind_python_middleware_blocks_nobody() -> None:
    app = App()
    release = threading.Event()
    entered = threading.Event()
    threads: list[str] = []

    @app.middleware("http")
    async def tag(request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers["x-tagged"] = "1"
        return response

    @app.get("/block")
    def block(request):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        entered.set()
        assert release.wait(TIMEOUT)
        return "released"

    @app.get("/hello")
    def hello(request):  # type: ignore[no-untyped-def]
        return "hello"

    server = Server(app, port=0)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        with ThreadPoolExecutor(1) as pool:
            blocked = pool.submit(requests.get, base + "/block", timeout=TIMEOUT)
            assert entered.wait(TIMEOUT)
            # While /block is blocked in its handler, other requests go on.
            for _ in range(5):
                r = requests.get(base + "/hello", timeout=TIMEOUT)
                assert (r.status_code, r.text, r.headers["x-tagged"]) == (200, "hello", "1")
            release.set()
            r = blocked.result(TIMEOUT)
            assert (r.status_code, r.text, r.headers["x-tagged"]) == (200, "released", "1")
        assert threads and not threads[0].startswith("databridge-server")
    finally:
        server.stop(timeout=10)


def test_app_thread_pool_size_is_the_servers_default() -> None:
    app = App(thread_pool_size=3)
    assert Server(app).thread_pool_size == 3
    assert Server(app, thread_pool_size=5).thread_pool_size == 5
    assert Server(App()).thread_pool_size == 40
    try:
        App(thread_pool_size=-1)
    except ValueError as exc:
        assert "thread_pool_size" in str(exc)
    else:
        raise AssertionError("App(thread_pool_size=-1) accepted")
