"""Serving an app: in the foreground (:meth:`Server.run`) or in a background
thread (:meth:`Server.start` / :meth:`Server.stop`)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING

from . import _core
from ._runtime import Attachment, batch_scheduling, new_loop

if TYPE_CHECKING:
    from .app import App

__all__ = ["Server"]

logger = logging.getLogger("databridge")


class Server:
    """Serves ``app`` on ``host:port`` (port 0 picks a free port; after
    :meth:`start` returns, :attr:`port` is the bound one).

    Stopping is graceful: the listener closes, requests in flight finish
    (for up to ``shutdown_timeout`` seconds), then :meth:`run` returns.
    """

    def __init__(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        shutdown_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.shutdown_timeout = shutdown_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future[None] | None = None
        self._thread: threading.Thread | None = None

    # -- foreground -------------------------------------------------------

    def run(self) -> None:
        """Serve until Ctrl+C, SIGTERM or :meth:`stop`, then drain and return."""
        self._serve(ready=None, banner=True)

    # -- background -------------------------------------------------------

    def start(self) -> None:
        """Serve from a background thread; returns once the port is bound.
        Raises what binding raised (an OSError for a busy port)."""
        if self._thread is not None:
            raise RuntimeError("databridge: server already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def target() -> None:
            try:
                self._serve(ready=ready, banner=False)
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()

        self._thread = threading.Thread(target=target, name="databridge-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]

    def stop(self, timeout: float | None = None) -> None:
        """Stop gracefully and wait for the server to finish (from any
        thread but the one running it)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(_resolve, stop)
            except RuntimeError:  # the loop is already closed
                pass
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._thread = None

    # -- the loop ---------------------------------------------------------

    def _serve(self, ready: threading.Event | None, banner: bool) -> None:
        with batch_scheduling():
            self._serve_on_loop(ready, banner)

    def _serve_on_loop(self, ready: threading.Event | None, banner: bool) -> None:
        engine = self.app._engine
        loop = new_loop()
        attachment: Attachment | None = None
        try:
            attachment = Attachment(engine, loop)
            self.port = _core.listen(engine, self.host, self.port)
            self._stop = loop.create_future()
            self._loop = loop
            in_main = threading.current_thread() is threading.main_thread()
            if in_main:
                # The first Ctrl+C or SIGTERM asks for a graceful stop
                # (handled by the loop, so it never interrupts a handler
                # midway); the handlers are then removed, so a second one
                # acts at once (KeyboardInterrupt for Ctrl+C).
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, self._on_signal, loop)
            if banner:
                print(
                    f"databridge: serving http://{self.host}:{self.port} (Ctrl+C to stop)",
                    file=sys.stderr,
                    flush=True,
                )
            if ready is not None:
                ready.set()
            try:
                loop.run_until_complete(self._stop)
            except KeyboardInterrupt:  # raised inside a handler, or before the loop ran
                pass
            logger.info("shutting down, finishing requests in flight")
            loop.run_until_complete(self._drain(engine))
        finally:
            self._loop = None
            if threading.current_thread() is threading.main_thread():
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)  # no-op when not installed
            if attachment is not None:
                attachment.close()
            loop.close()

    def _on_signal(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if self._stop is not None:
            _resolve(self._stop)

    async def _drain(self, engine: int) -> None:
        _core.shutdown(engine, self.shutdown_timeout)
        while not _core.stopped(engine):
            await asyncio.sleep(0.005)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
