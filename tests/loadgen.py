"""A small load generator for the lifecycle tests: threads that each open a
fresh connection per request (Connection: close), so that every request is
either answered or visibly failed, and record what happened when."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    started: float
    ended: float
    status: int  # 0: a connection error (refused, reset, closed early)
    error: str = ""
    body: bytes = b""


@dataclass
class Load:
    host: str
    port: int
    path: str = "/pid"
    threads: int = 8
    results: list[Result] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def one(self) -> Result:
        started = time.monotonic()
        try:
            with socket.create_connection((self.host, self.port), timeout=15) as s:
                s.sendall(f"GET {self.path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 "):
                return Result(started, time.monotonic(), 0, f"no response ({len(data)} bytes)")
            return Result(started, time.monotonic(), int(head[9:12]), body=body)
        except OSError as exc:
            return Result(started, time.monotonic(), 0, repr(exc))

    def _loop(self) -> None:
        while not self._stop.is_set():
            r = self.one()
            with self._lock:
                self.results.append(r)

    def start(self) -> Load:
        for _ in range(self.threads):
            t = threading.Thread(target=self._loop, daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def stop(self) -> list[Result]:
        self._stop.set()
        for t in self._workers:
            t.join(20)
        return self.results

    def wait_for(self, n: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.results) < n and time.monotonic() < deadline:
            time.sleep(0.01)
