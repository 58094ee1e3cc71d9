"""The app of the worker, signal and deployment tests: it says which process
answered."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from databridge import App

app = App()


@app.get("/")
def index(request: dict[str, Any]) -> dict[str, str]:
    return {"message": "hello"}


@app.get("/pid")
def pid(request: dict[str, Any]) -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/sleep")
async def sleep(request: dict[str, Any]) -> dict[str, Any]:
    seconds = float(request["query_params"].get("seconds", "0.1"))
    print(f"sleep started in {os.getpid()}", file=sys.stderr, flush=True)
    await asyncio.sleep(seconds)
    return {"pid": os.getpid(), "slept": seconds}


@app.get("/request")
def echo(request: dict[str, Any]) -> dict[str, Any]:
    return {"client": request["client"], "url": request["url"], "path": request["path"]}


def create_app() -> App:
    """For --factory."""
    fresh = App()

    @fresh.get("/")
    def made(request: dict[str, Any]) -> dict[str, str]:
        return {"made": "by factory"}

    return fresh
