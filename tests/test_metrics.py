"""Prometheus metrics (--metrics, --metrics-port), parsed with
prometheus_client's parser."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import LiveServer

StartLive = Callable[..., LiveServer]
APP = "tests.apps.workers:app"
TIMEOUT = 10


def families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(fams: dict[str, object], name: str) -> list[object]:
    return [s for f in fams.values() for s in f.samples if s.name == name]  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_request_metrics(fams: dict[str, object], n: int) -> None:
    reqs = samples(fams, "databridge_http_requests_total")
    pid_200 = [s for s in reqs if s.labels["route"] == "/pid" and s.labels["status"] == "200"]
    assert sum(s.value for s in pid_200) == n
    assert any(s.labels["route"] == "unmatched" and s.labels["status"] == "404" for s in reqs)
    buckets = [s for s in samples(fams, "databridge_http_request_duration_seconds_bucket")
               if s.labels["route"] == "/pid" and s.labels["le"] == "+Inf"]
    assert sum(s.value for s in buckets) == n
    assert samples(fams, "databridge_http_requests_in_flight")
    assert sum(s.value for s in samples(fams, "databridge_http_response_body_bytes_total")) > 0
    assert samples(fams, "databridge_http_request_body_bytes_total")
    assert samples(fams, "databridge_python_queue_depth")
    assert sum(s.value for s in samples(fams, "databridge_python_batch_size_count")) >= n
    assert sum(s.value for s in samples(fams, "databridge_python_call_seconds_count")) >= n
    assert sum(s.value for s in samples(fams, "databridge_python_wait_seconds_count")) >= n
    assert sum(s.value for s in samples(fams, "databridge_python_handler_seconds_count")) >= n


def total(fams: dict[str, object], name: str) -> float:
    return float(sum(s.value for s in samples(fams, name)))  # type: ignore[attr-defined]


def test_wait_and_handler_time_are_split(start_live: StartLive) -> None:
    """Four 0.2 s handlers at once: the handler histogram has their 0.8 s
    (awaits included), the wait histogram only the queueing, and their sum
    is what the call histogram saw."""
    live = start_live(APP, "--port", "0", "--metrics", "--no-access-log")
    before = families(requests.get(live.url + "/metrics", timeout=TIMEOUT).text)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: requests.get(live.url + "/sleep?seconds=0.2", timeout=TIMEOUT), range(4)))
    assert all(a.status_code == 200 for a in answers)
    after = families(requests.get(live.url + "/metrics", timeout=TIMEOUT).text)

    def grew(name: str) -> float:
        return total(after, name) - total(before, name)

    assert grew("databridge_python_handler_seconds_count") == 4
    assert grew("databridge_python_wait_seconds_count") == 4
    handler, wait, call = grew("databridge_python_handler_seconds_sum"), grew("databridge_python_wait_seconds_sum"), grew(
        "databridge_python_call_seconds_sum"
    )
    assert 0.8 <= handler < 2.0
    assert wait < 0.4  # queued behind nothing that blocks: the loop awaits the sleeps together
    assert handler + wait <= call + 0.05


def test_metrics_on_the_main_port(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--metrics", "--no-access-log")
    for _ in range(5):
        assert requests.get(live.url + "/pid", timeout=TIMEOUT).status_code == 200
    requests.get(live.url + "/nope", timeout=TIMEOUT)
    response = requests.get(live.url + "/metrics", timeout=TIMEOUT)
    assert response.status_code == 200
    check_request_metrics(families(response.text), 5)


def test_metrics_off_by_default(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--no-access-log")
    assert requests.get(live.url + "/metrics", timeout=TIMEOUT).status_code == 404


def test_metrics_port_single_process(start_live: StartLive) -> None:
    port = free_port()
    live = start_live(APP, "--port", "0", "--metrics-port", str(port), "--no-access-log")
    for _ in range(3):
        requests.get(live.url + "/pid", timeout=TIMEOUT)
    requests.get(live.url + "/nope", timeout=TIMEOUT)
    assert requests.get(live.url + "/metrics", timeout=TIMEOUT).status_code == 404
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT).text
    check_request_metrics(families(text), 3)


def test_metrics_port_with_two_workers(start_live: StartLive) -> None:
    port = free_port()
    live = start_live(APP, "--port", "0", "--workers", "2", "--metrics-port", str(port), "--no-access-log")
    # Fresh connections until both workers have answered (the second may
    # still be starting when the banner comes; the kernel picks who accepts).
    pids: set[int] = set()
    sent = 0
    deadline = time.monotonic() + 20
    while (len(pids) < 2 or sent < 20) and time.monotonic() < deadline:
        response = requests.get(live.url + "/pid", headers={"Connection": "close"}, timeout=TIMEOUT)
        pids.add(response.json()["pid"])
        sent += 1
    assert len(pids) == 2, f"one worker answered all {sent} requests"
    requests.get(live.url + "/nope", timeout=TIMEOUT)
    fams = families(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT).text)
    check_request_metrics(fams, sent)
    workers = {s.labels["worker"] for s in samples(fams, "databridge_http_requests_total")}
    assert len(workers) == 2
    restarts = samples(fams, "databridge_worker_restarts_total")
    assert {s.labels["reason"] for s in restarts} == {"crash", "recycle"}
    assert samples(fams, "databridge_workers")[0].value == 2
