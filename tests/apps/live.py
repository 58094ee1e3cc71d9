"""The app that ``python -m databridge run tests.apps.live:app`` serves in
the end-to-end tests. Its handlers are reused by in-process tests too."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Any

from databridge import App

logger = logging.getLogger("tests.apps.live")
# The app's own logging: --log-level only sets databridge's loggers, so the
# app shows its INFO lines itself (a --log-config may change that).
if not logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

app = App()


@app.get("/")
def index(request: dict[str, Any]) -> dict[str, str]:
    return {"message": "hello"}


@app.get("/sync/<int:n>")
def sync_echo(request: dict[str, Any]) -> dict[str, Any]:
    """Echo a distinct request back, so a mixed-up response is detected."""
    return {"n": request["path_params"]["n"], "q": request["query_params"].get("q"), "kind": "sync"}


@app.get("/async/<int:n>")
async def async_echo(request: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0.001)
    return {"n": request["path_params"]["n"], "q": request["query_params"].get("q"), "kind": "async"}


@app.get("/sleep")
async def sleep(request: dict[str, Any]) -> dict[str, float]:
    """Await a real timer for ``?seconds=`` (default 0.1) and report how long
    the handler was suspended."""
    seconds = float(request["query_params"].get("seconds", "0.1"))
    logger.info("sleep request started")
    started = time.monotonic()
    await asyncio.sleep(seconds)
    return {"slept": time.monotonic() - started}


@app.get("/block")
def block(request: dict[str, Any]) -> dict[str, float]:
    """A sync handler that blocks its thread for ``?seconds=`` (default 0.1),
    as a sync database driver would."""
    seconds = float(request["query_params"].get("seconds", "0.1"))
    logger.info("block request started")
    started = time.monotonic()
    time.sleep(seconds)
    return {"slept": time.monotonic() - started}


@app.get("/relay")
async def relay(request: dict[str, Any]) -> dict[str, str]:
    """Open an asyncio connection to 127.0.0.1:``?port=``, send a line and
    return the line the peer answers."""
    port = int(request["query_params"]["port"])
    message = request["query_params"].get("message", "ping")
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout=5)
    try:
        writer.write(message.encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()
        await writer.wait_closed()
    return {"read": line.decode().rstrip("\n")}


@app.get("/task")
async def task_info(request: dict[str, Any]) -> dict[str, bool]:
    """Whether ``asyncio.current_task()`` is a task, is the one running this
    handler (its coroutine's frame is on our stack), and stays the same
    across an ``await``."""
    task = asyncio.current_task()
    in_task = False
    if task is not None:
        task_frame = getattr(task.get_coro(), "cr_frame", None)
        frame = inspect.currentframe()
        while frame is not None:
            if frame is task_frame:
                in_task = True
                break
            frame = frame.f_back
    await asyncio.sleep(0)
    return {
        "is_task": isinstance(task, asyncio.Task),
        "runs_this_handler": in_task,
        "same_after_await": asyncio.current_task() is task,
        "loop_is_running_loop": task is not None and task.get_loop() is asyncio.get_running_loop(),
    }


@app.get("/text")
def text(request: dict[str, Any]) -> str:
    return "hello, world"


@app.get("/big/<int:n>")
def big(request: dict[str, Any]) -> Any:
    """n bytes of text whose content depends on n (bodies from 4 KB on are
    written from the engine's C buffer without a copy); ?bytes=1 for bytes."""
    n = request["path_params"]["n"]
    body = (f"{n}:" + "abcdefghij" * (n // 10 + 1))[:n]
    return body.encode() if request["query_params"].get("bytes") else body


@app.route("/echo", methods=["GET", "POST"])
def echo(request: dict[str, Any]) -> dict[str, Any]:
    """The parts of the request a socket test checks."""
    return {
        "method": request["method"],
        "path": request["path"],
        "url": request["url"],
        "client": request["client"],
        "headers": request["headers"],
        "body": request["body"],
        "raw_body": request["raw_body"].decode("latin-1"),
    }


@app.get("/boom")
def boom(request: dict[str, Any]) -> None:
    raise RuntimeError("secret detail from /boom")


not_an_app = index  # for the CLI test of a TARGET that is not an App
