"""The request dict a handler receives."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from databridge import App
from databridge.testing import TestClient

Request = dict[str, Any]


@pytest.fixture
def seen(app: App) -> list[Request]:
    """Requests received by ``/capture`` and ``/capture/<path:rest>`` (any
    common method); the handler answers 204."""
    requests: list[Request] = []
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app.route("/capture", methods=methods)(requests.append)
    app.route("/capture/<path:rest>", methods=methods)(requests.append)
    return requests


def only(seen: list[Request]) -> Request:
    assert len(seen) == 1, seen
    return seen[0]


def test_request_is_a_dict_with_every_key(client: TestClient, seen: list[Request]) -> None:
    assert client.get("/capture").status_code == 204
    request = only(seen)
    assert type(request) is dict
    assert {
        "method",
        "path",
        "url",
        "headers",
        "query_params",
        "path_params",
        "body",
        "form_data",
        "raw_body",
        "client",
    } <= set(request)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_method(client: TestClient, seen: list[Request], method: str) -> None:
    client.request(method, "/capture")
    assert only(seen)["method"] == method


def test_path(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture/a/b.txt?x=1")
    assert only(seen)["path"] == "/capture/a/b.txt"


def test_url_has_scheme_host_path_and_query(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture/x?a=1&b=two")
    assert only(seen)["url"] == "http://testserver/capture/x?a=1&b=two"


def test_url_uses_the_host_header(app: App, seen: list[Request]) -> None:
    with TestClient(app, base_url="http://example.com:8080") as client:
        client.get("/capture?q=1")
    assert only(seen)["url"] == "http://example.com:8080/capture?q=1"


def test_header_names_are_lower_case(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture", headers={"X-Custom-Header": "Value", "ACCEPT": "text/plain"})
    headers = only(seen)["headers"]
    assert headers["x-custom-header"] == "Value"
    assert headers["accept"] == "text/plain"
    assert all(name == name.lower() for name in headers)


def test_repeated_headers_are_joined(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture", headers=[("X-Tag", "a"), ("x-tag", "b"), ("X-TAG", "c")])
    assert only(seen)["headers"]["x-tag"] == "a, b, c"


def test_query_params_take_the_first_value(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture?a=1&a=2&b=x%20y&empty=")
    assert only(seen)["query_params"] == {"a": "1", "b": "x y", "empty": ""}


def test_query_params_empty_without_a_query(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture")
    assert only(seen)["query_params"] == {}


def test_path_params_empty_without_parameters(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture")
    assert only(seen)["path_params"] == {}


def test_path_params_are_converted(app: App, client: TestClient) -> None:
    seen: list[Request] = []
    app.get("/shop/<int:shop_id>/items/{name}/<float:price>")(seen.append)
    client.get("/shop/3/items/apple/1.25")
    assert only(seen)["path_params"] == {"shop_id": 3, "name": "apple", "price": 1.25}


# -- bodies -----------------------------------------------------------------


def test_json_body_is_parsed(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", json={"name": "ann", "tags": [1, 2], "ok": True})
    assert only(seen)["body"] == {"name": "ann", "tags": [1, 2], "ok": True}


def test_json_body_with_charset_is_parsed(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", content=b'[1, "x"]', headers={"Content-Type": "application/json; charset=utf-8"})
    assert only(seen)["body"] == [1, "x"]


def test_body_is_none_when_not_json(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", content=b'{"a": 1}', headers={"Content-Type": "text/plain"})
    request = only(seen)
    assert request["body"] is None
    assert request["raw_body"] == b'{"a": 1}'


def test_body_is_none_without_a_body(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture")
    assert only(seen)["body"] is None


def test_invalid_json_is_400_and_the_handler_is_not_called(client: TestClient, seen: list[Request]) -> None:
    response = client.post("/capture", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["error"], str)
    assert seen == []


def test_raw_body_is_the_bytes_sent(client: TestClient, seen: list[Request]) -> None:
    payload = bytes(range(256))
    client.put("/capture", content=payload, headers={"Content-Type": "application/octet-stream"})
    request = only(seen)
    assert request["raw_body"] == payload
    assert type(request["raw_body"]) is bytes


def test_raw_body_is_kept_for_json(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", json={"a": 1})
    assert json.loads(only(seen)["raw_body"]) == {"a": 1}


def test_raw_body_empty_without_a_body(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture")
    assert only(seen)["raw_body"] == b""


# -- forms ------------------------------------------------------------------


def test_urlencoded_form(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", data={"name": "ann lee", "city": "Zürich", "empty": ""})
    request = only(seen)
    assert request["form_data"] == {"fields": {"name": "ann lee", "city": "Zürich", "empty": ""}, "files": []}
    assert request["body"] is None


def test_multipart_form_with_files(client: TestClient, seen: list[Request]) -> None:
    client.post(
        "/capture",
        data={"title": "holiday", "note": "ünïcode"},
        files={
            "photo": ("beach.png", b"\x89PNG\r\n\x1a\n\x00binary", "image/png"),
            "notes": ("notes.txt", b"line 1\r\nline 2\r\n"),
        },
    )
    form = only(seen)["form_data"]
    assert form["fields"] == {"title": "holiday", "note": "ünïcode"}
    files = sorted(form["files"], key=lambda file: file["name"])
    notes, photo = b"line 1\r\nline 2\r\n", b"\x89PNG\r\n\x1a\n\x00binary"
    assert files == [
        {"name": "notes", "filename": "notes.txt", "content_type": "text/plain", "size": len(notes), "content": notes},
        {"name": "photo", "filename": "beach.png", "content_type": "image/png", "size": len(photo), "content": photo},
    ]
    assert all(type(file["content"]) is bytes for file in files)


def test_multipart_file_given_as_bytes(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", files={"blob": b"\x00\x01\x02"})
    (file,) = only(seen)["form_data"]["files"]
    assert file["name"] == "blob"
    assert file["content"] == b"\x00\x01\x02"
    assert file["size"] == 3


def test_empty_file_in_multipart(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", files={"empty": ("empty.bin", b"", "application/octet-stream")})
    (file,) = only(seen)["form_data"]["files"]
    assert (file["filename"], file["size"], file["content"]) == ("empty.bin", 0, b"")


def is_empty_form(form_data: Any) -> bool:
    """The issue says "empty otherwise": either {} or the same shape with
    nothing in it."""
    return form_data in ({}, {"fields": {}, "files": []})


@pytest.mark.parametrize(
    "send",
    [
        lambda client: client.get("/capture"),
        lambda client: client.post("/capture", json={"a": 1}),
        lambda client: client.post("/capture", content=b"a=1", headers={"Content-Type": "text/plain"}),
    ],
    ids=["no-body", "json", "text"],
)
def test_form_data_is_empty_for_other_bodies(
    client: TestClient, seen: list[Request], send: Callable[[TestClient], Any]
) -> None:
    send(client)
    assert is_empty_form(only(seen)["form_data"])


def test_client_is_ip_and_port(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture")
    address = only(seen)["client"]
    host, _, port = address.rpartition(":")
    assert host
    assert port.isdigit()
