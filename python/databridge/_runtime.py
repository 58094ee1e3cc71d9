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
import os
from collections.abc import Iterator

from . import _core

__all__ = ["new_loop", "Attachment", "batch_scheduling"]


def new_loop() -> asyncio.AbstractEventLoop:
    """A fresh event loop for the GIL thread. Handler tasks start eagerly
    whatever the Python version (the engine runs their first step inside the
    batch that started them: see pybridge/call.c); other tasks behave as in
    any asyncio program."""
    return asyncio.new_event_loop()


class Attachment:
    """Binds an engine to a loop on the current thread until :meth:`close`."""

    def __init__(self, engine: int, loop: asyncio.AbstractEventLoop) -> None:
        self.engine = engine
        self.loop = loop
        self._fd, queue = _core.attach(engine, loop)
        loop.add_reader(self._fd, _core.drain, queue)

    def close(self) -> None:
        if self._fd < 0:
            return
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
