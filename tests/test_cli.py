"""``python -m databridge``: serving, help, version and bad targets."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Callable

import requests

import databridge
from tests.conftest import REPO_ROOT, LiveServer

StartLive = Callable[..., LiveServer]
TIMEOUT = 10


def databridge_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "databridge", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def test_run_serves_module_colon_attribute(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0")
    assert live.url.startswith("http://127.0.0.1:")
    response = requests.get(live.url + "/", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {"message": "hello"}


def test_run_serves_a_module_attribute_app(start_live: StartLive) -> None:
    live = start_live("examples.hello", "--port", "0")
    assert requests.get(live.url + "/v2/ping", timeout=TIMEOUT).text == "pong"


def test_run_listens_on_the_given_host_and_port(start_live: StartLive) -> None:
    with socket.socket() as probe:  # find a free port, then let it go
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    live = start_live("tests.apps.live:app", "--host", "127.0.0.1", "--port", str(port))
    assert live.url == f"http://127.0.0.1:{port}"
    assert requests.get(f"http://127.0.0.1:{port}/text", timeout=TIMEOUT).text == "hello, world"


def test_run_finds_the_module_in_app_dir(start_live: StartLive) -> None:
    live = start_live("live:app", "--app-dir", str(REPO_ROOT / "tests" / "apps"), "--port", "0")
    assert requests.get(live.url + "/text", timeout=TIMEOUT).text == "hello, world"


def test_log_level_debug_shows_info_lines(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0", "--log-level", "debug")
    assert requests.get(live.url + "/sleep?seconds=0", timeout=TIMEOUT).status_code == 200
    live.wait_for_line(r"^INFO tests\.apps\.live: sleep request started$", timeout=10)


def test_log_level_error_hides_info_lines(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0", "--log-level", "error")
    assert requests.get(live.url + "/sleep?seconds=0", timeout=TIMEOUT).status_code == 200
    assert requests.get(live.url + "/boom", timeout=TIMEOUT).status_code == 500
    live.wait_for_line(r"^ERROR databridge: handler for route GET /boom \(boom\) raised$", timeout=10)
    assert "sleep request started" not in live.stderr()


def test_handler_traceback_goes_to_stderr_not_the_body(start_live: StartLive) -> None:
    live = start_live("tests.apps.live:app", "--port", "0")
    response = requests.get(live.url + "/boom", timeout=TIMEOUT)
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error"}
    live.wait_for_line(r"RuntimeError: secret detail from /boom", timeout=10)
    assert "Traceback (most recent call last)" in live.stderr()


def test_help_documents_every_flag() -> None:
    result = databridge_cli("run", "--help")
    assert result.returncode == 0
    for flag in ("TARGET", "--host", "--port", "--app-dir", "--log-level", "--help"):
        assert flag in result.stdout, flag
    assert "module:attribute" in result.stdout
    assert "example" in result.stdout


def test_top_level_help_lists_the_run_command_and_version() -> None:
    result = databridge_cli("--help")
    assert result.returncode == 0
    assert "run" in result.stdout
    assert "--version" in result.stdout


def test_version() -> None:
    result = databridge_cli("--version")
    assert result.returncode == 0
    # databridge 0.1.0 (go1.26.8, commit abc1234): what the engine was built from.
    assert re.fullmatch(rf"databridge {re.escape(databridge.__version__)} \(go1\.\d+(\.\d+)?\S*, commit [0-9a-f]{{7,}}(\+dirty)?\)",
                        result.stdout.strip()), result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = databridge_cli()
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_missing_module_exits_2_with_a_message() -> None:
    result = databridge_cli("run", "no_such_module_4f2a")
    assert result.returncode == 2
    assert 'cannot import module "no_such_module_4f2a"' in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_submodule_exits_2_with_a_message() -> None:
    result = databridge_cli("run", "tests.apps.no_such_module:app")
    assert result.returncode == 2
    assert "tests.apps.no_such_module" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_attribute_exits_2_with_a_message() -> None:
    result = databridge_cli("run", "tests.apps.live:nope")
    assert result.returncode == 2
    assert 'module "tests.apps.live" has no attribute "nope"' in result.stderr
    assert "Traceback" not in result.stderr


def test_module_without_app_attribute_exits_2() -> None:
    result = databridge_cli("run", "tests.apps")
    assert result.returncode == 2
    assert 'has no attribute "app"' in result.stderr
    assert "Traceback" not in result.stderr


def test_target_that_is_not_an_app_exits_2() -> None:
    result = databridge_cli("run", "tests.apps.live:not_an_app")
    assert result.returncode == 2
    assert "not a databridge App" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_target_exits_2() -> None:
    result = databridge_cli("run", "tests.apps.live:")
    assert result.returncode == 2
    assert "TARGET" in result.stderr
    assert "Traceback" not in result.stderr


def test_error_inside_the_module_shows_its_traceback() -> None:
    result = databridge_cli("run", "tests.apps.broken")
    assert result.returncode not in (0, 2)
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: tests.apps.broken fails on import on purpose" in result.stderr


def test_missing_dependency_of_the_module_shows_its_traceback() -> None:
    result = databridge_cli("run", "tests.apps.missing_dependency")
    assert result.returncode not in (0, 2)
    assert "Traceback (most recent call last)" in result.stderr
    assert "databridge_no_such_dependency" in result.stderr


def test_bad_port_is_a_usage_error() -> None:
    result = databridge_cli("run", "tests.apps.live:app", "--port", "70000")
    assert result.returncode == 2
    assert "70000" in result.stderr


def test_busy_port_exits_1_with_a_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = databridge_cli("run", "tests.apps.live:app", "--port", str(port))
    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
