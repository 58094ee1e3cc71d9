"""Response helpers (Starlette's): status_code, mutable headers with
repeated Set-Cookie, set_cookie/delete_cookie, JSONResponse,
PlainTextResponse, HTMLResponse, RedirectResponse; through the TestClient
and over a socket."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import requests

from databridge import (
    App,
    HTMLResponse,
    JSONResponse,
    MutableHeaders,
    PlainTextResponse,
    RedirectResponse,
    Response,
    Server,
)
from databridge.testing import TestClient

TIMEOUT = 10


def cookie_app() -> App:
    app = App()

    @app.get("/login")
    def login(request: dict[str, Any]) -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie("session", "abc", max_age=3600, httponly=True, secure=True, samesite="strict")
        response.set_cookie("theme", "dark", path="/app", domain="example.com")
        return response

    @app.get("/logout")
    def logout(request: dict[str, Any]) -> Response:
        response = Response(None, status_code=204)
        response.delete_cookie("session")
        return response

    return app


def test_set_cookie_keeps_every_set_cookie_header() -> None:
    with TestClient(cookie_app()) as client:
        response = client.get("/login")
    cookies = [value for name, value in response.raw_headers if name.lower() == "set-cookie"]
    assert cookies == [
        "session=abc; HttpOnly; Max-Age=3600; Path=/; SameSite=strict; Secure",
        "theme=dark; Domain=example.com; Path=/app; SameSite=lax",
    ]
    assert response.json() == {"ok": True}


def test_delete_cookie_expires_it() -> None:
    with TestClient(cookie_app()) as client:
        response = client.get("/logout")
    assert response.status_code == 204
    value = response.headers["set-cookie"]
    assert value.startswith("session=") and "Max-Age=0" in value and "expires=" in value


def test_cookies_over_a_socket(serve: Callable[[App], Server]) -> None:
    server = serve(cookie_app())
    response = requests.get(f"http://127.0.0.1:{server.port}/login", timeout=TIMEOUT)
    assert response.cookies["session"] == "abc"
    assert response.raw.headers.getlist("Set-Cookie")[1].startswith("theme=dark")


def test_set_cookie_with_an_expiry_datetime() -> None:
    response = Response()
    response.set_cookie("a", "1", expires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
    assert "expires=Wed, 02 Jan 2030 03:04:05 GMT" in response.headers["set-cookie"]
    with pytest.raises(ValueError, match="samesite"):
        response.set_cookie("a", samesite="sometimes")


def test_status_code_and_status_are_the_same() -> None:
    response = Response("x", status_code=201)
    assert (response.status, response.status_code) == (201, 201)
    response.status_code = 202
    assert response.status == 202
    assert Response("x", status=203).status_code == 203
    with pytest.raises(TypeError, match="both"):
        Response("x", status_code=201, status=202)


def test_headers_are_a_case_insensitive_mutable_mapping() -> None:
    headers = MutableHeaders({"X-A": "1"})
    headers.append("set-cookie", "a=1")
    headers.append("Set-Cookie", "b=2")
    assert headers["x-a"] == "1" and "X-a" in headers
    assert headers.getlist("set-cookie") == ["a=1", "b=2"]
    headers["x-a"] = "2"
    del headers["SET-COOKIE"]
    assert headers.items() == [("x-a", "2")]
    assert headers == {"X-A": "2"}
    with pytest.raises(TypeError):
        MutableHeaders([("a", 1)])  # type: ignore[list-item]


def test_response_classes() -> None:
    app = App()
    app.get("/json")(lambda request: JSONResponse("a str is JSON", status_code=201, headers={"x-a": "1"}))
    app.get("/null")(lambda request: JSONResponse(None))
    app.get("/problem")(lambda request: JSONResponse({"e": 1}, media_type="application/problem+json"))
    app.get("/text")(lambda request: PlainTextResponse("plain"))
    app.get("/html")(lambda request: HTMLResponse("<p>hi</p>"))
    app.get("/go")(lambda request: RedirectResponse("/there?a=b c"))
    app.get("/moved")(lambda request: RedirectResponse("https://example.com/", status_code=301))
    with TestClient(app) as client:
        json_ = client.get("/json")
        assert (json_.status_code, json_.json(), json_.headers["x-a"]) == (201, "a str is JSON", "1")
        assert json_.headers["content-type"] == "application/json"
        assert client.get("/null").content == b"null"
        assert client.get("/problem").headers["content-type"] == "application/problem+json"
        text = client.get("/text")
        assert (text.text, text.headers["content-type"]) == ("plain", "text/plain; charset=utf-8")
        assert client.get("/html").headers["content-type"] == "text/html; charset=utf-8"
        go = client.get("/go")
        assert (go.status_code, go.headers["location"], go.content) == (307, "/there?a=b%20c", b"")
        assert client.get("/moved").status_code == 301


def test_headers_changed_after_construction_are_sent() -> None:
    app = App()

    @app.get("/")
    def index(request: dict[str, Any]) -> Response:
        response = Response({"a": 1})
        response.headers["x-late"] = "yes"
        response.headers["content-type"] = "application/vnd.api+json"
        return response

    with TestClient(app) as client:
        response = client.get("/")
    assert response.headers["x-late"] == "yes"
    assert response.headers["content-type"] == "application/vnd.api+json"


# -- the request side: request["cookies"] and getlist --------------------------


def echo_app() -> App:
    app = App()

    @app.route("/echo", methods=["GET", "POST"])
    def echo(request: dict[str, Any]) -> dict[str, Any]:
        fields = request["form_data"].get("fields", {})
        return {
            "cookies": request["cookies"],
            "q": request["query_params"].get("q"),
            "q_all": request["query_params"].getlist("q"),
            "missing": request["query_params"].getlist("missing"),
            "accept": request["headers"].get("x-tag"),
            "accept_all": request["headers"].getlist("x-tag"),
            "field": fields.get("f"),
            "field_all": fields.getlist("f") if hasattr(fields, "getlist") else None,
            "types": [type(request["query_params"]).__name__, type(request["headers"]).__name__],
        }

    return app


def test_request_cookies_and_getlist() -> None:
    with TestClient(echo_app()) as client:
        response = client.get(
            "/echo?q=1&q=2&other=x",
            headers=[("cookie", 'session=abc; theme="dark"'), ("x-tag", "a"), ("x-tag", "b")],
        )
    assert response.json() == {
        "cookies": {"session": "abc", "theme": "dark"},
        "q": "1",
        "q_all": ["1", "2"],
        "missing": [],
        "accept": "a, b",
        "accept_all": ["a", "b"],
        "field": None,
        "field_all": None,
        "types": ["MultiDict", "MultiDict"],
    }


def test_single_values_and_no_cookies() -> None:
    with TestClient(echo_app()) as client:
        body = client.get("/echo?q=only", headers={"x-tag": "one"}).json()
    assert (body["cookies"], body["q_all"], body["accept_all"]) == ({}, ["only"], ["one"])


@pytest.mark.parametrize("multipart", [False, True])
def test_repeated_form_fields(multipart: bool) -> None:
    with TestClient(echo_app()) as client:
        if multipart:
            response = client.post("/echo", data={"f": ["x", "y", "z"]}, files={"upload": b"data"})
        else:
            response = client.post("/echo", data={"f": ["x", "y", "z"]})
    body = response.json()
    assert (body["field"], body["field_all"]) == ("x", ["x", "y", "z"])


def test_request_side_over_a_socket(serve: Callable[[App], Server]) -> None:
    server = serve(echo_app())
    response = requests.get(
        f"http://127.0.0.1:{server.port}/echo?q=1&q=2",
        cookies={"session": "abc"},
        timeout=TIMEOUT,
    )
    body = response.json()
    assert body["cookies"] == {"session": "abc"}
    assert body["q_all"] == ["1", "2"]


def test_the_middleware_request_reads_cookies() -> None:
    from databridge import Request

    seen: list[dict[str, str]] = []
    app = echo_app()

    @app.middleware("http")
    async def cookies(request: Request, call_next: Any) -> Response:
        seen.append(request.cookies)
        response: Response = await call_next(request)
        return response

    with TestClient(app) as client:
        client.get("/echo", headers={"cookie": "a=1"})
    assert seen == [{"a": "1"}]
