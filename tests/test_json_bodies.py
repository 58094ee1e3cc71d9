"""JSON bodies are parsed once (issue #12): the body schema is checked against
the value the engine's parser built, the same one the handler receives. Each
test runs through the in-process TestClient and over a real socket."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Optional

import pytest
import requests
from pydantic import BaseModel, ConfigDict, Field

from databridge import App, Server
from databridge.testing import TestClient
from examples.users import app as users_app

# The engine's JSON depth limit (wire.MaxJSONDepth), as README.md documents it.
MAX_DEPTH = 512


class StrictUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    age: int
    email: Optional[str] = None


def make_app() -> App:
    app = App()

    @app.post("/echo")
    def echo(request: dict[str, Any]) -> Any:
        return {"status": 200, "body": request["body"]}

    @app.post("/strict", body=StrictUser)
    def strict(request: dict[str, Any], body: StrictUser) -> dict[str, Any]:
        return body.model_dump()

    @app.post("/keys", body={"type": "object", "additionalProperties": {"type": "integer"}})
    def keys(request: dict[str, Any]) -> list[str]:
        return list(request["body"])

    @app.post("/any", body={"type": "array"})
    def any_array(request: dict[str, Any]) -> Any:
        return {"status": 200, "body": request["body"]}

    return app


Post = Callable[[str, bytes], tuple[int, Any]]


@pytest.fixture(params=["testclient", "socket"])
def post(request: pytest.FixtureRequest, serve: Callable[[App], Server]) -> Iterator[Post]:
    """``post(path, raw_json)`` -> (status, parsed JSON body), for the example
    users app (paths under /api) and the app above."""
    apps = {"users": users_app, "local": make_app()}
    if request.param == "testclient":
        clients = {name: TestClient(app) for name, app in apps.items()}

        def send(path: str, content: bytes) -> tuple[int, Any]:
            client = clients["users" if path.startswith("/api/") else "local"]
            r = client.post(path, content=content, headers={"content-type": "application/json"})
            return r.status_code, r.json()

        yield send
        for client in clients.values():
            client.close()
    else:
        urls = {name: f"http://127.0.0.1:{serve(app).port}" for name, app in apps.items()}

        def send(path: str, content: bytes) -> tuple[int, Any]:
            url = urls["users" if path.startswith("/api/") else "local"]
            r = requests.post(url + path, data=content, headers={"content-type": "application/json"}, timeout=10)
            return r.status_code, r.json()

        yield send


# The reductions of issue #12: schemathesis found them against examples.users.
@pytest.mark.parametrize(
    "content",
    [
        rb'{"age": 92, "name": "bob", "\u0017": 1}',
        rb'{"age": 92, "name": "bob", "\ud89e\udfd5x": 1}',
    ],
)
def test_issue_12_reproductions_are_created(post: Post, content: bytes) -> None:
    assert json.loads(content)  # valid JSON, by Python's own parser
    status, body = post("/api/users", content)
    assert (status, body) == (201, {"id": 1, "name": "bob", "age": 92, "email": None})


def test_escaped_text_reaches_the_schema_decoded(post: Post) -> None:
    status, body = post("/strict", rb'{"age": 1, "name": "b\u0017\ud89e\udfd5", "\u0017": 1}')
    assert status == 422
    assert body["details"] == [{"loc": ["body", "\x17"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}]
    status, body = post("/strict", rb'{"age": 1, "name": "b\u0017\ud89e\udfd5"}')
    assert (status, body) == (200, {"name": "b\x17\U00037bd5", "age": 1, "email": None})


def test_schema_and_handler_see_the_same_keys(post: Post) -> None:
    # A lone surrogate escape is U+FFFD for both (README.md, "The request").
    status, body = post("/keys", rb'{"\ud800": 1, "\u00e9": 2, "\ud83d\ude00": 3}')
    assert (status, body) == (200, ["\ufffd", "é", "\U0001f600"])
    status, body = post("/keys", rb'{"\ud800": "x"}')
    assert (status, body["details"]) == (422, [{"loc": ["body", "\ufffd"], "msg": "Input should be a valid integer", "type": "int_type"}])


def test_schema_failures_keep_their_422_shape(post: Post) -> None:
    status, body = post("/api/users", b'{"name": "", "age": 151, "email": 5}')
    assert status == 422
    assert body == {
        "error": "validation failed",
        "details": [
            {"loc": ["body", "age"], "msg": "Input should be less than or equal to 150", "type": "less_than_equal"},
            {"loc": ["body", "email"], "msg": "Input should be a valid string", "type": "string_type"},
            {"loc": ["body", "name"], "msg": "String should have at least 1 character", "type": "string_too_short"},
        ],
    }


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"name": "bob", "age": NaN}', "NaN and Infinity are not valid JSON at offset 23"),
        (b'{"name": "bob", "age": -Infinity}', "NaN and Infinity are not valid JSON at offset 23"),
        (b'{"name": "bob", "age": 1e400}', "number out of range at offset 23"),
        (b'{"name": "bob", "name": "ann", "age": 1}', 'duplicate key "name" at offset 16'),
        (b'{"name": "b\xff", "age": 1}', "invalid UTF-8 in string at offset 11"),
        (b'{"name": "bob", "age": 1} {}', "unexpected character '{' after top-level value at offset 26"),
    ],
)
def test_what_the_parser_rejects_is_a_400(post: Post, content: bytes, message: str) -> None:
    for path in ("/api/users", "/echo"):  # with a body schema and without
        assert post(path, content) == (400, {"error": "invalid JSON body: " + message})


def nested(depth: int) -> bytes:
    return b'{"k":' * (depth // 2) + b"[" * (depth - depth // 2) + b"1" + b"]" * (depth - depth // 2) + b"}" * (depth // 2)


@pytest.mark.parametrize("path", ["/echo", "/any"])
def test_depth_limit_is_the_same_for_parsing_and_echoing(post: Post, path: str) -> None:
    """The parser, the C decoder and the C encoder share one limit: a body at
    it is accepted and echoes back; one level more is a 400. (300 levels used
    to parse and then fail to encode, a 500.)"""
    for depth in (300, MAX_DEPTH):
        content = b"[" + nested(depth - 1) + b"]"
        assert post(path, content) == (200, json.loads(content)), depth
    status, body = post(path, b"[" + nested(MAX_DEPTH) + b"]")
    assert status == 400
    assert body["error"].startswith("invalid JSON body: nested too deep at offset ")
