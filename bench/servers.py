"""The servers: how each is started (ServerSpec, SERVERS) and the running process
(ServerProcess: a free port per start, start detection, RSS, stop).

Part of bench/run.py (see bench/README.md). Standard library only.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass

from bench.env import (
    BenchError,
    DATABRIDGE,
    GO,
    GOSERVER_BIN,
    GRANIAN_H2,
    HOST,
    LOG_DIR,
    REPO_ROOT,
    ROUTES_BIG,
    ROUTES_ONE,
    VENV_DIR,
    VENV_PYTHON,
    tail,
)


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
