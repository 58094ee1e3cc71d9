"""Registration: the route spec made from a handler's signature and options
(docs/route-spec.md), the endpoint the engine calls, and the errors a
route that cannot be served raises at once. No request is sent here."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import inspect
import json
import uuid
from typing import Annotated, Any, Literal, Optional, TypedDict

import pytest
from pydantic import BaseModel, Field

from databridge import App, Header, Path, Query, RequestValidator, Route, Router


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


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Movie(TypedDict):
    title: str
    year: int


def only_route(app: App | Router) -> Route:
    assert len(app.routes) == 1
    return app.routes[0]


def spec(app: App | Router) -> dict[str, Any]:
    """The route spec of the app's one route, parsed."""
    text = only_route(app).spec
    assert text is not None
    return json.loads(text)  # type: ignore[no-any-return]


def params(app: App | Router) -> dict[str, dict[str, Any]]:
    return {param["name"]: param for param in spec(app)["params"]}


# -- handlers without parameters --------------------------------------------


def test_handler_with_only_request_has_no_spec(app: App) -> None:
    def handler(request: dict[str, Any]) -> str:
        return "ok"

    app.get("/a")(handler)
    route = only_route(app)
    assert route.spec is None
    assert route.endpoint is handler


def test_var_keyword_arguments_are_not_parameters(app: App) -> None:
    app.get("/a")(lambda request, *args, **kwargs: "ok")
    assert only_route(app).spec is None


# -- query parameters ---------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "schema"),
    [
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (str, {"type": "string"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
        (datetime.datetime, {"type": "string", "format": "date-time"}),
        (datetime.date, {"type": "string", "format": "date"}),
        (datetime.time, {"type": "string", "format": "time"}),
        (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
        (Literal[1, 2], {"type": "integer", "enum": [1, 2]}),
        (Literal["only"], {"type": "string", "const": "only"}),
        (Color, {"title": "Color", "type": "string", "enum": ["red", "green"]}),
        (Level, {"title": "Level", "type": "integer", "enum": [1, 2]}),
        (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (list[Color], {"type": "array", "items": {"title": "Color", "type": "string", "enum": ["red", "green"]}}),
    ],
    ids=lambda value: repr(value) if not isinstance(value, dict) else "",
)
def test_query_parameter_schema_follows_the_annotation(app: App, annotation: Any, schema: dict[str, Any]) -> None:
    def handler(request: dict[str, Any], value: Any) -> None: ...

    handler.__annotations__["value"] = annotation
    app.get("/a")(handler)
    assert params(app)["value"] == {"name": "value", "in": "query", "required": True, "schema": schema}


def test_decimal_parameter_arrives_as_text(app: App) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], amount: decimal.Decimal) -> None: ...

    schema = params(app)["amount"]["schema"]
    assert schema["type"] == "string"  # its digits, as they are
    assert schema["pattern"].startswith("^")


def test_unannotated_parameter_is_a_string_or_has_its_defaults_type(app: App) -> None:
    @app.get("/a")
    def handler(request, q, page=1, flag=False):  # type: ignore[no-untyped-def]
        ...

    got = params(app)
    assert got["q"]["schema"] == {"type": "string"}
    assert got["page"]["schema"] == {"type": "integer", "default": 1}
    assert got["flag"]["schema"] == {"type": "boolean", "default": False}


def test_default_makes_a_parameter_optional_and_goes_into_the_schema(app: App) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], page: int = 1, color: Color = Color.RED, q: Optional[str] = None) -> None: ...

    got = params(app)
    assert got["page"]["required"] is False and got["page"]["schema"]["default"] == 1
    assert got["color"]["schema"]["default"] == "red"
    assert got["q"]["schema"]["default"] is None


def test_query_marker_gives_default_bounds_and_docs(app: App) -> None:
    @app.get("/a")
    def handler(
        request: dict[str, Any],
        limit: int = Query(10, ge=1, le=100, description="page size", examples=[20]),
        ratio: float = Query(gt=0, lt=1),
        name: str = Query("x", min_length=1, max_length=5, pattern="^[a-z]+$", title="Name"),
    ) -> None: ...

    got = params(app)
    assert got["limit"] == {
        "name": "limit", "in": "query", "required": False,
        "schema": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100,
                   "description": "page size", "examples": [20]},
    }
    assert got["ratio"]["required"] is True
    assert got["ratio"]["schema"] == {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
    assert got["name"]["schema"] == {
        "type": "string", "default": "x", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$", "title": "Name",
    }


def test_query_marker_required_with_ellipsis(app: App) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], q: str = Query(...)) -> None: ...

    assert params(app)["q"]["required"] is True


def test_list_parameter_bounds_apply_to_items_and_lengths_to_the_list(app: App) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], ids: list[int] = Query([], ge=1, max_length=3)) -> None: ...

    assert params(app)["ids"]["schema"] == {
        "type": "array", "items": {"type": "integer", "minimum": 1}, "default": [], "maxItems": 3,
    }


def test_optional_parameter_bounds_apply_to_the_value(app: App) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], n: Optional[int] = Query(None, ge=0)) -> None: ...

    assert params(app)["n"]["schema"] == {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}], "default": None}


def test_query_alias_is_the_name_on_the_wire(app: App) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], item_query: str = Query(alias="item-query")) -> None: ...

    assert params(app)["item_query"]["alias"] == "item-query"


def test_annotated_marker(app: App) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], limit: Annotated[int, Query(ge=1)] = 5) -> None: ...

    assert params(app)["limit"] == {
        "name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "default": 5, "minimum": 1},
    }


# -- headers and path -----------------------------------------------------------


def test_header_alias_defaults_to_dashes(app: App) -> None:
    @app.get("/a")
    def handler(request: dict[str, Any], x_token: str = Header(), user_agent: str = Header("?", alias="User-Agent")) -> None: ...

    got = params(app)
    assert got["x_token"] == {"name": "x_token", "in": "header", "required": True, "alias": "x-token", "schema": {"type": "string"}}
    assert got["user_agent"]["alias"] == "User-Agent"


@pytest.mark.parametrize(
    ("path", "annotation", "schema"),
    [
        ("/items/<int:item_id>", int, {"type": "integer"}),
        ("/items/{item_id}", int, {"type": "integer"}),
        ("/items/<item_id>", str, {"type": "string"}),
        ("/items/<float:item_id>", float, {"type": "number"}),
        ("/items/<uuid:item_id>", uuid.UUID, {"type": "string", "format": "uuid"}),
        ("/items/{item_id}", Color, {"title": "Color", "type": "string", "enum": ["red", "green"]}),
        ("/items/{item_id:[0-9]+}", int, {"type": "integer", "pattern": "^(?:[0-9]+)$"}),
        ("/items/<int:item_id>", Any, {"type": "integer"}),
    ],
)
def test_path_parameter(app: App, path: str, annotation: Any, schema: dict[str, Any]) -> None:
    def handler(request: dict[str, Any], item_id: Any) -> None: ...

    handler.__annotations__["item_id"] = annotation
    app.get(path)(handler)
    assert params(app)["item_id"] == {"name": "item_id", "in": "path", "required": True, "schema": schema}


def test_path_marker_bounds(app: App) -> None:
    @app.get("/items/<int:item_id>")
    def handler(request: dict[str, Any], item_id: int = Path(ge=1, description="the item")) -> None: ...

    assert params(app)["item_id"]["schema"] == {"type": "integer", "minimum": 1, "description": "the item"}


def test_path_parameter_of_an_included_routers_prefix(app: App) -> None:
    router = Router(prefix="/users/<int:user_id>")

    @router.get("/posts")
    def handler(request: dict[str, Any], user_id: int, q: str = "") -> None: ...

    assert {param["name"]: param["in"] for param in spec(router)["params"]} == {"user_id": "path", "q": "query"}
    app.include_router(router)
    assert params(app)["user_id"]["in"] == "path"


def test_parameter_becomes_a_path_parameter_when_a_prefix_adds_it(app: App) -> None:
    router = Router()

    @router.get("/posts")
    def handler(request: dict[str, Any], user_id: int) -> None: ...

    assert params(router)["user_id"]["in"] == "query"
    outer = Router(prefix="/users/<int:user_id>")
    outer.include_router(router)
    assert params(outer)["user_id"]["in"] == "path"


# -- the body -------------------------------------------------------------------


def test_body_option_sets_the_body_schema(app: App) -> None:
    @app.post("/users", body=NewUser)
    def handler(request: dict[str, Any], body: NewUser) -> None: ...

    got = spec(app)
    assert got["params"] == []
    assert got["body"] == {"required": True, "schema": NewUser.model_json_schema()}


def test_parameter_annotated_with_a_model_takes_the_body(app: App) -> None:
    @app.post("/users")
    def handler(request: dict[str, Any], user: NewUser, dry_run: bool = False) -> None: ...

    got = spec(app)
    assert got["body"]["schema"]["title"] == "NewUser"
    assert [param["name"] for param in got["params"]] == ["dry_run"]
    assert only_route(app).plan.body.param == "user"  # type: ignore[union-attr]


def test_body_option_without_a_body_parameter_still_validates(app: App) -> None:
    app.post("/users", body=NewUser)(lambda request: request["body"])
    assert spec(app)["body"]["required"] is True


def test_parameter_named_body_without_annotation_takes_any_json(app: App) -> None:
    @app.post("/things")
    def handler(request, body):  # type: ignore[no-untyped-def]
        ...

    assert spec(app)["body"] == {"required": True, "schema": {}}


def test_optional_body(app: App) -> None:
    @app.post("/users")
    def handler(request: dict[str, Any], body: Optional[NewUser] = None) -> None: ...

    assert spec(app)["body"]["required"] is False


def test_dataclass_body_schema(app: App) -> None:
    @app.post("/points")
    def handler(request: dict[str, Any], point: Point) -> None: ...

    schema = spec(app)["body"]["schema"]
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"x", "y"}
    assert schema["required"] == ["x"]


def test_typeddict_body_schema(app: App) -> None:
    @app.post("/movies")
    def handler(request: dict[str, Any], movie: Movie) -> None: ...

    schema = spec(app)["body"]["schema"]
    assert schema["type"] == "object"
    assert {key: prop["type"] for key, prop in schema["properties"].items()} == {"title": "string", "year": "integer"}
    assert schema["required"] == ["title", "year"]


def test_nested_models_keep_their_defs_at_the_root(app: App) -> None:
    class Address(BaseModel):
        city: str

    class Person(BaseModel):
        name: str
        address: Address

    app.post("/people", body=Person)(lambda request: None)
    schema = spec(app)["body"]["schema"]
    assert schema["properties"]["address"] == {"$ref": "#/$defs/Address"}
    assert "Address" in schema["$defs"]


# -- RequestValidator -------------------------------------------------------------


class Filters(BaseModel):
    full: bool = False


@dataclasses.dataclass
class PathShape:
    item_id: int


class Headers(TypedDict):
    authorization: str


def test_request_validator_with_each_kind_of_schema(app: App) -> None:
    validator = RequestValidator(
        body={"type": "object", "required": ["name"]},
        query=Filters,
        headers=Headers,
        path=PathShape,
    )
    app.put("/items/<int:item_id>", validator=validator)(lambda request: None)
    got = spec(app)
    assert got["params"] == []
    assert got["body"] == {"required": True, "schema": {"type": "object", "required": ["name"]}}
    assert got["query"] == Filters.model_json_schema()
    assert got["headers"]["properties"]["authorization"]["type"] == "string"
    assert got["path"]["properties"]["item_id"]["type"] == "integer"
    assert got["path"]["required"] == ["item_id"]


def test_request_validator_rejects_what_is_not_a_schema() -> None:
    with pytest.raises(TypeError, match=r"RequestValidator\(query=...\)"):
        RequestValidator(query="full=true")


def test_request_validator_schema_must_be_json() -> None:
    with pytest.raises(TypeError, match="not JSON"):
        RequestValidator(query={"type": "object", "default": object()})


# -- the endpoint -------------------------------------------------------------------


def test_endpoint_is_the_handler_when_nothing_needs_converting(app: App) -> None:
    def handler(request: dict[str, Any], q: str, n: int = 1, flag: bool = False, ids: list[int] = Query([])) -> None: ...

    app.get("/a")(handler)
    assert only_route(app).endpoint is handler


def test_endpoint_wraps_the_handler_for_conversions(app: App) -> None:
    def handler(request: dict[str, Any], color: Color) -> None: ...

    app.get("/a")(handler)
    endpoint = only_route(app).endpoint
    assert endpoint is not handler
    assert not inspect.iscoroutinefunction(endpoint)


def test_endpoint_of_an_async_handler_is_async(app: App) -> None:
    async def handler(request: dict[str, Any], body: NewUser) -> None: ...

    app.post("/a")(handler)
    route = only_route(app)
    assert route.endpoint is not handler
    assert inspect.iscoroutinefunction(route.endpoint)
    assert route.is_async


def test_route_equality_ignores_the_plan(app: App) -> None:
    def handler(request: dict[str, Any], q: str) -> None: ...

    app.get("/a")(handler)
    assert app.routes == [Route("GET", "/a", handler, "test_route_equality_ignores_the_plan.<locals>.handler", False)]


# -- options ---------------------------------------------------------------------------


def test_options_are_kept_on_the_route(app: App) -> None:
    @app.post("/a", summary="S", description="D", tags=["t"], status_code=201, response_model=NewUser, include_in_schema=False)
    def handler(request: dict[str, Any]) -> None: ...

    route = only_route(app)
    assert (route.summary, route.description, route.tags, route.status_code, route.response_model, route.include_in_schema) == (
        "S", "D", ("t",), 201, NewUser, False,
    )


def test_include_router_keeps_the_options(app: App) -> None:
    router = Router(prefix="/r")
    router.post("/a", body=NewUser, tags=["r"], summary="made")(lambda request: None)
    app.include_router(router)
    route = only_route(app)
    assert (route.path, route.body, route.tags, route.summary) == ("/r/a", NewUser, ("r",), "made")
    assert json.loads(route.spec or "null")["body"]["schema"]["title"] == "NewUser"


def test_every_decorator_takes_the_options(app: App) -> None:
    for method in ("get", "post", "put", "patch", "delete", "head", "options"):
        getattr(app, method)(f"/{method}", tags=[method], validator=RequestValidator(query={"type": "object"}))(lambda request: None)
    app.route("/route", methods=["GET"], tags=["route"])(lambda request: None)
    app.add_route("GET", "/add", lambda request: None, tags=["add"])
    assert [route.tags for route in app.routes] == [(m,) for m in ("get", "post", "put", "patch", "delete", "head", "options", "route", "add")]
    assert all(route.spec is not None for route in app.routes[:7])


# -- registration errors --------------------------------------------------------------


def register(app: App, path: str, handler: Any, method: str = "GET", **options: Any) -> None:
    app.route(path, methods=[method], **options)(handler)


@pytest.mark.parametrize(
    ("annotation", "where"),
    [
        (dict[str, int], "query"),
        (list[list[int]], "query"),
        (tuple[int, str], "query"),
        (bytes, "query"),
        (list[str], "header"),
    ],
    ids=["dict", "nested-list", "fixed-tuple", "bytes", "list-header"],
)
def test_unsupported_parameter_type_is_a_type_error_naming_route_and_parameter(app: App, annotation: Any, where: str) -> None:
    def handler(request: dict[str, Any], value: Any = Header() if where == "header" else Query()) -> None: ...

    handler.__annotations__["value"] = annotation
    with pytest.raises(TypeError, match=rf'route "GET /a": parameter "value" has type .* which a {where} parameter cannot have'):
        register(app, "/a", handler)
    assert app.routes == []


def test_model_cannot_be_a_query_parameter(app: App) -> None:
    def handler(request: dict[str, Any], user: NewUser = Query()) -> None: ...

    with pytest.raises(TypeError, match='parameter "user" has type NewUser: a model can only be the body'):
        register(app, "/a", handler)


def test_two_body_parameters(app: App) -> None:
    def handler(request: dict[str, Any], a: NewUser, b: Point) -> None: ...

    with pytest.raises(TypeError, match='parameters "a" and "b" both take the body'):
        register(app, "/a", handler, "POST")


def test_path_marker_for_a_name_not_in_the_path(app: App) -> None:
    def handler(request: dict[str, Any], item_id: int = Path()) -> None: ...

    with pytest.raises(TypeError, match='has no parameter "item_id"'):
        register(app, "/items", handler)


def test_query_marker_on_a_path_parameter(app: App) -> None:
    def handler(request: dict[str, Any], item_id: int = Query()) -> None: ...

    with pytest.raises(TypeError, match='"item_id" is a path parameter, not a query parameter'):
        register(app, "/items/<int:item_id>", handler)


@pytest.mark.parametrize(
    ("path", "annotation", "message"),
    [
        ("/items/<int:item_id>", str, "converter <int:item_id> gives an int"),
        ("/items/<float:item_id>", int, "converter <float:item_id> gives a float"),
        ("/items/<uuid:item_id>", str, "converter <uuid:item_id> gives a UUID"),
        ("/items/<int:item_id>", Optional[int], "cannot be Optional"),
        ("/items/<int:item_id>", list[int], "which a path parameter cannot have"),
    ],
)
def test_path_parameter_type_must_fit_the_converter(app: App, path: str, annotation: Any, message: str) -> None:
    def handler(request: dict[str, Any], item_id: Any) -> None: ...

    handler.__annotations__["item_id"] = annotation
    with pytest.raises(TypeError, match=message):
        register(app, path, handler)


def test_path_parameter_cannot_have_a_default(app: App) -> None:
    def handler(request: dict[str, Any], item_id: int = Path(3)) -> None: ...

    with pytest.raises(TypeError, match="cannot have a default"):
        register(app, "/items/<int:item_id>", handler)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (Query(ge=1), "ge, gt, le and lt apply to numbers"),
        (Query(pattern="^a"), None),
        (Query(min_length=1), None),
    ],
)
def test_marker_bounds_must_fit_the_type_str(app: App, marker: Any, message: str | None) -> None:
    def handler(request: dict[str, Any], value: str = marker) -> None: ...

    if message is None:
        register(app, "/a", handler)
    else:
        with pytest.raises(TypeError, match=message):
            register(app, "/a", handler)


@pytest.mark.parametrize(
    ("marker", "message"),
    [(Query(pattern="^a"), "pattern applies to str"), (Query(max_length=2), "min_length and max_length apply to str and list")],
)
def test_marker_bounds_must_fit_the_type_int(app: App, marker: Any, message: str) -> None:
    def handler(request: dict[str, Any], value: int = marker) -> None: ...

    with pytest.raises(TypeError, match=message):
        register(app, "/a", handler)


def test_invalid_pattern(app: App) -> None:
    def handler(request: dict[str, Any], value: str = Query(pattern="[a-")) -> None: ...

    with pytest.raises(TypeError, match="invalid pattern"):
        register(app, "/a", handler)


def test_marker_default_must_be_json(app: App) -> None:
    def handler(request: dict[str, Any], value: str = Query(object())) -> None: ...

    with pytest.raises(TypeError, match="must be JSON-encodable"):
        register(app, "/a", handler)


def test_positional_only_parameter(app: App) -> None:
    def handler(request: dict[str, Any], q: str, /) -> None: ...

    with pytest.raises(TypeError, match='"q" is positional-only'):
        register(app, "/a", handler)


def test_unresolvable_annotation(app: App) -> None:
    def handler(request: dict[str, Any], q: NoSuchType) -> None: ...  # type: ignore[name-defined] # noqa: F821

    with pytest.raises(TypeError, match=r'route "GET /a": cannot resolve the handler\'s annotations'):
        register(app, "/a", handler)


def test_unresolvable_annotation_of_request_alone_is_fine(app: App) -> None:
    def handler(request: NoSuchType) -> None: ...  # type: ignore[name-defined] # noqa: F821

    register(app, "/a", handler)
    assert only_route(app).spec is None


def test_body_option_and_validator_body_together(app: App) -> None:
    with pytest.raises(TypeError, match="either as body= or as RequestValidator"):
        register(app, "/a", lambda request: None, "POST", body=NewUser, validator=RequestValidator(body=Point))


def test_body_option_and_annotation_disagree(app: App) -> None:
    def handler(request: dict[str, Any], body: Point) -> None: ...

    with pytest.raises(TypeError, match="body=NewUser and the annotation Point"):
        register(app, "/a", handler, "POST", body=NewUser)


def test_body_option_must_be_a_schema(app: App) -> None:
    with pytest.raises(TypeError, match=r'route "POST /a": body: .*not 42'):
        register(app, "/a", lambda request: None, "POST", body=42)


def test_mixed_literal(app: App) -> None:
    def handler(request: dict[str, Any], value: Literal["a", 1]) -> None: ...

    with pytest.raises(TypeError, match="mix JSON types"):
        register(app, "/a", handler)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"tags": "users"}, TypeError, "tags must be a list of str"),
        ({"status_code": 1000}, ValueError, "not an HTTP status code"),
        ({"summary": 3}, TypeError, "summary must be a str"),
        ({"include_in_schema": "no"}, TypeError, "include_in_schema must be a bool"),
        ({"validator": {"type": "object"}}, TypeError, "validator must be a RequestValidator"),
        ({"response_model": 42}, TypeError, "response_model"),
        ({"bodyy": NewUser}, TypeError, "unknown option 'bodyy'"),
    ],
)
def test_bad_options(app: App, options: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        register(app, "/a", lambda request: None, **options)
    assert app.routes == []
