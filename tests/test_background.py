"""BackgroundTasks: a handler parameter, or Response(background=...); sync
or async; run after the response is sent; the server waits for them at
shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from databridge import App, BackgroundTasks, JSONResponse, Server
from databridge.testing import TestClient

TIMEOUT = 10


def test_background_tasks_run_after_the_handler_in_order() -> None:
    events: list[str] = []

    async def async_task(name: str) -> None:
        await asyncio.sleep(0)
        events.append(f"async {name}")

    app = App()

    @app.post("/signup")
    def signup(request: dict[str, Any], background: BackgroundTasks) -> list[str]:
        background.add_task(events.append, "sync task")
        background.add_task(async_task, name="welcome mail")
        events.append("handler")
        return list(events)

    with TestClient(app) as client:
        response = client.post("/signup")
    assert response.json() == ["handler"]  # the response was made before the tasks ran
    assert events == ["handler", "sync task", "async welcome mail"]


def test_response_background() -> None:
    events: list[str] = []
    app = App()

    @app.get("/")
    async def index(request: dict[str, Any]) -> JSONResponse:
        tasks = BackgroundTasks()
        tasks.add_task(events.append, "from the response")
        return JSONResponse({"ok": True}, background=tasks)

    with TestClient(app) as client:
        assert client.get("/").json() == {"ok": True}
    assert events == ["from the response"]


def test_a_failing_task_is_logged_and_the_next_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    events: list[str] = []

    def fail() -> None:
        raise RuntimeError("task failed")

    app = App()

    @app.get("/")
    def index(request: dict[str, Any], background: BackgroundTasks) -> str:
        background.add_task(fail)
        background.add_task(events.append, "after")
        return "ok"

    with caplog.at_level(logging.ERROR, logger="databridge"), TestClient(app) as client:
        assert client.get("/").text == "ok"
    assert events == ["after"]
    assert any("background task" in record.getMessage() for record in caplog.records)


def test_a_background_task_runs_after_the_response_is_sent_over_a_socket(serve: Callable[[App], Server]) -> None:
    """The task waits for an event the test sets only once it holds the
    response: had the task run before the send, the request would hang."""
    received = threading.Event()
    finished = threading.Event()

    async def notify() -> None:
        await asyncio.get_running_loop().run_in_executor(None, received.wait, TIMEOUT)
        finished.set()

    app = App()

    @app.get("/")
    def index(request: dict[str, Any], background: BackgroundTasks) -> str:
        background.add_task(notify)
        return "sent"

    server = serve(app)
    assert requests.get(f"http://127.0.0.1:{server.port}/", timeout=TIMEOUT).text == "sent"
    assert not finished.is_set()
    received.set()
    assert finished.wait(TIMEOUT)


def test_stop_waits_for_background_tasks() -> None:
    finished = threading.Event()

    async def slow() -> None:
        await asyncio.sleep(0.3)
        finished.set()

    app = App()

    @app.get("/")
    def index(request: dict[str, Any], background: BackgroundTasks) -> str:
        background.add_task(slow)
        return "ok"

    server = Server(app, port=0)
    server.start()
    try:
        assert requests.get(f"http://127.0.0.1:{server.port}/", timeout=TIMEOUT).text == "ok"
    finally:
        server.stop(timeout=10)
    assert finished.is_set()


def test_stop_cancels_what_outlives_the_graceful_timeout(caplog: pytest.LogCaptureFixture) -> None:
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    app = App()

    @app.get("/")
    def index(request: dict[str, Any], background: BackgroundTasks) -> str:
        background.add_task(forever)
        return "ok"

    server = Server(app, port=0, timeout_graceful_shutdown=0.2)
    server.start()
    with caplog.at_level(logging.WARNING, logger="databridge"):
        try:
            assert requests.get(f"http://127.0.0.1:{server.port}/", timeout=TIMEOUT).text == "ok"
        finally:
            server.stop(timeout=10)
    assert cancelled.is_set()
    assert any("cancelling task" in record.getMessage() for record in caplog.records)


def test_a_blocking_task_waits_for_the_response_of_a_suspended_handler(serve: Callable[[App], Server]) -> None:
    """A sync task blocks the loop thread until the test holds the response:
    it must start only once the response went to the engine, even when the
    handler and a middleware suspended around it."""
    received = threading.Event()
    ran: list[bool] = []

    def blocking() -> None:
        ran.append(received.wait(TIMEOUT))

    app = App()

    @app.middleware("http")
    async def suspends(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        await asyncio.sleep(0.01)
        return response

    @app.get("/")
    async def index(request: dict[str, Any], background: BackgroundTasks) -> str:
        await asyncio.sleep(0.01)
        background.add_task(blocking)
        return "sent"

    server = serve(app)
    assert requests.get(f"http://127.0.0.1:{server.port}/", timeout=TIMEOUT).text == "sent"
    received.set()
    server.stop(timeout=10)
    assert ran == [True]
