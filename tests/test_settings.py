"""The engine's limits and timeouts, set from Server(...) and the command
line, over real sockets."""

from __future__ import annotations

import socket

import pytest
import requests

from databridge import App, Server
from databridge.cli import _parser
from databridge.server import SETTINGS


def _raw(port: int, data: bytes) -> bytes:
    """Send data on a fresh connection; return everything until the server
    closes it or 5 s pass."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(data)
        chunks = []
        try:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


@pytest.fixture
def echo_app() -> App:
    app = App()

    @app.post("/echo")
    def echo(request):
        return request["raw_body"]

    @app.get("/hello")
    def hello(request):
        return {"message": "hello"}

    return app


def test_defaults_are_the_documented_ones(echo_app: App) -> None:
    server = Server(echo_app)
    assert server.settings == {
        "max_target_size": 16384,
        "max_header_size": 65536,
        "max_header_count": 100,
        "max_body_size": 16 * 1024 * 1024,
        "timeout_read_header": 10.0,
        "timeout_read_body": 30.0,
        "timeout_write": 30.0,
        "timeout_keep_alive": 5.0,
        "max_requests_per_connection": 0,
        "timeout_graceful_shutdown": 30.0,
    }


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_body_size": 0}, ValueError, "max_body_size must be positive"),
        ({"timeout_write": -1}, ValueError, "timeout_write must be positive"),
        ({"max_header_count": 1.5}, ValueError, "max_header_count must be a whole number"),
        ({"max_target_size": "big"}, TypeError, "max_target_size must be a number"),
        ({"max_body": 10}, TypeError, "unexpected keyword argument(s): max_body"),
        ({"ssl_certfile": "c.pem"}, ValueError, "TLS needs both ssl_certfile and ssl_keyfile"),
        ({"ssl_ca_certs": "ca.pem"}, ValueError, "ssl_ca_certs (client certificates) needs"),
    ],
)
def test_bad_settings_fail_at_once(echo_app: App, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        Server(echo_app, **kwargs)


def test_shutdown_timeout_is_the_old_name(echo_app: App) -> None:
    assert Server(echo_app, shutdown_timeout=3).settings["timeout_graceful_shutdown"] == 3.0


def test_every_setting_has_a_flag() -> None:
    argv = ["run", "app"]
    for setting in SETTINGS:
        argv += [setting.flag, "7"]
    args = _parser().parse_args(argv + ["--no-http2", "--ssl-certfile", "c", "--ssl-keyfile", "k"])
    for setting in SETTINGS:
        assert getattr(args, setting.name) == setting.kind(7)
    assert args.http2 is False and args.ssl_certfile == "c" and args.ssl_keyfile == "k"


def test_bad_flag_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["run", "app", "--max-body-size", "-3"])
    assert exc.value.code == 2
    assert "-3 must be positive" in capsys.readouterr().err


def test_max_body_size_gives_413(echo_app: App) -> None:
    server = Server(echo_app, port=0, max_body_size=100)
    server.start()
    try:
        url = f"http://127.0.0.1:{server.port}/echo"
        ok = requests.post(url, data=b"x" * 100, timeout=5)
        assert ok.status_code == 200 and ok.content == b"x" * 100
        big = requests.post(url, data=b"x" * 101, timeout=5)
        assert big.status_code == 413
        assert big.json() == {"error": "request body too large"}
        chunked = requests.post(url, data=iter([b"x" * 60, b"y" * 60]), timeout=5)
        assert chunked.status_code == 413
    finally:
        server.stop(timeout=10)


def test_max_target_size_gives_414(echo_app: App) -> None:
    server = Server(echo_app, port=0, max_target_size=64)
    server.start()
    try:
        short = _raw(server.port, b"GET /hello?" + b"a" * 40 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert short.startswith(b"HTTP/1.1 200 ")
        long = _raw(server.port, b"GET /hello?" + b"a" * 80 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert long.startswith(b"HTTP/1.1 414 ")
    finally:
        server.stop(timeout=10)


def test_max_header_count_gives_431(echo_app: App) -> None:
    server = Server(echo_app, port=0, max_header_count=5)
    server.start()
    try:
        fields = b"".join(b"X-%d: v\r\n" % i for i in range(4))
        ok = _raw(server.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n" + fields + b"Connection: close\r\n\r\n")
        assert ok.startswith(b"HTTP/1.1 431 ")  # host + 4 + connection = 6 fields
        fields = b"".join(b"X-%d: v\r\n" % i for i in range(3))
        ok = _raw(server.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n" + fields + b"Connection: close\r\n\r\n")
        assert ok.startswith(b"HTTP/1.1 200 ")
    finally:
        server.stop(timeout=10)


def test_banner_url_brackets_ipv6(echo_app: App) -> None:
    server = Server(echo_app, host="::1", port=8105)
    assert server.url == "http://[::1]:8105"
    assert Server(echo_app, host="127.0.0.1", port=1).url == "http://127.0.0.1:1"


def test_fixed_response_is_served_without_python(echo_app: App) -> None:
    echo_app.add_fixed_response("/healthz", {"ok": True}, headers={"x-served-by": "go"})
    echo_app.add_fixed_response("/robots.txt", "User-agent: *\n", methods=["GET", "POST"])
    server = Server(echo_app, port=0)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        r = requests.get(base + "/healthz", timeout=5)
        assert (r.status_code, r.content, r.headers["content-type"]) == (200, b'{"ok":true}', "application/json")
        assert r.headers["x-served-by"] == "go"
        head = requests.head(base + "/healthz", timeout=5)
        assert head.status_code == 200 and head.headers["content-length"] == "11" and head.content == b""
        assert requests.post(base + "/robots.txt", timeout=5).text == "User-agent: *\n"
        assert requests.put(base + "/robots.txt", timeout=5).status_code == 405
    finally:
        server.stop(timeout=10)


def test_fixed_response_rejects_a_duplicate_and_a_bad_status(echo_app: App) -> None:
    with pytest.raises(ValueError, match='route "/hello" is already registered for GET'):
        echo_app.add_fixed_response("/hello", "x")
    with pytest.raises(ValueError, match="not a final status"):
        echo_app.add_fixed_response("/x", "x", status_code=101)


def _loop_app() -> App:
    app = App()

    @app.get("/loop")
    async def which(request):
        import asyncio

        await asyncio.sleep(0)  # a real await on the loop
        return {"loop": type(asyncio.get_running_loop()).__module__.split(".")[0]}

    return app


def _uvloop_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("uvloop") is not None


@pytest.mark.parametrize("loop", ["asyncio", "uvloop", "auto"])
def test_loop_setting_picks_the_event_loop(serve, loop: str) -> None:
    # Server(loop=...) as uvicorn's --loop: auto is uvloop when installed.
    if loop == "uvloop" and not _uvloop_installed():
        with pytest.raises(ValueError, match="needs uvloop"):
            Server(_loop_app(), loop=loop)
        return
    server = serve(_loop_app(), loop=loop)
    got = requests.get(f"http://127.0.0.1:{server.port}/loop", timeout=5).json()["loop"]
    want = "asyncio" if loop == "asyncio" or not _uvloop_installed() else "uvloop"
    assert got == want


def test_loop_setting_is_checked() -> None:
    with pytest.raises(ValueError, match="loop must be one of auto, asyncio, uvloop"):
        Server(App(), loop="trio")
    with pytest.raises(SystemExit):
        _parser().parse_args(["run", "app", "--loop", "trio"])
    assert _parser().parse_args(["run", "app", "--loop", "asyncio"]).loop == "asyncio"
    assert _parser().parse_args(["run", "app"]).loop == "auto"
