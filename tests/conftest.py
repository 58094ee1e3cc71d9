"""Fixtures: an app with a TestClient, an in-process server, and the
``python -m databridge run`` subprocess that end-to-end tests talk to over
real sockets."""

from __future__ import annotations

import os
import queue
import re
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from databridge import App, Route, Server
from databridge.testing import TestClient

REPO_ROOT = Path(__file__).resolve().parent.parent
BANNER = re.compile(r"databridge: serving (http://\S+)")


def report_lines(route: Route, what: str) -> set[str]:
    """The log message for an error at ``route``: the engine names the route
    by method, path and handler name."""
    return {f"handler for route {route.method} {route.path} ({route.name}) {what}"}


@pytest.fixture
def app() -> App:
    """A fresh app; a test registers its routes, then uses ``client``."""
    return App()


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """``serve(app, **settings)`` starts ``Server(app, port=0, **settings)``
    in this process and returns it (``server.port`` is the bound port); it
    stops at teardown."""
    servers: list[Server] = []

    def start(app: App, **settings: Any) -> Server:
        server = Server(app, host="127.0.0.1", port=0, **settings)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(timeout=10)


@pytest.fixture
def start_server(serve: Callable[..., Server]) -> Callable[..., Server]:
    """``serve`` by the name the TLS, HTTP/2 and handler-thread tests use."""
    return serve


class _ReplyHandler(socketserver.StreamRequestHandler):
    timeout = 10

    def handle(self) -> None:
        line = self.rfile.readline()
        self.wfile.write(b"reply to " + line)


@pytest.fixture
def line_server() -> Iterator[int]:
    """Port of a second local TCP server (threads, not asyncio) that
    answers each line ``L`` with ``reply to L``."""
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ReplyHandler) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            thread.join(5)


class LiveServer:
    """``python -m databridge run ARGS`` in a subprocess, its stderr read
    line by line into :attr:`lines` by a thread (so the pipe never fills)."""

    def __init__(self, *args: str, sigint: bool = False) -> None:
        self.lines: list[str] = []
        self._new_lines: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "databridge", "run", *args],
            cwd=REPO_ROOT,
            env=os.environ.copy(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            # A shell without job control starts background jobs with SIGINT
            # ignored, and Python then installs no KeyboardInterrupt handler.
            preexec_fn=_default_sigint if sigint else None,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            self._new_lines.put(line)
        self._new_lines.put(None)

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first stderr line (old or new) matching ``pattern``."""
        regex = re.compile(pattern)
        for line in list(self.lines):
            if match := regex.search(line):
                return match
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                new_line = self._new_lines.get(timeout=left)
            except queue.Empty:
                break
            if new_line is None:  # stderr closed: the process exited
                break
            if match := regex.search(new_line):
                return match
        raise AssertionError(f"no stderr line matched {pattern!r} within {timeout} s; stderr:\n{self.stderr()}")

    def wait_until_serving(self, timeout: float = 20) -> str:
        self.url = self.wait_for_line(BANNER.pattern, timeout).group(1)
        return self.url

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        """Send ``sig`` if still running and return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 10) -> int:
        """Wait for the process to exit by itself; return the exit status."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"server did not exit within {timeout} s; stderr:\n{self.stderr()}")

    def stderr(self) -> str:
        self._reader.join(timeout=1 if self.proc.poll() is not None else 0)
        return "".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr is not None:
            self._reader.join(timeout=5)
            self.proc.stderr.close()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def start_live() -> Iterator[Callable[..., LiveServer]]:
    """``start_live(*args)`` runs ``python -m databridge run *args``, waits
    for its banner and returns the :class:`LiveServer`; killed at teardown
    if a test left it running."""
    started: list[LiveServer] = []

    def start(*args: str, sigint: bool = False) -> LiveServer:
        live = LiveServer(*args, sigint=sigint)
        started.append(live)
        live.wait_until_serving()
        return live

    yield start
    for live in started:
        live.kill()


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """Base URL of ``python -m databridge run tests.apps.live:app --port 0``,
    shared by a module's tests; stopped with SIGTERM afterwards."""
    live = LiveServer("tests.apps.live:app", "--port", "0")
    try:
        url = live.wait_until_serving()
        yield url
        assert live.stop(signal.SIGTERM, timeout=10) == 0, live.stderr()
    finally:
        live.kill()
