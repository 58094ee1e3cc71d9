"""The OpenAPI 3.1 document (validated with openapi-spec-validator), the
docs page and its assets, served by the app itself."""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Any, Literal, Optional, TypedDict

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field, create_model

from databridge import App, Header, HTTPError, Path, Query, RequestValidator, Response, Router, openapi
from databridge.testing import TestClient


class Role(enum.Enum):
    ADMIN = "admin"
    USER = "user"


class Address(BaseModel):
    city: str
    zip: Optional[str] = None


class NewUser(BaseModel):
    """A user to create."""

    name: str = Field(min_length=1, max_length=50)
    age: int = Field(ge=0, le=150)
    role: Role = Role.USER
    address: Optional[Address] = None


class User(NewUser):
    id: int


class Node(BaseModel):
    value: int
    children: list[Node] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Movie(TypedDict):
    title: str
    year: int


def build_app() -> App:
    """An app that uses every feature the document describes."""
    app = App(title="Users API", version="1.0", description="Users and their things.")

    @app.post("/api/users", body=NewUser, status_code=201, tags=["users"])
    def create_user(request: dict[str, Any], body: NewUser) -> User:
        """Create a user.

        The name must be unique.
        Returns the new user."""
        return User(id=1, **body.model_dump())

    @app.get("/api/users/<int:user_id>", tags=["users"])
    def get_user(request: dict[str, Any], user_id: int = Path(ge=1, description="the user's id")) -> User:
        """Get one user."""
        raise HTTPError(404)

    @app.get("/api/search", summary="Search", description="Full-text search.")
    async def search(
        request: dict[str, Any],
        q: str,
        page: int = 1,
        limit: int = Query(10, ge=1, le=100, description="page size"),
        tags: list[str] = Query([]),
        role: Optional[Role] = None,
        sort: Literal["asc", "desc"] = "asc",
        x_token: str = Header(description="your token"),
    ) -> list[User]:
        """Ignored first line.

        Ignored rest."""
        return []

    @app.get("/api/items/<int:item_id>",
             validator=RequestValidator(query={"type": "object", "properties": {"full": {"type": "boolean"}},
                                               "required": ["full"]},
                                        headers={"type": "object", "properties": {"x-trace": {"type": "string"}}}))
    def get_item(request: dict[str, Any], item_id: int) -> dict[str, Any]:
        return {}

    @app.put("/api/points/{point_id}")
    def put_point(request: dict[str, Any], point: Point) -> None:
        return None

    @app.post("/api/movies", response_model=Movie)
    def add_movie(request: dict[str, Any], movie: Movie) -> Response:
        return Response(movie)

    @app.post("/api/trees")
    def add_tree(request: dict[str, Any], tree: Node) -> str:
        return "ok"

    @app.get("/files/<path:name>")
    def read_file(request: dict[str, Any]) -> bytes:
        return b""

    @app.get("/hidden", include_in_schema=False)
    def hidden(request: dict[str, Any]) -> str:
        return "hidden"

    @app.route("/api/things", methods=["GET", "POST"])
    def things(request: dict[str, Any]) -> Any:
        return []

    admin = Router(prefix="/admin")

    @admin.delete("/users/{user_id}", tags=["admin"], status_code=204)
    def delete_user(request: dict[str, Any], user_id: int) -> None:
        return None

    app.include_router(admin)
    return app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_app().openapi()


def operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return document["paths"][path][method]  # type: ignore[no-any-return]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema["$ref"]
    assert ref.startswith("#/components/schemas/")
    return document["components"]["schemas"][ref.rpartition("/")[2]]  # type: ignore[no-any-return]


# -- the document ----------------------------------------------------------------


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any error


def test_document_of_an_empty_app_is_valid() -> None:
    document = App().openapi()
    assert document == {"openapi": "3.1.0", "info": {"title": "databridge", "version": "0.1.0"}, "paths": {}}
    validate(document)


def test_info(document: dict[str, Any]) -> None:
    assert document["info"] == {"title": "Users API", "version": "1.0", "description": "Users and their things."}


def test_paths_use_openapi_templates(document: dict[str, Any]) -> None:
    assert set(document["paths"]) == {
        "/api/users", "/api/users/{user_id}", "/api/search", "/api/items/{item_id}", "/api/points/{point_id}",
        "/api/movies", "/api/trees", "/files/{name}", "/api/things", "/admin/users/{user_id}",
    }


def test_routes_left_out(document: dict[str, Any]) -> None:
    assert "/hidden" not in document["paths"]
    assert "/docs" not in document["paths"] and "/openapi.json" not in document["paths"]


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for methods in document["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))
    assert operation(document, "/api/users", "post")["operationId"] == "create_user_post"
    assert operation(document, "/api/things", "get")["operationId"] == "things_get"
    assert operation(document, "/api/things", "post")["operationId"] == "things_post"


def test_summary_and_description_from_the_docstring(document: dict[str, Any]) -> None:
    create = operation(document, "/api/users", "post")
    assert create["summary"] == "Create a user."
    assert create["description"] == "The name must be unique.\nReturns the new user."
    get = operation(document, "/api/users/{user_id}", "get")
    assert get["summary"] == "Get one user." and "description" not in get


def test_summary_and_description_options_win(document: dict[str, Any]) -> None:
    search = operation(document, "/api/search", "get")
    assert (search["summary"], search["description"]) == ("Search", "Full-text search.")


def test_tags(document: dict[str, Any]) -> None:
    assert operation(document, "/api/users", "post")["tags"] == ["users"]
    assert operation(document, "/admin/users/{user_id}", "delete")["tags"] == ["admin"]
    assert "tags" not in operation(document, "/api/search", "get")


def test_query_and_header_parameters(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in operation(document, "/api/search", "get")["parameters"]}
    assert list(parameters) == ["q", "page", "limit", "tags", "role", "sort", "x-token"]
    assert parameters["q"] == {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
    assert parameters["limit"] == {
        "name": "limit", "in": "query", "required": False, "description": "page size",
        "schema": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100, "description": "page size"},
    }
    assert parameters["tags"]["schema"] == {"type": "array", "items": {"type": "string"}, "default": []}
    assert parameters["sort"]["schema"] == {"type": "string", "enum": ["asc", "desc"], "default": "asc"}
    assert parameters["x-token"]["in"] == "header"
    assert parameters["x-token"]["description"] == "your token"


def test_path_parameters(document: dict[str, Any]) -> None:
    (user_id,) = operation(document, "/api/users/{user_id}", "get")["parameters"]
    assert user_id == {
        "name": "user_id", "in": "path", "required": True, "description": "the user's id",
        "schema": {"type": "integer", "minimum": 1, "description": "the user's id"},
    }


def test_path_parameters_the_handler_does_not_take_are_listed(document: dict[str, Any]) -> None:
    (name,) = operation(document, "/files/{name}", "get")["parameters"]
    assert name == {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


def test_validator_schemas_become_parameters(document: dict[str, Any]) -> None:
    parameters = {(p["in"], p["name"]): p for p in operation(document, "/api/items/{item_id}", "get")["parameters"]}
    assert parameters[("query", "full")] == {"name": "full", "in": "query", "required": True, "schema": {"type": "boolean"}}
    assert parameters[("header", "x-trace")]["required"] is False
    assert parameters[("path", "item_id")]["schema"] == {"type": "integer"}


def test_request_body_refers_to_a_model_component(document: dict[str, Any]) -> None:
    body = operation(document, "/api/users", "post")["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/NewUser"}
    new_user = resolve(document, schema)
    assert new_user["properties"]["name"] == {"type": "string", "minLength": 1, "maxLength": 50, "title": "Name"}
    assert new_user["description"] == "A user to create."


def test_nested_models_and_enums_are_components(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    assert {"NewUser", "User", "Address", "Role"} <= set(components)
    new_user = components["NewUser"]
    assert new_user["properties"]["role"]["$ref"] == "#/components/schemas/Role"
    assert "$defs" not in new_user
    assert "#/$defs/" not in json.dumps(document)


def test_recursive_model(document: dict[str, Any]) -> None:
    schema = operation(document, "/api/trees", "post")["requestBody"]["content"]["application/json"]["schema"]
    node = resolve(document, schema)
    assert node["properties"]["children"]["items"] == {"$ref": "#/components/schemas/Node"}


def test_dataclass_and_typeddict_bodies(document: dict[str, Any]) -> None:
    point = operation(document, "/api/points/{point_id}", "put")["requestBody"]["content"]["application/json"]["schema"]
    assert resolve(document, point)["required"] == ["x"]
    movie = operation(document, "/api/movies", "post")["requestBody"]["content"]["application/json"]["schema"]
    assert set(resolve(document, movie)["properties"]) == {"title", "year"}


def test_success_response_from_status_code_and_return_annotation(document: dict[str, Any]) -> None:
    responses = operation(document, "/api/users", "post")["responses"]
    assert set(responses) == {"201", "422", "default"}
    assert responses["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/User"}


def test_list_response(document: dict[str, Any]) -> None:
    ok = operation(document, "/api/search", "get")["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/User"}}


def test_response_model_wins_over_the_annotation(document: dict[str, Any]) -> None:
    ok = operation(document, "/api/movies", "post")["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Movie"}


def test_status_body_tuple_annotation_documents_the_body() -> None:
    # Found by schemathesis against examples.hello: `-> tuple[int, X]` is the
    # (status, body) return convention, so the response body is an X, not a
    # two-item array.
    app = App()

    @app.post("/a", status_code=201)
    def a(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return (201, {})

    @app.post("/b", status_code=201)
    def b(request: dict[str, Any]) -> tuple[int, User, dict[str, str]]:
        raise HTTPError(404)

    @app.get("/c")
    def c(request: dict[str, Any]) -> tuple[str, int]:  # a plain tuple body: a JSON array
        return ("x", 1)

    document = app.openapi()
    assert operation(document, "/a", "post")["responses"]["201"]["content"]["application/json"]["schema"] == {"type": "object"}
    assert operation(document, "/b", "post")["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/User"}
    assert operation(document, "/c", "get")["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"


def test_none_return_is_204(document: dict[str, Any]) -> None:
    responses = operation(document, "/api/points/{point_id}", "put")["responses"]
    assert responses["204"] == {"description": "No Content"}
    assert "204" in operation(document, "/admin/users/{user_id}", "delete")["responses"]


def test_text_and_bytes_responses(document: dict[str, Any]) -> None:
    assert operation(document, "/api/trees", "post")["responses"]["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert operation(document, "/files/{name}", "get")["responses"]["200"]["content"] == {"application/octet-stream": {}}


def test_unknown_return_type_has_no_content(document: dict[str, Any]) -> None:
    assert operation(document, "/api/things", "get")["responses"]["200"] == {"description": "OK"}


def test_validation_error_response_matches_the_422_body(document: dict[str, Any]) -> None:
    responses = operation(document, "/api/users", "post")["responses"]
    schema = responses["422"]["content"]["application/json"]["schema"]
    error = resolve(document, schema)
    assert error["required"] == ["error", "details"]
    detail = resolve(document, error["properties"]["details"]["items"])
    assert set(detail["properties"]) == {"loc", "msg", "type"}
    from jsonschema import Draft202012Validator

    body = {"error": "validation failed", "details": [{"loc": ["body", "items", 0], "msg": "Field required", "type": "missing"}]}
    resolved = dict(error, properties=dict(error["properties"], details={"type": "array", "items": detail}))
    Draft202012Validator(resolved).validate(body)


def test_routes_without_validation_have_no_422(document: dict[str, Any]) -> None:
    assert set(operation(document, "/api/things", "get")["responses"]) == {"200", "default"}


def test_same_class_name_in_two_models_gets_two_components() -> None:
    app = App()
    first = create_model("Item", a=(int, ...))
    second = create_model("Item", b=(str, ...))
    app.post("/a", body=first)(lambda request: None)
    app.post("/b", body=second)(lambda request: None)
    document = app.openapi()
    validate(document)
    refs = {path: ops["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"] for path, ops in document["paths"].items()}
    assert refs == {"/a": "#/components/schemas/Item", "/b": "#/components/schemas/Item2"}


def test_document_is_cached_and_rebuilt_when_routes_change() -> None:
    app = App()
    app.get("/a")(lambda request: None)
    first = app.openapi()
    assert app.openapi() is first
    app.get("/b")(lambda request: None)
    second = app.openapi()
    assert second is not first
    assert set(second["paths"]) == {"/a", "/b"}


# -- serving ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[TestClient]:
    with TestClient(build_app()) as client:
        yield client


def test_openapi_json_is_served(served: TestClient) -> None:
    response = served.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(served.app.openapi()))
    validate(response.json())


def test_docs_page_is_served(served: TestClient) -> None:
    assets_built()
    response = served.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>Users API - API docs</title>" in page
    assert '"url": "/openapi.json"' in page
    for asset in ("/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/favicon-32x32.png"):
        assert f'"{asset}"' in page


def test_docs_page_works_offline(served: TestClient) -> None:
    assets_built()
    page = served.get("/docs").text
    assert not re.search(r"(?:https?:)?//", page), "the page must load nothing from another host"
    assert '"validatorUrl": null' in page


def assets_built() -> None:
    """The build must have written the assets (it fetches them with npm,
    which scripts/test.sh and .ci/run require)."""
    missing = openapi.missing_assets()
    if missing:
        pytest.fail(f"Swagger UI assets missing from {openapi.ASSET_DIR}: {missing}; build with npm on PATH "
                    "(python3 setup.py build_ext --inplace, or pip install .)")


@pytest.mark.parametrize(
    ("asset", "content_type"),
    [
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_docs_assets_are_served_from_the_package(served: TestClient, asset: str, content_type: str) -> None:
    assets_built()
    response = served.get(f"/docs/{asset}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == (openapi.ASSET_DIR / asset).read_bytes()


def test_docs_assets_come_with_their_license() -> None:
    assets_built()
    assert "Apache License" in (openapi.ASSET_DIR / "LICENSE").read_text()
    assert (openapi.ASSET_DIR / "VERSION").read_text().strip().startswith("5.")


def test_bundle_is_swagger_ui(served: TestClient) -> None:
    assets_built()
    assert b"SwaggerUIBundle" in served.get("/docs/swagger-ui-bundle.js").content


def test_missing_assets_answer_503(monkeypatch: pytest.MonkeyPatch, tmp_path: FilePath) -> None:
    monkeypatch.setattr(openapi, "ASSET_DIR", tmp_path)
    with TestClient(App()) as client:
        for url in ("/docs", "/docs/swagger-ui.css"):
            response = client.get(url)
            assert response.status_code == 503
            assert response.json()["error"] == "the API docs assets were not built"
            assert "npm" in response.json()["detail"]
        assert client.get("/openapi.json").status_code == 200


def test_docs_and_openapi_urls_can_move() -> None:
    assets_built()
    app = App(docs_url="/api/docs", openapi_url="/api/schema.json")
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/api/schema.json").json()["openapi"] == "3.1.0"
        page = client.get("/api/docs").text
        assert '"url": "/api/schema.json"' in page and '"/api/docs/swagger-ui-bundle.js"' in page


def test_docs_url_none_serves_no_docs() -> None:
    with TestClient(App(docs_url=None)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/docs/swagger-ui.css").status_code == 404
        assert client.get("/openapi.json").status_code == 200


def test_openapi_url_none_serves_neither() -> None:
    app = App(openapi_url=None)
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404
    assert app.openapi()["openapi"] == "3.1.0"  # still available in Python


def test_builtin_routes_are_not_in_routes() -> None:
    assert App().routes == []


def test_user_route_on_the_docs_url_is_refused() -> None:
    app = App()
    with pytest.raises(ValueError, match=r'"/docs" is already registered for GET: the app serves the API docs page there .*App\(docs_url=None\)'):
        app.get("/docs")(lambda request: "mine")
    with pytest.raises(ValueError, match=r"App\(openapi_url=None\)"):
        app.get("/openapi.json")(lambda request: "mine")


def test_user_route_on_the_docs_url_when_docs_are_off() -> None:
    app = App(docs_url=None, openapi_url=None)
    app.get("/docs")(lambda request: "mine")
    with TestClient(app) as client:
        assert client.get("/docs").text == "mine"


@pytest.mark.parametrize("url", ["docs", "", 3])
def test_docs_url_must_be_a_path(url: Any) -> None:
    with pytest.raises(ValueError, match="docs_url"):
        App(docs_url=url)


def test_a_custom_validation_handler_leaves_the_422_without_a_schema() -> None:
    """The app answers 422 in its own shape: the document must not claim
    the built-in one (schemathesis checks responses against it)."""
    from databridge import RequestValidationError

    app = App()

    @app.get("/items")
    def items(request, limit: int = 10):  # type: ignore[no-untyped-def]
        return {"limit": limit}

    plain = App()
    plain.get("/items")(items)
    assert "content" in plain.openapi()["paths"]["/items"]["get"]["responses"]["422"]

    @app.exception_handler(RequestValidationError)
    def own(request, exc):  # type: ignore[no-untyped-def]
        return (422, {"detail": exc.errors()})

    assert app.openapi()["paths"]["/items"]["get"]["responses"]["422"] == {
        "description": "Validation Error (the app's own exception handler)"
    }
