#!/usr/bin/env python3
"""Static file benchmark: one 50 KB file from databridge's StaticFiles (Go),
nginx (the anchor) and uvicorn + Starlette's StaticFiles.

    python3 bench/static.py              # 3 runs of 5 s per server, medians
    python3 bench/static.py --runs 1 --duration 2

Each server is pinned to CPU 0 (``taskset -c 0``; nginx with one worker),
wrk to CPU 1 (``taskset -c 1 wrk -t1 -c64 -d5s``). The servers are started
on free loopback ports and checked (the body must be the file's bytes),
warmed up for a second each, then loaded in rounds that visit every
server once (so that a change in the machine's load hits all alike), and
stopped. nginx is Debian's package
(``apt-get install -y nginx``) run with a generated config in a temporary
directory: sendfile on, access log off, keep-alive without a request
limit. uvicorn and Starlette are installed into bench/.venv-static (pinned
below). databridge runs from this checkout (``python3 setup.py build_ext
--inplace`` first). Goals (issue #10): databridge >= 0.9x nginx and >= 3x
uvicorn + Starlette.

Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_DIR = BENCH_DIR / ".venv-static"
PEERS = ["uvicorn[standard]==0.54.0", "starlette==1.10.0"]
FILE_SIZE = 50 * 1024
FILE_NAME = "asset.bin"
SERVER_CPU, WRK_CPU = "0", "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 20) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read()
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@contextlib.contextmanager
def running(argv: list[str], url: str, want: bytes, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> Iterator[int]:
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, *argv], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        body = wait_for(url, proc)
        if body != want:
            raise RuntimeError(f"{argv[0]}: the body is not the file ({len(body)} bytes)")
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of pid and its descendants (nginx's worker)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path("/proc", entry, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            total += (int(stats[p][11]) + int(stats[p][12])) / TICK
        todo.extend(children.get(p, []))
    return total


def wrk(url: str, duration: int, pid: int | None = None) -> tuple[float, float]:
    """Requests/s, and the server's CPU microseconds per request (less
    sensitive than the rate to other load on the machine)."""
    before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(["taskset", "-c", WRK_CPU, "wrk", "-t1", "-c64", f"-d{duration}s", url],
                         capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before if pid else 0.0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m is None:
        raise RuntimeError(f"could not parse wrk output: {out[-300:]!r}")
    if "Non-2xx or 3xx responses" in out or re.search(r"Socket errors: connect [1-9]|read [1-9]", out):
        raise RuntimeError(f"wrk saw errors: {out[-300:]!r}")
    if m2 := re.search(r"timeout (\d+)", out):
        print(f"    ({m2.group(1)} requests timed out at {url})", flush=True)
    n = re.search(r"(\d+) requests in", out)
    return float(m.group(1)), (used * 1e6 / int(n.group(1)) if n and int(n.group(1)) else 0.0)


def ensure_peers() -> Path:
    python = VENV_DIR / "bin" / "python"
    stamp = VENV_DIR / ".peers"
    if python.exists() and stamp.exists() and stamp.read_text() == "\n".join(PEERS):
        return python
    subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True)
    stamp.write_text("\n".join(PEERS))
    return python


def nginx_config(tmp: Path, root: Path, port: int) -> Path:
    conf = tmp / "nginx.conf"
    conf.write_text(textwrap.dedent(f"""\
        daemon off;
        master_process on;
        worker_processes 1;
        user root;
        pid {tmp}/nginx.pid;
        error_log {tmp}/error.log warn;
        events {{ worker_connections 1024; }}
        http {{
            access_log off;
            sendfile on;
            tcp_nopush on;
            keepalive_requests 1000000;
            keepalive_timeout 65;
            types {{ application/octet-stream bin; }}
            client_body_temp_path {tmp}/body;
            proxy_temp_path {tmp}/proxy;
            fastcgi_temp_path {tmp}/fastcgi;
            uwsgi_temp_path {tmp}/uwsgi;
            scgi_temp_path {tmp}/scgi;
            server {{
                listen 127.0.0.1:{port};
                location /static/ {{ alias {root}/; }}
            }}
        }}
        """))
    return conf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    for tool in ("wrk", "taskset", "nginx"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            print(f"error: {tool} is not installed (apt-get install -y {'util-linux' if tool == 'taskset' else tool})",
                  file=sys.stderr)
            return 2
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    peers_python = ensure_peers()
    results: dict[str, list[float]]
    with tempfile.TemporaryDirectory(prefix="databridge-static-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "static"
        root.mkdir()
        data = os.urandom(FILE_SIZE)
        (root / FILE_NAME).write_bytes(data)
        os.chmod(tmp, 0o755)
        print(f"one {FILE_SIZE // 1024} KB file, wrk -t1 -c64 -d{args.duration}s, {args.runs} runs (req/s)")

        servers: dict[str, str] = {}
        pids: dict[str, int] = {}
        with contextlib.ExitStack() as stack:
            port = free_port()
            servers["databridge"] = url = f"http://127.0.0.1:{port}/static/{FILE_NAME}"
            app = tmp / "databridge_static.py"
            app.write_text(textwrap.dedent(f"""\
                from databridge import App, StaticFiles
                app = App(docs_url=None, openapi_url=None)
                app.mount("/static", StaticFiles(directory={str(root)!r}))
                app.run("127.0.0.1", {port})
                """))
            env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "python")}
            pids["databridge"] = stack.enter_context(running([sys.executable, str(app)], url, data, env=env))

            port = free_port()
            servers["nginx"] = url = f"http://127.0.0.1:{port}/static/{FILE_NAME}"
            conf = nginx_config(tmp, root, port)
            pids["nginx"] = stack.enter_context(running([nginx, "-c", str(conf), "-p", str(tmp)], url, data))

            port = free_port()
            servers["uvicorn+starlette"] = url = f"http://127.0.0.1:{port}/static/{FILE_NAME}"
            (tmp / "starlette_static.py").write_text(textwrap.dedent(f"""\
                from starlette.applications import Starlette
                from starlette.routing import Mount
                from starlette.staticfiles import StaticFiles
                app = Starlette(routes=[Mount("/static", StaticFiles(directory={str(root)!r}))])
                """))
            argv = [str(peers_python), "-m", "uvicorn", "starlette_static:app", "--host", "127.0.0.1", "--port",
                    str(port), "--no-access-log", "--log-level", "warning"]
            pids["uvicorn+starlette"] = stack.enter_context(running(argv, url, data, cwd=tmp))

            # Runs are interleaved (a round visits every server), so that a
            # change in the machine's load falls on all of them alike.
            for url in servers.values():
                wrk(url, 1)  # warm-up
            results = {name: [] for name in servers}
            cpu: dict[str, list[float]] = {name: [] for name in servers}
            for i in range(args.runs):
                for name, url in servers.items():
                    rps, us = wrk(url, args.duration, pids[name])
                    results[name].append(rps)
                    cpu[name].append(us)
                print(f"  round {i + 1}: " + ", ".join(f"{n} {r[-1]:.0f}" for n, r in results.items()), flush=True)

    for name, rps in results.items():
        print(f"  {name:<18} median {statistics.median(rps):>9.0f} req/s  (" + ", ".join(f"{r:.0f}" for r in rps)
              + f");  server CPU {statistics.median(cpu[name]):.1f} us/request")
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    med = {k: statistics.median(v) for k, v in results.items()}
    vs_nginx = med["databridge"] / med["nginx"]
    vs_uvicorn = med["databridge"] / med["uvicorn+starlette"]
    print(f"databridge / nginx:               {vs_nginx:.2f}x  (goal >= 0.9x)")
    print(f"databridge / uvicorn + Starlette: {vs_uvicorn:.2f}x  (goal >= 3x)")
    print(f"by server CPU per request: {cpu_med['nginx'] / cpu_med['databridge']:.2f}x nginx, "
          f"{cpu_med['uvicorn+starlette'] / cpu_med['databridge']:.2f}x uvicorn + Starlette")
    if args.json:
        args.json.write_text(json.dumps({"runs": results, "median": med, "cpu_us_per_request": cpu_med,
                                         "vs_nginx": vs_nginx,
                                         "vs_uvicorn_starlette": vs_uvicorn}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
