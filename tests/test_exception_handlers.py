"""@app.exception_handler / add_exception_handler: for exception classes,
HTTPError, status codes (404, 405, 500) and RequestValidationError (422),
the Go-made ones included; through the TestClient and over a socket."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests

from databridge import (
    App,
    HTTPError,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Query,
    Request,
    RequestValidationError,
    Server,
)
from databridge.testing import TestClient

TIMEOUT = 10


class OutOfStock(Exception):
    def __init__(self, item: str) -> None:
        self.item = item


class Discontinued(OutOfStock):
    pass


def shop() -> App:
    app = App()

    @app.get("/stock/<name>")
    def stock(request: dict[str, Any], name: str) -> None:
        raise (Discontinued if name == "old" else OutOfStock)(name)

    @app.get("/teapot")
    def teapot(request: dict[str, Any]) -> None:
        raise HTTPError(418, "short and stout", headers={"x-pot": "1"})

    @app.get("/gone")
    def gone(request: dict[str, Any]) -> None:
        raise HTTPException(status_code=404, detail="gone")

    @app.get("/boom")
    def boom(request: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    @app.get("/items")
    def items(request: dict[str, Any], limit: int = Query(10, le=100)) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/when")
    def when(request: dict[str, Any], day: datetime.date) -> str:  # converted in Python
        return day.isoformat()

    return app


def test_a_handler_for_an_exception_class_and_its_subclasses() -> None:
    app = shop()

    @app.exception_handler(OutOfStock)
    async def out_of_stock(request: Request, exc: OutOfStock) -> JSONResponse:
        return JSONResponse({"out_of_stock": exc.item, "path": request.url.path}, status_code=409)

    with TestClient(app) as client:
        assert client.get("/stock/tea").json() == {"out_of_stock": "tea", "path": "/stock/tea"}
        assert client.get("/stock/old").status_code == 409


def test_the_most_specific_class_wins() -> None:
    app = shop()
    app.add_exception_handler(OutOfStock, lambda request, exc: (409, "out"))
    app.add_exception_handler(Discontinued, lambda request, exc: (410, "discontinued"))
    with TestClient(app) as client:
        assert client.get("/stock/tea").status_code == 409
        assert client.get("/stock/old").status_code == 410


def test_a_handler_for_http_error() -> None:
    app = shop()

    @app.exception_handler(HTTPError)
    def http_error(request: Request, exc: HTTPError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    with TestClient(app) as client:
        teapot = client.get("/teapot")
        missing = client.get("/nowhere")  # Go's 404 comes as an HTTPError too
    assert (teapot.status_code, teapot.json(), teapot.headers["x-pot"]) == (418, {"detail": "short and stout"}, "1")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})


def test_handlers_for_404_and_405_cover_python_and_go() -> None:
    app = shop()
    app.add_exception_handler(404, lambda request, exc: PlainTextResponse(f"no {request.url.path}: {exc.detail}", status_code=404))
    app.add_exception_handler(405, lambda request, exc: (405, {"allowed": exc.headers["allow"]}, {"allow": exc.headers["allow"]}))
    with TestClient(app) as client:
        assert client.get("/gone").text == "no /gone: gone"
        assert client.get("/nowhere").text == "no /nowhere: Not Found"
        assert client.get("/stock/tea/more").text == "no /stock/tea/more: Not Found"
        not_allowed = client.post("/teapot")
    assert (not_allowed.status_code, not_allowed.json()) == (405, {"allowed": "GET, HEAD"})
    assert not_allowed.headers["allow"] == "GET, HEAD"


def test_a_500_handler_answers_unhandled_exceptions_and_logs_them(caplog: pytest.LogCaptureFixture) -> None:
    app = shop()
    app.add_exception_handler(500, lambda request, exc: (500, {"error": "sorry", "kind": type(exc).__name__}))
    with caplog.at_level(logging.ERROR, logger="databridge"), TestClient(app) as client:
        response = client.get("/boom")
    assert (response.status_code, response.json()) == (500, {"error": "sorry", "kind": "RuntimeError"})
    assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)


def test_an_exception_handler_for_exception_is_the_500_handler() -> None:
    app = shop()
    app.add_exception_handler(Exception, lambda request, exc: (500, "caught"))
    with TestClient(app) as client:
        assert client.get("/boom").text == "caught"
        assert client.get("/teapot").status_code == 418  # HTTPError keeps its own response


def test_request_validation_error_from_go_and_from_python() -> None:
    app = shop()
    received: list[RequestValidationError] = []

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        received.append(exc)
        return JSONResponse({"detail": exc.errors()}, status_code=400)

    with TestClient(app) as client:
        go = client.get("/items?limit=500")
        python = client.get("/when?day=someday")
    assert go.status_code == 400
    assert go.json()["detail"][0]["loc"] == ["query", "limit"]
    assert python.status_code == 400
    assert python.json()["detail"][0]["loc"] == ["query", "day"]
    assert all(isinstance(exc.errors(), list) for exc in received)


def test_a_handler_for_422() -> None:
    app = shop()
    app.add_exception_handler(422, lambda request, exc: (422, {"count": len(exc.errors())}))
    with TestClient(app) as client:
        assert client.get("/items?limit=500").json() == {"count": 1}


def test_exception_handlers_in_the_constructor_and_over_a_socket(serve: Callable[[App], Server]) -> None:
    app = App(exception_handlers={404: lambda request, exc: (404, "custom 404"), OutOfStock: lambda request, exc: (409, exc.item)})

    @app.get("/stock/<name>")
    def stock(request: dict[str, Any], name: str) -> None:
        raise OutOfStock(name)

    server = serve(app)
    base = f"http://127.0.0.1:{server.port}"
    assert requests.get(base + "/nowhere", timeout=TIMEOUT).text == "custom 404"
    conflict = requests.get(base + "/stock/tea", timeout=TIMEOUT)
    assert (conflict.status_code, conflict.text) == (409, "tea")


def test_unhandled_statuses_keep_the_engine_response() -> None:
    app = shop()
    app.add_exception_handler(404, lambda request, exc: (404, "custom"))
    with TestClient(app) as client:
        response = client.delete("/teapot")
    assert (response.status_code, response.json()) == (405, {"error": "Method Not Allowed"})


def test_exception_handler_keys_are_checked() -> None:
    app = App()
    with pytest.raises(TypeError, match="exception class or an HTTP status"):
        app.add_exception_handler("404", lambda request, exc: None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exception class or an HTTP status"):
        app.add_exception_handler(1000, lambda request, exc: None)


def test_request_validation_error_is_exported_with_errors() -> None:
    exc = RequestValidationError([{"loc": ["query", "q"], "msg": "Field required", "type": "missing"}])
    assert exc.errors()[0]["type"] == "missing"
    assert issubclass(HTTPException, HTTPError)
    assert HTTPException(404).status_code == 404


def test_a_handler_for_http_exception_covers_http_error_and_go_statuses() -> None:
    app = shop()
    app.add_exception_handler(HTTPException, lambda request, exc: (exc.status_code, {"detail": exc.detail}))
    with TestClient(app) as client:
        assert client.get("/teapot").json() == {"detail": "short and stout"}  # raised as HTTPError
        assert client.get("/gone").json() == {"detail": "gone"}
        assert client.get("/nowhere").json() == {"detail": "Not Found"}
        assert client.post("/teapot").json() == {"detail": "Method Not Allowed"}


def test_a_go_made_404_answered_with_a_file_or_a_stream(tmp_path: Any) -> None:
    """The response hook's replies are written as a route's are: a
    FileResponse is the file, a StreamingResponse is streamed and its
    generator runs to its end."""
    from databridge import FileResponse, StreamingResponse

    page = tmp_path / "404.html"
    page.write_text("<h1>not here</h1>")
    finished: list[bool] = []
    app = App()

    @app.exception_handler(404)
    def not_found(request: Request, exc: Exception) -> Any:
        if request.url.path.startswith("/stream"):

            def chunks() -> Any:
                yield "not "
                yield "found"
                finished.append(True)

            return StreamingResponse(chunks(), status_code=404, media_type="text/plain")
        return FileResponse(str(page), status_code=404)

    with TestClient(app) as client:
        r = client.get("/missing")
        assert r.status_code == 404
        assert r.text == "<h1>not here</h1>"
        assert r.headers["content-type"].startswith("text/html")
        s = client.get("/stream/missing")
        assert s.status_code == 404 and s.text == "not found"
    assert finished == [True]
