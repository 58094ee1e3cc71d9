"""Hostile and broken requests to validated routes: each gets a clear 4xx
JSON answer from the engine, the handler is never called, and the app keeps
serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Optional

import pytest
from pydantic import BaseModel, Field

from databridge import App, Query
from databridge.testing import TestClient, TestResponse


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    age: int = Field(ge=0, le=150)
    email: Optional[str] = None


class Counter:
    def __init__(self) -> None:
        self.calls = 0


@pytest.fixture(scope="module")
def counter() -> Counter:
    return Counter()


@pytest.fixture(scope="module")
def hostile(counter: Counter) -> Iterator[TestClient]:
    app = App()

    @app.post("/users", body=NewUser)
    def create_user(request: dict[str, Any], body: NewUser) -> str:
        counter.calls += 1
        return "created"

    @app.post("/names")
    def names(request: dict[str, Any], body: list[str]) -> str:
        counter.calls += 1
        return "named"

    @app.get("/search")
    def search(request: dict[str, Any], q: str = Query(max_length=100), limit: int = Query(10, ge=1, le=100)) -> str:
        counter.calls += 1
        return "found"

    with TestClient(app) as client:
        yield client


@pytest.fixture(autouse=True)
def never_called(counter: Counter, hostile: TestClient) -> Iterator[None]:
    """Every test here sends only bad requests: none reaches a handler, and
    the app still answers a good one afterwards."""
    before = counter.calls
    yield
    assert counter.calls == before, "a bad request reached the handler"
    assert hostile.post("/users", json={"name": "Ann", "age": 3}).text == "created"
    counter.calls -= 1


def rejected(response: TestResponse, *statuses: int) -> dict[str, Any]:
    """The JSON error body of a 4xx (one of ``statuses`` when given)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str)
    return body


def post_raw(client: TestClient, url: str, content: bytes) -> TestResponse:
    return client.post(url, content=content, headers={"content-type": "application/json"})


def test_wrong_types(hostile: TestClient) -> None:
    body = rejected(hostile.post("/users", json={"name": ["a"], "age": "3", "email": {}}), 422)
    assert sorted(d["loc"] for d in body["details"]) == [["body", "age"], ["body", "email"], ["body", "name"]]


def test_missing_required_fields(hostile: TestClient) -> None:
    body = rejected(hostile.post("/users", json={}), 422)
    assert sorted((d["loc"], d["type"]) for d in body["details"]) == [(["body", "age"], "missing"), (["body", "name"], "missing")]


def test_missing_body(hostile: TestClient) -> None:
    rejected(hostile.post("/users"), 422)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_in_a_field(hostile: TestClient, depth: int) -> None:
    content = b'{"name": ' + b"[" * depth + b"]" * depth + b', "age": 1}'
    rejected(post_raw(hostile, "/users", content), 400, 413, 422)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_as_the_body(hostile: TestClient, depth: int) -> None:
    rejected(post_raw(hostile, "/users", b"[" * depth + b"]" * depth), 400, 413, 422)
    rejected(post_raw(hostile, "/names", b'[' + b'{"a":' * depth + b"1" + b"}" * depth + b"]"), 400, 413, 422)


def test_ten_megabyte_array_for_an_object(hostile: TestClient) -> None:
    content = b"[" + b",".join([b"0"] * (5 * 1024 * 1024)) + b"]"
    assert len(content) >= 10 * 1024 * 1024
    rejected(post_raw(hostile, "/users", content), 422)


def test_ten_megabyte_array_of_wrong_items_gives_a_bounded_answer(hostile: TestClient) -> None:
    content = b"[" + b",".join([b"0"] * (5 * 1024 * 1024)) + b"]"
    response = post_raw(hostile, "/names", content)
    rejected(response, 422)
    assert len(response.content) < 1024 * 1024, f"a {len(response.content)}-byte error body"


def test_invalid_utf8_in_the_body(hostile: TestClient) -> None:
    rejected(post_raw(hostile, "/users", b'{"name": "\xff\xfe\xfd", "age": 1}'), 400, 422)


def test_invalid_json(hostile: TestClient) -> None:
    rejected(post_raw(hostile, "/users", b'{"name": "Ann", "age": 1'), 400)
    rejected(post_raw(hostile, "/users", b'{"name": "Ann", "age": NaN}'), 400)


@pytest.mark.parametrize("number", ["9223372036854775808", "-9223372036854775809", "1" * 400, "1e400"])
def test_numbers_out_of_int64_range_in_the_body(hostile: TestClient, number: str) -> None:
    content = ('{"name": "Ann", "age": %s}' % number).encode()
    body = rejected(post_raw(hostile, "/users", content), 400, 422)
    if "details" in body:
        assert [d["loc"] for d in body["details"]] == [["body", "age"]]


@pytest.mark.parametrize("number", ["9223372036854775808", "-9223372036854775809", "1" * 400])
def test_numbers_out_of_int64_range_in_the_query(hostile: TestClient, number: str) -> None:
    body = rejected(hostile.get(f"/search?q=x&limit={number}"), 422)
    assert [d["loc"] for d in body["details"]] == [["query", "limit"]]


def test_duplicate_keys(hostile: TestClient) -> None:
    rejected(post_raw(hostile, "/users", b'{"name": "Ann", "name": "Bob", "age": 1}'), 400, 422)


def test_too_long_query_value(hostile: TestClient) -> None:
    body = rejected(hostile.get("/search", params={"q": "x" * 100_000}), 422)
    assert [(d["loc"], d["type"]) for d in body["details"]] == [(["query", "q"], "string_too_long")]


def test_json_body_of_the_wrong_content_type(hostile: TestClient) -> None:
    rejected(hostile.post("/users", content=json.dumps({"name": "Ann", "age": 1}).encode(),
                          headers={"content-type": "text/plain"}), 415, 422)


def test_big_int_without_bounds_is_passed_whole() -> None:
    app = App()

    @app.get("/n")
    def double(request: dict[str, Any], n: int) -> str:
        return str(n * 2)

    with TestClient(app) as client:
        assert client.get(f"/n?n={2**70}").text == str(2**71)
