"""Benchmarks of issue #11 (not part of bench/run.py): the access log's
cost on the hello app, pinned (server on CPU 0, wrk on CPU 1, 3 runs each
way, alternating), and a two-worker hello next to one worker and next to
Granian --workers 2 (unpinned, both cores).

    PYTHONPATH=python python3 bench/prod_bench.py [accesslog|workers|granian ...]
    GRANIAN=/path/to/venv/bin/granian   (default: granian on PATH)
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = "examples.hello:app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (it and its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


LAST_REQUESTS = [0]


def wrk(port: int, args: list[str], pin: str | None = None) -> float:
    cmd = ["wrk", *args, f"http://127.0.0.1:{port}/"]
    if pin:
        cmd = ["taskset", "-c", pin, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print("   ", errors.group(0))
    LAST_REQUESTS[0] = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def serve(args: list[str], pin: str | None = None, out: object = subprocess.DEVNULL) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    cmd = [sys.executable, "-m", "databridge", "run", HELLO, "--port", str(port), *args]
    if pin:
        cmd = ["taskset", "-c", pin, *cmd]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.DEVNULL)  # type: ignore[arg-type]
    wait_port(port)
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def accesslog() -> None:
    print("access log cost, hello, server taskset -c 0, wrk taskset -c 1 -t1 -c64 -d5s, log to a file")
    results: dict[str, list[float]] = {"off": [], "on": []}
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(3):
            for mode in ("off", "on"):
                log = open(Path(tmp) / f"access-{run}-{mode}.log", "w")
                proc, port = serve(["--access-log" if mode == "on" else "--no-access-log"], pin="0", out=log)
                wrk(port, ["-t1", "-c64", "-d1s"], pin="1")  # warm up
                before = cpu_seconds(proc.pid)
                rps = wrk(port, ["-t1", "-c64", "-d5s"], pin="1")
                per_request = (cpu_seconds(proc.pid) - before) / LAST_REQUESTS[0] * 1e6
                cpu[mode].append(per_request)
                stop(proc)
                log.close()
                lines = sum(1 for _ in open(log.name)) if mode == "on" else 0
                results[mode].append(rps)
                print(f"  run {run + 1} access log {mode:3}: {rps:9.0f} req/s, {per_request:5.1f} us CPU/request"
                      + (f" ({lines} lines)" if lines else ""))
    off = sorted(results["off"])[1]
    on = sorted(results["on"])[1]
    print(f"  median: off {off:.0f}, on {on:.0f} req/s: cost {100 * (off - on) / off:.1f} %")
    coff, con = sorted(cpu["off"])[1], sorted(cpu["on"])[1]
    print(f"  median server CPU per request: off {coff:.1f} us, on {con:.1f} us: cost {100 * (con - coff) / coff:.1f} %"
          " (less sensitive to other load on the machine than req/s)")


def workers() -> None:
    print("hello, unpinned, wrk -t2 -c128 -d5s, --no-access-log")
    for n in ("1", "2"):
        proc, port = serve(["--workers", n, "--no-access-log"])
        wrk(port, ["-t2", "-c128", "-d1s"])
        rates = [wrk(port, ["-t2", "-c128", "-d5s"]) for _ in range(3)]
        stop(proc)
        print(f"  databridge --workers {n}: {sorted(rates)[1]:9.0f} req/s (runs: {', '.join(f'{r:.0f}' for r in rates)})")


GRANIAN_APP = '''
import json
BODY = json.dumps({"message": "hello"}).encode()
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})
'''


def granian() -> None:
    exe = os.environ.get("GRANIAN") or shutil.which("granian")
    if not exe:
        print("granian not found (GRANIAN=/path/to/granian)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "ghello.py").write_text(GRANIAN_APP)
        for n in ("1", "2"):
            port = free_port()
            proc = subprocess.Popen([exe, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                                     "--workers", n, "--no-access-log", "ghello:app"], cwd=tmp,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_port(port)
            wrk(port, ["-t2", "-c128", "-d1s"])
            rates = [wrk(port, ["-t2", "-c128", "-d5s"]) for _ in range(3)]
            stop(proc)
            print(f"  granian --interface asgi --workers {n}: {sorted(rates)[1]:9.0f} req/s "
                  f"(runs: {', '.join(f'{r:.0f}' for r in rates)})")


if __name__ == "__main__":
    for name in sys.argv[1:] or ["accesslog", "workers", "granian"]:
        {"accesslog": accesslog, "workers": workers, "granian": granian}[name]()
