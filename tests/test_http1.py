"""The HTTP/1.1 front's most important RFC 9112 behaviours, end to end:
raw bytes to ``python -m databridge run tests.apps.live:app`` over a real
socket, through the whole stack (front, router, Python handler). The full
conformance suite is server/http1_rfc_test.go; docs/http1.md lists what
each case checks."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

TIMEOUT = 5.0  # for one response
CLOSE_BOUND = 2.0  # for the connection to end after a rejection


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def json(self) -> dict:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<{self.status} {self.headers} {self.body[:200]!r}>"


class Conn:
    """A raw client connection with a strict response reader."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise EOFError(f"connection closed mid-line: {self.buf!r}")
        line, self.buf = self.buf.split(b"\r\n", 1)
        assert b"\n" not in line and b"\r" not in line, f"bare CR or LF in {line!r}"
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError(f"body shorter than {n}: {self.buf!r}")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read(self, method: str = "GET") -> Response:
        status_line = self._line().decode("latin-1")
        version, code, _reason = status_line.split(" ", 2)
        assert version in ("HTTP/1.1", "HTTP/1.0"), status_line
        status = int(code)
        headers = []
        while line := self._line():
            name, colon, value = line.decode("latin-1").partition(":")
            assert colon and name == name.strip(), f"bad field line {line!r}"
            headers.append((name.lower(), value.strip(" \t")))
        names = [name for name, _ in headers]
        assert not ("content-length" in names and "transfer-encoding" in names), headers
        response = Response(status, headers, b"")
        if method == "HEAD" or status < 200 or status in (204, 304):
            return response
        te = response.header("transfer-encoding")
        cl = response.header("content-length")
        if te is not None:
            assert te.lower() == "chunked", te
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                body += self._exact(size)
                assert self._line() == b"", "no CRLF after chunk data"
            response.body = body
        elif cl is not None:
            response.body = self._exact(int(cl))
        else:
            while self._fill():
                pass
            response.body, self.buf = self.buf, b""
        return response

    def assert_closed(self) -> None:
        """After the response the server closes: EOF (or a reset) within
        CLOSE_BOUND, and no further bytes (no answer to anything smuggled)."""
        assert self.buf == b"", f"bytes after the response: {self.buf!r}"
        self.sock.settimeout(CLOSE_BOUND)
        try:
            more = self.sock.recv(65536)
        except ConnectionResetError:
            return
        except TimeoutError:
            pytest.fail(f"connection still open {CLOSE_BOUND} s after the response")
        assert more == b"", f"bytes after the response: {more[:300]!r}"


@pytest.fixture
def conn(live_server: str):
    c = Conn(live_server)
    yield c
    c.close()


HOST = b"Host: example.com\r\n"


def test_cl_te_smuggling_is_rejected_and_closes(conn: Conn) -> None:
    # RFC 9112 §6.3: Content-Length with Transfer-Encoding; the server MUST
    # close after responding. databridge answers 400; the request in the
    # body is never served.
    smuggled = b"GET /sync/666 HTTP/1.1\r\n" + HOST + b"\r\n"
    conn.send(
        b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n" + smuggled
    )
    assert conn.read("POST").status == 400
    conn.assert_closed()


def test_bad_chunk_size_is_rejected_and_closes(conn: Conn) -> None:
    # RFC 9112 §7.1: chunk-size = 1*HEXDIG.
    conn.send(b"POST /echo HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\ng\r\nhello\r\n0\r\n\r\n")
    assert conn.read("POST").status == 400
    conn.assert_closed()


def test_valid_chunked_body_reaches_the_handler(conn: Conn) -> None:
    conn.send(
        b"POST /echo HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    response = conn.read("POST")
    assert response.status == 200, response
    assert response.json()["raw_body"] == "hello world"


def test_get_asterisk_is_rejected(conn: Conn) -> None:
    # RFC 9112 §3.2.4: the asterisk-form is only for OPTIONS.
    conn.send(b"GET * HTTP/1.1\r\n" + HOST + b"\r\n")
    assert conn.read().status == 400
    conn.assert_closed()


def test_one_megabyte_target_is_414(conn: Conn) -> None:
    # RFC 9112 §3: a request-target longer than the server parses MUST get
    # 414 (MaxTargetBytes, 16 KiB by default).
    conn.send(b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n" + HOST + b"\r\n")
    assert conn.read().status == 414
    conn.assert_closed()


def test_101_header_fields_is_431(conn: Conn) -> None:
    # RFC 9110 §5.4 / RFC 6585 §5: more than MaxHeaderFields (100, Host
    # counted) fields.
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(100))
    conn.send(b"GET / HTTP/1.1\r\n" + HOST + fields + b"\r\n")
    assert conn.read().status == 431
    conn.assert_closed()


def test_100_header_fields_are_served(conn: Conn) -> None:
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(99))
    conn.send(b"GET / HTTP/1.1\r\n" + HOST + fields + b"\r\n")
    assert conn.read().status == 200


def test_pipelined_requests_are_answered_in_order(conn: Conn) -> None:
    # RFC 9112 §9.3.2: responses in the order of the requests; the POST's
    # body is framed exactly between the GETs.
    conn.send(
        b"GET /sync/1 HTTP/1.1\r\n" + HOST + b"\r\n"
        b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 11\r\n\r\nhello world"
        b"GET /sync/3 HTTP/1.1\r\n" + HOST + b"\r\n"
    )
    first, second, third = conn.read(), conn.read("POST"), conn.read()
    assert (first.status, second.status, third.status) == (200, 200, 200)
    assert first.json()["n"] == 1
    assert second.json()["raw_body"] == "hello world"
    assert third.json()["n"] == 3


def test_connection_close_is_honoured(conn: Conn) -> None:
    # RFC 9112 §9.6: after a request with "close", the server closes and
    # serves nothing more on the connection.
    conn.send(
        b"GET /sync/1 HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
        b"GET /sync/2 HTTP/1.1\r\n" + HOST + b"\r\n"
    )
    response = conn.read()
    assert response.status == 200
    assert "close" in (response.header("connection") or "").lower()
    conn.assert_closed()
