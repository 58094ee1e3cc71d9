"""--reload: a change restarts the workers; a syntax error keeps the old
ones serving."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import requests

from tests.conftest import LiveServer

TIMEOUT = 10

APP_V1 = '''
from databridge import App
app = App()

@app.get("/")
def index(request):
    return {"version": VERSION}

VERSION = 1
'''


def wait_for_version(url: str, version: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/", timeout=TIMEOUT).json()["version"] == version:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError(f"version {version} not served within {timeout} s")


def test_reload_on_change_and_syntax_error_keeps_serving(tmp_path: Path) -> None:
    (tmp_path / "reloadapp.py").write_text(APP_V1)
    live = LiveServer("reloadapp:app", "--app-dir", str(tmp_path), "--port", "0", "--reload",
                      "--reload-dir", str(tmp_path), "--no-access-log")
    try:
        url = live.wait_until_serving()
        assert requests.get(url + "/", timeout=TIMEOUT).json() == {"version": 1}
        (tmp_path / "reloadapp.py").write_text(APP_V1.replace("VERSION = 1", "VERSION = 2"))
        live.wait_for_line(r"reload: reloadapp\.py changed", TIMEOUT)
        wait_for_version(url, 2)
        (tmp_path / "reloadapp.py").write_text(APP_V1.replace("VERSION = 1", "VERSION = (3"))
        live.wait_for_line(r"SyntaxError", TIMEOUT)
        live.wait_for_line(r"failed to start .*the old workers keep serving", TIMEOUT)
        for _ in range(10):
            assert requests.get(url + "/", timeout=TIMEOUT).json() == {"version": 2}
        (tmp_path / "reloadapp.py").write_text(APP_V1.replace("VERSION = 1", "VERSION = 4"))
        wait_for_version(url, 4)
        (tmp_path / "notes.txt").write_text("not watched")
        assert live.stop(signal.SIGTERM) == 0
        assert "notes.txt" not in live.stderr()
    finally:
        live.kill()
