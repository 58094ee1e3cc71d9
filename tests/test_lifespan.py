"""App(lifespan=...), on_event("startup"/"shutdown") and app.state: through
the TestClient, an in-process Server, and ``python -m databridge run``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from databridge import App, Server, StartupError, State
from databridge.testing import TestClient
from tests.conftest import LiveServer

StartLive = Callable[..., LiveServer]
TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def pool_app(events: list[str]) -> App:
    """An app whose lifespan makes a loop-bound resource."""

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        events.append("lifespan enter")
        app.state.loop = asyncio.get_running_loop()
        app.state.slots = asyncio.Semaphore(1)
        app.state.queue = asyncio.Queue()
        yield
        events.append("lifespan exit")

    app = App(lifespan=lifespan)

    @app.on_event("startup")
    def sync_start() -> None:
        events.append("startup sync")

    @app.on_event("startup")
    async def async_start() -> None:
        await asyncio.sleep(0)
        events.append("startup async")

    @app.on_event("shutdown")
    async def async_stop() -> None:
        events.append("shutdown async")

    @app.get("/use")
    async def use(request: dict[str, Any]) -> dict[str, Any]:
        async with app.state.slots:
            await app.state.queue.put(1)
            await app.state.queue.get()
        return {"same_loop": asyncio.get_running_loop() is app.state.loop}

    return app


def test_the_test_client_runs_the_lifespan_around_its_session() -> None:
    events: list[str] = []
    app = pool_app(events)
    with TestClient(app) as client:
        assert events == ["startup sync", "startup async", "lifespan enter"]
        assert client.get("/use").json() == {"same_loop": True}
    assert events[3:] == ["lifespan exit", "shutdown async"]


def test_a_second_session_runs_startup_again_on_its_own_loop() -> None:
    events: list[str] = []
    app = pool_app(events)
    loops = []
    for _ in range(2):
        with TestClient(app) as client:
            loops.append(app.state.loop)
            assert client.get("/use").json() == {"same_loop": True}
            assert client.get("/use").json() == {"same_loop": True}
    assert loops[0] is not loops[1]
    assert events.count("lifespan enter") == 2 and events.count("shutdown async") == 2


def test_without_with_the_lifespan_does_not_run() -> None:
    events: list[str] = []
    app = pool_app(events)
    app.get("/plain")(lambda request: "ok")
    client = TestClient(app)
    assert client.get("/plain").text == "ok"
    client.close()
    assert events == []


def test_a_failing_startup_raises_from_the_test_client() -> None:
    app = App()

    @app.on_event("startup")
    def fail() -> None:
        raise RuntimeError("no database")

    with pytest.raises(RuntimeError, match="no database"):
        with TestClient(app):
            pass  # pragma: no cover


def test_lifespan_state_is_merged_into_app_state() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        yield {"answer": 42}

    app = App(lifespan=lifespan)
    app.get("/answer")(lambda request: {"answer": app.state.answer})
    with TestClient(app) as client:
        assert client.get("/answer").json() == {"answer": 42}


def test_state_is_an_attribute_namespace() -> None:
    state = State()
    state.pool = "p"
    assert state.pool == "p"
    del state.pool
    with pytest.raises(AttributeError, match="pool"):
        state.pool  # noqa: B018
    assert isinstance(App().state, State)


def test_on_event_rejects_unknown_events() -> None:
    with pytest.raises(ValueError, match="startup"):
        App().on_event("boot")


def test_an_in_process_server_runs_startup_before_listening_and_shutdown_after(serve: Callable[[App], Server]) -> None:
    events: list[str] = []
    app = pool_app(events)
    server = serve(app)
    assert events == ["startup sync", "startup async", "lifespan enter"]
    assert requests.get(f"http://127.0.0.1:{server.port}/use", timeout=TIMEOUT).json() == {"same_loop": True}
    server.stop(timeout=10)
    assert events[3:] == ["lifespan exit", "shutdown async"]


def test_a_failing_startup_is_raised_by_server_start_and_nothing_listens() -> None:
    app = App()
    port = free_port()

    @app.on_event("startup")
    async def fail() -> None:
        raise ConnectionRefusedError("no database")

    server = Server(app, port=port)
    with pytest.raises(StartupError) as info:
        server.start()
    assert isinstance(info.value.__cause__, ConnectionRefusedError)
    assert not accepts(port)


# -- python -m databridge run ----------------------------------------------------


def test_startup_runs_before_the_port_accepts(start_live: StartLive, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("LIFESPAN_TEST_PORT", str(port))
    live = start_live("tests.apps.lifespan_app:app", "--port", str(port))
    assert requests.get(live.url + "/query", timeout=TIMEOUT).json() == {"row": "row", "accepted_during_startup": False}
    assert live.stop(signal.SIGTERM) == 0
    stderr = live.stderr()
    assert stderr.index("startup event") < stderr.index("lifespan startup") < stderr.index("databridge: serving")


def test_shutdown_runs_after_the_drain(start_live: StartLive) -> None:
    live = start_live("tests.apps.lifespan_app:app", "--port", "0")
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, live.url + "/slow", timeout=TIMEOUT)
        live.wait_for_line("slow request started", timeout=TIMEOUT)
        live.proc.send_signal(signal.SIGTERM)
        assert slow.result(timeout=TIMEOUT).json() == {"slow": "done"}
    assert live.wait() == 0
    stderr = live.stderr()
    order = ["slow request finished", "lifespan shutdown", "shutdown event"]
    assert [stderr.index(line) for line in order] == sorted(stderr.index(line) for line in order)
    assert "Traceback" not in stderr


def test_a_failing_startup_exits_non_zero_with_the_traceback_and_never_serves() -> None:
    port = free_port()
    live = LiveServer("tests.apps.lifespan_broken:app", "--port", str(port))
    try:
        code = live.wait(timeout=20)
        stderr = live.stderr()
    finally:
        live.kill()
    assert code != 0
    assert "Traceback" in stderr
    assert "ConnectionRefusedError: database unreachable at startup" in stderr
    assert "application startup failed" in stderr
    assert "databridge: serving" not in stderr
    assert not accepts(port)


def test_shutdown_waits_for_background_tasks_and_cancels_orphans(start_live: StartLive) -> None:
    live = start_live("tests.apps.lifespan_app:app", "--port", "0", "--timeout-graceful-shutdown", "2")
    assert requests.get(live.url + "/background", timeout=TIMEOUT).json() == {"queued": "late_work"}
    assert requests.get(live.url + "/orphan", timeout=TIMEOUT).json() == {"started": "orphan"}
    live.wait_for_line("background started", timeout=TIMEOUT)
    assert live.stop(signal.SIGTERM) == 0
    stderr = live.stderr()
    assert stderr.index("background finished") < stderr.index("lifespan shutdown")
    assert "cancelling task orphan-task at shutdown" in stderr
    assert "orphan task cancelled" in stderr
    assert "Task was destroyed but it is pending" not in stderr
    assert "Traceback" not in stderr

