"""Deployment flags of ``python -m databridge run`` over real processes and
sockets: the access log, --limit-concurrency, --proxy-headers (direct and
behind nginx), --root-path, --uds, --fd, IPv6, --factory, DATABRIDGE_*."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import pytest
import requests

from tests.conftest import BANNER, REPO_ROOT, LiveServer

StartLive = Callable[..., LiveServer]
APP = "tests.apps.workers:app"
TIMEOUT = 10


class Served:
    """``python -m databridge run`` with stdout in a file (the access log)
    and stderr read by a LiveServer-like thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = ()) -> None:
        self.out: IO[str] = tempfile.NamedTemporaryFile("w+", suffix=".log")
        self.live = LiveServer.__new__(LiveServer)  # its reader thread and helpers, another Popen
        self.live.lines = []
        self.live._new_lines = queue.Queue()
        self.live.proc = subprocess.Popen(
            [sys.executable, "-m", "databridge", "run", *args], cwd=REPO_ROOT,
            env=os.environ | (env or {}), stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.PIPE,
            text=True, pass_fds=pass_fds,
        )
        self.live._reader = threading.Thread(target=self.live._read, daemon=True)
        self.live._reader.start()
        self.live.url = ""

    def access_lines(self, n: int, timeout: float = 10) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            lines = Path(self.out.name).read_text().splitlines()
            if len(lines) >= n or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def close(self) -> None:
        self.live.kill()
        self.out.close()


@pytest.fixture
def served() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(*args: str, **kw: object) -> Served:
        s = Served(*args, **kw)  # type: ignore[arg-type]
        started.append(s)
        return s

    yield start
    for s in started:
        s.close()


COMBINED = re.compile(
    r'^(?P<host>\S+) - - \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<target>\S+) (?P<proto>HTTP/\d\.\d)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+|-) "(?P<referer>[^"]*)" "(?P<ua>[^"]*)"$'
)
COMMON = re.compile(
    r'^(?P<host>\S+) - - \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<target>\S+) (?P<proto>HTTP/\d\.\d)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+|-)$'
)


def test_access_log_combined_is_the_default_format(served: Callable[..., Served]) -> None:
    s = served(APP, "--port", "0", "--access-log")
    url = s.live.wait_until_serving()
    r = requests.get(url + "/pid?x=1", headers={"User-Agent": "ua/1", "Referer": "http://r/"}, timeout=TIMEOUT)
    requests.get(url + "/nope", timeout=TIMEOUT)
    lines = s.access_lines(2)
    first = COMBINED.match(lines[0])
    assert first, lines
    assert first["host"] == "127.0.0.1" and first["method"] == "GET" and first["target"] == "/pid?x=1"
    assert first["status"] == "200" and int(first["bytes"]) == len(r.content)
    assert first["ua"] == "ua/1" and first["referer"] == "http://r/"
    time.strptime(first["time"], "%d/%b/%Y:%H:%M:%S %z")
    second = COMBINED.match(lines[1])
    assert second and second["status"] == "404"
    assert s.live.stop() == 0


def test_access_log_common(served: Callable[..., Served]) -> None:
    s = served(APP, "--port", "0", "--access-log", "--access-log-format", "common")
    url = s.live.wait_until_serving()
    requests.get(url + "/", timeout=TIMEOUT)
    (line,) = s.access_lines(1)
    m = COMMON.match(line)
    assert m and m["status"] == "200" and m["target"] == "/"


def test_access_log_json(served: Callable[..., Served]) -> None:
    s = served(APP, "--port", "0", "--access-log-format", "json", env={"DATABRIDGE_ACCESS_LOG": "1"})
    url = s.live.wait_until_serving()
    requests.get(url + "/", headers={"User-Agent": "ua/2", "X-Request-ID": "rid-7"}, timeout=TIMEOUT)
    requests.get(url + "/pid", timeout=TIMEOUT)
    one, two = (json.loads(x) for x in s.access_lines(2))
    assert one["remote_addr"] == "127.0.0.1" and one["method"] == "GET" and one["target"] == "/"
    assert one["status"] == 200 and one["bytes"] > 0 and one["duration_ms"] >= 0
    assert one["user_agent"] == "ua/2" and one["request_id"] == "rid-7"
    assert two["request_id"] and two["request_id"] != "rid-7"


def test_access_log_off_by_default_and_flag_beats_environment(served: Callable[..., Served]) -> None:
    s = served(APP, "--port", "0")
    url = s.live.wait_until_serving()
    requests.get(url + "/", timeout=TIMEOUT)
    assert s.live.stop() == 0
    assert Path(s.out.name).read_text() == ""
    s = served(APP, "--port", "0", "--no-access-log", env={"DATABRIDGE_ACCESS_LOG": "1"})
    url = s.live.wait_until_serving()
    requests.get(url + "/", timeout=TIMEOUT)
    assert s.live.stop() == 0
    assert Path(s.out.name).read_text() == ""


def test_limit_concurrency_answers_503_with_retry_after(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--limit-concurrency", "2", "--no-access-log")
    with ThreadPoolExecutor(2) as pool:
        slow = [pool.submit(requests.get, live.url + "/sleep?seconds=1", timeout=TIMEOUT) for _ in range(2)]
        deadline = time.monotonic() + 5
        while len([x for x in live.lines if "sleep started" in x]) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        refused = requests.get(live.url + "/", timeout=TIMEOUT)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert all(f.result().status_code == 200 for f in slow)
    assert requests.get(live.url + "/", timeout=TIMEOUT).status_code == 200


def test_proxy_headers_from_a_trusted_peer(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--proxy-headers", "--no-access-log")
    body = requests.get(live.url + "/request", headers={
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "example.com"},
        timeout=TIMEOUT).json()
    assert body["client"] == "203.0.113.9:0"
    assert body["url"] == "https://example.com/request"
    body = requests.get(live.url + "/request", headers={"Forwarded": 'for="[2001:db8::5]:99";proto=https'},
                        timeout=TIMEOUT).json()
    assert body["client"] == "[2001:db8::5]:99" and body["url"].startswith("https://")


def test_proxy_headers_ignored_from_an_untrusted_peer(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--proxy-headers", "--forwarded-allow-ips", "10.0.0.1", "--no-access-log")
    body = requests.get(live.url + "/request", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=TIMEOUT).json()
    assert body["client"].startswith("127.0.0.1:")


def test_root_path_is_stripped_before_routing(start_live: StartLive) -> None:
    live = start_live(APP, "--port", "0", "--root-path", "/api", "--no-access-log")
    assert requests.get(live.url + "/api/pid", timeout=TIMEOUT).status_code == 200
    assert requests.get(live.url + "/api/request", timeout=TIMEOUT).json()["path"] == "/request"


def unix_get(path: str, target: str) -> tuple[int, bytes]:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(TIMEOUT)
        s.connect(path)
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head[9:12]), body


@pytest.mark.parametrize("workers", ["1", "2"])
def test_uds(tmp_path: Path, workers: str) -> None:
    path = str(tmp_path / "app.sock")
    live = LiveServer(APP, "--uds", path, "--uds-permissions", "660", "--workers", workers, "--no-access-log")
    try:
        live.wait_for_line(r"databridge: serving http\+unix:" + re.escape(path), TIMEOUT)
        assert oct(os.stat(path).st_mode & 0o777) == "0o660"
        status, body = unix_get(path, "/pid")
        assert status == 200 and json.loads(body)["pid"]
        assert live.stop() == 0
    finally:
        live.kill()


def test_fd_serves_an_inherited_socket() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    served = Served(APP, "--fd", str(sock.fileno()), "--no-access-log", pass_fds=(sock.fileno(),))
    sock.close()
    try:
        url = served.live.wait_until_serving()
        assert url == f"http://127.0.0.1:{port}"
        assert requests.get(url + "/pid", timeout=TIMEOUT).status_code == 200
        assert served.live.stop() == 0
    finally:
        served.close()


def test_systemd_socket_activation() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    # As systemd does: the socket as fd 3, LISTEN_PID the server's own pid
    # (set before exec).
    script = (
        f"import os, sys; os.dup2({sock.fileno()}, 3, inheritable=True); os.close({sock.fileno()});"
        "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()));"
        f"os.execv(sys.executable, [sys.executable, '-m', 'databridge', 'run', '{APP}', '--no-access-log'])"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, pass_fds=(sock.fileno(),),
                            stderr=subprocess.PIPE, text=True)
    sock.close()
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert BANNER.search(line) and f":{port}" in line, line
        assert requests.get(f"http://127.0.0.1:{port}/pid", timeout=TIMEOUT).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()


def test_ipv6_banner(start_live: StartLive) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1")
    live = start_live(APP, "--host", "::1", "--port", "0", "--no-access-log")
    assert re.fullmatch(r"http://\[::1\]:\d+", live.url)
    assert requests.get(live.url + "/pid", timeout=TIMEOUT).status_code == 200


def test_factory(start_live: StartLive) -> None:
    live = start_live("tests.apps.workers:create_app", "--factory", "--port", "0", "--no-access-log")
    assert requests.get(live.url + "/", timeout=TIMEOUT).json() == {"made": "by factory"}


def test_environment_sets_flags(start_live: StartLive) -> None:
    os.environ["DATABRIDGE_WORKERS"] = "2"
    try:
        live = start_live(APP, "--port", "0", "--no-access-log")
    finally:
        del os.environ["DATABRIDGE_WORKERS"]
    live.wait_for_line(r"databridge: 2 workers, pids", TIMEOUT)


NGINX_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fcgi;
    uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_behind_nginx_with_proxy_headers(start_live: StartLive, tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    live = start_live(APP, "--port", "0", "--workers", "2", "--proxy-headers", "--no-access-log")
    upstream = int(live.url.rsplit(":", 1)[1])
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=tmp_path, upstream=upstream, port=port))
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "nginx did not start"
                time.sleep(0.02)
        session = requests.Session()
        for _ in range(20):
            body = session.get(f"http://127.0.0.1:{port}/request", headers={"Host": "public.example"},
                               timeout=TIMEOUT).json()
            assert body["client"] == "127.0.0.1:0"  # nginx's X-Forwarded-For: the test client
            assert body["url"] == "https://public.example/request"
        body = session.get(f"http://127.0.0.1:{port}/request", headers={"X-Forwarded-For": "198.51.100.7"},
                           timeout=TIMEOUT).json()
        # X-Forwarded-For is "198.51.100.7, 127.0.0.1": the client is the
        # rightmost untrusted address; the test client is on 127.0.0.1, a
        # trusted address itself, so its own claim is taken.
        assert body["client"] == "198.51.100.7:0"
    finally:
        proc.terminate()
        proc.wait(10)
    assert live.stop() == 0
