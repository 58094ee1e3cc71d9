"""What a handler may return, and how bodies are encoded."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import logging
import pathlib
import uuid
from typing import Any

import pytest

from databridge import App, Response
from databridge.responses import jsonable
from databridge.testing import TestClient
from tests.conftest import report_lines

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
BYTES = "application/octet-stream"


def returning(app: App, value: Any, path: str = "/r") -> None:
    """Register a GET route at ``path`` whose handler returns ``value``."""
    app.add_route("GET", path, lambda request: value)


# -- 1. a dict with an int status and only status/body/headers --------------


def test_dict_with_status_body_and_headers_is_a_response(app: App, client: TestClient) -> None:
    returning(app, {"status": 201, "body": {"id": 7}, "headers": {"X-Id": "7"}})
    response = client.get("/r")
    assert response.status_code == 201
    assert response.json() == {"id": 7}
    assert response.headers["x-id"] == "7"
    assert response.headers["content-type"] == JSON


def test_dict_with_status_and_body_only(app: App, client: TestClient) -> None:
    returning(app, {"status": 202, "body": "queued"})
    response = client.get("/r")
    assert response.status_code == 202
    assert response.text == "queued"
    assert response.headers["content-type"] == TEXT


def test_dict_with_non_int_status_is_plain_data(app: App, client: TestClient) -> None:
    returning(app, {"status": "ok"})
    response = client.get("/r")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_dict_with_status_and_other_keys_is_plain_data(app: App, client: TestClient) -> None:
    returning(app, {"status": 404, "body": "x", "count": 3})
    response = client.get("/r")
    assert response.status_code == 200
    assert response.json() == {"status": 404, "body": "x", "count": 3}


# -- 2. tuples ---------------------------------------------------------------


def test_tuple_of_status_and_body(app: App, client: TestClient) -> None:
    returning(app, (201, {"id": "new_id"}))
    response = client.get("/r")
    assert response.status_code == 201
    assert response.json() == {"id": "new_id"}
    assert response.headers["content-type"] == JSON


def test_tuple_of_status_body_and_headers(app: App, client: TestClient) -> None:
    returning(app, (202, "accepted", {"X-Job": "42"}))
    response = client.get("/r")
    assert response.status_code == 202
    assert response.text == "accepted"
    assert response.headers["x-job"] == "42"
    assert response.headers["content-type"] == TEXT


# -- 3. anything else is the body with status 200 ---------------------------


@pytest.mark.parametrize(
    ("value", "content", "content_type"),
    [
        ({"a": [1, 2]}, {"a": [1, 2]}, JSON),
        ([1, "two", None], [1, "two", None], JSON),
        (42, 42, JSON),
        (1.5, 1.5, JSON),
        (True, True, JSON),
        (False, False, JSON),
        ("héllo", "héllo", TEXT),
        (b"\x00\xffbin", b"\x00\xffbin", BYTES),
    ],
    ids=["dict", "list", "int", "float", "true", "false", "str", "bytes"],
)
def test_plain_value_is_the_body(app: App, client: TestClient, value: Any, content: Any, content_type: str) -> None:
    returning(app, value)
    response = client.get("/r")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    if content_type == JSON:
        assert response.json() == content
        assert type(response.json()) is type(content)
    elif content_type == TEXT:
        assert response.text == content
        assert response.content == content.encode("utf-8")
    else:
        assert response.content == content


def test_none_is_204_with_no_body(app: App, client: TestClient) -> None:
    returning(app, None)
    response = client.get("/r")
    assert response.status_code == 204
    assert response.content == b""


def test_none_inside_a_tuple_is_json_null(app: App, client: TestClient) -> None:
    returning(app, (200, None))
    response = client.get("/r")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.content.strip() == b"null"


# -- 4. Response objects ----------------------------------------------------


def test_response_object_sets_status_headers_and_media_type(app: App, client: TestClient) -> None:
    returning(app, Response("<p>hi</p>", status=203, headers={"X-Frame": "deny"}, media_type="text/html"))
    response = client.get("/r")
    assert response.status_code == 203
    assert response.text == "<p>hi</p>"
    assert response.headers["content-type"] in ("text/html", "text/html; charset=utf-8")
    assert response.headers["x-frame"] == "deny"


def test_response_object_encodes_its_body_by_type(app: App, client: TestClient) -> None:
    returning(app, Response({"id": 1}, status=201))
    response = client.get("/r")
    assert response.status_code == 201
    assert response.json() == {"id": 1}
    assert response.headers["content-type"] == JSON


def test_response_object_with_bytes_and_media_type(app: App, client: TestClient) -> None:
    png = b"\x89PNG\r\n\x1a\n"
    returning(app, Response(png, media_type="image/png"))
    response = client.get("/r")
    assert response.status_code == 200
    assert response.content == png
    assert response.headers["content-type"] == "image/png"


def test_response_object_header_list_repeats_a_header(app: App, client: TestClient) -> None:
    returning(app, Response("ok", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]))
    response = client.get("/r")
    cookies = [value for name, value in response.raw_headers if name.lower() == "set-cookie"]
    assert cookies == ["a=1", "b=2"]
    assert response.headers["set-cookie"] == "a=1, b=2"


def test_content_type_header_wins_over_media_type(app: App, client: TestClient) -> None:
    returning(app, Response("a,b", headers={"Content-Type": "text/csv"}, media_type="text/html"))
    response = client.get("/r")
    assert response.headers["content-type"] == "text/csv"
    assert response.text == "a,b"


def test_content_type_header_wins_over_body_type(app: App, client: TestClient) -> None:
    returning(app, (200, "<b>bold</b>", {"Content-Type": "text/html; charset=utf-8"}))
    response = client.get("/r")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<b>bold</b>"


def test_content_type_header_wins_in_a_response_dict(app: App, client: TestClient) -> None:
    returning(app, {"status": 200, "body": {"a": 1}, "headers": {"content-type": "application/problem+json"}})
    response = client.get("/r")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"a": 1}


def test_response_rejects_a_status_that_is_not_an_int() -> None:
    with pytest.raises(TypeError, match="status"):
        Response("x", status="200")  # type: ignore[arg-type]


def test_response_rejects_an_out_of_range_status() -> None:
    with pytest.raises(ValueError, match="1000"):
        Response("x", status=1000)


def test_response_has_exactly_the_slots_the_engine_reads() -> None:
    response = Response(b"x", status=201, headers={"a": "b"}, media_type="text/x")
    assert Response.__slots__[:4] == ("body", "status", "headers", "media_type")
    assert (response.body, response.status, response.headers, response.media_type) == (
        b"x",
        201,
        {"a": "b"},
        "text/x",
    )
    with pytest.raises(AttributeError):
        response.extra = 1  # type: ignore[attr-defined]


# -- values that cannot be encoded ------------------------------------------


def test_unencodable_value_is_500_with_a_log_line(
    app: App, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.add_route("GET", "/unencodable", lambda request: {"x": object()})
    caplog.set_level(logging.ERROR, logger="databridge")
    response = client.get("/unencodable")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error"}
    records = [r for r in caplog.records if r.name == "databridge"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].getMessage() in report_lines(app.routes[0], "returned a value that cannot be sent")
    assert records[0].exc_info is not None
    assert "object" in str(records[0].exc_info[1])  # names the type that failed


# -- jsonable: values the encoder does not know -----------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


@dataclasses.dataclass
class Point:
    x: int
    y: int
    tags: list[str]


class Model:
    """Looks like a pydantic model: has ``model_dump``."""

    def __init__(self, **fields: Any) -> None:
        self.fields = fields
        self.modes: list[str] = []

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]:
        self.modes.append(mode)
        return dict(self.fields)


UID = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.datetime(2024, 5, 6, 7, 8, 9), "2024-05-06T07:08:09"),
        (
            datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
            "2024-05-06T07:08:09+00:00",
        ),
        (datetime.date(2024, 5, 6), "2024-05-06"),
        (datetime.time(7, 8, 9, 500), "07:08:09.000500"),
        (UID, "0f8fad5b-d9cb-469f-a165-70867728950e"),
        (decimal.Decimal("2.50"), 2.5),
        (decimal.Decimal("3.00"), 3),
        (Color.RED, "red"),
        (Color.BLUE, 2),
        (Point(1, 2, ["a"]), {"x": 1, "y": 2, "tags": ["a"]}),
        (frozenset({3}), [3]),
        (pathlib.PurePosixPath("/etc/hosts"), "/etc/hosts"),
    ],
    ids=["datetime", "aware-datetime", "date", "time", "uuid", "decimal", "integral-decimal",
         "str-enum", "int-enum", "dataclass", "frozenset", "path"],
)
def test_jsonable_converts_known_types(value: Any, expected: Any) -> None:
    result = jsonable(value)
    assert result == expected
    assert type(result) is type(expected)


def test_jsonable_turns_a_set_into_a_list() -> None:
    result = jsonable({1, 2, 3})
    assert isinstance(result, list)
    assert sorted(result) == [1, 2, 3]


def test_jsonable_dumps_pydantic_style_models_in_json_mode() -> None:
    model = Model(id=1, name="ann")
    assert jsonable(model) == {"id": 1, "name": "ann"}
    assert model.modes == ["json"]


def test_jsonable_rejects_unknown_objects() -> None:
    class Thing:
        pass

    with pytest.raises(TypeError, match="^Object of type Thing is not JSON serializable$"):
        jsonable(Thing())


def test_jsonable_rejects_a_dataclass_type_itself() -> None:
    with pytest.raises(TypeError, match="type"):
        jsonable(Point)


def test_handler_may_return_jsonable_types(app: App, client: TestClient) -> None:
    returning(
        app,
        {
            "when": datetime.datetime(2024, 5, 6, 7, 8, 9),
            "day": datetime.date(2024, 5, 6),
            "id": UID,
            "price": decimal.Decimal("9.99"),
            "color": Color.RED,
            "point": Point(1, 2, ["a"]),
            "model": Model(name="ann", joined=datetime.date(2020, 1, 2)),
            "nested": [{"at": datetime.time(12, 0)}],
            "file": pathlib.PurePosixPath("a/b.txt"),
        },
    )
    response = client.get("/r")
    assert response.status_code == 200
    assert response.json() == {
        "when": "2024-05-06T07:08:09",
        "day": "2024-05-06",
        "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "price": 9.99,
        "color": "red",
        "point": {"x": 1, "y": 2, "tags": ["a"]},
        "model": {"name": "ann", "joined": "2020-01-02"},
        "nested": [{"at": "12:00:00"}],
        "file": "a/b.txt",
    }


def test_a_jsonable_body_alone_is_json(app: App, client: TestClient) -> None:
    returning(app, UID)
    response = client.get("/r")
    assert response.headers["content-type"] == JSON
    assert response.json() == str(UID)
