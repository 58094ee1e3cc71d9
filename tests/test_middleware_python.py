"""@app.middleware("http"): async def mw(request, call_next) around every
response, the engine's own 404/405/413/422 included; through the
TestClient and over a socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import requests

from databridge import App, HTTPError, Query, Request, Response, Server
from databridge.testing import TestClient

TIMEOUT = 10


def tagging_app(seen: list[tuple[str, int]]) -> App:
    app = App()

    @app.get("/hello")
    def hello(request: dict[str, Any]) -> dict[str, str]:
        return {"message": "hello"}

    @app.get("/async")
    async def slow(request: dict[str, Any]) -> str:
        await asyncio.sleep(0)
        return "async"

    @app.get("/items/<int:item_id>")
    def item(request: dict[str, Any], item_id: int, q: int = Query(1, le=5)) -> dict[str, int]:
        return {"item_id": item_id, "q": q}

    @app.get("/teapot")
    def teapot(request: dict[str, Any]) -> None:
        raise HTTPError(418, "short and stout")

    @app.post("/upload")
    def upload(request: dict[str, Any]) -> int:
        return len(request["raw_body"])

    @app.middleware("http")
    async def tag(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response = await call_next(request)
        seen.append((f"{request.method} {request.url.path}", response.status_code))
        response.headers["x-seen-by"] = "tag"
        return response

    return app


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/hello", 200),
        ("GET", "/async", 200),
        ("GET", "/items/3", 200),
        ("GET", "/teapot", 418),        # HTTPError raised in Python
        ("GET", "/nowhere", 404),       # the router, in Go
        ("GET", "/items/x", 404),       # a converter that does not match, in Go
        ("DELETE", "/hello", 405),      # the router, in Go
        ("GET", "/items/3?q=9", 422),   # validation, in Go
    ],
)
def test_middleware_sees_every_response(method: str, path: str, status: int) -> None:
    seen: list[tuple[str, int]] = []
    with TestClient(tagging_app(seen)) as client:
        response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["x-seen-by"] == "tag"
    assert seen == [(f"{method} {path.split('?')[0]}", status)]


def test_go_made_responses_keep_their_body_and_headers() -> None:
    seen: list[tuple[str, int]] = []
    with TestClient(tagging_app(seen)) as client:
        not_allowed = client.delete("/hello")
        invalid = client.get("/items/3?q=9")
    assert not_allowed.headers["allow"] == "GET, HEAD"
    assert not_allowed.json() == {"error": "Method Not Allowed"}
    assert invalid.json()["details"][0]["loc"] == ["query", "q"]


def test_middleware_sees_a_413_over_a_socket(serve: Callable[[App], Server]) -> None:
    seen: list[tuple[str, int]] = []
    app = tagging_app(seen)
    server = Server(app, port=0, max_body_size=1024)
    server.start()
    try:
        response = requests.post(f"http://127.0.0.1:{server.port}/upload", data=b"x" * 4096, timeout=TIMEOUT)
    finally:
        server.stop(timeout=10)
    assert response.status_code == 413
    assert response.headers["x-seen-by"] == "tag"
    assert seen == [("POST /upload", 413)]


def test_middleware_over_a_socket(serve: Callable[[App], Server]) -> None:
    seen: list[tuple[str, int]] = []
    server = serve(tagging_app(seen))
    base = f"http://127.0.0.1:{server.port}"
    assert requests.get(base + "/hello", timeout=TIMEOUT).headers["x-seen-by"] == "tag"
    missing = requests.get(base + "/nowhere", timeout=TIMEOUT)
    assert (missing.status_code, missing.headers["x-seen-by"]) == (404, "tag")
    invalid = requests.get(base + "/items/3?q=9", timeout=TIMEOUT)
    assert (invalid.status_code, invalid.headers["x-seen-by"]) == (422, "tag")
    assert [status for _, status in seen] == [200, 404, 422]


def test_the_last_middleware_added_runs_outermost() -> None:
    order: list[str] = []
    app = App()
    app.get("/")(lambda request: "ok")

    for name in ("first", "second"):
        def make(name: str) -> Callable[..., Any]:
            async def mw(request: Request, call_next: Any) -> Response:
                order.append(f"{name} in")
                response: Response = await call_next(request)
                order.append(f"{name} out")
                return response
            return mw
        app.middleware("http")(make(name))

    with TestClient(app) as client:
        client.get("/")
    assert order == ["second in", "first in", "first out", "second out"]


def test_middleware_can_change_status_body_and_replace_the_response() -> None:
    app = App()
    app.get("/data")(lambda request: {"n": 1})
    app.get("/secret")(lambda request: "hidden")

    @app.middleware("http")
    async def rewrite(request: Request, call_next: Any) -> Any:
        if request.url.path == "/secret":
            return (403, {"error": "no"})  # any response form
        response = await call_next(request)
        response.status_code = 201
        response.body = {**response.body, "wrapped": True}
        return response

    with TestClient(app) as client:
        data = client.get("/data")
        secret = client.get("/secret")
    assert (data.status_code, data.json()) == (201, {"n": 1, "wrapped": True})
    assert (secret.status_code, secret.json()) == (403, {"error": "no"})


def test_middleware_shares_request_state_with_the_handler() -> None:
    app = App()

    @app.middleware("http")
    async def user(request: Request, call_next: Any) -> Response:
        request.state.user = request.headers.get("X-User", "anonymous")
        response: Response = await call_next(request)
        return response

    app.get("/me")(lambda request: {"user": request["state"].user})
    with TestClient(app) as client:
        assert client.get("/me", headers={"x-user": "ada"}).json() == {"user": "ada"}


def test_an_exception_propagates_out_of_call_next_and_is_a_500() -> None:
    caught: list[str] = []
    app = App()

    @app.get("/boom")
    def boom(request: dict[str, Any]) -> None:
        raise ValueError("boom")

    @app.middleware("http")
    async def watch(request: Request, call_next: Any) -> Response:
        try:
            response: Response = await call_next(request)
            return response
        except ValueError as exc:
            caught.append(str(exc))
            raise

    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert caught == ["boom"]


def test_middleware_added_after_the_client_started_applies_to_the_next_request() -> None:
    app = App()
    app.get("/")(lambda request: "ok")
    with TestClient(app) as client:
        assert "x-late" not in client.get("/").headers

        @app.middleware("http")
        async def late(request: Request, call_next: Any) -> Response:
            response: Response = await call_next(request)
            response.headers["x-late"] = "1"
            return response

        assert client.get("/").headers["x-late"] == "1"
        assert client.get("/missing").headers["x-late"] == "1"


def test_middleware_must_be_async_and_http() -> None:
    app = App()
    with pytest.raises(TypeError, match="async def"):
        app.middleware("http")(lambda request, call_next: None)
    with pytest.raises(ValueError, match="http"):
        app.middleware("websocket")


def _stack_calls(app: App, path: str) -> int:
    """How many Python calls into databridge/_stack.py one request makes."""
    import sys

    calls = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call" and frame.f_code.co_filename.endswith("_stack.py"):
            calls += 1

    with TestClient(app) as client:
        client.get("/")  # attach and build first
        sys.setprofile(profile)
        try:
            client.get(path)
        finally:
            sys.setprofile(None)
    return calls


def test_an_app_without_middleware_answers_go_errors_without_python() -> None:
    app = App()
    app.get("/")(lambda request: "ok")
    assert _stack_calls(app, "/nowhere") == 0

    @app.middleware("http")
    async def mw(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        return response

    assert _stack_calls(app, "/nowhere") > 0


def test_call_next_needs_the_request_it_was_given() -> None:
    app = App()
    app.get("/")(lambda request: "ok")

    @app.middleware("http")
    async def rebuilds(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(Request(request.scope))
        return response

    with TestClient(app) as client:
        assert client.get("/").status_code == 500
