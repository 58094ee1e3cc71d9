"""The benchmark scenarios as a raw ASGI 3 application (no framework).

Served by uvicorn (bench/run.py: ``--loop uvloop --http httptools --workers 1``)
and, unchanged, by Granian's ASGI interface (bench/apps/granian_asgi.py).
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from bench.apps._common import SLEEP_SECONDS, TEXT_10K

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
NOT_FOUND = b"Not Found"


async def respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Send a complete response in two ASGI messages."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, payload: Any, status: int = 200) -> None:
    """Serialise ``payload`` with the stdlib json module and send it."""
    await respond(send, status, JSON_HEADERS, json.dumps(payload).encode())


async def read_body(receive: Receive) -> bytes:
    """Collect the whole request body."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def int_param(segment: str) -> int | None:
    """The ``<int:...>`` converter: ASCII digits only, else no match."""
    if segment and segment.isascii() and segment.isdigit():
        return int(segment)
    return None


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Route by hand on method and path."""
    if scope["type"] != "http":  # lifespan: nothing to set up
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return

    method: str = scope["method"]
    path: str = scope["path"]
    if method == "GET":
        if path == "/hello" or path == "/hello-async":
            await respond_json(send, {"message": "hello"})
            return
        if path.startswith("/users/"):
            user_id = int_param(path[len("/users/") :])
            if user_id is not None:
                query = parse_qs(scope["query_string"].decode("latin-1"))
                page = query.get("page")
                await respond_json(
                    send, {"id": user_id, "page": page[0] if page else None}
                )
                return
        elif path == "/sleep":
            await asyncio.sleep(SLEEP_SECONDS)
            await respond_json(send, {"ok": True})
            return
        elif path == "/10k":
            await respond(send, 200, TEXT_HEADERS, TEXT_10K.encode())
            return
    elif method == "POST" and path == "/echo":
        payload = json.loads(await read_body(receive))
        await respond_json(send, payload)
        return
    await respond(send, 404, TEXT_HEADERS, NOT_FOUND)
