"""Stopping ``python -m databridge run`` with SIGTERM and Ctrl+C (SIGINT):
stop accepting, finish requests in flight, exit 0."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from tests.conftest import LiveServer

StartLive = Callable[..., LiveServer]
TIMEOUT = 10


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def test_sigterm_exits_0(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0")
    assert requests.get(live.url + "/", timeout=TIMEOUT).status_code == 200
    assert live.stop(signal.SIGTERM, timeout=10) == 0
    assert "Traceback" not in live.stderr()


def test_sigterm_finishes_the_request_in_flight(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0")
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, live.url + "/sleep?seconds=1.5", timeout=TIMEOUT)
        live.wait_for_line(r"sleep request started", timeout=10)
        live.proc.send_signal(signal.SIGTERM)
        response = slow.result(timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["slept"] >= 1.49
    assert live.wait(timeout=10) == 0
    assert "Traceback" not in live.stderr()


def test_sigterm_stops_accepting_while_draining(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0")
    port = port_of(live.url)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, live.url + "/sleep?seconds=3", timeout=TIMEOUT)
        live.wait_for_line(r"sleep request started", timeout=10)
        live.proc.send_signal(signal.SIGTERM)
        refused = False
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not refused:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                time.sleep(0.05)
            except (ConnectionRefusedError, ConnectionResetError):
                # Reset: the kernel had completed the handshake into the
                # listener's backlog just as the listener closed; not accepted.
                refused = True
        assert refused, "the port still accepted connections 2 s after SIGTERM"
        assert not slow.done()  # refused while the slow request was still running
        assert slow.result(timeout=TIMEOUT).status_code == 200
    assert live.wait(timeout=10) == 0


def test_sigint_stops_the_server(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0", sigint=True)
    assert requests.get(live.url + "/", timeout=TIMEOUT).status_code == 200
    assert live.stop(signal.SIGINT, timeout=10) == 0
    stderr = live.stderr()
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr


def test_sigint_finishes_the_request_in_flight(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0", sigint=True)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, live.url + "/sleep?seconds=1", timeout=TIMEOUT)
        live.wait_for_line(r"sleep request started", timeout=10)
        live.proc.send_signal(signal.SIGINT)
        response = slow.result(timeout=TIMEOUT)
    assert response.status_code == 200
    assert live.wait(timeout=10) == 0
