"""WebSocket bench: 64 connections echoing 64-byte text messages (one in
flight per connection), databridge against uvicorn + websockets and Granian.

    python bench/ws.py [--duration 10] [--connections 64]

Each server is pinned to CPU 0 (taskset -c 0), the load generator
(bench/wsload, Go, gorilla/websocket client, no compression) to CPU 1. Uvicorn runs its
fastest WebSocket implementation here, websockets' Sans-I/O one
(UVICORN_WS=websockets picks the legacy one: about 5k messages/s). Both
uvicorn and databridge run on uvloop (databridge's --loop auto takes it when
installed; DATABRIDGE_LOOP=asyncio runs asyncio's own loop instead). One
run each; prints a table and writes bench/results/ws.json. Needs uvicorn (with
uvloop and httptools), websockets and granian in this interpreter (the pins:
bench/requirements.txt)
and databridge built in place (python setup.py build_ext --inplace).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765


def wait_port(port: int, timeout: float = 20) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


SERVERS = {
    "databridge": [sys.executable, "-m", "databridge", "run", "bench.apps.ws_echo:app", "--port", str(PORT)],
    "uvicorn+websockets": [sys.executable, "-m", "uvicorn", "bench.apps.ws_echo:asgi", "--port", str(PORT),
                           "--ws", os.environ.get("UVICORN_WS", "websockets-sansio"), "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
                           "--no-access-log"],
    "granian": [sys.executable, "-m", "granian", "--interface", "asgi", "bench.apps.ws_echo:asgi", "--port", str(PORT),
                "--workers", "1", "--log-level", "warning", "--ws"],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    load = ROOT / "bench" / ".wsload"
    subprocess.run(["go", "build", "-o", str(load), "./bench/wsload"], cwd=ROOT, check=True)
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'python'}:{ROOT}")
    results = {}
    for name, cmd in SERVERS.items():
        if args.only and name not in args.only:
            continue
        server = subprocess.Popen(["taskset", "-c", "0", *cmd], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(PORT)
            out = subprocess.run(["taskset", "-c", "1", str(load), "-url", f"ws://127.0.0.1:{PORT}/ws",
                                  "-c", str(args.connections), "-size", "64", "-d", f"{args.duration}s"],
                                 capture_output=True, text=True, timeout=args.duration + 60)
            if out.returncode != 0:
                results[name] = {"error": out.stderr.strip()}
            else:
                results[name] = json.loads(out.stdout)
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        time.sleep(0.5)
    base = results.get("databridge", {}).get("messages_per_s")
    print(f"{'server':22} {'msg/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'databridge ×':>13}")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:22} failed: {r['error']}")
            continue
        ratio = base / r["messages_per_s"] if base else float("nan")
        print(f"{name:22} {r['messages_per_s']:10.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {ratio:13.2f}")
    outdir = ROOT / "bench" / "results"
    outdir.mkdir(exist_ok=True)
    (outdir / "ws.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
