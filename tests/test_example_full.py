"""examples/app_full.py: lifespan with a pool, middleware, Depends,
exception handlers and a background task, through the TestClient and
served by ``python -m databridge run``."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

import pytest
import requests

from databridge.testing import TestClient
from examples.app_full import app
from tests.conftest import LiveServer

TIMEOUT = 10


def test_notes_through_the_test_client(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="examples.app_full"), TestClient(app) as client:
        created = client.post("/notes", json={"text": "hi"}, headers={"x-user": "ann"})
        assert created.status_code == 201
        assert created.json() == {"id": 1, "user": "ann", "text": "hi"}
        assert created.headers["set-cookie"].startswith("last_note=1")
        listed = client.get("/notes", headers={"x-user": "ann"})
        assert listed.json()["notes"] == [{"id": 1, "user": "ann", "text": "hi"}]
        assert listed.headers["x-process-time"].endswith("ms")
        anonymous = client.get("/notes")
        assert (anonymous.status_code, anonymous.headers["www-authenticate"]) == (401, "x-user")
        invalid = client.get("/notes?limit=many", headers={"x-user": "ann"})
        assert invalid.status_code == 422 and "detail" in invalid.json()
        missing = client.get("/nowhere")
        assert missing.status_code == 404 and "x-process-time" in missing.headers
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == "pool ready" and messages[-1] == "pool closed"
    assert "audit: ann added note 1" in messages


def test_notes_served(start_live: Callable[..., LiveServer]) -> None:
    live = start_live("examples.app_full:app", "--port", "0")
    created = requests.post(live.url + "/notes", json={"text": "hi"}, headers={"x-user": "bob"}, timeout=TIMEOUT)
    assert created.status_code == 201
    assert requests.get(live.url + "/nowhere", timeout=TIMEOUT).headers["x-process-time"].endswith("ms")
    # The CORS preflight is answered in Go, before the Python middleware.
    preflight = requests.options(live.url + "/notes", timeout=TIMEOUT, headers={
        "origin": "https://notes.example", "access-control-request-method": "POST",
        "access-control-request-headers": "x-user"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://notes.example"
    assert "x-process-time" not in preflight.headers
    simple = requests.get(live.url + "/notes", headers={"x-user": "bob", "origin": "https://notes.example"},
                          timeout=TIMEOUT)
    assert simple.headers["access-control-allow-origin"] == "https://notes.example"
    assert live.stop(signal.SIGTERM) == 0
    assert "Traceback" not in live.stderr()
