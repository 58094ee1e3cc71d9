"""Lifespan, a pool made at startup, Python middleware, CORS (native, in
Go), Depends, exception handlers and a background task: the FastAPI-style
features together.

    python -m databridge run examples.app_full
    curl -i localhost:8000/notes -H 'x-user: ann'                     # x-process-time from the middleware
    curl -i -X POST localhost:8000/notes -H 'x-user: ann' \\
         -H 'content-type: application/json' -d '{"text": "hi"}'       # 201; the audit log runs after
    curl -i localhost:8000/notes                                         # 401: no x-user
    curl -i localhost:8000/nowhere                                       # 404 made in Go, seen by the middleware
    curl -i -X OPTIONS localhost:8000/notes -H 'origin: https://notes.example' \
         -H 'access-control-request-method: POST'                          # CORS preflight, answered in Go
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from databridge import (
    App,
    BackgroundTasks,
    Depends,
    Header,
    HTTPException,
    JSONResponse,
    Request,
    RequestValidationError,
    Response,
)
from databridge.middleware import CORSMiddleware

logger = logging.getLogger("examples.app_full")


class Pool:
    """A pool-like resource: connections are asyncio objects, so it must be
    made on the loop that serves (in the lifespan), not at import."""

    def __init__(self, size: int) -> None:
        self._free: asyncio.Queue[int] = asyncio.Queue()
        for conn in range(size):
            self._free.put_nowait(conn)
        self.notes: list[dict[str, Any]] = []

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[int]:
        conn = await self._free.get()
        try:
            yield conn
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        while not self._free.empty():
            self._free.get_nowait()


@contextlib.asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    app.state.pool = Pool(size=4)
    logger.info("pool ready")
    yield
    await app.state.pool.close()
    logger.info("pool closed")


app = App(title="Notes", version="1.0", lifespan=lifespan)
app.add_middleware(
    CORSMiddleware, allow_origins=["https://notes.example"], allow_methods=["GET", "POST"], allow_headers=["x-user"]
)


@app.middleware("http")
async def process_time(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    start = time.perf_counter()
    response = await call_next(request)
    response.headers["x-process-time"] = f"{(time.perf_counter() - start) * 1000:.3f}ms"
    return response


@app.exception_handler(RequestValidationError)
def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": exc.errors()}, status_code=422)


# -- dependencies ------------------------------------------------------------


async def connection() -> AsyncIterator[int]:
    """A connection from the pool for the request, given back after the
    response is sent."""
    pool: Pool = app.state.pool
    async with pool.connection() as conn:
        yield conn


def current_user(x_user: Annotated[str | None, Header()] = None) -> str:
    if not x_user:
        raise HTTPException(401, "send an x-user header", headers={"www-authenticate": "x-user"})
    return x_user


def audit(user: str, action: str) -> None:
    logger.info("audit: %s %s", user, action)


# -- routes --------------------------------------------------------------------


@app.get("/notes")
async def list_notes(
    request: dict[str, Any],
    user: str = Depends(current_user),
    conn: int = Depends(connection),
    limit: int = 10,
) -> dict[str, Any]:
    pool: Pool = app.state.pool
    mine = [note for note in pool.notes if note["user"] == user]
    return {"user": user, "connection": conn, "notes": mine[:limit]}


@app.post("/notes", status_code=201)
async def add_note(
    request: dict[str, Any],
    body: dict[str, Any],
    background: BackgroundTasks,
    user: str = Depends(current_user),
    conn: int = Depends(connection),
) -> Response:
    pool: Pool = app.state.pool
    note = {"id": len(pool.notes) + 1, "user": user, "text": str(body.get("text", ""))}
    pool.notes.append(note)
    background.add_task(audit, user, f"added note {note['id']}")
    response = JSONResponse(note, status_code=201)
    response.set_cookie("last_note", str(note["id"]), httponly=True)
    return response
