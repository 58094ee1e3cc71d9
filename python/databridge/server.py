"""Serving an app: in the foreground (:meth:`Server.run`) or in a background
thread (:meth:`Server.start` / :meth:`Server.stop`)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _core
from ._production import _PRODUCTION, production_options, startup_line
from ._runtime import DEFAULT_THREAD_POOL_SIZE, Attachment, batch_scheduling, new_loop
from ._settings import _SETTING_NAMES, SETTINGS, Setting, check_loop
from .background import wait_pending

if TYPE_CHECKING:
    from .app import App

__all__ = ["Server", "SETTINGS", "Setting", "StartupError"]

logger = logging.getLogger("databridge")


class StartupError(RuntimeError):
    """The app's startup (``on_event("startup")`` or its lifespan) raised:
    the server never listened. The cause is chained (``__cause__``)."""


class Server:
    """Serves ``app`` on ``host:port`` (port 0 picks a free port; after
    :meth:`start` returns, :attr:`port` is the bound one).

    Stopping is graceful: the listener closes, requests in flight finish
    (for up to ``timeout_graceful_shutdown`` seconds), then :meth:`run`
    returns.

    Limits and timeouts (:data:`SETTINGS`, documented in docs/http1.md) are
    keyword arguments: ``max_target_size``, ``max_header_size``,
    ``max_header_count``, ``max_body_size``, ``timeout_read_header``,
    ``timeout_read_body``, ``timeout_write``, ``timeout_keep_alive``,
    ``max_requests_per_connection``, ``timeout_graceful_shutdown``.
    ``ssl_certfile`` and ``ssl_keyfile`` (PEM; ``ssl_keyfile_password`` for
    an encrypted key) serve TLS 1.2+, with HTTP/2 chosen by ALPN;
    ``ssl_ca_certs`` requires client certificates signed by those CAs
    (mutual TLS). ``http2=False`` turns HTTP/2 off (h2 and h2c).

    ``thread_pool_size`` (default 40, as Starlette's and FastAPI's thread
    pool) is the number of handler threads: sync handlers (``def``) run on
    them, so one that blocks in I/O delays neither async handlers, nor Go's
    routes, nor up to ``thread_pool_size - 1`` other sync calls, nor a
    SIGTERM. Async handlers and ``@databridge.inline`` sync ones run on the
    event loop thread. 0 runs every handler on the event loop thread.

    ``loop`` is that thread's event loop, as uvicorn's ``--loop``:
    ``"auto"`` (the default) runs uvloop when it is installed, else
    asyncio's own; ``"asyncio"`` or ``"uvloop"`` pick one.

    Production keywords (docs/deploy.md; _production.py): ``fd`` (serve an
    inherited listening socket), ``access_log``, ``access_log_format``,
    ``limit_concurrency``, ``proxy_headers``, ``forwarded_allow_ips``,
    ``root_path``, ``metrics``, ``metrics_port``.
    """

    def __init__(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        shutdown_timeout: float | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_keyfile_password: str | None = None,
        ssl_ca_certs: str | None = None,
        http2: bool = True,
        thread_pool_size: int | None = None,
        loop: str = "auto",
        **settings: float,
    ) -> None:
        production = {k: settings.pop(k) for k in list(settings) if k in _PRODUCTION}  # _production.py
        unknown = sorted(set(settings) - _SETTING_NAMES)
        if unknown:
            raise TypeError(f"databridge: Server() got unexpected keyword argument(s): {', '.join(unknown)}")
        if shutdown_timeout is not None:  # the name before timeout_graceful_shutdown
            settings.setdefault("timeout_graceful_shutdown", shutdown_timeout)
        values: dict[str, float] = {}
        for setting in SETTINGS:
            value = settings.get(setting.name, setting.default)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"databridge: {setting.name} must be a number, not {type(value).__name__}")
            if setting.kind is int and value != int(value):
                raise ValueError(f"databridge: {setting.name} must be a whole number, not {value!r}")
            if value < 0 or (value == 0 and setting.name != "max_requests_per_connection"):
                raise ValueError(f"databridge: {setting.name} must be positive, not {value!r}")
            values[setting.name] = setting.kind(value)
        if thread_pool_size is None:  # the app's, else the default
            thread_pool_size = getattr(app, "thread_pool_size", None)
            if thread_pool_size is None:
                thread_pool_size = DEFAULT_THREAD_POOL_SIZE
        if isinstance(thread_pool_size, bool) or not isinstance(thread_pool_size, int):
            raise TypeError(f"databridge: thread_pool_size must be an int, not {type(thread_pool_size).__name__}")
        if not 0 <= thread_pool_size <= 10_000:
            raise ValueError(f"databridge: thread_pool_size must be in 0..10000, not {thread_pool_size}")
        self.thread_pool_size = thread_pool_size
        #: The event loop's kind: "auto", "asyncio" or "uvloop".
        self.loop = check_loop(loop)
        if (ssl_certfile is None) != (ssl_keyfile is None):
            raise ValueError("databridge: TLS needs both ssl_certfile and ssl_keyfile")
        if ssl_ca_certs is not None and ssl_certfile is None:
            raise ValueError("databridge: ssl_ca_certs (client certificates) needs ssl_certfile and ssl_keyfile")
        self.app = app
        self.host = host
        self.port = port
        self.settings = values
        self.shutdown_timeout = values["timeout_graceful_shutdown"]
        self.ssl = ssl_certfile is not None
        self.http2 = http2
        self._options: dict[str, Any] = {k: v for k, v in values.items() if k != "timeout_graceful_shutdown"}
        self._options["http2"] = bool(http2)
        for key, tls_value in (
            ("ssl_certfile", ssl_certfile),
            ("ssl_keyfile", ssl_keyfile),
            ("ssl_keyfile_password", ssl_keyfile_password),
            ("ssl_ca_certs", ssl_ca_certs),
        ):
            if tls_value is not None:
                self._options[key] = str(tls_value)
        self._options.update(production_options(production))
        #: Called (no arguments) once the server accepts connections, after
        #: the banner: a worker tells its supervisor.
        self.on_ready: Callable[[], None] | None = None
        #: The banner's URL when not host:port (a Unix socket), and whether
        #: this is one worker of several (its banner then names its pid).
        self.display_url: str | None = None
        self.worker = False
        self._draining = False
        self._aborted = False
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
        loop = new_loop(self.loop)
        attachment: Attachment | None = None
        started = False
        try:
            attachment = Attachment(engine, loop, threads=self.thread_pool_size)
            self.app._build()
            try:
                loop.run_until_complete(self.app._startup())
            except Exception as exc:
                raise StartupError("databridge: application startup failed; not serving") from exc
            started = True
            self.port = _core.listen(engine, self.host, self.port, json.dumps(self._options))
            self._stop = loop.create_future()
            self._loop = loop
            in_main = threading.current_thread() is threading.main_thread()
            if in_main:
                # The first Ctrl+C or SIGTERM asks for a graceful stop
                # (handled by the loop, so it never interrupts a handler
                # midway). While draining, a second SIGTERM is ignored and a
                # second Ctrl+C ends the drain at once: what is still in
                # flight is answered 503 (_core.abort), not reset.
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, self._on_signal, sig)
            # Serving, the stop and the drain in one run of the loop, and
            # "serving" announced from inside it: uvloop serves its signal
            # handlers only while it runs, so a signal sent on the banner
            # (or right after "shutting down") between two runs was lost.
            self._run_until_stopped(loop, loop.create_task(self._serve_then_drain(engine, ready, banner)))
        finally:
            if started:
                self._finish(loop)
            self._loop = None
            if threading.current_thread() is threading.main_thread():
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)  # no-op when not installed
            if attachment is not None:
                attachment.close()
            loop.close()

    @staticmethod
    def _run_until_stopped(loop: asyncio.AbstractEventLoop, stop: asyncio.Future[None]) -> None:
        """Run the loop until ``stop`` (the stop and the drain) is done.
        Ctrl+C and SIGTERM stop through the loop's signal handlers, so a KeyboardInterrupt or
        SystemExit that escapes the loop here was raised by a handler's task
        after it suspended (asyncio re-raises those two out of the loop).
        The engine has already answered that request 500 and logged it
        (the task's done callback runs on the next loop iteration); the
        server keeps serving (issue #9)."""
        while not stop.done():
            try:
                loop.run_until_complete(stop)
            except (KeyboardInterrupt, SystemExit):
                if stop.done():
                    break

    @property
    def url(self) -> str:
        """The base URL served: ``https://`` with TLS, an IPv6 host in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}"

    def _on_signal(self, sig: int) -> None:
        if self._stop is not None and not self._stop.done():
            _resolve(self._stop)
        elif sig == signal.SIGINT and not self._aborted:
            self.abort()
        elif sig == signal.SIGTERM:
            logger.info("SIGTERM while draining: ignored (Ctrl+C ends the drain at once)")

    def abort(self) -> None:
        """End the drain now: requests waiting for their handler are
        answered 503 at once (the second Ctrl+C). Call on the loop's thread."""
        self._aborted = True
        logger.warning("second Ctrl+C: answering the requests in flight with 503")
        _core.abort(self.app._engine)

    def _finish(self, loop: asyncio.AbstractEventLoop) -> None:
        """After the drain: wait for background work and the tasks handlers
        started (up to the graceful timeout; what is left is cancelled and
        logged), then run the app's shutdown."""
        try:
            loop.run_until_complete(wait_pending(self.shutdown_timeout))
        except BaseException:
            logger.exception("waiting for background tasks failed")
        try:
            loop.run_until_complete(self.app._shutdown())
        except Exception:
            logger.exception("application shutdown raised")
        loop.run_until_complete(loop.shutdown_asyncgens())

    async def _serve_then_drain(self, engine: int, ready: threading.Event | None, banner: bool) -> None:
        assert self._stop is not None
        if banner:
            if self.worker:
                print(f"databridge: worker {os.getpid()} serving {self.display_url or self.url}",
                      file=sys.stderr, flush=True)
            else:
                print(f"databridge: serving {self.display_url or self.url} (Ctrl+C to stop)",
                      file=sys.stderr, flush=True)
                print(startup_line(self, workers=1), file=sys.stderr, flush=True)
        if self.on_ready is not None:
            self.on_ready()
        if ready is not None:
            ready.set()
        await self._stop
        logger.info("shutting down, finishing requests in flight")
        self._draining = True
        await self._drain(engine)

    async def _drain(self, engine: int) -> None:
        _core.shutdown(engine, self.shutdown_timeout)
        while not _core.stopped(engine):
            await asyncio.sleep(0.005)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
