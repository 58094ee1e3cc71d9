"""The worker supervisor of ``python -m databridge run --workers N``.

It never imports the app or ``databridge._core`` (a process that runs Go
must not fork): it binds the listening socket, spawns fresh interpreters
(``sys.executable -m databridge run ... --fd F --worker-fd C``) that
inherit it, and watches them through one socketpair each (the worker's
control socket: the worker writes ``ready`` once it serves and
``recycle <reason>`` when it reached --workers-max-requests; when the
supervisor goes away the worker sees EOF and stops gracefully).

All workers accept on the one inherited socket, so a worker that stops
accepting leaves its queued connections to the others: a recycled worker
is told to stop (SIGTERM, a graceful drain) only once its replacement is
serving, and no connection is refused or lost.

Exit status: 0 after a stop by signal; 1 when a worker exits before it
is serving while starting up, when a replacement for a crashed worker
fails to start 3 times in a row, or when workers crash (exit without
being asked) more than 10 times within 60 s.
"""

from __future__ import annotations

import logging
import os
import random
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Supervisor", "SupervisorOptions"]

logger = logging.getLogger("databridge.supervisor")

CRASH_WINDOW = 60.0
CRASH_LIMIT = 10
FAILED_STARTS_LIMIT = 3


@dataclass
class SupervisorOptions:
    workers: int = 1
    max_requests: int = 0
    max_requests_jitter: int = 0
    lifetime: float = 0.0
    max_rss_mb: float = 0.0
    kill_timeout: float = 5.0
    graceful_timeout: float = 30.0


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    control: socket.socket
    started: float
    reason: str  # why it was started: "start", "respawn", "recycle: ..."
    ready_at: float = 0.0
    replaces: Worker | None = None
    replacement: Worker | None = None
    stopping_since: float = 0.0  # SIGTERM sent
    killed: bool = False
    buf: bytes = b""
    expected_exit: bool = False
    metrics_port: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def ready(self) -> bool:
        return self.ready_at > 0


class Supervisor:
    """Runs ``options.workers`` workers of ``worker_argv`` (the ``run``
    arguments) on ``sock`` until SIGTERM/SIGINT."""

    def __init__(self, worker_argv: Sequence[str], sock: socket.socket, options: SupervisorOptions,
                 banner: str) -> None:
        self.argv = list(worker_argv)
        self.sock = sock
        self.options = options
        self.banner = banner
        self.selector = selectors.DefaultSelector()
        self.workers: dict[int, Worker] = {}
        self.crashes: deque[float] = deque()
        self.failed_starts = 0
        self.stopping = False
        self.stop_signal = 0
        self.aborting = False
        self.exit_status = 0
        self.roll: deque[tuple[Worker, str]] = deque()
        self.reload_requested = False
        self.signals: deque[int] = deque()
        self.restarts = 0  # replacements that took over (recycles, SIGHUP, reload)
        self.respawns = 0  # workers started after one died

    # -- processes --------------------------------------------------------

    def spawn(self, reason: str, replaces: Worker | None = None) -> Worker:
        parent, child = socket.socketpair()
        parent.setblocking(False)
        argv = [sys.executable, "-m", "databridge", "run", *self.argv,
                "--fd", str(self.sock.fileno()), "--worker-fd", str(child.fileno())]
        if self.options.max_requests > 0:
            jitter = random.randint(0, self.options.max_requests_jitter) if self.options.max_requests_jitter else 0
            argv += ["--workers-max-requests", str(self.options.max_requests + jitter)]
        env = os.environ.copy()
        env.pop("LISTEN_PID", None)
        env.pop("LISTEN_FDS", None)
        env["DATABRIDGE_WORKERS"] = "1"
        if "GOMAXPROCS" not in env:  # N Go runtimes share the cores (experiment: DATABRIDGE_WORKER_GOMAXPROCS)
            share = os.environ.get("DATABRIDGE_WORKER_GOMAXPROCS")
            if share:
                env["GOMAXPROCS"] = share
        kwargs: dict[str, object] = {}
        if sys.version_info >= (3, 11):
            kwargs["process_group"] = 0  # Ctrl+C reaches the supervisor only; it forwards
        else:  # pragma: no cover
            kwargs["start_new_session"] = True
        proc = subprocess.Popen(argv, pass_fds=(self.sock.fileno(), child.fileno()), env=env,
                                stdin=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
        child.close()
        w = Worker(proc=proc, control=parent, started=time.monotonic(), reason=reason, replaces=replaces)
        if replaces is not None:
            replaces.replacement = w
        self.workers[proc.pid] = w
        self.selector.register(parent, selectors.EVENT_READ, w)
        logger.debug("worker %d starting (%s)", proc.pid, reason)
        return w

    def terminate(self, w: Worker, sig: int = signal.SIGTERM) -> None:
        w.expected_exit = True
        if not w.stopping_since:
            w.stopping_since = time.monotonic()
        try:
            w.proc.send_signal(sig)
        except ProcessLookupError:
            pass

    # -- events -----------------------------------------------------------

    def on_line(self, w: Worker, line: str) -> None:
        if line == "ready":
            w.ready_at = time.monotonic()
            self.on_ready(w)
        elif line.startswith("metrics "):
            w.metrics_port = int(line.split()[1])
        elif line.startswith("recycle"):
            self.recycle(w, line.partition(" ")[2] or "asked")

    def on_ready(self, w: Worker) -> None:
        if w.reason == "respawn":
            self.failed_starts = 0
            dead = w.extra.get("died_at")
            took = f" {w.ready_at - dead:.3f} s after the crash" if dead else ""
            logger.warning("worker %d serving%s", w.pid, took)
        old = w.replaces
        w.replaces = None
        if old is not None and old.pid in self.workers:
            logger.info("worker %d serving; stopping worker %d (%s)", w.pid, old.pid, w.reason)
            old.replacement = None
            self.terminate(old)
            self.restarts += 1
        if self.stopping:
            self.terminate(w, self.stop_signal)

    def recycle(self, w: Worker, reason: str) -> None:
        if self.stopping or w.expected_exit or w.replacement is not None or not w.ready:
            return
        self.spawn(f"recycle: {reason}", replaces=w)

    def on_exit(self, w: Worker) -> None:
        self.selector.unregister(w.control)
        w.control.close()
        code = w.proc.wait()
        del self.workers[w.pid]
        now = time.monotonic()
        if w.replaces is not None:  # a replacement that never served
            w.replaces.replacement = None
        if w.replacement is not None and w.replacement.pid in self.workers:
            w.replacement.replaces = None  # it takes this one's place
        how = f"signal {-code}" if code < 0 else f"status {code}"
        if w.expected_exit or self.stopping:
            logger.debug("worker %d exited (%s)", w.pid, how)
            return
        if not w.ready:
            if w.reason.startswith("recycle: reload"):
                logger.error("worker %d (reload) failed to start (%s); the old workers keep serving", w.pid, how)
                self.roll.clear()
                return
            self.failed_starts += 1
            logger.error("worker %d exited before serving (%s)", w.pid, how)
            if w.reason == "start" or self.failed_starts >= FAILED_STARTS_LIMIT:
                logger.error("workers fail to start; stopping")
                self.exit_status = 1
                self.begin_stop(signal.SIGTERM)
                return
        else:
            logger.warning("worker %d died (%s); respawning", w.pid, how)
        self.crashes.append(now)
        while self.crashes and now - self.crashes[0] > CRASH_WINDOW:
            self.crashes.popleft()
        if len(self.crashes) > CRASH_LIMIT:
            logger.error("workers crashed %d times within %.0f s; stopping", len(self.crashes), CRASH_WINDOW)
            self.exit_status = 1
            self.begin_stop(signal.SIGTERM)
            return
        if w.replacement is None:
            self.respawns += 1
            new = self.spawn("respawn")
            new.extra["died_at"] = now

    def begin_stop(self, sig: int) -> None:
        self.stopping = True
        self.stop_signal = signal.SIGTERM
        # The workers hold the socket now; once the last one stops
        # accepting, connections are refused rather than left queued.
        self.sock.close()
        for w in list(self.workers.values()):
            self.terminate(w)

    def on_signal(self, sig: int) -> None:
        if sig == signal.SIGHUP:
            if not self.stopping:
                logger.info("SIGHUP: rolling restart of %d workers", len(self.workers))
                self.roll.extend((w, "SIGHUP") for w in self.workers.values() if w.ready and not w.expected_exit)
            return
        if not self.stopping:
            logger.info("%s: stopping workers gracefully", signal.Signals(sig).name)
            self.begin_stop(sig)
        elif sig == signal.SIGINT and not self.aborting:
            logger.warning("second Ctrl+C: workers answer requests in flight with 503 and stop")
            self.aborting = True
            for w in list(self.workers.values()):
                self.terminate(w, signal.SIGINT)
        # a second SIGTERM while draining is ignored

    def request_reload(self) -> None:
        """From the reload thread: roll every worker (periodic does it)."""
        self.reload_requested = True

    def periodic(self) -> None:
        now = time.monotonic()
        opts = self.options
        for w in list(self.workers.values()):
            if w.stopping_since and not w.killed and now - w.stopping_since > opts.graceful_timeout + opts.kill_timeout:
                logger.warning("worker %d did not stop within %.1f s; killing it", w.pid,
                               opts.graceful_timeout + opts.kill_timeout)
                w.killed = True
                w.proc.kill()
            if self.stopping or w.expected_exit or not w.ready:
                continue
            if opts.lifetime > 0 and now - w.ready_at > opts.lifetime:
                self.recycle(w, "lifetime")
            elif opts.max_rss_mb > 0 and _rss_mb(w.pid) > opts.max_rss_mb:
                self.recycle(w, "max-rss")
        if self.reload_requested and not self.stopping:
            self.reload_requested = False
            self.roll = deque((w, "reload") for w in self.workers.values() if w.ready and not w.expected_exit)
        if self.roll and not self.stopping and not any(w.replaces for w in self.workers.values()):
            w, why = self.roll.popleft()
            if w.pid in self.workers and not w.expected_exit and w.replacement is None:
                self.spawn(f"recycle: {why}", replaces=w)

    # -- the loop ---------------------------------------------------------

    def run(self) -> int:
        rfd, wfd = os.pipe()
        os.set_blocking(rfd, False)
        os.set_blocking(wfd, False)
        old_wakeup = signal.set_wakeup_fd(wfd)
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, lambda s, f: self.signals.append(s)) for sig in handled}
        self.selector.register(rfd, selectors.EVENT_READ, None)
        try:
            for _ in range(self.options.workers):
                self.spawn("start")
            announced = False
            while self.workers or not self.stopping:
                if not announced and not self.stopping and sum(
                        w.ready for w in self.workers.values()) >= self.options.workers:
                    announced = True
                    print(f"databridge: serving {self.banner} (Ctrl+C to stop)", file=sys.stderr, flush=True)
                    print(f"databridge: {self.options.workers} workers, pids "
                          f"{' '.join(str(w.pid) for w in self.workers.values() if w.ready)}", file=sys.stderr,
                          flush=True)
                for key, _ in self.selector.select(timeout=0.2):
                    if key.data is None:
                        try:
                            os.read(rfd, 512)
                        except BlockingIOError:
                            pass
                        continue
                    self.read(key.data)
                while self.signals:
                    self.on_signal(self.signals.popleft())
                for w in list(self.workers.values()):  # exits the control socket did not show yet
                    if w.proc.poll() is not None and w.control.fileno() >= 0 and w.pid in self.workers:
                        self.drain_control(w)
                        if w.pid in self.workers:
                            self.on_exit(w)
                self.periodic()
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for w in list(self.workers.values()):
                w.proc.kill()
                w.proc.wait()
            self.selector.close()
            os.close(rfd)
            os.close(wfd)
        return self.exit_status

    def read(self, w: Worker) -> None:
        try:
            data = w.control.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            w.proc.wait()
            self.on_exit(w)
            return
        self.handle_data(w, data)

    def drain_control(self, w: Worker) -> None:
        try:
            while data := w.control.recv(4096):
                self.handle_data(w, data)
        except OSError:
            pass

    def handle_data(self, w: Worker, data: bytes) -> None:
        w.buf += data
        while b"\n" in w.buf:
            line, _, w.buf = w.buf.partition(b"\n")
            self.on_line(w, line.decode(errors="replace").strip())


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def serve_metrics(supervisor: Supervisor, host: str, port: int) -> None:
    """Serve /metrics on host:port from a thread: every worker's exposition
    (each worker serves its own on a loopback port it tells the supervisor)
    with a ``worker="<pid>"`` label, and the supervisor's own counters."""
    import http.server
    import urllib.request

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = collect().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    def collect() -> str:
        # Samples of one family must be contiguous: group them across workers.
        headers: dict[str, list[str]] = {}
        groups: dict[str, list[str]] = {}
        for w in list(supervisor.workers.values()):
            if not w.metrics_port or not w.ready:
                continue
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{w.metrics_port}/metrics", timeout=2) as r:
                    text = r.read().decode()
            except OSError:
                continue
            family = ""
            for line in text.splitlines():
                if line.startswith("#"):
                    parts = line.split(None, 3)
                    if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                        family = parts[2]
                        head = headers.setdefault(family, [])
                        if line not in head:
                            head.append(line)
                        groups.setdefault(family, [])
                elif line:
                    name, brace, rest = line.partition("{")
                    if brace and " " not in name:
                        sample = f'{name}{{worker="{w.pid}",{rest}'
                    else:
                        metric, _, value = line.partition(" ")
                        sample = f'{metric}{{worker="{w.pid}"}} {value}'
                    groups.setdefault(family, []).append(sample)
        out: list[str] = []
        for family, lines in groups.items():
            out += headers.get(family, []) + lines
        out += [
            "# HELP databridge_worker_restarts_total Workers started to replace others.",
            "# TYPE databridge_worker_restarts_total counter",
            f'databridge_worker_restarts_total{{reason="crash"}} {supervisor.respawns}',
            f'databridge_worker_restarts_total{{reason="recycle"}} {supervisor.restarts}',
            "# HELP databridge_workers Workers running.",
            "# TYPE databridge_workers gauge",
            f"databridge_workers {len(supervisor.workers)}",
        ]
        return "\n".join(out) + "\n"

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="databridge-metrics", daemon=True).start()
