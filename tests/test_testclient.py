"""The in-process TestClient: what it sends and how it reads the answer."""

from __future__ import annotations

import email.parser
import email.policy
import os
from typing import Any

import pytest

from databridge import App, Response, WebSocket
from databridge.testclient import Headers, encode_multipart
from databridge.testing import TestClient, TestResponse

Request = dict[str, Any]


@pytest.fixture
def seen(app: App) -> list[Request]:
    requests: list[Request] = []
    app.route("/capture", methods=["GET", "POST"])(requests.append)
    return requests


def test_testing_module_exports_the_client() -> None:
    import databridge
    import databridge.testing

    assert databridge.testing.__all__ == ["TestClient", "TestResponse"]
    assert "TestClient" not in databridge.__all__


def test_response_attributes(app: App, client: TestClient) -> None:
    app.get("/x")(lambda request: (201, {"a": "é"}, {"X-One": "1"}))
    response = client.get("/x")
    assert isinstance(response, TestResponse)
    assert response.status_code == 201
    assert response.json() == {"a": "é"}
    assert response.text == response.content.decode("utf-8")
    assert response.headers["X-ONE"] == response.headers["x-one"] == "1"
    assert ("x-one", "1") in [(name.lower(), value) for name, value in response.raw_headers]


def test_text_uses_the_charset(app: App, client: TestClient) -> None:
    app.get("/latin")(lambda request: Response("café".encode("latin-1"), media_type="text/plain; charset=latin-1"))
    assert client.get("/latin").text == "café"


def test_headers_mapping_is_case_insensitive_and_joins_repeats() -> None:
    headers = Headers([("Set-Cookie", "a=1"), ("Content-Type", "text/plain"), ("set-cookie", "b=2")])
    assert headers["SET-COOKIE"] == "a=1, b=2"
    assert "content-type" in headers and "Content-Type" in headers
    assert headers.get("missing") is None
    assert sorted(headers) == ["content-type", "set-cookie"]
    assert len(headers) == 2


def test_sends_a_host_header_from_base_url(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture")
    assert seen[0]["headers"]["host"] == "testserver"


def test_given_host_header_is_kept(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture", headers={"Host": "api.example.org"})
    assert seen[0]["headers"]["host"] == "api.example.org"
    assert seen[0]["url"] == "http://api.example.org/capture"


def test_absolute_url_gives_the_host(client: TestClient, seen: list[Request]) -> None:
    client.get("http://other.example:81/capture?a=1")
    assert seen[0]["headers"]["host"] == "other.example:81"
    assert seen[0]["query_params"] == {"a": "1"}


def test_base_url_path_is_a_prefix(app: App, seen: list[Request]) -> None:
    app.get("/api/v1/x")(seen.append)
    with TestClient(app, base_url="http://testserver/api/v1/") as client:
        client.get("/x")
    assert seen[0]["path"] == "/api/v1/x"


def test_params_are_merged_with_the_query(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture?a=1", params={"b": "two words", "c": ["x", "y"]})
    assert seen[0]["query_params"] == {"a": "1", "b": "two words", "c": "x"}
    assert seen[0]["url"] == "http://testserver/capture?a=1&b=two+words&c=x&c=y"


def test_params_as_a_list_of_pairs(client: TestClient, seen: list[Request]) -> None:
    client.get("/capture", params=[("z", "1"), ("z", "2")])
    assert seen[0]["url"].endswith("/capture?z=1&z=2")


def test_path_is_percent_encoded(app: App, client: TestClient) -> None:
    app.get("/files/{name}")(lambda request: request["path_params"]["name"])
    assert client.get("/files/a b").text == "a b"
    assert client.get("/files/a%20b").text == "a b"


def test_json_sets_the_content_type(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", json={"a": [1, None]})
    assert seen[0]["headers"]["content-type"] == "application/json"
    assert seen[0]["body"] == {"a": [1, None]}


def test_explicit_content_type_is_kept(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", json={"a": 1}, headers={"Content-Type": "application/json; charset=utf-8"})
    assert seen[0]["headers"]["content-type"] == "application/json; charset=utf-8"


def test_content_length_is_sent_with_a_body(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", content=b"12345")
    assert seen[0]["headers"]["content-length"] == "5"


def test_data_dict_is_urlencoded(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", data={"a": "1 2", "b": "&"})
    assert seen[0]["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert seen[0]["raw_body"] == b"a=1+2&b=%26"


def test_data_bytes_are_sent_as_they_are(client: TestClient, seen: list[Request]) -> None:
    client.post("/capture", data=b"raw", headers={"Content-Type": "text/plain"})
    assert seen[0]["raw_body"] == b"raw"


def test_only_one_kind_of_body(client: TestClient) -> None:
    with pytest.raises(TypeError, match="only one of json, content"):
        client.post("/capture", json={}, content=b"x")


def test_multipart_encoding_is_well_formed() -> None:
    body, content_type = encode_multipart(
        [("title", "a \"quoted\" title"), ("empty", "")],
        [("upload", "my file.txt", b"\r\n--not a boundary\r\n", "text/plain")],
    )
    assert content_type.startswith("multipart/form-data; boundary=")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    assert message.is_multipart()
    parts = list(message.iter_parts())
    assert [part.get_param("name", header="content-disposition") for part in parts] == ["title", "empty", "upload"]
    assert parts[0].get_payload(decode=True) == b'a "quoted" title'
    assert parts[1].get_payload(decode=True) == b""
    assert parts[2].get_filename() == "my file.txt"
    assert parts[2].get_content_type() == "text/plain"
    assert parts[2].get_payload(decode=True) == b"\r\n--not a boundary\r\n"


def test_multipart_escapes_quotes_in_names() -> None:
    body, _ = encode_multipart([], [("f", 'a"b.txt', b"x", "text/plain")])
    assert b'filename="a%22b.txt"' in body


def test_multipart_boundary_changes_per_body() -> None:
    first = encode_multipart([("a", "1")], [])[1]
    second = encode_multipart([("a", "1")], [])[1]
    assert first != second


def test_client_can_be_reused_after_close(app: App) -> None:
    app.get("/x")(lambda request: "x")
    client = TestClient(app)
    assert client.get("/x").text == "x"
    client.close()
    client.close()  # closing twice is harmless
    assert client.get("/x").text == "x"
    client.close()


def test_close_cancels_handlers_still_running(app: App) -> None:
    import asyncio

    cancelled: list[bool] = []

    @app.get("/spawn")
    async def spawn(request: dict[str, Any]) -> str:
        async def forever() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        asyncio.get_running_loop().create_task(forever())
        return "spawned"

    with TestClient(app) as client:
        assert client.get("/spawn").text == "spawned"
    assert cancelled == [True]


def test_websocket_connect_runs_in_process_without_a_port() -> None:
    """The WebSocket session goes through the engine's HTTP/1.1 front and
    WebSocket code over a socket pair: no TCP listener is opened."""
    from databridge import WebSocket

    app = App()
    seen: dict[str, object] = {}

    @app.websocket("/ws/{room}")
    async def ws(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        seen["client"] = websocket.client
        seen["url"] = str(websocket.url)
        await websocket.send_text(f"{room}:{await websocket.receive_text()}")
        await websocket.receive_text()  # the session stays open until the client says so
        await websocket.close(4001)

    def tcp_listeners() -> set[str]:
        """The process's sockets, as ``socket:[inode]``."""
        links = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.add(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:  # closed meanwhile
                pass
        return {link for link in links if link.startswith("socket:")}

    with TestClient(app) as client:
        before = tcp_listeners()
        with client.websocket_connect("/ws/lobby?x=1") as session:
            session.send_text("hi")
            assert session.receive_text() == "lobby:hi"
            during = tcp_listeners() - before
            # New sockets (the client's end of the pair at least), none of them TCP.
            assert during and all(_is_unix_socket(link) for link in during)
            session.send_text("bye")
            assert session.receive() == {"type": "websocket.close", "code": 4001, "reason": ""}
    assert tuple(seen["client"]) == ("testclient", 50000)  # type: ignore[arg-type]
    assert seen["url"] == "ws://testserver/ws/lobby?x=1"


def _is_unix_socket(link: str) -> bool:
    """Whether ``socket:[inode]`` is a unix socket (/proc/net/unix, column Inode)."""
    inode = link[len("socket:["):-1]
    with open("/proc/net/unix") as unix:
        return inode in {line.split()[6] for line in unix.readlines()[1:]}
