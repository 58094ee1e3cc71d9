"""Sync and async handlers, run in-process through the TestClient."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from databridge import App
from databridge.testing import TestClient
from tests.apps import live


def test_sync_handler(app: App, client: TestClient) -> None:
    @app.get("/sync")
    def sync(request: dict[str, Any]) -> dict[str, str]:
        return {"kind": "sync"}

    assert client.get("/sync").json() == {"kind": "sync"}


def test_async_handler_without_await(app: App, client: TestClient) -> None:
    @app.get("/async")
    async def handler(request: dict[str, Any]) -> dict[str, str]:
        return {"kind": "async"}

    assert client.get("/async").json() == {"kind": "async"}


def test_async_handler_awaits_a_timer(app: App, client: TestClient) -> None:
    app.get("/sleep")(live.sleep)
    started = time.monotonic()
    response = client.get("/sleep?seconds=0.2")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["slept"] >= 0.19
    assert 0.19 <= elapsed < 5


def test_async_handler_awaits_a_real_socket(app: App, client: TestClient, line_server: int) -> None:
    app.get("/relay")(live.relay)
    response = client.get("/relay", params={"port": line_server, "message": "hello socket"})
    assert response.status_code == 200
    assert response.json() == {"read": "reply to hello socket"}


def test_current_task_is_the_handlers_task(app: App, client: TestClient) -> None:
    app.get("/task")(live.task_info)
    assert client.get("/task").json() == {
        "is_task": True,
        "runs_this_handler": True,
        "same_after_await": True,
        "loop_is_running_loop": True,
    }


def test_each_async_request_gets_its_own_task(app: App, client: TestClient) -> None:
    tasks: list[asyncio.Task[Any] | None] = []

    @app.get("/t")
    async def handler(request: dict[str, Any]) -> None:
        tasks.append(asyncio.current_task())
        await asyncio.sleep(0)

    client.get("/t")
    client.get("/t")
    assert len(tasks) == 2
    assert tasks[0] is not None and tasks[1] is not None
    assert tasks[0] is not tasks[1]


def test_handlers_run_on_the_calling_thread(app: App, client: TestClient) -> None:
    threads: list[int] = []
    app.get("/sync")(lambda request: threads.append(threading.get_ident()))

    @app.get("/async")
    async def handler(request: dict[str, Any]) -> None:
        threads.append(threading.get_ident())

    client.get("/sync")
    client.get("/async")
    assert threads == [threading.get_ident()] * 2


def test_handler_may_use_asyncio_primitives(app: App, client: TestClient) -> None:
    @app.get("/gather")
    async def gather(request: dict[str, Any]) -> list[int]:
        async def square(n: int) -> int:
            await asyncio.sleep(0.01)
            return n * n

        return list(await asyncio.gather(*(square(n) for n in range(5))))

    assert client.get("/gather").json() == [0, 1, 4, 9, 16]


def test_async_handler_that_never_suspends_finishes_in_its_own_task(app: App, client: TestClient) -> None:
    seen: list[object] = []

    @app.get("/eager")
    async def eager(request: dict[str, Any]) -> dict[str, bool]:
        task = asyncio.current_task()
        seen.append(task)
        return {"has_task": task is not None}

    assert client.get("/eager").json() == {"has_task": True}
    assert client.get("/eager").json() == {"has_task": True}
    assert seen[0] is not seen[1]  # one task per request
    assert all(isinstance(t, asyncio.Task) and t.done() for t in seen)


def test_tasks_created_by_a_handler_run_as_their_own_tasks(app: App, client: TestClient) -> None:
    @app.get("/spawn")
    async def spawn(request: dict[str, Any]) -> dict[str, bool]:
        outer = asyncio.current_task()

        async def child() -> object:
            await asyncio.sleep(0)
            return asyncio.current_task()

        inner = await asyncio.create_task(child())
        return {"distinct": inner is not outer and inner is not None}

    assert client.get("/spawn").json() == {"distinct": True}
