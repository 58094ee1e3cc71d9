"""--workers N: the supervisor, respawning, recycling and signals, over real
processes and sockets on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from tests.conftest import REPO_ROOT, LiveServer
from tests.loadgen import Load, Result

StartLive = Callable[..., LiveServer]
APP = "tests.apps.workers:app"


def addr(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def worker_pids(live: LiveServer) -> list[int]:
    return [int(p) for p in live.wait_for_line(r"databridge: \d+ workers, pids ([\d ]+)", 10).group(1).split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pid_of(r: Result) -> int:
    return int(json.loads(r.body)["pid"])


def test_two_workers_share_the_port(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--no-access-log")
    pids = set(worker_pids(live))
    assert len(pids) == 2 and os.getpid() not in pids
    host, port = addr(live.url)
    load = Load(host, port, threads=8).start()
    load.wait_for(400)
    results = load.stop()
    assert all(r.status == 200 for r in results), [r for r in results if r.status != 200][:3]
    assert {pid_of(r) for r in results} == pids
    assert live.stop(signal.SIGTERM) == 0


def test_kill9_one_of_two_workers_under_load(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--no-access-log")
    victim, survivor = worker_pids(live)
    host, port = addr(live.url)
    load = Load(host, port, path="/sleep?seconds=0.2", threads=8).start()
    load.wait_for(24)
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    match = live.wait_for_line(r"worker (\d+) serving ([\d.]+) s after the crash", timeout=5)
    new_pid, respawn = int(match.group(1)), float(match.group(2))
    print(f"respawn: worker {new_pid} serving {respawn:.3f} s after kill -9")
    assert respawn < 1.0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and new_pid not in {pid_of(r) for r in list(load.results) if r.status == 200}:
        time.sleep(0.02)
    results = load.stop()
    served = {pid_of(r) for r in results if r.status == 200}
    assert new_pid in served and survivor in served
    failed = [r for r in results if r.status != 200]
    # Only what the killed worker had in flight fails: requests that
    # started before the kill and were cut by it (at most one per client
    # thread), never one that started after it.
    assert all(r.status == 0 and r.started < killed_at <= r.ended for r in failed), failed
    assert len(failed) <= load.threads
    print(f"kill -9: {len(failed)} failed of {len(results)}, all in flight on the killed worker")
    assert live.stop(signal.SIGTERM) == 0


def lost(results: list[Result], signalled_at: float) -> list[Result]:
    """Requests that reached the server and got no answer: anything but a
    200, except connections refused after the signal (the port is closed)."""
    return [
        r for r in results
        if r.status != 200 and not (r.started >= signalled_at and "ConnectionRefused" in r.error)
    ]


def test_sigterm_under_load_with_two_workers_loses_nothing(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--no-access-log")
    host, port = addr(live.url)
    load = Load(host, port, path="/sleep?seconds=0.05", threads=16).start()
    load.wait_for(100)
    signalled = time.monotonic()
    live.proc.send_signal(signal.SIGTERM)
    assert live.wait(timeout=15) == 0
    results = load.stop()
    before = [r for r in results if r.started < signalled]
    assert lost(results, signalled) == []
    print(f"SIGTERM under load: {len(before)} requests before the signal, 0 lost")


def test_max_requests_recycling_under_load_loses_nothing(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--workers-max-requests", "100",
                      "--workers-max-requests-jitter", "20", "--no-access-log")
    first = set(worker_pids(live))
    host, port = addr(live.url)
    load = Load(host, port, threads=8).start()
    live.wait_for_line(r"stopping worker \d+ \(recycle: max-requests\)", timeout=20)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(
            [line for line in live.lines if "recycle: max-requests" in line]) < 4:
        time.sleep(0.05)
    load.wait_for(len(load.results) + 100)
    results = load.stop()
    failed = [r for r in results if r.status != 200]
    served = {pid_of(r) for r in results if r.status == 200}
    recycled = len([line for line in live.lines if "recycle: max-requests" in line])
    print(f"max-requests: {recycled} recycles, {len(results)} requests, {len(failed)} lost")
    assert recycled >= 4
    assert failed == []
    assert len(served - first) >= 2
    assert live.stop(signal.SIGTERM) == 0


def test_second_sigterm_while_draining_is_ignored(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--no-access-log")
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, live.url + "/sleep?seconds=1.5", timeout=10)
        live.wait_for_line(r"sleep started", timeout=10)
        live.proc.send_signal(signal.SIGTERM)
        live.wait_for_line(r"SIGTERM: stopping workers gracefully", timeout=5)
        live.proc.send_signal(signal.SIGTERM)
        response = slow.result(timeout=10)
    assert response.status_code == 200 and response.json()["slept"] == 1.5
    assert live.wait(10) == 0


def test_second_sigint_answers_in_flight_with_503(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--no-access-log", sigint=True)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, live.url + "/sleep?seconds=8", timeout=10)
        live.wait_for_line(r"sleep started", timeout=10)
        live.proc.send_signal(signal.SIGINT)
        live.wait_for_line(r"SIGINT: stopping workers gracefully", timeout=5)
        sent = time.monotonic()
        live.proc.send_signal(signal.SIGINT)
        response = slow.result(timeout=10)
        took = time.monotonic() - sent
    assert response.status_code == 503, response.text
    assert took < 3
    assert live.wait(10) == 0
    assert "Traceback" not in live.stderr()


def test_second_sigint_single_process(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--no-access-log", sigint=True)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, live.url + "/sleep?seconds=8", timeout=10)
        live.wait_for_line(r"sleep started", timeout=10)
        live.proc.send_signal(signal.SIGINT)
        live.wait_for_line(r"shutting down", timeout=5)
        live.proc.send_signal(signal.SIGINT)
        response = slow.result(timeout=10)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert live.wait(10) == 0


def test_sighup_rolls_every_worker(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--no-access-log")
    first = set(worker_pids(live))
    host, port = addr(live.url)
    load = Load(host, port, threads=4).start()
    live.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len([x for x in live.lines if "(recycle: SIGHUP)" in x]) < 2:
        time.sleep(0.05)
    for pid in first:  # the old workers finish what they had and exit
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.02)
    done, gone_at = len(load.results), time.monotonic()
    load.wait_for(done + 50)
    results = load.stop()
    assert [r for r in results if r.status != 200] == []
    assert len([x for x in live.lines if "(recycle: SIGHUP)" in x]) == 2
    later = {pid_of(r) for r in results if r.started > gone_at}
    assert later and not (later & first)
    assert live.stop(signal.SIGTERM) == 0


def test_workers_that_cannot_start_exit_1() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "databridge", "run", "tests.apps.broken", "--port", "0", "--workers", "2"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1, result.stderr
    assert "workers fail to start" in result.stderr


def test_the_supervisor_does_not_load_the_engine() -> None:
    code = (
        "import sys; sys.argv[0] = '-m'; import databridge.cli, databridge.supervisor, databridge._deploy;"
        "print('databridge._core' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                         env=os.environ | {"PYTHONPATH": str(REPO_ROOT / "python")}, timeout=30)
    assert out.stdout.strip() == "False", out.stderr


def test_workers_lifetime_recycles_under_load_losing_nothing(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--workers-lifetime", "1", "--no-access-log")
    host, port = addr(live.url)
    load = Load(host, port, threads=4).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len([x for x in live.lines if "(recycle: lifetime)" in x]) < 2:
        time.sleep(0.05)
    load.wait_for(len(load.results) + 50)
    results = load.stop()
    assert len([x for x in live.lines if "(recycle: lifetime)" in x]) >= 2
    assert [r for r in results if r.status != 200] == []
    assert live.stop(signal.SIGTERM) == 0


def test_workers_max_rss_recycles(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--workers", "2", "--workers-max-rss", "1", "--no-access-log")
    live.wait_for_line(r"stopping worker \d+ \(recycle: max-rss\)", timeout=20)
    assert requests.get(live.url + "/pid", timeout=10).status_code == 200
    assert live.stop(signal.SIGTERM) == 0


def test_crash_loop_exits_1() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "databridge", "run", "tests.apps.crashy", "--port", "0", "--workers", "2"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "crashed 11 times within 60 s" in result.stderr
