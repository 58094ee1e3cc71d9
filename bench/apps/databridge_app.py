"""The benchmark scenarios written against databridge's public API.

Served by bench/run.py with:
    python -m databridge run bench.apps.databridge_app:app --host 127.0.0.1 --port 8101
"""

import asyncio
from typing import Any

from databridge import App

from bench.apps._common import SLEEP_SECONDS, TEXT_10K

app = App()


@app.get("/hello")
def hello(request: dict[str, Any]) -> dict[str, str]:
    """Scenario 1: a sync handler returning a small JSON object."""
    return {"message": "hello"}


@app.get("/hello-async")
async def hello_async(request: dict[str, Any]) -> dict[str, str]:
    """Scenario 2: the same as an async handler that never awaits."""
    return {"message": "hello"}


@app.get("/users/<int:user_id>")
def user(request: dict[str, Any]) -> dict[str, Any]:
    """Scenario 3 (and 7: /users/abc must be a 404 before Python runs)."""
    return {
        "id": request["path_params"]["user_id"],
        "page": request["query_params"].get("page"),
    }


@app.post("/echo")
def echo(request: dict[str, Any]) -> Any:
    """Scenario 4: return the parsed JSON body, re-serialised."""
    return request["body"]


@app.get("/sleep")
async def sleep(request: dict[str, Any]) -> dict[str, bool]:
    """Scenario 5: an async handler that really awaits."""
    await asyncio.sleep(SLEEP_SECONDS)
    return {"ok": True}


@app.get("/10k")
def text10k(request: dict[str, Any]) -> str:
    """Scenario 6: a 10 KB str, sent as text/plain."""
    return TEXT_10K
