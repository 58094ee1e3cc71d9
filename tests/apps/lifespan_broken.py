"""An app whose startup fails: ``python -m databridge run`` must exit
non-zero with the traceback, never serving (tests/test_lifespan.py)."""

from __future__ import annotations

from typing import Any

from databridge import App

app = App()


@app.on_event("startup")
async def connect() -> None:
    raise ConnectionRefusedError("database unreachable at startup")


@app.get("/")
def index(request: dict[str, Any]) -> str:
    return "never served"
