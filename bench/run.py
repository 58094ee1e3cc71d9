#!/usr/bin/env python3
"""databridge benchmark suite: one command, every server, every scenario.

    python bench/run.py            # full run, about 17 minutes
    python bench/run.py --quick    # sanity run, under 3 minutes
    python bench/run.py --memory   # also the one-off RSS growth scenario

It prepares bench/.venv (peers pinned in bench/requirements.txt plus databridge
from the repo root), builds the pure-Go ceiling (bench/goserver), then for each
scenario and server: starts the server pinned to one CPU, checks one response,
warms it up, loads it with wrk pinned to the other CPU, reads its RSS, stops it.
Results go to bench/RESULTS.md and bench/results.json. See bench/README.md.

Standard library only: it runs with any CPython >= 3.10 before the venv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import http.client
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_DIR = BENCH_DIR / ".venv"
VENV_PYTHON = VENV_DIR / "bin" / "python"
GOSERVER_BIN = VENV_DIR / "goserver"
REQUIREMENTS = BENCH_DIR / "requirements.txt"
ECHO_LUA = BENCH_DIR / "echo.lua"
USERS_LUA = BENCH_DIR / "users.lua"
DELETE_LUA = BENCH_DIR / "delete.lua"
LOG_DIR = BENCH_DIR / "results" / "logs"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
RESULTS_JSON = BENCH_DIR / "results.json"
REQUIREMENTS_STAMP = VENV_DIR / ".bench-requirements.sha256"
DATABRIDGE_STAMP = VENV_DIR / ".bench-databridge.sha256"

HOST = "127.0.0.1"
MEMORY_LIMIT_S = 3600  # upper bound of one wrk run of the memory scenario
DATABRIDGE = "databridge"
GO = "go"
PEERS_PACKAGES = (
    "uvicorn",
    "uvloop",
    "httptools",
    "granian",
    "robyn",
    "fastapi",
    "starlette",
    "pydantic",
)

# Mirrors bench/apps/_common.py (kept literal here: run.py must not import the apps).
TEXT_10K = "0123456789abcdef" * 640
SLEEP_SECONDS = 0.001
# The body of the validated scenario, exactly as bench/users.lua sends it.
USERS_BODY = b'{"name": "Ada Lovelace", "age": 36, "email": "ada@example.com"}'
# Servers with a validation layer: the validated and invalid scenarios run only
# on these (the Go server checks by hand); the others are reported as n/a.
VALIDATING_SERVERS = (DATABRIDGE, GO, "fastapi")
# Scenario 11: the same last route in databridge's 203-route app and its 1-route app.
ROUTES_BIG = "databridge-routes203"
ROUTES_ONE = "databridge-route1"
# Scenario 12: Granian started with --http 2 (h2c with prior knowledge only).
GRANIAN_H2 = "granian-rsgi-h2"
H2_INSTALL_HINT = "sudo apt-get install -y nghttp2-client   (Debian/Ubuntu: h2load and nghttp)"


# --------------------------------------------------------------------------- #
# Scenarios and servers
# --------------------------------------------------------------------------- #


def echo_body() -> bytes:
    """The 1024-byte JSON body of the echo scenario, byte for byte as bench/echo.lua builds it."""
    items = ",".join(f'{{"n":{i},"v":"value-{i}","ok":true}}' for i in range(10))
    head = (
        '{"id":1,"name":"databridge","tags":["bench","echo","json"],"items":['
        + items
        + '],"pad":"'
    )
    tail = '"}'
    return (head + "x" * (1024 - len(head) - len(tail)) + tail).encode()


@dataclass(frozen=True)
class Scenario:
    """One request shape, the same in every server.

    ``servers``: the servers that implement it (None: all); the others are
    reported as n/a with ``not_applicable``. The body is compared
    (``expected_json``, ``expected_text``, ``expected_contains``) only for the
    servers in ``body_checked_for`` (None: all); the others only by status.
    """

    name: str
    title: str
    method: str
    path: str
    connections: int = 64
    expected_status: int = 200
    expected_json: Any = None
    expected_text: str | None = None
    expected_contains: str | None = None
    body: bytes | None = None
    lua: Path | None = None
    servers: tuple[str, ...] | None = None
    not_applicable: str = ""
    body_checked_for: tuple[str, ...] | None = None
    # "wrk" (HTTP/1.1) or "h2load" (HTTP/2, h2c with prior knowledge)
    tool: str = "wrk"
    # The server whose RPS is divided by each row's in the ratio column.
    ours: str = DATABRIDGE

    @property
    def errors_expected(self) -> bool:
        """True when every response is supposed to be non-2xx (wrk counts them)."""
        return self.expected_status >= 300

    def applies_to(self, server: str) -> bool:
        return self.servers is None or server in self.servers

    def checks_body_of(self, server: str) -> bool:
        return self.body_checked_for is None or server in self.body_checked_for


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "hello",
        "1. GET /hello (sync handler)",
        "GET",
        "/hello",
        expected_json={"message": "hello"},
    ),
    Scenario(
        "hello_async",
        "2. GET /hello-async (async handler, no await)",
        "GET",
        "/hello-async",
        expected_json={"message": "hello"},
    ),
    Scenario(
        "params",
        "3. GET /users/42?page=2 (path + query, int converter)",
        "GET",
        "/users/42?page=2",
        expected_json={"id": 42, "page": "2"},
    ),
    Scenario(
        "echo",
        "4. POST /echo (1 KB JSON body, echoed)",
        "POST",
        "/echo",
        expected_json=json.loads(echo_body()),
        body=echo_body(),
        lua=ECHO_LUA,
    ),
    Scenario(
        "sleep",
        "5. GET /sleep (await asyncio.sleep(0.001), 256 connections)",
        "GET",
        "/sleep",
        connections=256,
        expected_json={"ok": True},
    ),
    Scenario(
        "text10k",
        "6. GET /10k (10 KB text/plain)",
        "GET",
        "/10k",
        expected_text=TEXT_10K,
    ),
    Scenario(
        "notfound",
        "7. GET /users/abc (404 from the int converter)",
        "GET",
        "/users/abc",
        expected_status=404,
    ),
    Scenario(
        "validated",
        "8. POST /users (JSON body validated by a pydantic model, 201)",
        "POST",
        "/users",
        expected_status=201,
        expected_json={"name": "Ada Lovelace"},
        body=USERS_BODY,
        lua=USERS_LUA,
        servers=VALIDATING_SERVERS,
        not_applicable="no validation layer",
    ),
    Scenario(
        "invalid",
        "9. GET /search?q=x&limit=500 (limit > le=100: 422)",
        "GET",
        "/search?q=x&limit=500",
        expected_status=422,
        expected_contains='"less_than_equal"',
        servers=VALIDATING_SERVERS,
        not_applicable="no validation layer",
        body_checked_for=(DATABRIDGE, GO),  # FastAPI's 422 body has its own shape
    ),
    Scenario(
        "go_hello",
        "10. GET /go/hello (Go-only route: add_fixed_response, no Python)",
        "GET",
        "/go/hello",
        expected_json={"message": "hello"},
        servers=(DATABRIDGE, GO),
        not_applicable="databridge's Go-only route",
    ),
    Scenario(
        "routes",
        "11. DELETE /user/keys/42 (last of the 203 GitHub API routes vs a 1-route app)",
        "DELETE",
        "/user/keys/42",
        expected_json={"route": "DELETE /user/keys/{id}", "params": {"id": "42"}},
        lua=DELETE_LUA,
        servers=(ROUTES_BIG, ROUTES_ONE),
        not_applicable="databridge route-table apps only",
        ours=ROUTES_BIG,
    ),
    Scenario(
        "h2_hello",
        "12. GET /hello over HTTP/2 (h2c prior knowledge, h2load -c64 -m10)",
        "GET",
        "/hello",
        expected_json={"message": "hello"},
        servers=(DATABRIDGE, GO, GRANIAN_H2),
        not_applicable="HTTP/2 scenario",
        tool="h2load",
    ),
)
SCENARIOS_BY_NAME = {s.name: s for s in SCENARIOS}


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server.

    ``argv`` is a shell-like template; each word may use {python} (the venv's
    interpreter), {goserver}, {host} and {port}. The port is not fixed: a free
    one is picked at every start (see ``free_port``).

    ``scenarios``: a variant of a server (another app, another protocol) that
    runs only these scenarios (None: every scenario that applies to it).
    ``h2_only``: it speaks HTTP/2 only, so the start probe does not send an
    HTTP/1.1 request.
    """

    name: str
    description: str
    argv: str
    scenarios: tuple[str, ...] | None = None
    h2_only: bool = False

    def command(self, port: int | str = "PORT") -> list[str]:
        values = {
            "python": str(VENV_PYTHON),
            "goserver": str(GOSERVER_BIN),
            "host": HOST,
            "port": str(port),
        }
        return [word.format(**values) for word in shlex.split(self.argv)]

    def runs_scenario(self, scenario: str) -> bool:
        return self.scenarios is None or scenario in self.scenarios


_UVICORN = (
    "{python} -m uvicorn %s --host {host} --port {port} --loop uvloop"
    " --http httptools --workers 1 --no-access-log --log-level warning"
)
_GRANIAN = (
    "{python} -m granian --interface %s --host {host} --port {port} --workers 1"
    " --runtime-threads 1 --no-access-log --log-level warning %s"
)

SERVERS: tuple[ServerSpec, ...] = (
    ServerSpec(
        DATABRIDGE,
        "databridge (`python -m databridge run`)",
        "{python} -m databridge run bench.apps.databridge_app:app --log-level warning"
        " --host {host} --port {port}",
    ),
    ServerSpec(
        GO,
        "pure Go net/http + gorilla/mux (ceiling)",
        "{goserver} -host {host} -port {port}",
    ),
    ServerSpec(
        "granian-rsgi",
        "Granian, raw RSGI app",
        _GRANIAN % ("rsgi", "bench.apps.granian_rsgi:app"),
    ),
    ServerSpec(
        "granian-asgi",
        "Granian, raw ASGI app (the uvicorn app)",
        _GRANIAN % ("asgi", "bench.apps.granian_asgi:app"),
    ),
    ServerSpec(
        "uvicorn",
        "uvicorn (uvloop + httptools), raw ASGI app",
        _UVICORN % "bench.apps.uvicorn_raw:app",
    ),
    ServerSpec(
        "robyn",
        "Robyn, decorators",
        "{python} bench/apps/robyn_app.py --processes 1 --workers 1 --log-level WARN"
        " --disable-openapi --host {host} --port {port}",
    ),
    ServerSpec(
        "fastapi",
        "FastAPI routes on uvicorn (uvloop + httptools)",
        _UVICORN % "bench.apps.fastapi_app:app",
    ),
    ServerSpec(
        ROUTES_BIG,
        "databridge, the 203 GitHub API routes (`bench/apps/databridge_routes.py:app`)",
        "{python} -m databridge run bench.apps.databridge_routes:app --log-level warning"
        " --host {host} --port {port}",
        scenarios=("routes",),
    ),
    ServerSpec(
        ROUTES_ONE,
        "databridge, only the last of those routes (`bench/apps/databridge_routes.py:one`)",
        "{python} -m databridge run bench.apps.databridge_routes:one --log-level warning"
        " --host {host} --port {port}",
        scenarios=("routes",),
    ),
    ServerSpec(
        GRANIAN_H2,
        "Granian, raw RSGI app, `--http 2` (h2c prior knowledge)",
        _GRANIAN % ("rsgi", "--http 2 bench.apps.granian_rsgi:app"),
        scenarios=("h2_hello",),
        h2_only=True,
    ),
)
SERVERS_BY_NAME = {s.name: s for s in SERVERS}
VARIANTS = tuple(s.name for s in SERVERS if s.scenarios is not None)
DATABRIDGE_SERVERS = (DATABRIDGE, ROUTES_BIG, ROUTES_ONE)
PYTHON_PEERS = tuple(
    s.name for s in SERVERS if s.name not in (DATABRIDGE, GO) and s.name not in VARIANTS
)


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #


@dataclass
class WrkRun:
    """What one wrk run reported."""

    rps: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    non_2xx: int
    socket_errors: int


@dataclass
class Measurement:
    """One server under one scenario. status: ok | wrong | failed | n/a."""

    server: str
    scenario: str
    status: str
    detail: str = ""
    runs: list[WrkRun] = field(default_factory=list)
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    rss_mb: float | None = None
    tree_rss_mb: float | None = None
    notes: list[str] = field(default_factory=list)

    def summarize(self) -> None:
        """Medians over the runs."""
        if not self.runs:
            return
        self.rps = statistics.median(r.rps for r in self.runs)
        p50s = [r.p50_ms for r in self.runs if r.p50_ms is not None]
        p99s = [r.p99_ms for r in self.runs if r.p99_ms is not None]
        self.p50_ms = statistics.median(p50s) if p50s else None
        self.p99_ms = statistics.median(p99s) if p99s else None


@dataclass
class MemoryResult:
    """RSS of one server across a long echo run."""

    server: str
    status: str
    detail: str = ""
    rss_start_mb: float | None = None
    checkpoints: list[dict[str, Any]] = field(default_factory=list)


class BenchError(Exception):
    """A server could not be installed, started or queried."""


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #


def log(message: str) -> None:
    print(message, flush=True)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def sha256_of(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def read_stamp(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def command_output(argv: list[str], cwd: Path | None = None) -> str:
    """stdout+stderr of a short command, or '' when it cannot run."""
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout + done.stderr).strip()


def fmt_num(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


# --------------------------------------------------------------------------- #
# Environment: venv, peers, databridge, Go server
# --------------------------------------------------------------------------- #


def ensure_venv() -> None:
    """Create bench/.venv with the running interpreter (no system site-packages)."""
    if VENV_PYTHON.exists():
        return
    log(f"creating {VENV_DIR.relative_to(REPO_ROOT)} with {sys.executable}")
    subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)


def pip_install(args: list[str], log_path: Path, timeout: float) -> bool:
    """Run ``pip install ARGS`` in the venv; output to log_path. True on success."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        str(VENV_PYTHON),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        *args,
    ]
    with log_path.open("w") as out:
        out.write("$ " + shlex.join(argv) + "\n")
        out.flush()
        try:
            done = subprocess.run(
                argv,
                cwd=REPO_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            out.write(f"\npip timed out after {timeout:.0f} s\n")
            return False
    return done.returncode == 0


def install_peers(force: bool) -> None:
    """pip-install bench/requirements.txt unless the venv already has exactly that file."""
    stamp = sha256_of(REQUIREMENTS.read_bytes(), str(VENV_PYTHON.resolve()).encode())
    if not force and read_stamp(REQUIREMENTS_STAMP) == stamp:
        log("peers: bench/requirements.txt already installed")
        return
    log("peers: pip install -r bench/requirements.txt")
    log_path = LOG_DIR / "pip-peers.log"
    if not pip_install(["-r", str(REQUIREMENTS)], log_path, timeout=900):
        raise SystemExit(
            f"error: installing the peers failed; see {log_path}\n{tail(log_path)}"
        )
    REQUIREMENTS_STAMP.write_text(stamp + "\n")


# Top-level folders that do not go into the databridge package: changing them
# does not trigger a reinstall (--reinstall forces one).
NOT_PACKAGED = ("bench/", "tests/", "docs/", "examples/", ".ci/")


def source_files() -> list[Path]:
    """The repo's files that make up databridge (honours .gitignore)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        listed = None
    if listed is not None and listed.returncode == 0 and listed.stdout:
        names = [n for n in listed.stdout.split("\0") if n]
    else:  # not a git checkout: walk the tree
        skip = {
            ".git",
            *(folder.rstrip("/") for folder in NOT_PACKAGED),
            "build",
            "dist",
            "__pycache__",
            ".pytest_cache",
            "node_modules",
        }
        names = []
        for root, dirs, files in os.walk(REPO_ROOT):
            dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
            names += [str(Path(root, f).relative_to(REPO_ROOT)) for f in files]
    return sorted(REPO_ROOT / n for n in names if not n.startswith(NOT_PACKAGED))


def databridge_source_hash() -> str:
    parts: list[bytes] = [str(VENV_PYTHON.resolve()).encode()]
    for path in source_files():
        try:
            parts += [str(path.relative_to(REPO_ROOT)).encode(), path.read_bytes()]
        except OSError:
            continue
    return sha256_of(*parts)


def build_errors(log_path: Path, limit: int = 5) -> str:
    """The compiler's error lines (file.go:N: ...) of a pip log, else its tail."""
    text = tail(log_path, 400)
    found = re.findall(r"^\s*(\S+\.(?:go|c|h|py|pyx):\d+.*)$", text, re.MULTILINE)
    found = [line for line in found if "Warning" not in line]
    if not found:
        return tail(log_path, limit)
    return "\n".join("  " + line for line in found[:limit])


def install_databridge(force: bool) -> str | None:
    """pip-install databridge from the repo root. Returns an error message, or None."""
    stamp = databridge_source_hash()
    if not force and read_stamp(DATABRIDGE_STAMP) == stamp:
        log("databridge: sources unchanged since the last install")
        return None
    DATABRIDGE_STAMP.unlink(missing_ok=True)
    log(f"databridge: pip install {REPO_ROOT} (this builds the Go engine)")
    log_path = LOG_DIR / "pip-databridge.log"
    started = time.monotonic()
    if not pip_install([str(REPO_ROOT)], log_path, timeout=1800):
        elapsed = time.monotonic() - started
        log(f"databridge: install FAILED after {elapsed:.0f} s; see {log_path}")
        log(build_errors(log_path))
        # Leave no older build behind for --no-install runs or the version header.
        subprocess.run(
            [str(VENV_PYTHON), "-m", "pip", "uninstall", "-y", "-q", DATABRIDGE],
            capture_output=True,
            check=False,
        )
        return f"install failed (see {log_path.relative_to(REPO_ROOT)})"
    log(f"databridge: installed in {time.monotonic() - started:.0f} s")
    DATABRIDGE_STAMP.write_text(stamp + "\n")
    return None


def build_goserver() -> str | None:
    """go build the pure-Go ceiling. Returns an error message, or None."""
    go = shutil.which("go")
    if go is None:
        return "`go` is not on PATH"
    GOSERVER_BIN.parent.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / "go-build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [go, "build", "-o", str(GOSERVER_BIN), "./bench/goserver"]
    with log_path.open("w") as out:
        done = subprocess.run(
            argv, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        return f"go build failed (see {log_path.relative_to(REPO_ROOT)}): {tail(log_path, 3)}"
    return None


def check_tools() -> None:
    """wrk and taskset are required; say how to get them."""
    if shutil.which("wrk") is None:
        raise SystemExit(
            "error: `wrk` is not installed (it generates the load).\n"
            "       Install it with:  sudo apt-get install -y wrk   (Debian/Ubuntu)"
        )
    missing = h2_tools_missing()
    if missing:
        log(f"warning: the HTTP/2 scenario (h2_hello) will be reported as failed: {missing}")
    if shutil.which("taskset") is None:
        raise SystemExit(
            "error: `taskset` is not installed; it is in util-linux (sudo apt-get install -y util-linux)"
        )


def load_average() -> float:
    """1-minute load average (0.0 when unknown)."""
    try:
        with open("/proc/loadavg") as loadavg:
            return float(loadavg.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def pick_cpus() -> tuple[int, int]:
    """(server CPU, load-generator CPU): the first two CPUs we may run on."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        log(
            f"warning: only CPU {cpus[0]} is available; server and wrk share it, numbers are not comparable"
        )
        return cpus[0], cpus[0]
    return cpus[0], cpus[1]


# --------------------------------------------------------------------------- #
# Server processes
# --------------------------------------------------------------------------- #


def free_port() -> int:
    """A port nothing listens on now: bind port 0 on HOST, read the port, close.

    Another process may still take it before the server binds it; ``ServerProcess.start``
    notices (the server exits, or the port is listened on by a process that is not ours)
    and tries again on a new port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def listening_inodes(port: int) -> set[str] | None:
    """Socket inodes listening on HOST:port (from /proc/net/tcp; None when unreadable)."""
    wanted = f"{socket.inet_aton(HOST)[::-1].hex().upper()}:{port:04X}"
    anywhere = f"00000000:{port:04X}"
    inodes = set()
    try:
        with open("/proc/net/tcp") as table:
            next(table, None)
            for line in table:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and fields[1] in (wanted, anywhere):
                    inodes.add(fields[9])
    except OSError:
        return None
    return inodes


def socket_inodes(pids: list[int]) -> set[str]:
    """The socket inodes the processes hold open."""
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def answers_http(port: int, timeout: float = 5.0) -> str | None:
    """None when ``GET /`` gets any HTTP response (404 is fine), else why not."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    return None


def answers_h2(port: int, timeout: float = 5.0) -> str | None:
    """None when ``GET /`` over h2c (prior knowledge, nghttp) gets any response, else why not.

    Without nghttp, an open port is taken as an answer (the scenario then fails clearly).
    """
    if shutil.which("nghttp") is None:
        return None if port_open(port) else "port closed"
    try:
        done = subprocess.run(
            ["nghttp", "-v", f"http://{HOST}:{port}/"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"nghttp: {error}"
    if re.search(r"\s:status: \d+", done.stdout):
        return None
    return "no HTTP/2 response to nghttp"


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def rss_kb(pid: int) -> int | None:
    """VmRSS of one process, from /proc/PID/status."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_tree(root: int) -> list[int]:
    """root and all its descendants (scans /proc for parent ids)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


START_ATTEMPTS = 3  # a start that fails is tried again on a new free port


class ServerProcess:
    """A server started pinned to one CPU, in its own session so it can be stopped as a group.

    Every start picks a new free port (``self.port``).
    """

    def __init__(self, spec: ServerSpec, cpu: int, tag: str) -> None:
        self.spec = spec
        self.cpu = cpu
        self.tag = tag
        self.log_path = LOG_DIR / f"{spec.name}-{tag}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, timeout: float, attempts: int = START_ATTEMPTS) -> None:
        """Start on a free port; try again on a new port when a start fails.

        Raises BenchError saying what happened at each attempt (the process exited,
        another process had the port, or it never listened or answered).
        """
        failures = []
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self.log_path = LOG_DIR / f"{self.spec.name}-{self.tag}-try{attempt}.log"
            try:
                self._start_once(free_port(), timeout)
                return
            except BenchError as error:
                failures.append(f"attempt {attempt} (port {self.port}): {error}")
                self.stop()
        raise BenchError(
            f"failed to start ({attempts} attempt{'s' if attempts > 1 else ''}): " + "; ".join(failures)
        )

    def _start_once(self, port: int, timeout: float) -> None:
        self.port = port
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        env["PATH"] = os.pathsep.join((str(VENV_DIR / "bin"), env.get("PATH", "")))
        env["VIRTUAL_ENV"] = str(VENV_DIR)
        argv = ["taskset", "-c", str(self.cpu), *self.spec.command(port)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as out:
            out.write("$ " + shlex.join(argv) + "\n")
            out.flush()
            self.proc = subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        unanswered: str | None = None  # why the last probe got no answer
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"the server exited with code {self.proc.returncode} before listening: {self.log_excerpt()}"
                )
            listening = listening_inodes(port)
            if listening is None:  # no /proc/net/tcp: trust the port
                listening = {"?"} if port_open(port) else set()
            if listening:
                if "?" not in listening and not listening & socket_inodes(process_tree(self.proc.pid)):
                    time.sleep(0.2)  # ours may bind in a moment and fail, or be a child
                    if self.proc.poll() is None and not (
                        (listening_inodes(port) or set()) & socket_inodes(process_tree(self.proc.pid))
                    ):
                        raise BenchError(
                            f"port {port} is listened on by another process, not by the server"
                        )
                    continue
                unanswered = answers_h2(port) if self.spec.h2_only else answers_http(port)
                if unanswered is None and self.alive():
                    return
            time.sleep(0.05)
        if unanswered is not None:
            raise BenchError(
                f"the server listens on port {port} but did not answer within {timeout:.0f} s "
                f"({unanswered}): {self.log_excerpt()}"
            )
        raise BenchError(
            f"the server did not listen on port {port} within {timeout:.0f} s: {self.log_excerpt()}"
        )

    def log_excerpt(self) -> str:
        lines = tail(self.log_path, 6).splitlines()
        text = " | ".join(x for x in lines if x.strip() and not x.startswith("$ "))
        return f"{text[-600:]} (log: {self.log_path.relative_to(REPO_ROOT)})"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_mb(self) -> tuple[float | None, float | None]:
        """(main process RSS, whole process tree RSS) in MB."""
        if not self.alive():
            return None, None
        assert self.proc is not None
        main = rss_kb(self.proc.pid)
        total = sum(
            kb for kb in (rss_kb(pid) for pid in process_tree(self.proc.pid)) if kb
        )
        return (main / 1024 if main else None), (total / 1024 if total else None)

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it if it lingers, wait for the port to close."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:  # children that outlived the main process (same group)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        deadline = time.monotonic() + 5
        while self.port and port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.proc = None


# --------------------------------------------------------------------------- #
# Requests: correctness check, warm-up, wrk
# --------------------------------------------------------------------------- #


def check_response(
    port: int, scenario: Scenario, notes: list[str] | None = None, server: str = ""
) -> str | None:
    """One urllib request; None when status and body are right, else what is wrong.

    The status must be the scenario's ``expected_status`` (200, 201, 404, 422...);
    the body is compared only when the scenario checks ``server``'s body.
    A Content-Type other than the expected one is not "wrong" (the issue compares status
    and body) but is added to ``notes``.

    Raises BenchError on a 501 the scenario does not expect: the app says it cannot
    serve the scenario (databridge's app without the validation API), so the server
    is reported as failed, not wrong.
    """
    url = f"http://{HOST}:{port}{scenario.path}"
    headers = {"Content-Type": "application/json"} if scenario.body is not None else {}
    request = urllib.request.Request(
        url, data=scenario.body, method=scenario.method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, body, ctype = (
                response.status,
                response.read(),
                response.headers.get("Content-Type", ""),
            )
    except urllib.error.HTTPError as error:
        status, body, ctype = (
            error.code,
            error.read(),
            error.headers.get("Content-Type", ""),
        )
    except (urllib.error.URLError, OSError) as error:
        return f"request failed: {error}"
    if status == 501 and scenario.expected_status != 501:
        try:
            reason = json.loads(body).get("detail") or body.decode(errors="replace")
        except (ValueError, AttributeError):
            reason = body.decode(errors="replace")
        raise BenchError(
            f"the app cannot serve this scenario (501): {str(reason)[:400]}"
        )
    if status != scenario.expected_status:
        return f"status {status}, expected {scenario.expected_status} (body {body[:120]!r})"
    if not scenario.checks_body_of(server):
        return None
    if (
        scenario.expected_contains is not None
        and scenario.expected_contains.encode() not in body
    ):
        return f"body {body[:160]!r} does not contain {scenario.expected_contains}"
    if scenario.expected_json is not None:
        try:
            got = json.loads(body)
        except ValueError:
            return f"body is not JSON: {body[:120]!r}"
        if got != scenario.expected_json:
            return f"body {json.dumps(got)[:160]}, expected {json.dumps(scenario.expected_json)[:160]}"
    if (
        scenario.expected_text is not None
        and body.decode(errors="replace") != scenario.expected_text
    ):
        return f"body of {len(body)} bytes differs from the expected {len(scenario.expected_text)}-byte text"
    wanted = (
        "application/json"
        if scenario.expected_json is not None or scenario.expected_contains is not None
        else "text/plain"
        if scenario.expected_text
        else ""
    )
    if notes is not None and wanted and not ctype.lower().startswith(wanted):
        notes.append(f"Content-Type {ctype or 'missing'!r}, expected {wanted}")
    return None


def warm_burst(port: int, scenario: Scenario, count: int = 200) -> None:
    """A short keep-alive burst: the warm-up when --warmup is 0."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    headers = {"Content-Type": "application/json"} if scenario.body is not None else {}
    try:
        for _ in range(count):
            connection.request(
                scenario.method, scenario.path, body=scenario.body, headers=headers
            )
            connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        pass
    finally:
        connection.close()


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse_wrk(output: str) -> WrkRun:
    """rps, p50/p99 (ms), request and error counts from ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        raise BenchError(f"could not parse wrk output: {output.strip()[-300:]!r}")
    percentiles: dict[str, float] = {}
    for pct, value, unit in re.findall(
        r"^\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE
    ):
        percentiles[pct] = float(value) * _UNIT_MS[unit]
    requests = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkRun(
        rps=float(rps.group(1)),
        p50_ms=percentiles.get("50"),
        p99_ms=percentiles.get("99"),
        requests=int(requests.group(1)) if requests else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sock.groups()) if sock else 0,
    )


@contextlib.contextmanager
def wrk_process(argv: list[str]) -> Iterator[subprocess.Popen[str]]:
    """Start wrk; kill it if anything (an error, Ctrl+C, SIGTERM) interrupts us."""
    wrk = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield wrk
    except BaseException:
        wrk.kill()
        wrk.communicate()
        raise


def run_wrk(
    port: int,
    scenario: Scenario,
    duration: float,
    cpu: int,
) -> WrkRun:
    """``taskset -c CPU wrk -t1 -cN -dDs --latency [-s SCRIPT.lua] URL``.

    wrk only takes whole seconds; for a fractional ``duration`` it is started with a
    longer -d and sent SIGINT on time, on which it stops and prints its usual report
    (rates use the real elapsed time).
    """
    whole = float(duration).is_integer()
    argv = ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{scenario.connections}"]
    argv += [f"-d{int(duration) if whole else math.ceil(duration) + 5}s", "--latency"]
    if scenario.lua is not None:
        argv += ["-s", str(scenario.lua)]
    argv.append(f"http://{HOST}:{port}{scenario.path}")
    for attempt in (1, 2):
        with wrk_process(argv) as wrk:
            try:
                out, err = wrk.communicate(timeout=duration + 60 if whole else duration)
            except subprocess.TimeoutExpired:
                if whole:  # wrk should have stopped by itself long ago
                    raise BenchError(f"wrk did not finish: {shlex.join(argv)}") from None
                wrk.send_signal(signal.SIGINT)
                try:
                    out, err = wrk.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    raise BenchError(f"wrk ignored SIGINT: {shlex.join(argv)}") from None
        # Killed by our SIGINT: it came before wrk had set up its handler (seen on a
        # busy machine, where wrk took longer than the run to start). Once more.
        if wrk.returncode == -signal.SIGINT and attempt == 1:
            log("  (wrk was interrupted before it started measuring; running it again)")
            continue
        break
    if wrk.returncode != 0:
        message = err.strip()[-300:] or out.strip()[-300:]
        if wrk.returncode == -signal.SIGINT:
            message = "interrupted twice before it started measuring (machine busy?)"
        raise BenchError(f"wrk failed ({wrk.returncode}): {message}")
    return parse_wrk(out)


# --------------------------------------------------------------------------- #
# HTTP/2: nghttp (check) and h2load (load), h2c with prior knowledge
# --------------------------------------------------------------------------- #


def h2_tools_missing() -> str | None:
    """Why the HTTP/2 scenario cannot run here (None: h2load and nghttp are installed)."""
    missing = [tool for tool in ("h2load", "nghttp") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed ({H2_INSTALL_HINT})"
    return None


def check_h2_response(
    port: int, scenario: Scenario, notes: list[str] | None = None
) -> str | None:
    """One request with nghttp (h2c prior knowledge); None when status and body are right.

    Raises BenchError when no HTTP/2 response came back at all (the server does not
    speak h2c with prior knowledge): that is a failure, not a wrong answer.
    """
    url = f"http://{HOST}:{port}{scenario.path}"
    try:
        done = subprocess.run(
            ["nghttp", "-v", url], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"nghttp failed: {error}") from None
    out = done.stdout + done.stderr
    status = re.search(r"\brecv \(stream_id=\d+\) :status: (\d+)", out)
    if status is None:
        errors = [x.strip() for x in out.splitlines() if "ERROR" in x or "not processed" in x]
        raise BenchError(
            "no HTTP/2 response to h2c with prior knowledge (nghttp: "
            + ("; ".join(errors)[:300] or out.strip()[-300:])
            + ")"
        )
    if int(status.group(1)) != scenario.expected_status:
        return f"status {status.group(1)}, expected {scenario.expected_status} (over HTTP/2)"
    try:
        body = subprocess.run(
            ["nghttp", url], capture_output=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"nghttp failed: {error}"
    if scenario.expected_json is not None:
        try:
            got = json.loads(body)
        except ValueError:
            return f"body is not JSON: {body[:120]!r}"
        if got != scenario.expected_json:
            return f"body {json.dumps(got)[:160]}, expected {json.dumps(scenario.expected_json)[:160]}"
    ctype = re.search(r"\brecv \(stream_id=\d+\) content-type: (.*)$", out, re.MULTILINE)
    if notes is not None and scenario.expected_json is not None and not (
        ctype and ctype.group(1).strip().lower().startswith("application/json")
    ):
        notes.append(f"Content-Type {ctype.group(1).strip() if ctype else 'missing'!r}, expected application/json")
    return None


def parse_h2load(output: str) -> WrkRun:
    """rps and counts from h2load's report (it prints no latency percentiles)."""
    rps = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", output)
    counts = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
        r"(\d+) failed, (\d+) errored, (\d+) timeout",
        output,
    )
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
    if rps is None or counts is None:
        raise BenchError(f"could not parse h2load output: {output.strip()[-300:]!r}")
    done = int(counts.group(3))
    failed, errored, timeouts = (int(counts.group(i)) for i in (5, 6, 7))
    return WrkRun(
        rps=float(rps.group(1)),
        p50_ms=None,
        p99_ms=None,
        requests=done,
        non_2xx=sum(int(codes.group(i)) for i in (2, 3, 4)) if codes else 0,
        socket_errors=failed + errored + timeouts,
    )


def run_h2load(
    port: int,
    scenario: Scenario,
    duration: float | None,
    cpu: int,
    requests: int = 0,
) -> WrkRun:
    """``taskset -c CPU h2load -cN -m10 -D<duration> URL`` (or ``-n REQUESTS``).

    h2load speaks h2c with prior knowledge on http:// URLs; -D takes milliseconds,
    so fractional durations need no SIGINT.
    """
    argv = ["taskset", "-c", str(cpu), "h2load", f"-c{scenario.connections}", "-m10"]
    if duration is None:
        argv += [f"-n{max(requests, scenario.connections)}"]
        limit = 60.0
    else:
        argv += [f"-D{max(1, round(duration * 1000))}ms"]
        limit = duration + 60
    argv.append(f"http://{HOST}:{port}{scenario.path}")
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"h2load did not finish: {shlex.join(argv)}") from None
    if done.returncode != 0:
        message = done.stderr.strip()[-300:] or done.stdout.strip()[-300:]
        raise BenchError(f"h2load failed ({done.returncode}): {message}")
    return parse_h2load(done.stdout)


ECHO_DONE_MARKER = "echo.lua: done"


def run_wrk_count(port: int, count: int, cpu: int, limit: int) -> WrkRun:
    """wrk with echo.lua stopping after ``count`` responses (or ``limit`` seconds)."""
    scenario = SCENARIOS_BY_NAME["echo"]
    argv = ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{scenario.connections}"]
    argv += [f"-d{limit}s", "-s", str(ECHO_LUA), f"http://{HOST}:{port}{scenario.path}"]
    argv += ["--", str(count)]
    with wrk_process(argv) as wrk:
        assert wrk.stdout is not None
        head: list[str] = []
        for line in wrk.stdout:  # ends at the marker, or at EOF when -d ran out
            head.append(line)
            if line.startswith(ECHO_DONE_MARKER):
                wrk.send_signal(signal.SIGINT)
                break
        try:
            out, err = wrk.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raise BenchError(f"wrk did not stop: {shlex.join(argv)}") from None
    if wrk.returncode != 0:
        raise BenchError(f"wrk failed ({wrk.returncode}): {err.strip()[-300:]}")
    return parse_wrk("".join(head) + out)


# --------------------------------------------------------------------------- #
# Measuring
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Plan:
    """How long and how often to load each server."""

    duration: float
    runs: int
    warmup: float
    reuse_server: bool
    startup_timeout: float
    server_cpu: int
    load_cpu: int


def measure(server: ServerProcess, scenario: Scenario, plan: Plan) -> Measurement:
    """Check, warm up, load and read the RSS of a running server."""
    spec = server.spec
    result = Measurement(spec.name, scenario.name, "ok")
    h2 = scenario.tool == "h2load"
    try:
        if h2:
            missing = h2_tools_missing()
            if missing:
                raise BenchError(missing)
            problem = check_h2_response(server.port, scenario, result.notes)
        else:
            problem = check_response(server.port, scenario, result.notes, spec.name)
        if problem is not None:
            result.status, result.detail = "wrong", problem
            return result
        if h2:
            run_h2load(
                server.port, scenario, plan.warmup or None, plan.load_cpu, requests=200
            )
        elif plan.warmup > 0:
            run_wrk(server.port, scenario, plan.warmup, plan.load_cpu)
        else:
            warm_burst(server.port, scenario)
        for _ in range(plan.runs):
            result.runs.append(
                run_h2load(server.port, scenario, plan.duration, plan.load_cpu)
                if h2
                else run_wrk(server.port, scenario, plan.duration, plan.load_cpu)
            )
            if not server.alive():
                raise BenchError(f"died under load: {server.log_excerpt()}")
            if result.runs[-1].requests == 0:
                raise BenchError(
                    f"no response completed in a {plan.duration:g} s {scenario.tool} run"
                )
    except BenchError as error:
        result.status, result.detail = "failed", str(error)
        return result
    result.rss_mb, result.tree_rss_mb = server.rss_mb()
    result.summarize()
    total = sum(r.requests for r in result.runs)
    bad = sum(r.non_2xx for r in result.runs) if not scenario.errors_expected else 0
    sock = sum(r.socket_errors for r in result.runs)
    if bad:
        result.notes.append(
            f"{bad} non-2xx responses under load ({100 * bad / max(total, 1):.1f}%)"
        )
    if sock:
        result.notes.append(
            f"{sock} failed/errored/timed-out requests" if h2 else f"{sock} socket errors/timeouts"
        )
    if h2:
        result.notes.append("h2load: no latency percentiles")
    return result


def describe(result: Measurement) -> str:
    """One line for the console."""
    if result.status == "n/a":
        return f"n/a ({result.detail})"
    if result.status != "ok":
        return f"{result.status.upper()}: {result.detail}"
    spread = ""
    if len(result.runs) > 1 and result.rps:
        rates = [r.rps for r in result.runs]
        spread = f"  spread {100 * (max(rates) - min(rates)) / result.rps:4.1f}%"
    notes = f"  [{'; '.join(result.notes)}]" if result.notes else ""
    return (
        f"{fmt_num(result.rps):>9} rps  p50 {fmt_ms(result.p50_ms):>9}"
        f"  p99 {fmt_ms(result.p99_ms):>9}  RSS {fmt_num(result.rss_mb, 1):>6} MB"
        f"{spread}{notes}"
    )


def start_server(spec: ServerSpec, plan: Plan, tag: str) -> ServerProcess:
    server = ServerProcess(spec, plan.server_cpu, tag)
    try:
        server.start(plan.startup_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def not_applicable(spec: ServerSpec, scenario: Scenario) -> Measurement:
    return Measurement(spec.name, scenario.name, "n/a", scenario.not_applicable)


def run_restarting(
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    plan: Plan,
    broken: dict[str, str],
) -> dict[str, dict[str, Measurement]]:
    """Full mode: for every scenario, start each server in turn, measure, stop it."""
    results: dict[str, dict[str, Measurement]] = {s.name: {} for s in scenarios}
    for scenario in scenarios:
        log(f"\n== {scenario.title}")
        for spec in specs:
            if not spec.runs_scenario(scenario.name):
                continue  # a variant made for another scenario: no row
            if not scenario.applies_to(spec.name):
                result = not_applicable(spec, scenario)
            elif spec.name in broken:
                result = Measurement(
                    spec.name, scenario.name, "failed", broken[spec.name]
                )
            else:
                try:
                    server = start_server(spec, plan, scenario.name)
                except BenchError as error:
                    result = Measurement(
                        spec.name, scenario.name, "failed", f"start: {error}"
                    )
                else:
                    try:
                        result = measure(server, scenario, plan)
                    finally:
                        server.stop()
            results[scenario.name][spec.name] = result
            log(f"  {spec.name:<13} {describe(result)}")
    return results


def run_reusing(
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    plan: Plan,
    broken: dict[str, str],
) -> dict[str, dict[str, Measurement]]:
    """Quick mode: one server process for all scenarios (its RSS accumulates)."""
    results: dict[str, dict[str, Measurement]] = {s.name: {} for s in scenarios}
    for spec in specs:
        own = [s for s in scenarios if spec.runs_scenario(s.name)]
        if not own:
            continue
        log(f"\n== {spec.name}: {spec.description}")
        server: ServerProcess | None = None
        failure = broken.get(spec.name)
        try:
            for scenario in own:
                if not scenario.applies_to(spec.name):
                    result = not_applicable(spec, scenario)
                    results[scenario.name][spec.name] = result
                    log(f"  {scenario.name:<12} {describe(result)}")
                    continue
                if failure is None and (server is None or not server.alive()):
                    tag = "reuse" if server is None else f"reuse-{scenario.name}"
                    if server is not None:  # it died: start it again
                        server.stop()
                    try:
                        server = start_server(spec, plan, tag)
                    except BenchError as error:
                        failure = f"start: {error}"
                if failure is not None or server is None:
                    result = Measurement(
                        spec.name, scenario.name, "failed", failure or "not started"
                    )
                else:
                    result = measure(server, scenario, plan)
                results[scenario.name][spec.name] = result
                log(f"  {scenario.name:<12} {describe(result)}")
        finally:
            if server is not None:
                server.stop()
    return results


def run_memory(
    specs: list[ServerSpec], plan: Plan, broken: dict[str, str], steps: tuple[int, ...]
) -> list[MemoryResult]:
    """RSS after N echo requests (wrk stops itself after N responses, see echo.lua)."""
    scenario = SCENARIOS_BY_NAME["echo"]
    out: list[MemoryResult] = []
    for spec in specs:
        log(f"\n== memory: {spec.name}, echo requests to {steps[-1]:,}")
        if spec.name in broken:
            out.append(MemoryResult(spec.name, "failed", broken[spec.name]))
            log(f"  FAILED: {broken[spec.name]}")
            continue
        try:
            server = start_server(spec, plan, "memory")
        except BenchError as error:
            out.append(MemoryResult(spec.name, "failed", f"start: {error}"))
            log(f"  FAILED: start: {error}")
            continue
        result = MemoryResult(spec.name, "ok")
        try:
            problem = check_response(server.port, scenario)
            if problem is not None:
                result.status, result.detail = "wrong", problem
                continue
            result.rss_start_mb = server.rss_mb()[0]
            log(f"  after 1 request: RSS {fmt_num(result.rss_start_mb, 1)} MB")
            done = 1
            for target in steps:
                count = target - done
                if count <= 0:
                    continue
                started = time.monotonic()
                run = run_wrk_count(server.port, count, plan.load_cpu, MEMORY_LIMIT_S)
                done += run.requests
                main, tree = server.rss_mb()
                point = {
                    "requests": done,
                    "rss_mb": main,
                    "tree_rss_mb": tree,
                    "rps": run.rps,
                    "seconds": round(time.monotonic() - started, 1),
                }
                result.checkpoints.append(point)
                log(
                    f"  after {done:,} requests: RSS {fmt_num(main, 1)} MB ({run.rps:,.0f} rps)"
                )
                if not server.alive():
                    raise BenchError(f"died under load: {server.log_excerpt()}")
        except BenchError as error:
            result.status, result.detail = "failed", str(error)
        finally:
            server.stop()
            out.append(result)
            if result.status != "ok":
                log(f"  {result.status.upper()}: {result.detail}")
    return out


# --------------------------------------------------------------------------- #
# Goals and reports
# --------------------------------------------------------------------------- #


@dataclass
class Goal:
    """One goal of issue #8: ``value`` compared with ``target``.

    ``kind`` "ratio": value = ours / reference, reached when value ≥ target;
    "max_mb": value = RSS growth in MB, reached when value ≤ target.
    ``note``: why value is n/a, or what it was computed from.
    """

    description: str
    ratio: float | None
    target: float
    reached: bool | None
    kind: str = "ratio"
    note: str = ""


def rps_of(
    results: dict[str, dict[str, Measurement]], scenario: str, server: str
) -> float | None:
    measurement = results.get(scenario, {}).get(server)
    return (
        measurement.rps
        if measurement is not None and measurement.status == "ok"
        else None
    )


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def p99_of(
    results: dict[str, dict[str, Measurement]], scenario: str, server: str
) -> float | None:
    measurement = results.get(scenario, {}).get(server)
    return (
        measurement.p99_ms
        if measurement is not None and measurement.status == "ok"
        else None
    )


def why_missing(
    results: dict[str, dict[str, Measurement]], scenario: str, server: str
) -> str:
    """Why a goal has no figure for (scenario, server)."""
    measurement = results.get(scenario, {}).get(server)
    if measurement is None:
        return "not run"
    if measurement.status == "ok":
        return "no figure"
    return measurement.status


def memory_growth(memory: list[MemoryResult]) -> float | None:
    """databridge's RSS growth (MB) between the first and the last memory checkpoint."""
    for mem in memory:
        if mem.server == DATABRIDGE and mem.status == "ok" and len(mem.checkpoints) >= 2:
            first, last = mem.checkpoints[0]["rss_mb"], mem.checkpoints[-1]["rss_mb"]
            if first and last:
                return float(last - first)
    return None


def evaluate_goals(
    results: dict[str, dict[str, Measurement]], memory: list[MemoryResult]
) -> list[Goal]:
    """The goals of issue #8, from the medians of this run."""
    db = DATABRIDGE
    db_hello = rps_of(results, "hello", db)
    # (goal, (scenario, server) of the numerator, (scenario, server) of the denominator, target)
    rows: list[tuple[str, tuple[str, str], tuple[str, str], float]] = [
        ("1 hello: ≥ 1.3× Granian RSGI", ("hello", db), ("hello", "granian-rsgi"), 1.3),
        ("1 hello: ≥ 1.8× uvicorn raw ASGI", ("hello", db), ("hello", "uvicorn"), 1.8),
        ("1 hello: ≥ 5× FastAPI", ("hello", db), ("hello", "fastapi"), 5.0),
        (
            "3 params (path + query): ≥ 1.3× Granian RSGI",
            ("params", db),
            ("params", "granian-rsgi"),
            1.3,
        ),
        (
            "6 text10k (10 KB text): ≥ 1.0× Granian RSGI",
            ("text10k", db),
            ("text10k", "granian-rsgi"),
            1.0,
        ),
        (
            # "no worse" as a ratio: Granian's p99 / databridge's p99 ≥ 1
            "1 hello p99: no worse than Granian RSGI's (ratio = Granian p99 / databridge p99)",
            ("hello", "granian-rsgi"),
            ("hello", db),
            1.0,
        ),
        (
            "1 hello (Python) vs 10 go_hello (Go-only route, same engine): ≥ 0.75×",
            ("hello", db),
            ("go_hello", db),
            0.75,
        ),
        (
            "7 notfound (404, no Python): ≥ 1.5× net/http (bench/goserver)",
            ("notfound", db),
            ("notfound", GO),
            1.5,
        ),
        (
            "9 invalid (422, no Python): ≥ 1.5× net/http (bench/goserver)",
            ("invalid", db),
            ("invalid", GO),
            1.5,
        ),
        (
            "11 routes: last of 203 routes ≥ 0.9× the 1-route app",
            ("routes", ROUTES_BIG),
            ("routes", ROUTES_ONE),
            0.9,
        ),
    ]
    goals = []
    for description, top, bottom, target in rows:
        figure = p99_of if "p99" in description else rps_of
        ours, reference = figure(results, *top), figure(results, *bottom)
        value = ratio(ours, reference)
        missing = [
            f"{server} {scenario}: {why_missing(results, scenario, server)}"
            for (scenario, server), got in ((top, ours), (bottom, reference))
            if got is None
        ]
        goals.append(
            Goal(
                description,
                value,
                target,
                None if value is None else value >= target,
                note="; ".join(missing),
            )
        )
    growth = memory_growth(memory)
    goals.append(
        Goal(
            "RSS growth of databridge over the memory run (1M echo requests): ≤ 5 MB",
            growth,
            5.0,
            None if growth is None else growth <= 5.0,
            kind="max_mb",
            note="" if growth is not None else (
                "memory scenario not run (use --memory)" if not memory else "memory run failed"
            ),
        )
    )
    return goals


def fmt_goal(goal: Goal) -> tuple[str, str, str]:
    """(value, target, reached) as printed."""
    reached = "n/a" if goal.reached is None else ("yes" if goal.reached else "no")
    if goal.kind == "max_mb":
        value = "n/a" if goal.ratio is None else f"{goal.ratio:+.1f} MB"
        return value, f"≤ {goal.target:g} MB", reached
    digits = 2
    if goal.ratio is not None and round(goal.ratio, 2) == goal.target and not goal.reached:
        digits = 3  # 0.896 is not 0.90
    return fmt_num(goal.ratio, digits), f"≥ {goal.target:g}", reached


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = command_output(
        [
            str(VENV_PYTHON),
            "-c",
            (
                "import importlib.metadata as m, json, sys\n"
                f"names = {list(PEERS_PACKAGES) + [DATABRIDGE]!r}\n"
                "out = {'python': sys.version.split()[0]}\n"
                "for n in names:\n"
                "    try: out[n] = m.version(n)\n"
                "    except m.PackageNotFoundError: pass\n"
                "print(json.dumps(out))"
            ),
        ]
    )
    try:
        packages: dict[str, str] = (
            json.loads(versions.splitlines()[-1]) if versions else {}
        )
    except ValueError:
        packages = {}
    commit = command_output(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT)
    dirty = command_output(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT
    )
    return {
        "cpu": cpu,
        "cpus": str(os.cpu_count()),
        "kernel": platform.release(),
        "python": packages.pop("python", platform.python_version()),
        "packages": ", ".join(f"{k} {v}" for k, v in packages.items()),
        "go": command_output(["go", "version"]) or "not found",
        "wrk": (command_output(["wrk", "-v"]).splitlines() or ["?"])[0].split(
            " Copyright"
        )[0],
        "commit": (commit + (" (dirty)" if dirty else "")) if commit else "unknown",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
    }


def render_markdown(
    info: dict[str, str],
    command: str,
    plan: Plan,
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    results: dict[str, dict[str, Measurement]],
    goals: list[Goal],
    memory: list[MemoryResult],
) -> str:
    lines = [
        "# databridge benchmark results",
        "",
        f"- Command: `{command}`",
        f"- Date: {info['date']}, commit {info['commit']}",
        f"- Machine: {info['cpu']} ({info['cpus']} CPUs), Linux {info['kernel']}",
        f"- Python {info['python']}; {info['packages']}",
        f"- {info['go']}; {info['wrk']}",
        f"- 1-minute load average: {info['load']} (anything well above 0 means other work shared the CPUs)",
        f"- Load: server pinned to CPU {plan.server_cpu}, `wrk -t1` pinned to CPU {plan.load_cpu}; "
        f"{plan.runs} runs × {plan.duration:g} s per server and scenario (median shown), "
        + (f"{plan.warmup:g} s wrk warm-up" if plan.warmup else "200-request warm-up")
        + (
            "; one server process for all scenarios (RSS accumulates)"
            if plan.reuse_server
            else "; fresh server per scenario"
        ),
        (
            "- RSS: VmRSS of the server's main process after the load; *tree* adds its child "
            "processes (Granian serves from a worker child)."
        ),
    ]
    if goals:
        lines += [
            "",
            "## Goals (issue #8)",
            "",
            "Computed from the medians of this run: databridge's RPS divided by the"
            " reference's, except where the goal says otherwise (n/a: the note says why).",
            "",
            "| Goal | Ratio | Target | Reached | Note |",
            "| --- | ---: | ---: | :---: | --- |",
        ]
    for goal in goals:
        value, target, reached = fmt_goal(goal)
        lines.append(f"| {goal.description} | {value} | {target} | {reached} | {goal.note} |")
    for scenario in scenarios:
        lines += [
            "",
            f"## {scenario.title}",
            "",
            f"| Server | RPS (median) | p50 | p99 | RSS MB | tree RSS MB | {scenario.ours}/row | Notes |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        ours = rps_of(results, scenario.name, scenario.ours)
        for spec in specs:
            m = results.get(scenario.name, {}).get(spec.name)
            if m is None:
                continue
            if m.status == "n/a":
                lines.append(f"| {spec.name} | n/a | | | | | | {m.detail} |")
                continue
            if m.status != "ok":
                detail = m.detail.replace("|", "\\|").replace("\n", " ")[:300]
                lines.append(f"| {spec.name} | **{m.status}** | | | | | | {detail} |")
                continue
            rel = "—" if spec.name == scenario.ours else fmt_num(ratio(ours, m.rps), 2)
            notes = "; ".join(m.notes)
            lines.append(
                f"| {spec.name} | {fmt_num(m.rps)} | {fmt_ms(m.p50_ms)} | {fmt_ms(m.p99_ms)} | "
                f"{fmt_num(m.rss_mb, 1)} | {fmt_num(m.tree_rss_mb, 1)} | {rel} | {notes} |"
            )
    if memory:
        lines += [
            "",
            "## Memory: RSS during a long echo run",
            "",
            "| Server | RSS at start | Checkpoints (requests: RSS MB) | Growth after the first checkpoint |",
            "| --- | ---: | --- | ---: |",
        ]
        for mem in memory:
            if mem.status != "ok":
                lines.append(
                    f"| {mem.server} | **{mem.status}** | {mem.detail[:300]} | |"
                )
                continue
            points = ", ".join(
                f"{p['requests']:,}: {fmt_num(p['rss_mb'], 1)}" for p in mem.checkpoints
            )
            growth = "n/a"
            if (
                len(mem.checkpoints) >= 2
                and mem.checkpoints[0]["rss_mb"]
                and mem.checkpoints[-1]["rss_mb"]
            ):
                growth = f"{mem.checkpoints[-1]['rss_mb'] - mem.checkpoints[0]['rss_mb']:+.1f} MB"
            lines.append(
                f"| {mem.server} | {fmt_num(mem.rss_start_mb, 1)} MB | {points} | {growth} |"
            )
    lines += ["", "## Servers", ""]
    lines += [
        f"- **{spec.name}**: {spec.description}: `{shlex.join(spec.command())}`"
        for spec in specs
    ]
    return "\n".join(lines) + "\n"


def write_reports(
    load_before: float,
    command: str,
    plan: Plan,
    specs: list[ServerSpec],
    scenarios: list[Scenario],
    results: dict[str, dict[str, Measurement]],
    memory: list[MemoryResult],
) -> None:
    info = machine_info()
    info["load"] = f"{load_before:.2f} before the run, {load_average():.2f} after"
    goals = evaluate_goals(results, memory) if scenarios or memory else []
    RESULTS_MD.write_text(
        render_markdown(info, command, plan, specs, scenarios, results, goals, memory)
    )
    data = {
        "command": command,
        "machine": info,
        "plan": asdict(plan),
        "servers": {
            spec.name: {"command": spec.command()} for spec in specs
        },
        "scenarios": {
            s.name: {m_name: asdict(m) for m_name, m in results.get(s.name, {}).items()}
            for s in scenarios
        },
        "goals": [asdict(goal) for goal in goals],
        "memory": [asdict(mem) for mem in memory],
    }
    RESULTS_JSON.write_text(json.dumps(data, indent=2) + "\n")
    log(
        f"\nwrote {RESULTS_MD.relative_to(REPO_ROOT)} and {RESULTS_JSON.relative_to(REPO_ROOT)}"
    )
    if goals:
        log("\ngoals (issue #8):")
    for goal in goals:
        value, target, reached = fmt_goal(goal)
        note = f"  [{goal.note}]" if goal.note else ""
        log(f"  {goal.description}: {value} (target {target}) {reached.upper() if reached == 'no' else reached}{note}")


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


def parse_names(value: str, known: dict[str, Any], what: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})"
        )
    return names


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 runs × 0.7 s, no wrk warm-up, one process per server (< 3 min)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        help="seconds per wrk run, fractions allowed (default 5; quick 0.7)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        help="wrk runs per server and scenario, median reported (default 3)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help="seconds of wrk warm-up; 0 = a 200-request burst (default 2; quick 0)",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda v: parse_names(v, SCENARIOS_BY_NAME, "scenario"),
        default=list(SCENARIOS_BY_NAME),
        help="comma-separated subset of: " + ",".join(SCENARIOS_BY_NAME),
    )
    parser.add_argument(
        "--servers",
        type=lambda v: parse_names(v, SERVERS_BY_NAME, "server"),
        default=list(SERVERS_BY_NAME),
        help="comma-separated subset of: " + ",".join(SERVERS_BY_NAME),
    )
    parser.add_argument(
        "--reuse-server",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start each server once for all scenarios (default: only with --quick)",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also run the RSS growth scenario (not with --quick)",
    )
    parser.add_argument(
        "--memory-only", action="store_true", help="run only the RSS growth scenario"
    )
    parser.add_argument(
        "--memory-servers",
        type=lambda v: parse_names(v, SERVERS_BY_NAME, "server"),
        default=[DATABRIDGE],
        help="servers for the memory scenario (default: databridge)",
    )
    parser.add_argument(
        "--memory-requests",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[10_000, 1_000_000],
        help="RSS checkpoints, in echo requests (default 10000,1000000)",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="use bench/.venv as it is (no pip, no go build)",
    )
    parser.add_argument(
        "--reinstall",
        action="store_true",
        help="reinstall peers and databridge even if unchanged",
    )
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for a server's port",
    )
    args = parser.parse_args(argv)
    if args.quick and (args.memory or args.memory_only):
        parser.error(
            "the memory scenario is not part of --quick; run it without --quick"
        )
    if args.duration is not None and args.duration < 0.2:
        parser.error("--duration must be at least 0.2 (seconds)")
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.warmup is not None and args.warmup < 0:
        parser.error("--warmup cannot be negative")
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    server_cpu, load_cpu = pick_cpus()
    return Plan(
        duration=args.duration or (0.7 if args.quick else 5),
        runs=args.runs or 3,
        warmup=args.warmup if args.warmup is not None else (0 if args.quick else 2),
        reuse_server=args.reuse_server if args.reuse_server is not None else args.quick,
        startup_timeout=args.startup_timeout,
        server_cpu=server_cpu,
        load_cpu=load_cpu,
    )


def prepare(specs: list[ServerSpec], args: argparse.Namespace) -> dict[str, str]:
    """venv, peers, databridge, goserver. Returns {server: why it cannot run}."""
    broken: dict[str, str] = {}
    names = {spec.name for spec in specs}
    ours = names & set(DATABRIDGE_SERVERS)  # servers that run the databridge checkout
    if args.no_install:
        if not VENV_PYTHON.exists():
            raise SystemExit(f"error: --no-install but {VENV_DIR} does not exist")
        if ours and not DATABRIDGE_STAMP.exists():
            for name in ours:
                broken[name] = "not installed in bench/.venv (run without --no-install)"
    else:
        ensure_venv()
        # databridge's app needs pydantic (pinned there too) for scenario 8.
        if names - {GO}:
            install_peers(args.reinstall)
        if ours:
            problem = install_databridge(args.reinstall)
            if problem:
                for name in ours:
                    broken[name] = problem
    if GO in names:
        if args.no_install and GOSERVER_BIN.exists():
            pass
        else:
            problem = build_goserver()
            if problem:
                broken[GO] = problem
    return broken


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = shlex.join(
        ["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)]
    )
    check_tools()
    plan = make_plan(args)
    memory_names = args.memory_servers if (args.memory or args.memory_only) else []
    specs = [SERVERS_BY_NAME[n] for n in SERVERS_BY_NAME if n in args.servers]
    memory_specs = [SERVERS_BY_NAME[n] for n in SERVERS_BY_NAME if n in memory_names]
    scenarios = (
        []
        if args.memory_only
        else [SCENARIOS_BY_NAME[n] for n in SCENARIOS_BY_NAME if n in args.scenarios]
    )

    started = time.monotonic()
    load_before = load_average()
    if load_before > 1.0:
        log(
            f"warning: the machine is busy (1-minute load average {load_before:.2f}); numbers will be noisy"
        )
    broken = prepare(list({s.name: s for s in specs + memory_specs}.values()), args)
    pairs = sum(
        s.applies_to(spec.name) and spec.runs_scenario(s.name)
        for s in scenarios
        for spec in specs
    )
    starts = (
        sum(any(spec.runs_scenario(s.name) for s in scenarios) for spec in specs)
        if plan.reuse_server
        else pairs
    )
    estimate = (
        pairs * (plan.warmup + plan.runs * (plan.duration + 0.05) + 0.2) + starts * 0.8
    )
    log(
        f"\n{len(scenarios)} scenarios × {len(specs)} servers ({pairs} pairs that apply),"
        f" {plan.runs} runs × {plan.duration:g} s, "
        f"warm-up {plan.warmup:g} s: about {estimate / 60:.1f} min of load"
        + (
            f" (+ memory scenario for {', '.join(memory_names)})"
            if memory_names
            else ""
        )
    )
    for name, problem in broken.items():
        log(f"  {name}: will be reported as failed: {problem}")

    runner = run_reusing if plan.reuse_server else run_restarting
    results = runner(specs, scenarios, plan, broken) if scenarios else {}
    memory = (
        run_memory(memory_specs, plan, broken, tuple(args.memory_requests))
        if memory_specs
        else []
    )
    write_reports(load_before, command, plan, specs, scenarios, results, memory)
    log(f"total time {time.monotonic() - started:.0f} s")
    return 0


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl+C, so the running server is stopped on the way out."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
