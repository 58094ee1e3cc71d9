"""The mixed scenario of issue #9: a sync route blocking 20 ms beside a hello.

    python bench/mixed.py [--pool 40] [--duration 5] [--no-pin] [--hello /hello-inline]

Serves this file's ``app`` with ``python -m databridge run`` (pinned to CPU
0; wrk on CPU 1, as bench/run.py pins), then:

1. ``/hello`` alone: wrk -t1 -c64 -> the solo rate;
2. both at once: wrk -c64 on ``/hello`` and wrk -c<pool> on ``/block``
   (``time.sleep(0.02)`` in a ``def``, as a sync database driver blocks).

It reports the hello's mixed rate over its solo rate (goal >= 0.8) and the
blocking route's rate over pool / 20 ms, what the handler threads can do
at most (goal >= 0.8). ``--hello`` picks the hello: ``/hello`` (a def, on
the handler threads with the blocking calls), ``/hello-inline`` (a def
marked ``@databridge.inline``) or ``/hello-async`` (both on the event loop
thread). A separate script so as not to touch bench/run.py.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from databridge import App, inline

ROOT = Path(__file__).resolve().parent.parent
BLOCK_SECONDS = 0.02

app = App()


@app.get("/hello")
def hello(request: dict[str, Any]) -> dict[str, str]:
    return {"message": "hello"}


@app.get("/hello-inline")
@inline
def hello_inline(request: dict[str, Any]) -> dict[str, str]:
    return {"message": "hello"}


@app.get("/hello-async")
async def hello_async(request: dict[str, Any]) -> dict[str, str]:
    return {"message": "hello"}


@app.get("/block")
def block(request: dict[str, Any]) -> dict[str, bool]:
    time.sleep(BLOCK_SECONDS)
    return {"ok": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(cpu: int, argv: list[str], pin: bool) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv] if pin and shutil.which("taskset") else argv


def wrk(url: str, connections: int, duration: float, pin: bool) -> subprocess.Popen[str]:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", url]
    return subprocess.Popen(pinned(1, argv, pin), stdout=subprocess.PIPE, text=True)


def rate(proc: subprocess.Popen[str]) -> float:
    out, _ = proc.communicate()
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"wrk printed no rate:\n{out}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=40, help="--thread-pool-size of the server (default 40)")
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin with taskset")
    parser.add_argument("--hello", default="/hello", choices=["/hello", "/hello-inline", "/hello-async"],
                        help="the hello route (default /hello, a def on the handler threads)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/mixed.py needs wrk")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    server = subprocess.Popen(
        pinned(0, [sys.executable, "-m", "databridge", "run", "bench.mixed:app", "--port", str(port),
                   "--log-level", "warning", "--thread-pool-size", str(args.pool)], args.pin),
        env=env, cwd=ROOT, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/hello", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)
        rate(wrk(base + args.hello, 64, 1, args.pin))  # warm-up
        solo = rate(wrk(base + args.hello, 64, args.duration, args.pin))
        hello_proc = wrk(base + args.hello, 64, args.duration, args.pin)
        block_proc = wrk(base + "/block", args.pool, args.duration, args.pin)
        mixed, blocking = rate(hello_proc), rate(block_proc)
    finally:
        server.terminate()
        server.wait(30)
    ceiling = args.pool / BLOCK_SECONDS
    print(f"{args.hello} solo {solo:10.0f} requests/s")
    print(f"{args.hello} beside /block {mixed:10.0f} requests/s   ratio {mixed / solo:.2f} (goal >= 0.8)")
    print(f"/block (20 ms, pool {args.pool}) {blocking:8.0f} requests/s   ratio {blocking / ceiling:.2f} of {ceiling:.0f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
