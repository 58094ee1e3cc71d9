"""Depends(...): sync and async dependencies, sub-dependencies, their
parameters validated in Go (merged into the route spec, shown in OpenAPI),
yield dependencies cleaned up after the response, one call per request
unless use_cache=False, dependencies= on routes, routers and the app."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest
import requests

from databridge import App, BackgroundTasks, Depends, Header, HTTPError, Query, Request, Router, Server
from databridge.testing import TestClient

TIMEOUT = 10


def pagination(page: int = 1, size: int = Query(10, ge=1, le=50)) -> dict[str, int]:
    return {"page": page, "size": size}


async def token(x_token: str = Header()) -> str:
    if x_token != "secret":
        raise HTTPError(401, "bad token")
    return x_token


def current_user(tok: str = Depends(token), request: dict[str, Any] = None) -> dict[str, Any]:  # type: ignore[assignment]
    return {"token": tok, "path": request["path"]}


def make_app(events: list[str]) -> App:
    app = App()

    @app.get("/items/<int:item_id>")
    async def item(
        request: dict[str, Any],
        item_id: int,
        page: dict[str, int] = Depends(pagination),
        user: dict[str, Any] = Depends(current_user),
    ) -> dict[str, Any]:
        events.append("handler")
        return {"item_id": item_id, **page, **user}

    return app


def test_dependencies_get_their_parameters_validated_in_go() -> None:
    with TestClient(make_app([])) as client:
        ok = client.get("/items/3?page=2&size=5", headers={"x-token": "secret"})
        assert ok.json() == {"item_id": 3, "page": 2, "size": 5, "token": "secret", "path": "/items/3"}
        invalid = client.get("/items/3?size=500")
    assert invalid.status_code == 422
    locs = [detail["loc"] for detail in invalid.json()["details"]]
    assert ["query", "size"] in locs and ["header", "x-token"] in locs


def test_a_dependency_can_raise_http_error() -> None:
    events: list[str] = []
    with TestClient(make_app(events)) as client:
        response = client.get("/items/3", headers={"x-token": "wrong"})
    assert (response.status_code, response.json()) == (401, {"error": "bad token"})
    assert events == []


def test_dependency_parameters_appear_in_openapi() -> None:
    operation = make_app([]).openapi()["paths"]["/items/{item_id}"]["get"]
    names = {(param["name"], param["in"]) for param in operation["parameters"]}
    assert names == {("item_id", "path"), ("page", "query"), ("size", "query"), ("x-token", "header")}


def test_one_call_per_request_unless_use_cache_is_false() -> None:
    calls: list[str] = []

    def counted() -> int:
        calls.append("call")
        return len(calls)

    def uses_counted(n: int = Depends(counted)) -> int:
        return n

    app = App()

    @app.get("/")
    def index(
        request: dict[str, Any],
        a: int = Depends(counted),
        b: int = Depends(uses_counted),
        c: int = Depends(counted, use_cache=False),
    ) -> list[int]:
        return [a, b, c]

    with TestClient(app) as client:
        assert client.get("/").json() == [1, 1, 2]
        assert client.get("/").json() == [3, 3, 4]


class Paging:
    def __init__(self, limit: int = 5) -> None:
        self.limit = limit


def test_annotated_depends_and_class_dependencies() -> None:
    app = App()

    @app.get("/")
    def index(request: dict[str, Any], paging: Annotated[Paging, Depends()], also: Annotated[Paging, Depends(Paging)]) -> int:
        return paging.limit + also.limit

    with TestClient(app) as client:
        assert client.get("/?limit=7").json() == 14


def test_yield_dependency_cleanup_runs_after_the_response() -> None:
    events: list[str] = []

    def session() -> Iterator[str]:
        events.append("open")
        yield "session"
        events.append("close")

    async def async_session() -> AsyncIterator[str]:
        events.append("async open")
        yield "async session"
        events.append("async close")

    app = App()

    @app.get("/")
    def index(request: dict[str, Any], s: str = Depends(session), t: str = Depends(async_session)) -> list[str]:
        events.append("handler")
        return list(events)  # what had happened when the response was made

    with TestClient(app) as client:
        body = client.get("/").json()
    assert body == ["open", "async open", "handler"]
    assert events == ["open", "async open", "handler", "async close", "close"]


def test_yield_dependency_sees_the_handler_exception() -> None:
    seen: list[str] = []

    def guarded() -> Iterator[None]:
        try:
            yield
        except ValueError as exc:
            seen.append(f"saw {exc}")
            raise

    app = App()

    @app.get("/")
    def index(request: dict[str, Any], g: None = Depends(guarded)) -> None:
        raise ValueError("oops")

    with TestClient(app) as client:
        assert client.get("/").status_code == 500
    assert seen == ["saw oops"]


def test_yield_cleanup_after_the_response_is_sent_over_a_socket(serve: Callable[[App], Server]) -> None:
    """The cleanup waits for an event the test sets only once it holds the
    response: were the cleanup before the send, the request would hang."""
    received = threading.Event()
    cleaned = threading.Event()

    async def resource() -> AsyncIterator[str]:
        yield "r"
        await asyncio.get_running_loop().run_in_executor(None, received.wait, TIMEOUT)
        cleaned.set()

    app = App()
    app.get("/")(lambda request, r=Depends(resource): r)
    server = serve(app)
    response = requests.get(f"http://127.0.0.1:{server.port}/", timeout=TIMEOUT)
    assert response.text == "r"
    assert not cleaned.is_set()
    received.set()
    assert cleaned.wait(TIMEOUT)


def test_dependencies_on_routes_routers_and_the_app() -> None:
    calls: list[str] = []

    def mark(name: str) -> Callable[..., None]:
        def dependency(request: dict[str, Any]) -> None:
            calls.append(f"{name} {request['path']}")
        dependency.__qualname__ = name
        return dependency

    def key(x_key: str = Header()) -> None:
        calls.append(f"key {x_key}")

    app = App(dependencies=[Depends(mark("app"))])
    router = Router(prefix="/v1", dependencies=[Depends(mark("router")), Depends(key)])
    router.get("/ping", dependencies=[Depends(mark("route"))])(lambda request: "pong")
    app.include_router(router)
    app.get("/plain")(lambda request: "plain")

    with TestClient(app) as client:
        assert client.get("/v1/ping", headers={"x-key": "k"}).text == "pong"
        assert client.get("/v1/ping").status_code == 422  # the router dependency's header
        assert client.get("/plain").text == "plain"
    assert calls == ["app /v1/ping", "router /v1/ping", "key k", "route /v1/ping", "app /plain"]
    params = app.openapi()["paths"]["/v1/ping"]["get"]["parameters"]
    assert [param["name"] for param in params] == ["x-key"]


def test_dependencies_get_the_request_view_and_background_tasks() -> None:
    done: list[str] = []

    def audit(request: Request, background: BackgroundTasks) -> str:
        background.add_task(done.append, f"audited {request.url.path}")
        return request.method

    app = App()
    app.get("/")(lambda request, method=Depends(audit): method)
    with TestClient(app) as client:
        assert client.get("/").text == "GET"
    assert done == ["audited /"]


def test_conflicting_declarations_of_one_parameter_fail_at_registration() -> None:
    def wants_int(q: int) -> int:
        return q

    def handler(request: dict[str, Any], q: str = Query(), n: int = Depends(wants_int)) -> str:
        return q

    app = App()
    with pytest.raises(TypeError, match='parameter "q".*declared differently'):
        app.get("/")(handler)


def test_a_dependency_cannot_take_the_body() -> None:
    def wants_body(body: dict[str, Any]) -> None:
        pass

    app = App()
    with pytest.raises(TypeError, match="cannot"):
        app.post("/")(lambda request, b=Depends(wants_body): None)


def test_depends_over_a_socket(serve: Callable[[App], Server]) -> None:
    server = serve(make_app([]))
    base = f"http://127.0.0.1:{server.port}"
    ok = requests.get(base + "/items/1?size=3", headers={"x-token": "secret"}, timeout=TIMEOUT)
    assert ok.json() == {"item_id": 1, "page": 1, "size": 3, "token": "secret", "path": "/items/1"}
    assert requests.get(base + "/items/1", timeout=TIMEOUT).status_code == 422


def test_sync_yield_dependency_of_a_sync_handler_is_cleaned_up_after_the_response() -> None:
    events: list[str] = []

    def session() -> Iterator[str]:
        events.append("open")
        yield "s"
        events.append("close")

    app = App()

    @app.get("/")
    def index(request: dict[str, Any], background: BackgroundTasks, s: str = Depends(session)) -> list[str]:
        background.add_task(events.append, "background")
        events.append("handler")
        return list(events)

    with TestClient(app) as client:
        assert client.get("/").json() == ["open", "handler"]
    assert events == ["open", "handler", "background", "close"]
