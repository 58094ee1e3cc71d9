"""The asyncio side of the engine: the loop that runs handlers.

The Go engine queues requests and signals an fd; the loop watches the fd and
calls ``_core.drain``, which runs a batch of handlers on this thread with the
GIL held. Async handlers become tasks of this same loop, so ``await`` works
as in any asyncio program. While the loop waits in its selector, the GIL is
released and Go keeps accepting and parsing requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from . import _core
from ._settings import check_loop, uvloop_module

__all__ = ["new_loop", "Attachment", "batch_scheduling", "inline", "DEFAULT_THREAD_POOL_SIZE"]

#: Handler threads a server starts by default: as many as the worker
#: threads Starlette and FastAPI run sync endpoints on (AnyIO's default
#: limiter, 40).
DEFAULT_THREAD_POOL_SIZE = 40

F = TypeVar("F", bound=Callable[..., Any])


def inline(handler: F) -> F:
    """Run a sync handler on the event loop thread instead of a handler
    thread: for a ``def`` handler known never to block (no I/O, no lock
    held long), it saves the hand-off between threads. A handler that does
    block while inline delays every other Python request.

    Put it under the route decorator, which reads the mark when it
    registers the route::

        @app.get("/hello")
        @inline
        def hello(request):
            return {"message": "hello"}
    """
    handler.__databridge_inline__ = True  # type: ignore[attr-defined]
    return handler


def wraps_endpoint(wrapper: Callable[..., Any], endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Name ``wrapper`` after the endpoint it calls (module, name, qualified
    name, docstring) and point ``__wrapped__`` at it, so that logs, the
    inline mark (:func:`_runs_in_pool`) and ``inspect.signature`` see the
    endpoint. Unlike functools.wraps it copies no annotations or ``__dict__``:
    the wrapper's own signature is ``(request, **kwargs)``."""
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        value = getattr(endpoint, attr, None)
        if isinstance(value, str):
            setattr(wrapper, attr, value)
    wrapper.__wrapped__ = endpoint  # type: ignore[attr-defined]
    return wrapper


def _runs_in_pool(endpoint: Callable[..., Any]) -> bool:
    """Whether the engine runs ``endpoint`` (a route's) on the handler
    threads: a sync handler that is not marked :func:`inline`. Called by the
    engine when a route is added."""
    from .routing import _is_async

    if _is_async(endpoint):
        return False
    seen: Any = endpoint
    for _ in range(100):  # endpoint -> its handler (__wrapped__, partials)
        if seen is None:
            break
        if getattr(seen, "__databridge_inline__", False):
            return False
        seen = seen.func if isinstance(seen, functools.partial) else getattr(seen, "__wrapped__", None)
    return True


def new_loop(loop: str = "asyncio") -> asyncio.AbstractEventLoop:
    """A fresh event loop for the GIL thread, of the kind ``loop`` names
    (:data:`LOOPS`). Handler tasks start eagerly on Python 3.12+, and on
    3.11 with asyncio's loop (the engine runs their first step inside the
    batch that started them: see pybridge/call.c); on 3.11 with uvloop the
    first step runs in the same loop iteration, just after the batch. Other
    tasks behave as in any asyncio program."""
    uvloop = uvloop_module() if check_loop(loop) != "asyncio" else None
    if uvloop is not None:
        return uvloop.new_event_loop()  # type: ignore[no-any-return]
    return asyncio.new_event_loop()


_thread = threading.local()


def _mark_thread(loop: asyncio.AbstractEventLoop) -> None:
    _thread.loop = loop


def handler_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop whose sync handlers this thread runs (a handler
    thread), or None on any other thread."""
    return getattr(_thread, "loop", None)


def _serve_handlers(queue: object, loop: asyncio.AbstractEventLoop) -> None:
    _thread.loop = loop
    _core.serve_handlers(queue)


# Per serving loop: the executor that runs sync endpoints for an async
# middleware stack (the app's Python middleware and exception handlers),
# as Starlette runs them in a thread pool.
_executors: dict[asyncio.AbstractEventLoop, ThreadPoolExecutor] = {}
_pooled: dict[Callable[..., Any], bool] = {}


async def call_endpoint(endpoint: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a route's endpoint from inside the async stack: a sync endpoint
    the engine would run on the handler threads runs on the stack's
    executor (so that blocking in it blocks nobody), the rest inline."""
    pooled = _pooled.get(endpoint)
    if pooled is None:
        pooled = _pooled[endpoint] = _runs_in_pool(endpoint)
    loop = asyncio.get_running_loop()
    executor = _executors.get(loop) if pooled else None
    if executor is None:
        result = endpoint(*args, **kwargs)
    else:
        context = contextvars.copy_context()
        result = await loop.run_in_executor(executor, functools.partial(context.run, endpoint, *args, **kwargs))
    if inspect.isawaitable(result):
        result = await result
    return result


class Attachment:
    """Binds an engine to a loop on the current thread until :meth:`close`.

    ``threads`` handler threads run the sync handlers (``def``), so that
    one blocking in I/O delays neither the loop (async handlers) nor the
    other sync handlers; with 0, sync handlers run on the loop thread, one
    at a time, as before handler threads (the test client's choice)."""

    def __init__(self, engine: int, loop: asyncio.AbstractEventLoop, threads: int = 0) -> None:
        self.engine = engine
        self.loop = loop
        self._fd, self._queue = _core.attach(engine, loop)
        loop.add_reader(self._fd, _core.drain, self._queue)
        self._threads = [
            threading.Thread(
                target=_serve_handlers, args=(self._queue, loop), name=f"databridge-handler-{i}", daemon=True
            )
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()
        if threads > 0:
            _executors[loop] = ThreadPoolExecutor(
                threads, thread_name_prefix="databridge-stack", initializer=_mark_thread, initargs=(loop,)
            )

    def close(self, timeout: float = 1.0) -> None:
        """Detach; handler threads finish their current call and leave
        (waited for up to ``timeout`` seconds in all: a handler still
        blocked after that is left to finish on its daemon thread)."""
        if self._fd < 0:
            return
        executor = _executors.pop(self.loop, None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        _core.stop_handlers(self._queue)
        deadline = self.loop.time() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - self.loop.time()))
        self._threads = []
        self.loop.remove_reader(self._fd)
        _core.detach(self.engine)
        self._fd = -1


@contextlib.contextmanager
def batch_scheduling() -> Iterator[None]:
    """Run the calling (GIL) thread as SCHED_BATCH while serving, on Linux.

    Waking the GIL thread is an eventfd write from a Go thread. With normal
    scheduling the woken thread preempts the writer, often in the middle of
    a syscall, on a shared core; Go then sees a P stuck in a syscall and
    hands it to another thread. SCHED_BATCH keeps the thread's fair share of
    CPU but lets it wait for the writer to yield, which also makes batches
    larger. Measured pinned to one core: 44k -> 58k requests/s for a JSON
    hello, p99 3.1 -> 2.3 ms. Set DATABRIDGE_SCHED_BATCH=0 to turn it off.
    """
    policy, param = None, None
    if hasattr(os, "sched_setscheduler") and os.environ.get("DATABRIDGE_SCHED_BATCH", "1") != "0":
        try:
            policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        except OSError:  # not permitted here: serve as is
            policy = None
    try:
        yield
    finally:
        if policy is not None and param is not None:
            with contextlib.suppress(OSError):
                os.sched_setscheduler(0, policy, param)
