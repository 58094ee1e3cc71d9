"""Routes: path syntaxes, converters, methods, routers and registration errors."""

from __future__ import annotations

import functools
import uuid
from typing import Any

import pytest

from databridge import App, Route, Router
from databridge.testing import TestClient


def params(request: dict[str, Any]) -> dict[str, Any]:
    """Each path parameter with the name of its Python type."""
    return {name: [str(value), type(value).__name__] for name, value in request["path_params"].items()}


# -- path syntaxes and converters -------------------------------------------


def test_mux_style_parameter(app: App, client: TestClient) -> None:
    app.get("/users/{user_id}")(params)
    assert client.get("/users/ann").json() == {"user_id": ["ann", "str"]}


def test_flask_style_parameter(app: App, client: TestClient) -> None:
    app.get("/users/<user_id>")(params)
    assert client.get("/users/ann").json() == {"user_id": ["ann", "str"]}


def test_str_converter(app: App, client: TestClient) -> None:
    app.get("/users/<str:user_id>")(params)
    assert client.get("/users/42").json() == {"user_id": ["42", "str"]}


def test_parameter_matches_one_segment_only(app: App, client: TestClient) -> None:
    app.get("/users/{user_id}")(params)
    assert client.get("/users/a/b").status_code == 404


def test_several_parameters_in_one_path(app: App, client: TestClient) -> None:
    app.get("/users/{user_id}/posts/<int:post_id>")(params)
    assert client.get("/users/ann/posts/7").json() == {"user_id": ["ann", "str"], "post_id": ["7", "int"]}


def test_parameter_value_is_percent_decoded(app: App, client: TestClient) -> None:
    app.get("/users/{name}")(params)
    assert client.get("/users/ann%20lee").json() == {"name": ["ann lee", "str"]}


def test_int_converter_gives_an_int(app: App, client: TestClient) -> None:
    seen: list[Any] = []
    app.get("/items/<int:item_id>")(lambda request: seen.append(request["path_params"]["item_id"]))
    assert client.get("/items/42").status_code == 204
    assert client.get("/items/-7").status_code == 204
    assert seen == [42, -7]
    assert all(type(value) is int for value in seen)


def test_float_converter_gives_a_float(app: App, client: TestClient) -> None:
    seen: list[Any] = []
    app.get("/price/<float:p>")(lambda request: seen.append(request["path_params"]["p"]))
    assert client.get("/price/3.50").status_code == 204
    assert client.get("/price/3").status_code == 204
    assert seen == [3.5, 3.0]
    assert all(type(value) is float for value in seen)


def test_uuid_converter_gives_a_uuid(app: App, client: TestClient) -> None:
    seen: list[Any] = []
    app.get("/obj/<uuid:obj_id>")(lambda request: seen.append(request["path_params"]["obj_id"]))
    text = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert client.get(f"/obj/{text}").status_code == 204
    assert client.get(f"/obj/{text.upper()}").status_code == 204
    assert seen == [uuid.UUID(text), uuid.UUID(text)]
    assert all(isinstance(value, uuid.UUID) for value in seen)


def test_path_converter_matches_slashes(app: App, client: TestClient) -> None:
    app.get("/files/<path:name>")(params)
    assert client.get("/files/a/b/c.txt").json() == {"name": ["a/b/c.txt", "str"]}


@pytest.mark.parametrize(
    ("route", "path"),
    [
        ("/items/<int:item_id>", "/items/abc"),
        ("/items/<int:item_id>", "/items/4.5"),
        ("/price/<float:p>", "/price/cheap"),
        ("/price/<float:p>", "/price/3."),
        ("/obj/<uuid:obj_id>", "/obj/not-a-uuid"),
        ("/obj/<uuid:obj_id>", "/obj/0f8fad5b-d9cb-469f-a165-70867728950"),
        ("/files/<path:name>", "/files/"),
    ],
)
def test_value_that_does_not_convert_is_404(app: App, client: TestClient, route: str, path: str) -> None:
    calls: list[object] = []
    app.get(route)(calls.append)
    response = client.get(path)
    assert response.status_code == 404
    assert calls == []


# -- methods, 404, 405, HEAD ------------------------------------------------


def test_unknown_path_is_404(app: App, client: TestClient) -> None:
    app.get("/known")(lambda request: "here")
    response = client.get("/unknown")
    assert response.status_code == 404
    assert "error" in response.json()


def test_wrong_method_is_405_with_allow(app: App, client: TestClient) -> None:
    app.route("/things", methods=["GET", "PUT"])(lambda request: "here")
    response = client.post("/things")
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert {"GET", "PUT"} <= allowed
    assert "POST" not in allowed
    assert "error" in response.json()


def test_get_route_answers_head_without_a_body(app: App, client: TestClient) -> None:
    calls: list[str] = []

    @app.get("/page")
    def page(request: dict[str, Any]) -> str:
        calls.append(request["method"])
        return "some text"

    get = client.get("/page")
    head = client.head("/page")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert calls == ["GET", "HEAD"]


def test_explicit_head_route_wins_over_get(app: App, client: TestClient) -> None:
    app.get("/page")(lambda request: "from get")
    app.head("/page")(lambda request: (200, "", {"X-From": "head"}))
    assert client.head("/page").headers["x-from"] == "head"


def test_each_method_decorator_registers_its_method(app: App, client: TestClient) -> None:
    for method in ("get", "post", "put", "patch", "delete", "options"):
        getattr(app, method)("/m")(lambda request: request["method"])
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        response = client.request(method, "/m")
        assert response.status_code == 200, method
        assert response.text == method


def test_route_with_several_methods(app: App, client: TestClient) -> None:
    app.route("/api/items/<int:item_id>", methods=["GET", "PUT"])(
        lambda request: {"item": request["path_params"]["item_id"], "method": request["method"]}
    )
    assert client.get("/api/items/3").json() == {"item": 3, "method": "GET"}
    assert client.put("/api/items/4").json() == {"item": 4, "method": "PUT"}
    assert client.delete("/api/items/4").status_code == 405


def test_add_route_returns_the_handler(app: App, client: TestClient) -> None:
    def handler(request: dict[str, Any]) -> str:
        return "added"

    assert app.add_route("GET", "/added", handler) is handler
    assert client.get("/added").text == "added"


def test_trailing_slash_is_a_different_route(app: App, client: TestClient) -> None:
    app.get("/a")(lambda request: "no slash")
    app.get("/b/")(lambda request: "slash")
    assert client.get("/a").text == "no slash"
    assert client.get("/a/").status_code == 404
    assert client.get("/b/").text == "slash"
    assert client.get("/b").status_code == 404


def test_a_and_a_slash_can_both_be_registered(app: App, client: TestClient) -> None:
    app.get("/a")(lambda request: "no slash")
    app.get("/a/")(lambda request: "slash")
    assert client.get("/a").text == "no slash"
    assert client.get("/a/").text == "slash"


def test_routes_match_in_registration_order(app: App, client: TestClient) -> None:
    app.get("/users/me")(lambda request: "me")
    app.get("/users/{user_id}")(lambda request: "someone")
    assert client.get("/users/me").text == "me"
    assert client.get("/users/ann").text == "someone"


def test_methods_are_upper_cased(app: App, client: TestClient) -> None:
    app.add_route("post", "/lower", lambda request: "posted")
    assert app.routes[-1].method == "POST"
    assert client.post("/lower").text == "posted"


def test_custom_method_token_is_allowed(app: App, client: TestClient) -> None:
    app.route("/cache", methods=["PURGE"])(lambda request: "purged")
    assert client.request("PURGE", "/cache").text == "purged"


@pytest.mark.parametrize("method", ["", "GE T", "GET\r\n", "GÉT", "a/b"])
def test_method_that_is_not_a_token_is_rejected(app: App, method: str) -> None:
    with pytest.raises(ValueError, match="not an HTTP method"):
        app.add_route(method, "/x", lambda request: None)
    assert app.routes == []


def test_methods_given_as_a_string_is_rejected(app: App) -> None:
    with pytest.raises(TypeError, match="methods"):
        app.route("/x", methods="GET")  # type: ignore[arg-type]


def test_handler_that_is_not_callable_is_rejected(app: App) -> None:
    with pytest.raises(TypeError, match='route "/x"'):
        app.add_route("GET", "/x", "not a function")  # type: ignore[type-var]


# -- registration errors ----------------------------------------------------


def test_same_path_twice_for_a_method_fails_at_registration(app: App) -> None:
    app.get("/users/{id}")(lambda request: None)
    with pytest.raises(ValueError) as error:
        app.get("/users/<id>")(lambda request: None)
    assert str(error.value) == 'databridge: route "/users/<id>" is already registered for GET'


def test_router_rejects_a_duplicate_at_once(app: App) -> None:
    router = Router()
    router.post("/items")(lambda request: None)
    with pytest.raises(ValueError, match=r'^databridge: route "/items" is already registered for POST$'):
        router.post("/items")(lambda request: None)


def test_same_path_for_another_method_is_fine(app: App, client: TestClient) -> None:
    app.get("/users/{id}")(lambda request: "got")
    app.delete("/users/<id>")(lambda request: "deleted")
    assert client.get("/users/1").text == "got"
    assert client.delete("/users/1").text == "deleted"


def test_duplicate_in_one_route_call_registers_nothing(app: App) -> None:
    app.get("/taken")(lambda request: None)
    with pytest.raises(ValueError, match="already registered for GET"):
        app.route("/taken", methods=["POST", "GET"])(lambda request: None)
    assert [(route.method, route.path) for route in app.routes] == [("GET", "/taken")]


def test_included_duplicate_fails(app: App) -> None:
    app.get("/v2/ping")(lambda request: None)
    v2 = Router(prefix="/v2")
    v2.get("/ping")(lambda request: None)
    with pytest.raises(ValueError, match=r'route "/v2/ping" is already registered for GET'):
        app.include_router(v2)


@pytest.mark.parametrize("path", ["/users/<int:>", "/users/{id", "/users/<bogus:id>", "/a/<x>/<x>"])
def test_malformed_path_fails_at_registration(app: App, path: str) -> None:
    with pytest.raises(ValueError, match="databridge: "):
        app.get(path)(lambda request: None)
    assert app.routes == []


def test_path_must_start_with_a_slash(app: App) -> None:
    with pytest.raises(ValueError, match='route "users" must start with "/"'):
        app.get("users")(lambda request: None)


# -- routers ----------------------------------------------------------------


def test_router_prefix(app: App, client: TestClient) -> None:
    v2 = Router(prefix="/v2")
    v2.get("/ping")(lambda request: "pong")
    app.include_router(v2)
    assert client.get("/v2/ping").text == "pong"
    assert client.get("/ping").status_code == 404


def test_router_prefix_with_a_parameter(app: App, client: TestClient) -> None:
    users = Router(prefix="/users/<int:user_id>")
    users.get("/posts")(params)
    app.include_router(users)
    assert client.get("/users/5/posts").json() == {"user_id": ["5", "int"]}


def test_router_path_may_be_empty_under_a_prefix(app: App, client: TestClient) -> None:
    v2 = Router(prefix="/v2")
    v2.get("")(lambda request: "root of v2")
    app.include_router(v2)
    assert client.get("/v2").text == "root of v2"


def test_nested_routers_concatenate_prefixes(app: App, client: TestClient) -> None:
    api, v1 = Router(prefix="/api"), Router(prefix="/v1")
    v1.get("/items")(lambda request: "items")
    api.include_router(v1)
    app.include_router(api)
    assert client.get("/api/v1/items").text == "items"
    assert [route.path for route in app.routes] == ["/api/v1/items"]


def test_router_without_prefix(app: App, client: TestClient) -> None:
    router = Router()
    router.post("/things")(lambda request: (201, "made"))
    app.include_router(router)
    response = client.post("/things")
    assert (response.status_code, response.text) == (201, "made")


def test_router_offers_every_method_decorator(app: App, client: TestClient) -> None:
    router = Router(prefix="/r")
    for method in ("get", "post", "put", "patch", "delete", "head", "options"):
        getattr(router, method)("/m")(lambda request: (200, "", {"X-Method": request["method"]}))
    router.route("/n", methods=["GET", "POST"])(lambda request: "n")
    router.add_route("DELETE", "/n", lambda request: "deleted n")
    app.include_router(router)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
        assert client.request(method, "/r/m").headers["x-method"] == method
    assert client.post("/r/n").text == "n"
    assert client.delete("/r/n").text == "deleted n"


def test_include_router_copies_the_routes_it_has(app: App, client: TestClient) -> None:
    router = Router(prefix="/r")
    router.get("/before")(lambda request: "before")
    app.include_router(router)
    router.get("/after")(lambda request: "after")
    assert client.get("/r/before").text == "before"
    assert client.get("/r/after").status_code == 404


@pytest.mark.parametrize("prefix", ["v2", "/v2/", "/"])
def test_router_prefix_must_start_but_not_end_with_a_slash(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Router(prefix=prefix)


# -- the routes list --------------------------------------------------------


async def async_handler(request: dict[str, Any]) -> str:
    return "async"


def sync_handler(request: dict[str, Any]) -> str:
    return "sync"


class AsyncCallable:
    async def __call__(self, request: dict[str, Any]) -> str:
        return "async callable"


class SyncCallable:
    def __call__(self, request: dict[str, Any]) -> str:
        return "sync callable"


def test_routes_lists_route_objects(app: App) -> None:
    app.get("/a")(sync_handler)
    app.route("/b", methods=["POST", "PUT"], name="b")(async_handler)
    assert app.routes == [
        Route("GET", "/a", sync_handler, "sync_handler", False),
        Route("POST", "/b", async_handler, "b", True),
        Route("PUT", "/b", async_handler, "b", True),
    ]


def test_route_name_defaults_to_the_qualified_name(app: App) -> None:
    class Handlers:
        @staticmethod
        def show(request: dict[str, Any]) -> None:
            return None

    app.get("/show")(Handlers.show)
    assert app.routes[0].name.endswith("Handlers.show")


@pytest.mark.parametrize(
    ("handler", "is_async"),
    [
        (sync_handler, False),
        (async_handler, True),
        (functools.partial(async_handler), True),
        (functools.partial(sync_handler), False),
        (AsyncCallable(), True),
        (SyncCallable(), False),
        (functools.partial(AsyncCallable()), True),
    ],
    ids=["function", "async-function", "partial-async", "partial-sync", "async-callable", "sync-callable",
         "partial-async-callable"],
)
def test_route_detects_async_handlers(app: App, handler: Any, is_async: bool) -> None:
    app.add_route("GET", "/h", handler)
    assert app.routes[0].is_async is is_async


@pytest.mark.parametrize(
    ("handler", "text"),
    [
        (functools.partial(async_handler), "async"),
        (AsyncCallable(), "async callable"),
        (SyncCallable(), "sync callable"),
    ],
    ids=["partial-async", "async-callable", "sync-callable"],
)
def test_callables_of_every_kind_are_served(app: App, client: TestClient, handler: Any, text: str) -> None:
    app.add_route("GET", "/h", handler)
    assert client.get("/h").text == text
