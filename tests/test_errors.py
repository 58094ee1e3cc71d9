"""HTTPError, exceptions in handlers, and what the log says."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from databridge import App, HTTPError
from databridge.testing import TestClient
from tests.conftest import report_lines


def raising(app: App, exc: BaseException, path: str = "/e") -> None:
    def handler(request: dict[str, Any]) -> None:
        raise exc

    app.add_route("GET", path, handler)


def databridge_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "databridge"]


# -- HTTPError ---------------------------------------------------------------


def test_http_error_sets_status_and_detail(app: App, client: TestClient) -> None:
    raising(app, HTTPError(404, "no such user"))
    response = client.get("/e")
    assert response.status_code == 404
    assert response.json() == {"error": "no such user"}
    assert response.headers["content-type"].startswith("application/json")


def test_http_error_headers_are_sent(app: App, client: TestClient) -> None:
    raising(app, HTTPError(401, "log in first", headers={"WWW-Authenticate": "Bearer"}))
    response = client.get("/e")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": "log in first"}


def test_http_error_detail_defaults_to_the_reason_phrase(app: App, client: TestClient) -> None:
    raising(app, HTTPError(403))
    response = client.get("/e")
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden"}


def test_http_error_detail_may_be_structured(app: App, client: TestClient) -> None:
    raising(app, HTTPError(422, {"field": "email", "problem": "missing"}))
    assert client.get("/e").json() == {"error": {"field": "email", "problem": "missing"}}


def test_http_error_from_an_async_handler(app: App, client: TestClient) -> None:
    @app.get("/async-e")
    async def handler(request: dict[str, Any]) -> None:
        raise HTTPError(409, "conflict here")

    response = client.get("/async-e")
    assert response.status_code == 409
    assert response.json() == {"error": "conflict here"}


def test_http_error_is_not_logged(app: App, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="databridge")
    raising(app, HTTPError(404, "no such user"))
    client.get("/e")
    assert [r for r in databridge_records(caplog) if r.levelno >= logging.ERROR] == []


def test_http_error_attributes() -> None:
    error = HTTPError(418, "short and stout", headers={"X-Tea": "yes"})
    assert (error.status, error.detail, error.headers) == (418, "short and stout", {"X-Tea": "yes"})
    assert isinstance(error, Exception)


def test_http_error_defaults() -> None:
    error = HTTPError(404)
    assert (error.status, error.detail, error.headers) == (404, "Not Found", None)


def test_http_error_detail_for_an_unnamed_status() -> None:
    assert HTTPError(499).detail == "Error"


def test_http_error_rejects_a_status_that_is_not_an_int() -> None:
    with pytest.raises(TypeError, match="status"):
        HTTPError("404")  # type: ignore[arg-type]


# -- other exceptions -------------------------------------------------------


def test_exception_is_500_without_the_traceback(app: App, client: TestClient) -> None:
    raising(app, RuntimeError("secret detail 8e1f"))
    response = client.get("/e")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error"}
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


def test_exception_traceback_is_logged(app: App, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="databridge")

    @app.get("/boom")
    def boom(request: dict[str, Any]) -> None:
        raise RuntimeError("secret detail 8e1f")

    client.get("/boom")
    (record,) = databridge_records(caplog)
    assert record.levelno == logging.ERROR
    assert record.getMessage() in report_lines(app.routes[0], "raised")
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
    assert str(record.exc_info[1]) == "secret detail 8e1f"
    assert "secret detail 8e1f" in caplog.text
    assert "Traceback (most recent call last)" in caplog.text
    assert "in boom" in caplog.text  # the handler's own frame is in the traceback


def test_exception_in_an_async_handler_is_500_and_logged(
    app: App, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="databridge")

    @app.get("/async-boom")
    async def async_boom(request: dict[str, Any]) -> None:
        raise ValueError("async secret 31c0")

    response = client.get("/async-boom")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error"}
    assert "async secret" not in response.text
    (record,) = databridge_records(caplog)
    assert record.getMessage() in report_lines(app.routes[0], "raised")
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    assert "in async_boom" in caplog.text


def test_app_keeps_serving_after_an_exception(app: App, client: TestClient) -> None:
    raising(app, RuntimeError("boom"))
    app.get("/fine")(lambda request: "fine")
    assert client.get("/e").status_code == 500
    assert client.get("/fine").text == "fine"
