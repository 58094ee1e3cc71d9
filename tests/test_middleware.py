"""Native middleware (issue #9): configured from Python, run in Go.

CORS is checked byte for byte against Starlette's CORSMiddleware with the
same options: status and every access-control-* and Vary field, over
Starlette's TestClient on one side and databridge's TestClient and a real
socket on the other."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Callable, Iterator
from typing import Any

import brotli
import pytest
import starlette
import zstandard
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware as StarletteCORS
from starlette.middleware.trustedhost import TrustedHostMiddleware as StarletteTrustedHost
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient as StarletteClient

from databridge import App, Server
from databridge.middleware import CORSMiddleware, GZipMiddleware, HTTPSRedirectMiddleware, TrustedHostMiddleware
from databridge.testing import TestClient

Headers = list[tuple[str, str]]
STARLETTE = tuple(int(part) for part in starlette.__version__.split(".")[:2])


@pytest.fixture(scope="module")
def served() -> Iterator[Callable[[App], int]]:
    servers: list[Server] = []

    def serve(app: App) -> int:
        server = Server(app, host="127.0.0.1", port=0)
        server.start()
        servers.append(server)
        return server.port

    yield serve
    for server in servers:
        server.stop(timeout=10)


def over_socket(port: int, method: str, path: str, headers: Headers) -> tuple[int, Headers, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=any(k.lower() == "host" for k, _ in headers), skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, [(k.lower(), v) for k, v in response.getheaders()], response.read()
    finally:
        conn.close()


# -- CORS against Starlette ------------------------------------------------

CORS_OPTIONS: list[dict[str, Any]] = [
    {"allow_origins": ["https://example.com"]},
    {"allow_origins": ["*"]},
    {"allow_origins": ["*"], "allow_credentials": True, "expose_headers": ["X-A", "X-B"]},
    {"allow_origin_regex": r"https://.*\.example\.org", "allow_methods": ["GET", "POST"],
     "allow_headers": ["X-Token"], "max_age": 60},
    {"allow_origins": ["https://example.com", "http://localhost:3000"], "allow_methods": ["*"],
     "allow_headers": ["*"], "allow_private_network": True, "allow_credentials": True},
    {"allow_origins": [], "allow_methods": ["PUT"], "allow_headers": ["content-type", "Authorization"]},
]

ALLOWED = "https://example.com"
PREFLIGHT = [("origin", ALLOWED), ("access-control-request-method", "GET")]
CORS_REQUESTS: list[tuple[str, str, Headers]] = [
    ("GET", "/", []),
    ("GET", "/", [("origin", ALLOWED)]),
    ("GET", "/", [("origin", "https://a.example.org")]),
    ("GET", "/", [("origin", "https://evil.com")]),
    ("GET", "/", [("origin", ALLOWED), ("cookie", "a=1")]),
    ("POST", "/", [("origin", "http://localhost:3000")]),
    ("GET", "/vary", [("origin", ALLOWED)]),
    ("GET", "/missing", [("origin", ALLOWED)]),
    ("OPTIONS", "/", PREFLIGHT),
    ("OPTIONS", "/", [("origin", "https://evil.com"), ("access-control-request-method", "GET")]),
    ("OPTIONS", "/", [("origin", "https://b.example.org"), ("access-control-request-method", "POST")]),
    ("OPTIONS", "/", [("origin", ALLOWED), ("access-control-request-method", "DELETE")]),
    ("OPTIONS", "/", [("origin", ALLOWED), ("access-control-request-method", "PUT"),
                      ("access-control-request-headers", "Content-Type, authorization")]),
    ("OPTIONS", "/", [*PREFLIGHT, ("access-control-request-headers", "X-Token, Content-Type")]),
    ("OPTIONS", "/", [*PREFLIGHT, ("access-control-request-headers", "x-other")]),
    ("OPTIONS", "/", [*PREFLIGHT, ("access-control-request-headers", "accept,,x-token")]),
    ("OPTIONS", "/", [*PREFLIGHT, ("access-control-request-private-network", "true")]),
    ("OPTIONS", "/", [("origin", ALLOWED)]),  # not a preflight: the route answers 405
    ("OPTIONS", "/", [("access-control-request-method", "GET")]),  # no origin: not a preflight
]


def starlette_app(options: dict[str, Any]) -> Starlette:
    def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello")

    def vary(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hello", headers={"vary": "Accept-Language"})

    return Starlette(routes=[Route("/", hello, methods=["GET", "POST"]), Route("/vary", vary)],
                     middleware=[Middleware(StarletteCORS, **options)])


def databridge_app(options: dict[str, Any]) -> App:
    app = App()
    app.route("/", methods=["GET", "POST"])(lambda request: "hello")
    app.get("/vary")(lambda request: (200, "hello", {"vary": "Accept-Language"}))
    app.add_middleware(CORSMiddleware, **options)
    return app


def cors_fields(headers: Headers) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in headers if k.lower().startswith("access-control-") or k.lower() == "vary")


@pytest.mark.parametrize("options", CORS_OPTIONS, ids=range(len(CORS_OPTIONS)))
def test_cors_matches_starlette(options: dict[str, Any], served: Callable[[App], int]) -> None:
    port = served(databridge_app(options))  # an engine is served by one loop: one app each
    with StarletteClient(starlette_app(options)) as reference, TestClient(databridge_app(options)) as client:
        for method, path, headers in CORS_REQUESTS:
            want = reference.request(method, path, headers=dict(headers))
            want_fields = cors_fields(list(want.headers.multi_items()))
            got = client.request(method, path, headers=headers)
            where = f"{method} {path} {headers} with {options}"
            assert (got.status_code, cors_fields(got.raw_headers)) == (want.status_code, want_fields), where
            status, raw, body = over_socket(port, method, path, headers)
            assert (status, cors_fields(raw)) == (want.status_code, want_fields), where
            if method == "OPTIONS" and want.status_code in (200, 400):  # preflights: same body too
                assert got.content == want.content, where


def test_cors_rejects_a_bad_regex() -> None:
    with pytest.raises(ValueError, match="allow_origin_regex"):
        App().add_middleware(CORSMiddleware, allow_origin_regex="(")


# -- compression -------------------------------------------------------------

BIG = "hello databridge " * 200  # 3400 bytes


def compress_app(**options: Any) -> App:
    app = App()
    app.get("/big")(lambda request: BIG)
    app.get("/small")(lambda request: "tiny")
    app.get("/encoded")(lambda request: (200, b"x" * 2000, {"content-encoding": "identity-ish", "content-type": "text/plain"}))
    app.get("/png")(lambda request: (200, b"x" * 2000, {"content-type": "image/png"}))
    app.get("/empty")(lambda request: None)
    app.add_fixed_response("/go", BIG)
    app.add_middleware(GZipMiddleware, **options)
    return app


DECODE: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


@pytest.mark.parametrize(("accept", "encoding"), [
    ("gzip", "gzip"),
    ("br", "br"),
    ("zstd", "zstd"),
    ("gzip, deflate, br, zstd", "br"),
    ("gzip, zstd", "zstd"),
    ("gzip;q=1.0, br;q=0.5", "gzip"),
    ("br;q=0, gzip", "gzip"),
    ("*", "br"),
    ("gzip;q=0.2, *;q=0.5", "br"),
    ("x-gzip", "gzip"),
])
def test_compressed_responses_decode(accept: str, encoding: str, served: Callable[[App], int]) -> None:
    port = served(compress_app())
    with TestClient(compress_app()) as client:
        for path in ("/big", "/go"):
            got = client.get(path, headers={"accept-encoding": accept})
            assert got.headers["content-encoding"] == encoding
            assert got.headers["vary"] == "Accept-Encoding"
            assert int(got.headers["content-length"]) == len(got.content) < len(BIG)
            assert DECODE[encoding](got.content).decode() == BIG
            status, raw, body = over_socket(port, "GET", path, [("accept-encoding", accept)])
            fields = dict(raw)
            assert status == 200 and fields["content-encoding"] == encoding
            assert int(fields["content-length"]) == len(body)
            assert DECODE[encoding](body).decode() == BIG


@pytest.mark.parametrize("accept", [None, "identity", "deflate", "gzip;q=0, br;q=0, zstd;q=0", "*;q=0"])
def test_not_compressed_when_not_accepted(accept: str | None) -> None:
    with TestClient(compress_app()) as client:
        got = client.get("/big", headers={"accept-encoding": accept} if accept is not None else {})
        assert "content-encoding" not in got.headers
        assert got.text == BIG
        assert got.headers["vary"] == "Accept-Encoding"  # as Starlette: from minimum_size on


@pytest.mark.parametrize("path", ["/small", "/encoded", "/png", "/empty"])
def test_left_alone(path: str) -> None:
    with TestClient(compress_app()) as client:
        got = client.get(path, headers={"accept-encoding": "gzip, br, zstd"})
        assert got.headers.get("content-encoding") in (None, "identity-ish")
        assert "vary" not in got.headers
        if path == "/small":
            assert got.text == "tiny"


def test_head_is_left_alone(served: Callable[[App], int]) -> None:
    port = served(compress_app())
    status, raw, body = over_socket(port, "HEAD", "/big", [("accept-encoding", "gzip")])
    assert status == 200 and "content-encoding" not in dict(raw)
    assert dict(raw)["content-length"] == str(len(BIG))


def test_minimum_size_and_level() -> None:
    with TestClient(compress_app(minimum_size=5000, compresslevel=1)) as client:
        assert "content-encoding" not in client.get("/big", headers={"accept-encoding": "gzip"}).headers
    with TestClient(compress_app(minimum_size=1, compresslevel=1)) as client:
        got = client.get("/small", headers={"accept-encoding": "gzip"})
        assert got.headers["content-encoding"] == "gzip" and gzip.decompress(got.content) == b"tiny"


@pytest.mark.parametrize(("options", "error"), [
    ({"compresslevel": 0}, ValueError), ({"minimum_size": -1}, ValueError), ({"minimum_size": "1"}, TypeError),
])
def test_gzip_options_are_checked(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        App().add_middleware(GZipMiddleware, **options)


# -- trusted hosts and HTTPS redirect ----------------------------------------


def trusted_apps(**options: Any) -> tuple[App, Starlette]:
    app = App()
    app.get("/path")(lambda request: "ok")
    app.add_middleware(TrustedHostMiddleware, **options)
    reference = Starlette(routes=[Route("/path", lambda request: PlainTextResponse("ok"))],
                          middleware=[Middleware(StarletteTrustedHost, **options)])
    return app, reference


@pytest.mark.parametrize("options", [
    {"allowed_hosts": ["example.com", "*.example.org"]},
    {"allowed_hosts": ["www.example.com"]},
    {"allowed_hosts": ["www.example.com"], "www_redirect": False},
    {"allowed_hosts": ["*"]},
    {},
])
def test_trusted_host_matches_starlette(options: dict[str, Any], served: Callable[[App], int]) -> None:
    app, reference_app = trusted_apps(**options)
    port = served(app)
    with StarletteClient(reference_app, follow_redirects=False) as reference, \
            TestClient(trusted_apps(**options)[0]) as client:
        for host in ["example.com", "EXAMPLE.com:8000", "a.example.org", "a.b.example.org", "example.org",
                     "evil.com", "www.example.com", "example.com:x", "bad host", "a/b", "[::1", "[::1]:80"]:
            if host != host.lower() and STARLETTE < (1, 10):
                continue  # before 1.10 (Python 3.10's) Starlette compared hosts case-sensitively
            want = reference.get("/path?q=1", headers={"host": host})
            got = client.get("/path?q=1", headers={"host": host})
            assert (got.status_code, got.content) == (want.status_code, want.content), (host, options)
            status, raw, body = over_socket(port, "GET", "/path?q=1", [("host", host)])
            if host in ("bad host", "a/b", "[::1", "example.com:x"):
                # Not uri-host [":" port] (RFC 9110 7.2): the HTTP front refuses
                # these itself, 400, before any middleware runs.
                assert (status, body) == (400, b'{"error":"invalid Host header field"}'), host
                continue
            fields = dict(raw)
            assert (status, body) == (want.status_code, want.content), (host, options)
            if status == 307:
                assert fields["location"] == want.headers["location"] == f"http://www.{host}/path?q=1"


def test_trusted_host_rejects_bad_patterns() -> None:
    for pattern in ["*example.com", "a.*.com"]:
        with pytest.raises(ValueError, match="wildcard"):
            App().add_middleware(TrustedHostMiddleware, allowed_hosts=[pattern])


def test_trusted_host_400_with_test_client() -> None:
    app, _ = trusted_apps(allowed_hosts=["example.com"])
    with TestClient(app) as client:
        got = client.get("/path", headers={"host": "evil.com"})
        assert (got.status_code, got.text) == (400, "Invalid host header")
        assert got.headers["content-type"] == "text/plain; charset=utf-8"
        assert client.get("/path", headers={"host": "example.com"}).text == "ok"


def test_https_redirect(served: Callable[[App], int]) -> None:
    app = App()
    app.get("/a/b")(lambda request: "ok")
    app.add_middleware(HTTPSRedirectMiddleware)
    port = served(app)
    for host, location in [("example.com", "https://example.com/a/b?x=1"),
                           ("example.com:80", "https://example.com/a/b?x=1"),
                           ("example.com:443", "https://example.com/a/b?x=1"),
                           ("example.com:8080", "https://example.com:8080/a/b?x=1")]:
        status, raw, body = over_socket(port, "GET", "/a/b?x=1", [("host", host)])
        assert (status, dict(raw)["location"], body) == (307, location, b"")
    status, raw, _ = over_socket(port, "GET", "/a/b", [("host", "example.com"), ("upgrade", "websocket"),
                                                      ("connection", "upgrade")])
    assert (status, dict(raw)["location"]) == (307, "wss://example.com/a/b")


# -- order --------------------------------------------------------------------


def test_the_last_added_is_the_outermost() -> None:
    """As in Starlette: TrustedHost added after CORS runs first, so a bad
    host gets its 400 without CORS fields; CORS added after GZip sees the
    compressed response and adds Origin after Accept-Encoding in Vary."""
    app = App()
    app.get("/")(lambda request: BIG)
    app.add_middleware(GZipMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=["*"])
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
    with TestClient(app) as client:
        got = client.get("/", headers={"host": "example.com", "origin": "https://x.com", "accept-encoding": "gzip"})
        assert got.headers["vary"] == "Accept-Encoding, Origin"
        assert got.headers["access-control-allow-origin"] == "*"
        bad = client.get("/", headers={"host": "evil.com", "origin": "https://x.com"})
        assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers


def test_add_middleware_takes_only_native_classes() -> None:
    with pytest.raises(TypeError, match="databridge.middleware"):
        App().add_middleware(StarletteCORS)
