"""Server start/stop in this process, and the request and response over a
real socket (http.client and requests as the clients)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import databridge
from databridge import App, Server
from tests.apps import live

Serve = Callable[[App], Server]
TIMEOUT = 10


def echo_app() -> App:
    app = App()
    app.route("/echo", methods=["GET", "POST"])(live.echo)
    app.get("/text")(live.text)
    app.get("/sleep")(live.sleep)
    app.route("/only", methods=["GET", "PUT"])(live.index)
    app.post("/form")(
        lambda request: {
            "fields": request["form_data"]["fields"],
            "files": [
                {**file, "content": file["content"].decode("latin-1")} for file in request["form_data"]["files"]
            ],
        }
    )
    return app


def url(server: Server, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


# -- start and stop ---------------------------------------------------------


def test_start_with_port_zero_picks_a_free_port(serve: Serve) -> None:
    server = serve(echo_app())
    assert isinstance(server.port, int)
    assert 0 < server.port < 65536
    response = requests.get(url(server, "/text"), timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.text == "hello, world"


def test_stop_closes_the_port(serve: Serve) -> None:
    server = serve(echo_app())
    assert requests.get(url(server, "/text"), timeout=TIMEOUT).status_code == 200
    server.stop(timeout=10)
    assert refuses_connections(server.port)


def test_stop_finishes_requests_in_flight(serve: Serve) -> None:
    server = serve(echo_app())
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, url(server, "/sleep?seconds=0.5"), timeout=TIMEOUT)
        time.sleep(0.2)  # the request is in the handler now
        server.stop(timeout=10)
        response = slow.result(timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["slept"] >= 0.49


def test_start_on_a_busy_port_raises_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = Server(echo_app(), host="127.0.0.1", port=port)
        with pytest.raises(OSError):
            server.start()


def test_two_apps_serve_side_by_side(serve: Serve) -> None:
    first, second = App(), App()
    first.get("/")(lambda request: "first")
    second.get("/")(lambda request: "second")
    one, two = serve(first), serve(second)
    assert one.port != two.port
    assert requests.get(url(one, "/"), timeout=TIMEOUT).text == "first"
    assert requests.get(url(two, "/"), timeout=TIMEOUT).text == "second"


# -- over a real socket -----------------------------------------------------


def test_client_is_the_peer_address(serve: Serve) -> None:
    server = serve(echo_app())
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.connect()
        assert connection.sock is not None
        local_host, local_port = connection.sock.getsockname()[:2]
        connection.request("GET", "/echo")
        body = connection.getresponse().read()
    finally:
        connection.close()
    assert json.loads(body)["client"] == f"{local_host}:{local_port}"


def test_url_has_the_real_host_and_query(serve: Serve) -> None:
    server = serve(echo_app())
    response = requests.get(url(server, "/echo?a=1&b=x%20y"), timeout=TIMEOUT)
    assert response.json()["url"] == f"http://127.0.0.1:{server.port}/echo?a=1&b=x%20y"
    assert response.json()["path"] == "/echo"


def test_repeated_request_headers_are_joined(serve: Serve) -> None:
    server = serve(echo_app())
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.putrequest("GET", "/echo")
        connection.putheader("X-Tag", "a")
        connection.putheader("X-TAG", "b")
        connection.endheaders()
        echoed = connection.getresponse().read()
    finally:
        connection.close()
    assert json.loads(echoed)["headers"]["x-tag"] == "a, b"


def test_json_body_over_a_socket(serve: Serve) -> None:
    server = serve(echo_app())
    response = requests.post(url(server, "/echo"), json={"name": "ann"}, timeout=TIMEOUT)
    assert response.json()["body"] == {"name": "ann"}
    assert response.json()["method"] == "POST"


def test_invalid_json_over_a_socket_is_400(serve: Serve) -> None:
    server = serve(echo_app())
    response = requests.post(
        url(server, "/echo"), data=b"{oops", headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert response.status_code == 400
    assert "error" in response.json()


def test_multipart_over_a_socket(serve: Serve) -> None:
    server = serve(echo_app())
    response = requests.post(
        url(server, "/form"),
        data={"title": "t"},
        files={"doc": ("doc.txt", b"hello\x00world", "text/plain")},
        timeout=TIMEOUT,
    )
    assert response.json() == {
        "fields": {"title": "t"},
        "files": [
            {"name": "doc", "filename": "doc.txt", "content_type": "text/plain", "size": 11, "content": "hello\x00world"}
        ],
    }


def test_head_has_no_body_and_the_same_content_length(serve: Serve) -> None:
    server = serve(echo_app())
    get = requests.get(url(server, "/text"), timeout=TIMEOUT)
    head = requests.head(url(server, "/text"), timeout=TIMEOUT)
    assert head.status_code == 200
    assert head.content == b""
    assert get.headers["content-length"] == str(len("hello, world"))
    assert head.headers["content-length"] == get.headers["content-length"]


def test_404_and_405_over_a_socket(serve: Serve) -> None:
    server = serve(echo_app())
    assert requests.get(url(server, "/nowhere"), timeout=TIMEOUT).status_code == 404
    response = requests.delete(url(server, "/only"), timeout=TIMEOUT)
    assert response.status_code == 405
    assert {"GET", "PUT"} <= {method.strip() for method in response.headers["allow"].split(",")}


def test_keep_alive_connection_serves_many_requests(serve: Serve) -> None:
    server = serve(echo_app())
    with requests.Session() as session:
        bodies = [session.get(url(server, "/text"), timeout=TIMEOUT).text for _ in range(20)]
    assert bodies == ["hello, world"] * 20


def test_concurrent_async_handlers_overlap(serve: Serve) -> None:
    """Ten requests that each sleep 0.3 s finish in well under 3 s: the
    loop runs their tasks at the same time."""
    server = serve(echo_app())
    started = time.monotonic()
    with ThreadPoolExecutor(10) as pool:
        responses = list(
            pool.map(lambda _: requests.get(url(server, "/sleep?seconds=0.3"), timeout=TIMEOUT), range(10))
        )
    elapsed = time.monotonic() - started
    assert [response.status_code for response in responses] == [200] * 10
    assert elapsed < 2.0


def test_server_serves_from_a_background_thread(serve: Serve) -> None:
    """The event loop runs on the server's thread: async handlers and inline
    sync ones run there; other sync handlers on handler threads (issue #9)."""
    threads: list[str] = []
    app = App()
    app.get("/")(lambda request: threads.append(threading.current_thread().name))
    app.get("/inline")(databridge.inline(lambda request: threads.append(threading.current_thread().name)))

    @app.get("/async")
    async def in_loop(request: dict[str, Any]) -> None:
        threads.append(threading.current_thread().name)

    server = serve(app)
    for path in ("/", "/inline", "/async"):
        assert requests.get(url(server, path), timeout=TIMEOUT).status_code == 204
    assert threads[0].startswith("databridge-handler-")
    assert threads[1:] == ["databridge-server", "databridge-server"]
