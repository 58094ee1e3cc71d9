"""Requests checked by the engine before the handler runs: typed parameters,
bodies, RequestValidator, and the 422 answer (docs/route-spec.md)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Any, Literal, Optional, TypedDict

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict, Field, field_validator

from databridge import App, Header, Path, Query, RequestValidator
from databridge.testing import TestClient, TestResponse


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    age: int = Field(ge=0, le=150)
    email: Optional[str] = None


class Calls:
    """A handler's call counter: proves a rejected request never reached it."""

    def __init__(self) -> None:
        self.count = 0
        self.kwargs: list[dict[str, Any]] = []

    def record(self, **kwargs: Any) -> None:
        self.count += 1
        self.kwargs.append(kwargs)

    @property
    def last(self) -> dict[str, Any]:
        return self.kwargs[-1]


@pytest.fixture
def calls() -> Calls:
    return Calls()


def details(response: TestResponse) -> list[dict[str, Any]]:
    """The details of a 422, after checking its shape."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "details"}
    assert body["error"] == "validation failed"
    for detail in body["details"]:
        assert set(detail) == {"loc", "msg", "type"}
        assert isinstance(detail["msg"], str) and detail["msg"]
    return body["details"]  # type: ignore[no-any-return]


def brief(response: TestResponse) -> list[tuple[list[Any], str]]:
    """``(loc, type)`` of each problem of a 422: the parameters' in their
    order, then the body's sorted by location (Go lists a body's problems
    in its own order, not the model's field order)."""
    problems = [(detail["loc"], detail["type"]) for detail in details(response)]
    params = [problem for problem in problems if problem[0][0] != "body"]
    body = [problem for problem in problems if problem[0][0] == "body"]
    assert problems == params + body, "the body's problems come after the parameters'"
    return params + sorted(body, key=lambda problem: [str(part) for part in problem[0]])


# -- typed parameters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "text", "expected"),
    [
        (int, "42", 42),
        (int, "-7", -7),
        (float, "2.5", 2.5),
        (float, "3", 3.0),
        (bool, "true", True),
        (bool, "0", False),
        (bool, "YES", True),
        (str, "hello world", "hello world"),
        (uuid.UUID, "0f8fad5b-d9cb-469f-a165-70867728950e", uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")),
        (Literal["a", "b"], "b", "b"),
        (Literal[1, 2], "2", 2),
        (Color, "green", Color.GREEN),
        (Level, "2", Level.HIGH),
        (datetime.datetime, "2024-05-06T07:08:09Z", datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)),
        (datetime.datetime, "2024-05-06T07:08:09+02:00",
         datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))),
        (datetime.date, "2024-05-06", datetime.date(2024, 5, 6)),
        (decimal.Decimal, "12.30", decimal.Decimal("12.30")),
        (Optional[int], "5", 5),
    ],
    ids=lambda value: getattr(value, "__name__", None) or repr(value),
)
def test_query_parameter_arrives_typed(app: App, client: TestClient, calls: Calls, annotation: Any, text: str, expected: Any) -> None:
    def handler(request: dict[str, Any], value: Any) -> None:
        calls.record(value=value)

    handler.__annotations__["value"] = annotation
    app.get("/a")(handler)
    response = client.get("/a", params={"value": text})
    assert response.status_code == 204, response.text
    got = calls.last["value"]
    assert got == expected
    assert type(got) is type(expected)


def test_issue_example_search(app: App, client: TestClient) -> None:
    @app.get("/api/search")
    async def search(request: dict[str, Any], q: str, page: int = 1, limit: int = Query(10, ge=1, le=100),
                     tags: list[str] = Query([])) -> dict[str, Any]:
        return {"q": q, "page": page, "limit": limit, "tags": tags}

    assert client.get("/api/search?q=shoes").json() == {"q": "shoes", "page": 1, "limit": 10, "tags": []}
    assert client.get("/api/search?q=shoes&page=3&limit=100&tags=a&tags=b").json() == {
        "q": "shoes", "page": 3, "limit": 100, "tags": ["a", "b"],
    }
    assert brief(client.get("/api/search?q=shoes&limit=101")) == [(["query", "limit"], "less_than_equal")]
    assert brief(client.get("/api/search?limit=0")) == [(["query", "q"], "missing"), (["query", "limit"], "greater_than_equal")]


def test_optional_parameter_absent_gets_its_default(app: App, client: TestClient, calls: Calls) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], n: Optional[int] = None, color: Color = Color.RED,
                when: Optional[datetime.date] = None) -> None:
        calls.record(n=n, color=color, when=when)

    assert client.get("/a").status_code == 204
    assert calls.last == {"n": None, "color": Color.RED, "when": None}


def test_list_of_ints_from_repeated_keys(app: App, client: TestClient, calls: Calls) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], ids: list[int] = Query([], max_length=3), colors: list[Color] = Query([])) -> None:
        calls.record(ids=ids, colors=colors)

    assert client.get("/a?ids=1&ids=2&colors=red&colors=green").status_code == 204
    assert calls.last == {"ids": [1, 2], "colors": [Color.RED, Color.GREEN]}
    assert brief(client.get("/a?ids=1&ids=x")) == [(["query", "ids", 1], "int_parsing")]
    assert brief(client.get("/a?ids=1&ids=2&ids=3&ids=4")) == [(["query", "ids"], "too_long")]


def test_list_default_is_fresh_for_each_request(app: App, client: TestClient) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], tags: list[str] = Query([])) -> list[str]:
        tags.append("x")
        return tags

    assert client.get("/a").json() == ["x"]
    assert client.get("/a").json() == ["x"]


def test_path_parameters_arrive_typed(app: App, client: TestClient, calls: Calls) -> None:
    @app.get("/items/<int:item_id>/<color>/{code}")
    def handler(request: dict[str, Any], item_id: int = Path(ge=1), color: Color = Path(), code: int = Path()) -> None:
        calls.record(item_id=item_id, color=color, code=code)

    assert client.get("/items/5/green/12").status_code == 204
    assert calls.last == {"item_id": 5, "color": Color.GREEN, "code": 12}
    assert brief(client.get("/items/0/blue/x")) == [
        (["path", "item_id"], "greater_than_equal"),
        (["path", "color"], "enum"),
        (["path", "code"], "int_parsing"),
    ]
    assert calls.count == 1


def test_header_parameters(app: App, client: TestClient, calls: Calls) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], x_token: str = Header(), x_count: int = Header(1, alias="X-Count")) -> None:
        calls.record(x_token=x_token, x_count=x_count)

    assert client.get("/a", headers={"X-Token": "secret", "x-count": "3"}).status_code == 204
    assert calls.last == {"x_token": "secret", "x_count": 3}
    assert brief(client.get("/a", headers={"x-count": "many"})) == [
        (["header", "x-token"], "missing"), (["header", "X-Count"], "int_parsing"),
    ]


def test_query_alias(app: App, client: TestClient, calls: Calls) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], item_query: str = Query(alias="item-query")) -> None:
        calls.record(item_query=item_query)

    assert client.get("/a?item-query=x").status_code == 204
    assert calls.last == {"item_query": "x"}
    assert brief(client.get("/a?item_query=x")) == [(["query", "item-query"], "missing")]


# -- 422 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "text", "kind"),
    [
        (int, "abc", "int_parsing"),
        (int, "4.5", "int_parsing"),
        (float, "abc", "float_parsing"),
        (bool, "maybe", "bool_parsing"),
        (uuid.UUID, "not-a-uuid", "uuid_parsing"),
        (Literal["a", "b"], "c", "enum"),
        (Color, "blue", "enum"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or repr(value),
)
def test_wrong_type_is_422_and_the_handler_is_not_called(app: App, client: TestClient, calls: Calls,
                                                          annotation: Any, text: str, kind: str) -> None:
    def handler(request: dict[str, Any], value: Any) -> None:
        calls.record(value=value)

    handler.__annotations__["value"] = annotation
    app.get("/a")(handler)
    assert brief(client.get("/a", params={"value": text})) == [(["query", "value"], kind)]
    assert calls.count == 0


def test_every_problem_is_listed_in_order(app: App, client: TestClient, calls: Calls) -> None:
    @app.post("/items/<int:item_id>")
    def handler(request: dict[str, Any], item_id: int = Path(le=10), q: str = Query(min_length=2),
                limit: int = Query(10, ge=1, le=100), body: NewUser | None = None) -> None:
        calls.record()

    response = client.post("/items/11?q=x&limit=500", json={"name": "", "age": -1})
    assert brief(response) == [
        (["path", "item_id"], "less_than_equal"),
        (["query", "q"], "string_too_short"),
        (["query", "limit"], "less_than_equal"),
        (["body", "age"], "greater_than_equal"),
        (["body", "name"], "string_too_short"),
    ]
    messages = {tuple(d["loc"]): d["msg"] for d in details(response)}
    assert messages[("query", "limit")] == "Input should be less than or equal to 100"
    assert calls.count == 0


def test_422_messages_follow_pydantic(app: App, client: TestClient) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], n: int, m: int = Query(0, ge=1)) -> None: ...

    assert details(client.get("/a?n=x&m=0")) == [
        {"loc": ["query", "n"], "msg": "Input should be a valid integer, unable to parse string as an integer", "type": "int_parsing"},
        {"loc": ["query", "m"], "msg": "Input should be greater than or equal to 1", "type": "greater_than_equal"},
    ]


def test_pattern(app: App, client: TestClient) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], code: str = Query(pattern="^[A-Z]{3}$")) -> str:
        return code

    assert client.get("/a?code=EUR").text == "EUR"
    assert brief(client.get("/a?code=eur")) == [(["query", "code"], "string_pattern_mismatch")]


def test_async_handler_with_parameters(app: App, client: TestClient) -> None:
    @app.get("/a")
    async def handler(request: dict[str, Any], color: Color, n: int = 1) -> dict[str, Any]:
        return {"color": color.value, "n": n, "path": request["path"]}

    assert client.get("/a?color=red&n=2").json() == {"color": "red", "n": 2, "path": "/a"}


def test_handler_with_only_request_is_unchanged(app: App, client: TestClient) -> None:
    app.get("/a")(lambda request: {"q": request["query_params"].get("limit")})
    assert client.get("/a?limit=anything").json() == {"q": "anything"}


# -- bodies ----------------------------------------------------------------------------------


@pytest.fixture
def users(app: App, calls: Calls) -> App:
    @app.post("/api/users", body=NewUser)
    def create_user(request: dict[str, Any], body: NewUser) -> tuple[int, dict[str, Any]]:
        calls.record(body=body)
        return (201, {"name": body.name, "type": type(body).__name__})

    return app


def test_pydantic_body_valid(users: App, client: TestClient, calls: Calls) -> None:
    response = client.post("/api/users", json={"name": "Ann", "age": 30})
    assert (response.status_code, response.json()) == (201, {"name": "Ann", "type": "NewUser"})
    assert calls.last["body"] == NewUser(name="Ann", age=30)


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"age": 30}, [(["body", "name"], "missing")]),
        ({"name": "Ann", "age": "thirty"}, [(["body", "age"], "int_type")]),
        ({"name": "Ann", "age": 151}, [(["body", "age"], "less_than_equal")]),
        ({"name": "x" * 51, "age": 3}, [(["body", "name"], "string_too_long")]),
        ({"name": 5, "age": 3, "email": 7}, [(["body", "email"], "string_type"), (["body", "name"], "string_type")]),
        ([1, 2], [(["body"], "dict_type")]),
    ],
)
def test_pydantic_body_invalid(users: App, client: TestClient, calls: Calls, body: Any, problems: list[Any]) -> None:
    assert brief(client.post("/api/users", json=body)) == problems
    assert calls.count == 0


def test_missing_body(users: App, client: TestClient, calls: Calls) -> None:
    assert brief(client.post("/api/users")) == [(["body"], "missing")]
    assert calls.count == 0


def test_body_that_is_not_json(users: App, client: TestClient, calls: Calls) -> None:
    response = client.post("/api/users", data={"name": "Ann", "age": "3"})
    assert [loc for loc, _ in brief(response)] == [["body"]]
    assert calls.count == 0


class Signup(BaseModel):
    username: str = Field(min_length=3)
    password: str
    password_again: str

    @field_validator("username")
    @classmethod
    def no_spaces(cls, value: str) -> str:
        if " " in value:
            raise ValueError("must not contain spaces")
        return value.lower()


def test_field_validator_runs_in_python_with_the_same_422_shape(app: App, client: TestClient, calls: Calls) -> None:
    @app.post("/signup")
    def signup(request: dict[str, Any], body: Signup) -> str:
        calls.record(body=body)
        return body.username

    assert client.post("/signup", json={"username": "AnnLee", "password": "a", "password_again": "a"}).text == "annlee"
    assert details(client.post("/signup", json={"username": "ann lee", "password": "a", "password_again": "a"})) == [
        {"loc": ["body", "username"], "msg": "Value error, must not contain spaces", "type": "value_error"},
    ]
    # What JSON Schema expresses is checked by Go, before Python.
    assert brief(client.post("/signup", json={"username": "a", "password": "a"})) == [
        (["body", "password_again"], "missing"), (["body", "username"], "string_too_short"),
    ]
    assert calls.count == 1


def test_async_handler_with_a_body(app: App, client: TestClient) -> None:
    @app.post("/a")
    async def handler(request: dict[str, Any], user: NewUser) -> dict[str, Any]:
        return user.model_dump()

    assert client.post("/a", json={"name": "Ann", "age": 3}).json() == {"name": "Ann", "age": 3, "email": None}
    assert brief(client.post("/a", json={"name": "Ann"})) == [(["body", "age"], "missing")]


def test_forbidden_extra_fields(app: App, client: TestClient) -> None:
    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str

    app.post("/a", body=Strict)(lambda request: "ok")
    assert client.post("/a", json={"name": "x"}).text == "ok"
    assert brief(client.post("/a", json={"name": "x", "admin": True})) == [(["body", "admin"], "extra_forbidden")]


def test_nested_model_errors_have_the_json_path(app: App, client: TestClient) -> None:
    class Item(BaseModel):
        sku: str
        quantity: int = Field(ge=1)

    class Order(BaseModel):
        items: list[Item]

    app.post("/orders", body=Order)(lambda request: "ok")
    assert brief(client.post("/orders", json={"items": [{"sku": "a", "quantity": 1}, {"quantity": 0}]})) == [
        (["body", "items", 1, "quantity"], "greater_than_equal"),
        (["body", "items", 1, "sku"], "missing"),
    ]


def test_optional_body_absent(app: App, client: TestClient, calls: Calls) -> None:
    @app.post("/a")
    def handler(request: dict[str, Any], body: Optional[NewUser] = None) -> None:
        calls.record(body=body)

    assert client.post("/a").status_code == 204
    assert calls.last == {"body": None}
    assert client.post("/a", json={"name": "A", "age": 1}).status_code == 204
    assert calls.last == {"body": NewUser(name="A", age=1)}


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


def test_dataclass_body(app: App, client: TestClient, calls: Calls) -> None:
    @app.post("/points")
    def handler(request: dict[str, Any], point: Point) -> None:
        calls.record(point=point)

    assert client.post("/points", json={"x": 1}).status_code == 204
    assert calls.last == {"point": Point(1, 0)}
    assert brief(client.post("/points", json={"y": "2"})) == [(["body", "x"], "missing"), (["body", "y"], "int_type")]


def test_dataclass_body_without_pydantic(app: App, client: TestClient, calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    from databridge import _schema

    monkeypatch.setattr(_schema, "_pydantic", None)

    @app.post("/points")
    def handler(request: dict[str, Any], point: Point) -> None:
        calls.record(point=point)

    assert client.post("/points", json={"x": 1, "y": 2}).status_code == 204
    assert calls.last == {"point": Point(1, 2)}
    assert brief(client.post("/points", json={"y": 2})) == [(["body", "x"], "missing")]


class Movie(TypedDict):
    title: str
    year: int


def test_typeddict_body(app: App, client: TestClient, calls: Calls) -> None:
    @app.post("/movies")
    def handler(request: dict[str, Any], movie: Movie) -> None:
        calls.record(movie=movie)

    assert client.post("/movies", json={"title": "Alien", "year": 1979}).status_code == 204
    assert calls.last == {"movie": {"title": "Alien", "year": 1979}}
    assert brief(client.post("/movies", json={"title": "Alien"})) == [(["body", "year"], "missing")]


def test_body_named_body_gets_the_json(app: App, client: TestClient) -> None:
    app.post("/echo")(lambda request, body: body)
    assert client.post("/echo", json={"any": ["json", 1]}).json() == {"any": ["json", 1]}


def test_body_option_with_a_json_schema(app: App, client: TestClient) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}, "required": ["n"]}
    app.post("/a", body=schema)(lambda request, body: body["n"])
    assert client.post("/a", json={"n": 2}).json() == 2
    assert brief(client.post("/a", json={"n": 4})) == [(["body", "n"], "less_than_equal")]


# -- RequestValidator ---------------------------------------------------------------------


class Filters(BaseModel):
    full: bool = False
    limit: int = Field(10, le=50)


@dataclasses.dataclass
class ItemPath:
    item_id: int


class AuthHeaders(TypedDict):
    authorization: str


def test_issue_example_item(app: App, client: TestClient, calls: Calls) -> None:
    @app.get("/api/items/<int:item_id>",
             validator=RequestValidator(query={"type": "object", "properties": {"full": {"type": "boolean"}}}))
    def get_item(request: dict[str, Any], item_id: int) -> dict[str, Any]:
        calls.record(item_id=item_id)
        return {"item": item_id, "full": request["query_params"].get("full")}

    assert client.get("/api/items/42?full=true").json() == {"item": 42, "full": "true"}
    assert brief(client.get("/api/items/42?full=perhaps")) == [(["query", "full"], "bool_parsing")]
    assert calls.count == 1


@pytest.mark.parametrize(
    ("validator", "good", "bad", "problems"),
    [
        (RequestValidator(query={"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}),
         {"url": "/v/1?n=2"}, {"url": "/v/1?n=0"}, [(["query", "n"], "greater_than_equal")]),
        (RequestValidator(query=Filters), {"url": "/v/1?full=1&limit=5"}, {"url": "/v/1?limit=51"}, [(["query", "limit"], "less_than_equal")]),
        (RequestValidator(headers=AuthHeaders), {"url": "/v/1", "headers": {"Authorization": "Bearer x"}}, {"url": "/v/1"},
         [(["header", "authorization"], "missing")]),
        (RequestValidator(path=ItemPath), {"url": "/v/1"}, {"url": "/v/x"}, [(["path", "item_id"], "int_parsing")]),
        (RequestValidator(path={"type": "object", "properties": {"item_id": {"type": "string", "maxLength": 2}}}),
         {"url": "/v/12"}, {"url": "/v/123"}, [(["path", "item_id"], "string_too_long")]),
        (RequestValidator(body=NewUser), {"url": "/v/1", "json": {"name": "A", "age": 1}}, {"url": "/v/1", "json": {"name": "A"}},
         [(["body", "age"], "missing")]),
        (RequestValidator(body=Point), {"url": "/v/1", "json": {"x": 1}}, {"url": "/v/1", "json": {"x": "1"}}, [(["body", "x"], "int_type")]),
        (RequestValidator(body=Movie), {"url": "/v/1", "json": {"title": "A", "year": 1}}, {"url": "/v/1", "json": {}},
         [(["body", "title"], "missing"), (["body", "year"], "missing")]),
    ],
    ids=["query-dict", "query-model", "headers-typeddict", "path-dataclass", "path-dict", "body-model", "body-dataclass", "body-typeddict"],
)
def test_request_validator(app: App, client: TestClient, calls: Calls, validator: RequestValidator,
                           good: dict[str, Any], bad: dict[str, Any], problems: list[Any]) -> None:
    app.post("/v/{item_id}", validator=validator)(lambda request: calls.record())
    assert client.post(**good).status_code == 204
    assert brief(client.post(**bad)) == problems
    assert calls.count == 1


def test_request_validator_body_is_built_for_the_body_parameter(app: App, client: TestClient, calls: Calls) -> None:
    @app.post("/a", validator=RequestValidator(body=NewUser))
    def handler(request: dict[str, Any], body: Any) -> None:
        calls.record(body=body)

    client.post("/a", json={"name": "A", "age": 1})
    assert calls.last == {"body": NewUser(name="A", age=1)}


def test_invalid_schema_is_a_value_error_naming_the_route(app: App) -> None:
    validator = RequestValidator(query={"type": "object", "properties": {"n": {"type": "integer", "minimum": "one"}}})
    with pytest.raises(ValueError, match=r"invalid schema(.|\n)*GET /bad"):
        app.get("/bad", validator=validator)(lambda request: None)
    assert app.routes == []


# -- conversions Go leaves to Python -------------------------------------------------------------


def test_datetime_that_python_cannot_read_is_422(app: App, client: TestClient, calls: Calls) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], when: datetime.date) -> None:
        calls.record(when=when)

    response = client.get("/a?when=2024-13-45")
    assert [loc for loc, _ in brief(response)] == [["query", "when"]]
    assert calls.count == 0


def test_decimal_keeps_its_digits(app: App, client: TestClient) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], amount: decimal.Decimal) -> str:
        return str(amount)

    assert client.get("/a?amount=0.1000000000000000055511151231257827").text == "0.1000000000000000055511151231257827"
    assert [loc for loc, _ in brief(client.get("/a?amount=lots"))] == [["query", "amount"]]


def test_default_that_is_not_json_is_pythons_own(app: App, client: TestClient, calls: Calls) -> None:
    marker = object()

    @app.get("/a")
    def handler(request: dict[str, Any], q: Any = marker) -> None:
        calls.record(q=q)

    client.get("/a")
    assert calls.last["q"] is marker
    client.get("/a?q=given")
    assert calls.last["q"] == "given"


def test_enum_default_arrives_as_a_member(app: App, client: TestClient, calls: Calls) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], level: Level = Query(Level.LOW)) -> None:
        calls.record(level=level)

    client.get("/a")
    assert calls.last["level"] is Level.LOW


# -- many routes, one app ------------------------------------------------------------------------


def test_issue_example_app() -> None:
    from examples.users import app

    with TestClient(app) as client:
        assert client.post("/api/users", json={"name": "Ann", "age": 30}).status_code == 201
        assert client.get("/api/search?q=x&limit=5").json()["limit"] == 5
        assert client.get("/api/items/3?full=true").json()["item_id"] == 3
        document = client.get("/openapi.json").json()
        assert document["info"]["title"] == "Users API"
        validate(document)

