"""The benchmark scenarios as ordinary FastAPI routes, served by uvicorn.

Every handler is ``async def``: FastAPI's fast form (a plain ``def`` runs in
its threadpool, about 3x slower for these handlers), so the ratios are
against FastAPI at its best.
"""

import asyncio
from typing import Annotated, Any, Optional

from fastapi import Body, FastAPI, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

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


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    age: int = Field(ge=0, le=150)
    email: Optional[str] = None


@app.post("/users", status_code=201)
async def create_user(user: NewUser) -> dict[str, str]:
    return {"name": user.name}


# limit=500 is a 422 from FastAPI's own validation (pydantic).
@app.get("/search")
async def search(
    q: str, page: int = 1, limit: int = Query(10, ge=1, le=100)
) -> dict[str, Any]:
    return {"q": q, "page": page, "limit": limit}
