"""The benchmark scenarios as a raw RSGI application for Granian.

Served by bench/run.py with:
    granian --interface rsgi --workers 1 --runtime-threads 1 bench.apps.granian_rsgi:app
"""

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

from bench.apps._common import SLEEP_SECONDS, TEXT_10K

JSON_HEADERS = [("content-type", "application/json")]
TEXT_HEADERS = [("content-type", "text/plain; charset=utf-8")]


def int_param(segment: str) -> int | None:
    """The ``<int:...>`` converter: ASCII digits only, else no match."""
    if segment and segment.isascii() and segment.isdigit():
        return int(segment)
    return None


def respond_json(proto: Any, payload: Any, status: int = 200) -> None:
    """Serialise ``payload`` with the stdlib json module and send it."""
    proto.response_str(status, JSON_HEADERS, json.dumps(payload))


async def app(scope: Any, proto: Any) -> None:
    """RSGI entry point: route by hand on method and path."""
    if scope.proto != "http":
        return
    method: str = scope.method
    path: str = scope.path
    if method == "GET":
        if path == "/hello" or path == "/hello-async":
            respond_json(proto, {"message": "hello"})
            return
        if path.startswith("/users/"):
            user_id = int_param(path[len("/users/") :])
            if user_id is not None:
                page = parse_qs(scope.query_string).get("page")
                respond_json(proto, {"id": user_id, "page": page[0] if page else None})
                return
        elif path == "/sleep":
            await asyncio.sleep(SLEEP_SECONDS)
            respond_json(proto, {"ok": True})
            return
        elif path == "/10k":
            proto.response_str(200, TEXT_HEADERS, TEXT_10K)
            return
    elif method == "POST" and path == "/echo":
        payload = json.loads(await proto())
        respond_json(proto, payload)
        return
    proto.response_str(404, TEXT_HEADERS, "Not Found")
