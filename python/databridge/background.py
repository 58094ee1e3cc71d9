"""Work that runs after the response is sent: :class:`BackgroundTasks`, and
the tasks the server waits for when it stops."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["BackgroundTasks", "BackgroundTask", "after_response", "pending", "wait_pending"]

logger = logging.getLogger("databridge")

# Tasks started after a response (background tasks, yield-dependency
# cleanup), per loop, until they finish.
_pending: dict[asyncio.AbstractEventLoop, set[asyncio.Task[Any]]] = {}


class BackgroundTask:
    """One call, ``fn(*args, **kwargs)``: sync or async (Starlette's)."""

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs

    async def __call__(self) -> None:
        result = self.func(*self.args, **self.kwargs)
        if inspect.isawaitable(result):
            await result


class BackgroundTasks(BackgroundTask):
    """Calls to run after the response is sent, in the order added.

    Take it as a handler parameter (``background: BackgroundTasks``) and
    :meth:`add_task`; or pass one as ``Response(..., background=tasks)``.
    A task that raises is logged; the ones after it still run.
    """

    def __init__(self, tasks: list[BackgroundTask] | None = None) -> None:
        self.tasks: list[BackgroundTask] = list(tasks or [])

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        for task in self.tasks:
            try:
                await task()
            except Exception:
                logger.exception("background task %s raised", getattr(task.func, "__qualname__", task.func))


def after_response(work: Callable[[], Awaitable[Any]]) -> None:
    """Run ``work()`` as a task of the running loop once the response has
    gone back to the engine. The server waits for it when it stops.

    Called from a handler's task, the start waits for that task to finish:
    its done-callbacks (the engine's, which hands the response to Go, among
    them) are scheduled in one go when it finishes, and this one only
    schedules the start, which so comes after all of them. Called outside a
    task (a sync handler, inside the engine's batch, or the conversion of a
    response), the start is scheduled after the batch, which hands its
    responses to Go before returning to the loop."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task(loop)
    if task is not None and not task.done():
        task.add_done_callback(lambda _: loop.call_soon(_start, loop, work))
    else:
        loop.call_soon(_start, loop, work)


def _start(loop: asyncio.AbstractEventLoop, work: Callable[[], Awaitable[Any]]) -> None:
    task = loop.create_task(_logged(work), name="databridge.after_response")
    tasks = _pending.setdefault(loop, set())
    tasks.add(task)
    task.add_done_callback(functools.partial(_forget, loop))


async def _logged(work: Callable[[], Awaitable[Any]]) -> None:
    try:
        await work()
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("work after the response raised")


def _forget(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
    tasks = _pending.get(loop)
    if tasks is not None:
        tasks.discard(task)
        if not tasks:
            del _pending[loop]


def pending(loop: asyncio.AbstractEventLoop) -> set[asyncio.Task[Any]]:
    """The after-response tasks of ``loop`` still running."""
    return set(_pending.get(loop, ()))


async def wait_pending(timeout: float, *, all_tasks: bool = True) -> None:
    """Wait up to ``timeout`` seconds for background work and (with
    ``all_tasks``) every other task of the running loop, then cancel what is
    left, logging each task cancelled. Called by the server after the drain
    and by the test client when it closes."""
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    tasks = (asyncio.all_tasks(loop) if all_tasks else pending(loop)) - {current}
    if not tasks:
        return
    _, left = await asyncio.wait(tasks, timeout=timeout)
    for task in left:
        logger.warning("cancelling task %s at shutdown: still running after %.3g s", task.get_name(), timeout)
        task.cancel()
    if left:
        await asyncio.gather(*left, return_exceptions=True)
