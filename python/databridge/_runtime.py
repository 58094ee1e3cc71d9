"""The asyncio side of the engine: the loop that runs handlers.

The Go engine queues requests and signals an fd; the loop watches the fd and
calls ``_core.drain``, which runs a batch of handlers on this thread with the
GIL held. Async handlers become tasks of this same loop, so ``await`` works
as in any asyncio program. While the loop waits in its selector, the GIL is
released and Go keeps accepting and parsing requests.
"""

from __future__ import annotations

import asyncio
import sys

from . import _core

__all__ = ["new_loop", "Attachment"]


def new_loop() -> asyncio.AbstractEventLoop:
    """A fresh event loop whose tasks start eagerly where Python supports it
    (3.12+), so a handler coroutine that never suspends finishes inside the
    batch that started it."""
    loop = asyncio.new_event_loop()
    if sys.version_info >= (3, 12):
        loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
    return loop


class Attachment:
    """Binds an engine to a loop on the current thread until :meth:`close`."""

    def __init__(self, engine: int, loop: asyncio.AbstractEventLoop) -> None:
        self.engine = engine
        self.loop = loop
        self._fd = _core.attach(engine, loop)
        loop.add_reader(self._fd, _core.drain, engine)

    def close(self) -> None:
        if self._fd < 0:
            return
        self.loop.remove_reader(self._fd)
        _core.detach(self.engine)
        self._fd = -1
