"""Served by ``python -m databridge run tests.apps.lifespan_app:app`` in
tests/test_lifespan.py: a lifespan that makes a pool-like resource on the
serving loop, startup/shutdown events, a slow route, a background task.
Each step is printed to stderr, so the test can see their order."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

from databridge import App, BackgroundTasks


def say(line: str) -> None:
    print(f"lifespan-app: {line}", file=sys.stderr, flush=True)


class Pool:
    """A pool-like resource: a semaphore bound to the loop it was made on."""

    def __init__(self, size: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.slots = asyncio.Semaphore(size)
        self.closed = False

    async def query(self) -> str:
        assert asyncio.get_running_loop() is self.loop
        async with self.slots:
            await asyncio.sleep(0)
            return "row"


@contextlib.asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    port = int(os.environ.get("LIFESPAN_TEST_PORT", "0"))
    accepted = None
    if port:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                accepted = True
        except OSError:
            accepted = False
    app.state.accepted_during_startup = accepted
    app.state.pool = Pool(2)
    say("lifespan startup")
    yield
    app.state.pool.closed = True
    say("lifespan shutdown")


app = App(lifespan=lifespan)


@app.on_event("startup")
async def started() -> None:
    say("startup event")


@app.on_event("shutdown")
def stopped() -> None:
    say("shutdown event")


@app.get("/query")
async def query(request: dict[str, Any]) -> dict[str, Any]:
    return {"row": await app.state.pool.query(), "accepted_during_startup": app.state.accepted_during_startup}


@app.get("/slow")
async def slow(request: dict[str, Any]) -> dict[str, str]:
    say("slow request started")
    await asyncio.sleep(0.5)
    say("slow request finished")
    return {"slow": "done"}


async def late_work() -> None:
    say("background started")
    await asyncio.sleep(0.5)
    say("background finished")


@app.get("/background")
def background(request: dict[str, Any], tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(late_work)
    return {"queued": "late_work"}


async def forever() -> None:
    try:
        await asyncio.sleep(3600)
    finally:
        say("orphan task cancelled")


@app.get("/orphan")
async def orphan(request: dict[str, Any]) -> dict[str, str]:
    asyncio.get_running_loop().create_task(forever(), name="orphan-task")
    return {"started": "orphan"}
