"""Handler isolation (issue #9): SystemExit and KeyboardInterrupt raised in
a handler answer 500 and are logged; the server keeps serving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests

from databridge import App, Server
from databridge.testing import TestClient

TIMEOUT = 10
FATAL = [SystemExit(3), KeyboardInterrupt()]


def isolation_app() -> App:
    app = App()

    @app.get("/fine")
    def fine(request: dict[str, Any]) -> str:
        return "fine"

    @app.get("/sync/<kind>")
    def sync_raise(request: dict[str, Any]) -> None:
        raise SystemExit(3) if request["path_params"]["kind"] == "exit" else KeyboardInterrupt()

    @app.get("/async/<kind>")
    async def async_raise(request: dict[str, Any]) -> None:
        raise SystemExit(3) if request["path_params"]["kind"] == "exit" else KeyboardInterrupt()

    @app.get("/suspended/<kind>")
    async def suspended_raise(request: dict[str, Any]) -> None:
        await asyncio.sleep(0.001)  # raised from a later step of the task, from inside the event loop
        raise SystemExit(3) if request["path_params"]["kind"] == "exit" else KeyboardInterrupt()

    return app


@pytest.mark.parametrize("route", ["sync", "async"])
@pytest.mark.parametrize("kind", ["exit", "interrupt"])
def test_test_client_answers_500_and_logs(route: str, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="databridge")
    with TestClient(isolation_app()) as client:
        response = client.get(f"/{route}/{kind}")
        assert response.status_code == 500
        assert response.json() == {"error": "Internal Server Error"}
        assert client.get("/fine").text == "fine"
    records = [r for r in caplog.records if r.name == "databridge" and r.levelno == logging.ERROR]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is (SystemExit if kind == "exit" else KeyboardInterrupt)


@pytest.mark.parametrize("route", ["sync", "async", "suspended"])
@pytest.mark.parametrize("kind", ["exit", "interrupt"])
def test_server_answers_500_and_keeps_serving(
    route: str, kind: str, serve: Callable[[App], Server], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="databridge")
    server = serve(isolation_app())
    base = f"http://127.0.0.1:{server.port}"
    for _ in range(2):
        response = requests.get(f"{base}/{route}/{kind}", timeout=TIMEOUT)
        assert response.status_code == 500
        assert response.json() == {"error": "Internal Server Error"}
        assert requests.get(base + "/fine", timeout=TIMEOUT).text == "fine"
    records = [r for r in caplog.records if r.name == "databridge" and r.levelno == logging.ERROR]
    assert len(records) == 2
    assert all(r.exc_info is not None and r.exc_info[0] is (SystemExit if kind == "exit" else KeyboardInterrupt) for r in records)
