"""Serves examples.hello with `python -m databridge run` on a free port,
GETs a route, /docs and one of its Swagger UI files, then stops it with
SIGTERM and checks it exits 0. Run by scripts/smoke.sh with the installed
wheel; standard library only.

    python tools/serve_check.py            # from the repository root
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request

BANNER = re.compile(r"databridge: serving (http://\S+)")


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def main() -> int:
    proc = subprocess.Popen(
        [sys.executable, "-m", "databridge", "run", "examples.hello", "--port", "0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    try:
        base = None
        for line in proc.stderr:
            match = BANNER.search(line)
            if match:
                base = match.group(1)
                break
        if base is None:
            raise SystemExit(f"serve_check: the server exited ({proc.wait()}) without serving")
        status, body = get(base + "/api/items/42")
        assert (status, json.loads(body)) == (200, {"item": 42}), (status, body)
        status, body = get(base + "/docs")
        assert status == 200 and b"swagger-ui-bundle.js" in body, status
        status, body = get(base + "/docs/swagger-ui-bundle.js")
        assert status == 200 and len(body) > 100_000, (status, len(body))
        print(f"serve_check: {base}: /api/items/42, /docs and its bundle ({len(body)} bytes) OK")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    if code != 0:
        raise SystemExit(f"serve_check: exit status {code} after SIGTERM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
