"""HTTP/2 end to end: h2 over TLS (ALPN) and h2c with prior knowledge or by
``Upgrade: h2c``, with httpx (``httpx[http2]``) and curl as the clients;
``Server(..., http2=False)`` turns it off."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from databridge import App
from tests.test_tls import PKI, StartServer, make_pki, tls_options

TIMEOUT = 10
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    return make_pki(tmp_path)


def h2_app() -> App:
    app = App()

    @app.route("/echo", methods=["GET", "POST"])
    def echo(request: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": request["url"],
            "method": request["method"],
            "headers": request["headers"],
            "query": request["query_params"],
            "body": request["raw_body"].decode("latin-1"),
        }

    @app.get("/items/<int:n>")
    def item(request: dict[str, Any]) -> dict[str, Any]:
        return {"n": request["path_params"]["n"]}

    return app


def h2c_client() -> httpx.Client:
    """httpx speaking h2c with prior knowledge (http1=False on http://)."""
    return httpx.Client(http1=False, http2=True, timeout=TIMEOUT)


# -- h2c with prior knowledge -------------------------------------------------


def test_h2c_prior_knowledge(start_server: StartServer) -> None:
    server = start_server(h2_app(), http2=True)
    base = f"http://127.0.0.1:{server.port}"
    with h2c_client() as client:
        response = client.get(f"{base}/echo?a=1&b=2", headers={"X-Test": "h2c"})
        assert response.status_code == 200
        assert response.http_version == "HTTP/2"
        body = response.json()
        assert body["url"] == f"{base}/echo?a=1&b=2"
        assert body["query"] == {"a": "1", "b": "2"}
        # :authority is the host; header names reach the app lower-cased.
        assert body["headers"]["host"] == f"127.0.0.1:{server.port}"
        assert body["headers"]["x-test"] == "h2c"
        assert response.headers["content-type"] == "application/json"

        response = client.post(f"{base}/echo", content=b"x" * 100_000)
        assert response.status_code == 200
        assert response.json()["body"] == "x" * 100_000

        assert client.get(f"{base}/missing").status_code == 404
        assert client.put(f"{base}/echo").status_code == 405
        assert client.get(f"{base}/items/7").json() == {"n": 7}


def test_h2c_many_streams_on_one_connection(start_server: StartServer) -> None:
    """64 requests in flight at once on one connection, with the h2 library
    (httpx's) driven from one thread: a shared httpx client used from
    several threads may open streams out of order, which RFC 9113 §5.1.1
    makes a connection error."""
    import h2.config
    import h2.connection
    import h2.events

    server = start_server(h2_app(), http2=True)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    streams: dict[int, int] = {}
    for n in range(64):
        stream_id = conn.get_next_available_stream_id()
        streams[stream_id] = n
        conn.send_headers(
            stream_id,
            [(":method", "GET"), (":scheme", "http"), (":authority", f"127.0.0.1:{server.port}"), (":path", f"/items/{n}")],
            end_stream=True,
        )
    bodies: dict[int, bytes] = {sid: b"" for sid in streams}
    statuses: dict[int, str] = {}
    ended: set[int] = set()
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(conn.data_to_send())
        while len(ended) < len(streams):
            data = sock.recv(65536)
            assert data, f"connection closed with {len(streams) - len(ended)} streams unanswered"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    statuses[event.stream_id] = dict(event.headers)[b":status"].decode()
                elif isinstance(event, h2.events.DataReceived):
                    bodies[event.stream_id] += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    ended.add(event.stream_id)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    raise AssertionError(f"connection terminated: {event}")
            sock.sendall(conn.data_to_send())
    assert set(statuses.values()) == {"200"}
    assert {sid: json.loads(body)["n"] for sid, body in bodies.items()} == streams


def test_h2c_body_over_the_limit_is_413(start_server: StartServer) -> None:
    server = start_server(h2_app(), http2=True, max_body_size=1000)
    with h2c_client() as client:
        response = client.post(f"http://127.0.0.1:{server.port}/echo", content=b"x" * 5000)
        assert response.status_code == 413
        assert response.json() == {"error": "request body too large"}
        response = client.post(f"http://127.0.0.1:{server.port}/echo", content=b"y" * 1000)
        assert response.status_code == 200


def test_h2c_preface_gets_server_settings(start_server: StartServer) -> None:
    """A raw prior-knowledge connection: the server answers the preface with
    its SETTINGS frame (type 4 on stream 0)."""
    server = start_server(h2_app(), http2=True)
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(H2_PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")  # empty SETTINGS
        header = b""
        while len(header) < 9:
            chunk = sock.recv(9 - len(header))
            assert chunk, "connection closed before the server's SETTINGS"
            header += chunk
    assert header[3] == 0x04  # SETTINGS
    assert header[4] & 0x01 == 0  # not an ACK
    assert int.from_bytes(header[5:9], "big") == 0  # stream 0


def test_http1_still_served_beside_h2c(start_server: StartServer) -> None:
    server = start_server(h2_app(), http2=True)
    with httpx.Client(timeout=TIMEOUT) as client:
        response = client.get(f"http://127.0.0.1:{server.port}/items/3")
    assert response.http_version == "HTTP/1.1"
    assert response.json() == {"n": 3}


def test_http2_false_turns_h2c_off(start_server: StartServer) -> None:
    server = start_server(h2_app(), http2=False)
    with pytest.raises(httpx.HTTPError):
        with h2c_client() as client:
            client.get(f"http://127.0.0.1:{server.port}/items/1")
    with httpx.Client(timeout=TIMEOUT) as client:
        assert client.get(f"http://127.0.0.1:{server.port}/items/1").http_version == "HTTP/1.1"


# -- h2 over TLS --------------------------------------------------------------


def test_h2_over_tls(start_server: StartServer, pki: PKI) -> None:
    server = start_server(h2_app(), http2=True, **tls_options(pki))
    base = f"https://127.0.0.1:{server.port}"
    with httpx.Client(http2=True, verify=pki.client_context(), timeout=TIMEOUT) as client:
        response = client.post(f"{base}/echo?q=tls", content=b"secret body")
        assert response.status_code == 200
        assert response.http_version == "HTTP/2"
        body = response.json()
        assert body["url"] == f"{base}/echo?q=tls"
        assert body["body"] == "secret body"
        assert body["headers"]["host"] == f"127.0.0.1:{server.port}"
        # One thread: httpx's h2 connection used from several may open
        # streams out of order (see test_h2c_many_streams_on_one_connection).
        items = [client.get(f"{base}/items/{n}").json()["n"] for n in range(32)]
        assert items == list(range(32))


def test_http2_false_negotiates_http1_over_tls(start_server: StartServer, pki: PKI) -> None:
    server = start_server(h2_app(), http2=False, **tls_options(pki))
    with httpx.Client(http2=True, verify=pki.client_context(), timeout=TIMEOUT) as client:
        response = client.get(f"https://127.0.0.1:{server.port}/items/5")
    assert response.http_version == "HTTP/1.1"
    assert response.json() == {"n": 5}


# -- shutdown -----------------------------------------------------------------


def test_stop_ends_idle_h2_connections(start_server: StartServer) -> None:
    server = start_server(h2_app(), http2=True)
    client = h2c_client()
    try:
        assert client.get(f"http://127.0.0.1:{server.port}/items/1").status_code == 200
        began = time.monotonic()
        server.stop(timeout=10)  # the connection stays open on the client's side
        assert time.monotonic() - began < 5
        with pytest.raises(httpx.HTTPError):
            client.get(f"http://127.0.0.1:{server.port}/items/2")
    finally:
        client.close()


# -- curl ---------------------------------------------------------------------


def curl(*args: str) -> tuple[dict[str, Any], str]:
    """Runs curl, returns the JSON body and %{http_version}."""
    out = subprocess.run(
        ["curl", "-sS", "--max-time", "10", "-w", "\n%{http_version}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    body, version = out.rsplit("\n", 1)
    return json.loads(body), version


@needs_curl
def test_curl_http2_prior_knowledge(start_server: StartServer) -> None:
    server = start_server(h2_app(), http2=True)
    body, version = curl("--http2-prior-knowledge", f"http://127.0.0.1:{server.port}/echo?c=1")
    assert version == "2"
    assert body["query"] == {"c": "1"}


@needs_curl
def test_curl_h2c_upgrade(start_server: StartServer) -> None:
    """curl --http2 on http:// asks for ``Upgrade: h2c``; the request is then
    answered as stream 1 of the HTTP/2 connection."""
    server = start_server(h2_app(), http2=True)
    body, version = curl("--http2", f"http://127.0.0.1:{server.port}/echo?u=1")
    assert version == "2"
    assert body["query"] == {"u": "1"}
    assert "upgrade" not in body["headers"] and "http2-settings" not in body["headers"]

    body, version = curl("--http2", "--data-binary", "posted", f"http://127.0.0.1:{server.port}/echo")
    assert body["method"] == "POST" and body["body"] == "posted"
    assert version in ("1.1", "2")  # curl may not upgrade a request with a body


@needs_curl
def test_curl_http2_over_tls(start_server: StartServer, pki: PKI) -> None:
    server = start_server(h2_app(), http2=True, **tls_options(pki))
    body, version = curl("--http2", "--cacert", str(pki.ca), f"https://127.0.0.1:{server.port}/echo")
    assert version == "2"
    assert body["url"] == f"https://127.0.0.1:{server.port}/echo"
