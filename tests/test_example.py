"""The README's example app (examples/hello.py), route by route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from databridge.testing import TestClient
from examples.hello import app


@pytest.fixture(scope="module")
def hello() -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def test_index(hello: TestClient) -> None:
    response = hello.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "hello"}


def test_mux_style_route_returns_a_response_dict(hello: TestClient) -> None:
    response = hello.get("/api/users/u123")
    assert response.status_code == 200
    assert response.json() == {"id": "u123"}


def test_async_post_returns_a_tuple(hello: TestClient) -> None:
    response = hello.post("/api/users", json={"name": "Ann"})
    assert response.status_code == 201
    assert response.json() == {"id": "new_id", "name": "Ann"}


@pytest.mark.parametrize("content", [None, b"[1]", b"null", b'"Ann"'])
def test_post_without_a_json_object_is_created_without_a_name(hello: TestClient, content: bytes | None) -> None:
    # Found by schemathesis (scripts/schemathesis.sh): the route declares no
    # body, and a request without one used to be a 500.
    headers = {"content-type": "application/json"} if content is not None else {}
    response = hello.post("/api/users", content=content, headers=headers)
    assert response.status_code == 201
    assert response.json() == {"id": "new_id", "name": None}


def test_flask_style_typed_route_gives_an_int(hello: TestClient) -> None:
    assert hello.get("/api/items/42").json() == {"item": 42}
    assert hello.put("/api/items/43").json() == {"item": 43}


def test_flask_style_typed_route_rejects_a_non_int(hello: TestClient) -> None:
    assert hello.get("/api/items/forty-two").status_code == 404


def test_typed_route_refuses_other_methods(hello: TestClient) -> None:
    response = hello.delete("/api/items/42")
    assert response.status_code == 405
    assert {"GET", "PUT"} <= {method.strip() for method in response.headers["allow"].split(",")}


def test_router_prefix(hello: TestClient) -> None:
    response = hello.get("/v2/ping")
    assert response.status_code == 200
    assert response.text == "pong"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_routes_list(hello: TestClient) -> None:
    assert [(route.method, route.path) for route in app.routes] == [
        ("GET", "/"),
        ("GET", "/api/users/{user_id}"),
        ("POST", "/api/users"),
        ("GET", "/api/items/<int:item_id>"),
        ("PUT", "/api/items/<int:item_id>"),
        ("GET", "/v2/ping"),
    ]
