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


def expected_big(n: int) -> bytes:
    return (f"{n}:" + "abcdefghij" * (n // 10 + 1))[:n].encode()


def test_large_bodies_arrive_intact_under_concurrency(live_server: str) -> None:
    """Bodies around and above the engine's zero-copy size (4 KB), text and
    bytes, 200 at once: each one exact, its own, and with a right length."""
    sizes = [4095, 4096, 4097, 10_000, 65_536, 1_000_003]

    def fetch(i: int) -> tuple[int, bool, requests.Response]:
        n = sizes[i % len(sizes)] + i // len(sizes)
        as_bytes = i % 2 == 0
        params = {"bytes": "1"} if as_bytes else {}
        return n, as_bytes, requests.get(f"{live_server}/big/{n}", params=params, timeout=TIMEOUT)

    with ThreadPoolExecutor(max_workers=20) as pool:
        for n, as_bytes, response in pool.map(fetch, range(200), timeout=120):
            assert response.status_code == 200
            assert response.content == expected_big(n), n
            assert response.headers["content-length"] == str(n)
            kind = "application/octet-stream" if as_bytes else "text/plain; charset=utf-8"
            assert response.headers["content-type"] == kind


def test_head_of_a_large_body_has_its_length_and_no_body(live_server: str) -> None:
    response = requests.head(f"{live_server}/big/10000", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["content-length"] == "10000"
    assert response.content == b""
