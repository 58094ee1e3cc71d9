"""End to end against ``python -m databridge run tests.apps.live:app`` in a
subprocess, over real sockets."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import requests

TIMEOUT = 10


def test_sync_handler(live_server: str) -> None:
    response = requests.get(f"{live_server}/sync/7?q=seven", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"n": 7, "q": "seven", "kind": "sync"}


def test_async_handler(live_server: str) -> None:
    response = requests.get(f"{live_server}/async/8?q=eight", timeout=TIMEOUT)
    assert response.json() == {"n": 8, "q": "eight", "kind": "async"}


def test_async_handler_awaits_a_timer(live_server: str) -> None:
    started = time.monotonic()
    response = requests.get(f"{live_server}/sleep?seconds=0.3", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["slept"] >= 0.29
    assert time.monotonic() - started >= 0.29


def test_async_handler_awaits_a_real_socket(live_server: str, line_server: int) -> None:
    response = requests.get(
        f"{live_server}/relay", params={"port": str(line_server), "message": "over the wire"}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.json() == {"read": "reply to over the wire"}


def test_current_task_is_the_handlers_task(live_server: str) -> None:
    response = requests.get(f"{live_server}/task", timeout=TIMEOUT)
    assert response.json() == {
        "is_task": True,
        "runs_this_handler": True,
        "same_after_await": True,
        "loop_is_running_loop": True,
    }


def test_sleeping_handler_does_not_block_others(live_server: str) -> None:
    """While one handler awaits a long timer, other requests are answered."""
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, f"{live_server}/sleep?seconds=1.5", timeout=TIMEOUT)
        time.sleep(0.2)
        started = time.monotonic()
        fast = requests.get(f"{live_server}/sync/1", timeout=TIMEOUT)
        fast_elapsed = time.monotonic() - started
        assert not slow.done()
        assert slow.result(timeout=TIMEOUT).status_code == 200
    assert fast.status_code == 200
    assert fast_elapsed < 1.0


def test_burst_of_1000_concurrent_requests(live_server: str) -> None:
    """1,000 distinct requests from 50 threads, half to a sync and half to
    an async handler: every one answered, each with its own values."""
    local = threading.local()
    sessions: list[requests.Session] = []

    def fetch(n: int) -> tuple[int, int, dict[str, object]]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            sessions.append(session)
        kind = "sync" if n % 2 else "async"
        response = session.get(f"{live_server}/{kind}/{n}", params={"q": f"q{n}"}, timeout=TIMEOUT)
        return n, response.status_code, response.json()

    results: dict[int, tuple[int, dict[str, object]]] = {}
    with ThreadPoolExecutor(max_workers=50) as pool:
        futures = [pool.submit(fetch, n) for n in range(1000)]
        for future in as_completed(futures, timeout=120):
            n, status, body = future.result()
            results[n] = (status, body)
    for session in sessions:
        session.close()

    assert len(results) == 1000
    for n in range(1000):
        kind = "sync" if n % 2 else "async"
        assert results[n] == (200, {"n": n, "q": f"q{n}", "kind": kind}), n
