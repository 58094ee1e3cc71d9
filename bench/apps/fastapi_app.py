"""The benchmark scenarios as ordinary FastAPI routes, served by uvicorn.

Every handler is ``async def``: FastAPI's fast form (a plain ``def`` runs in
its threadpool, about 3x slower for these handlers), so the ratios are
against FastAPI at its best.
"""

import asyncio
from typing import Annotated, Any

from fastapi import Body, FastAPI
from fastapi.responses import PlainTextResponse

from bench.apps._common import SLEEP_SECONDS, TEXT_10K

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "hello"}


@app.get("/hello-async")
async def hello_async() -> dict[str, str]:
    return {"message": "hello"}


# The ":int" convertor makes /users/abc a 404 (no match), not a 422.
@app.get("/users/{user_id:int}")
async def user(user_id: int, page: str | None = None) -> dict[str, Any]:
    return {"id": user_id, "page": page}


@app.post("/echo")
async def echo(payload: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return payload


@app.get("/sleep")
async def sleep() -> dict[str, bool]:
    await asyncio.sleep(SLEEP_SECONDS)
    return {"ok": True}


@app.get("/10k", response_class=PlainTextResponse)
async def text10k() -> str:
    return TEXT_10K
