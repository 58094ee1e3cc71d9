"""Per-request cost of the Python crossing, without sockets or wrk.

    python bench/micro.py [--n 20000]

For a few handlers it reports, in µs per request (CPU time of the process,
so both the GIL thread and Go's threads count):
- ``in-process``: requests sent through the engine without sockets, 64 in
  flight at a time (as wrk -c64 would): Go routing and request parsing, the
  C queue, the request dict, the handler, the response conversion, the
  batch wake-ups -- everything but HTTP on a socket;
- ``handler``: calling the handler alone with a prepared dict, so the
  difference is the engine's share.

The Go side of the crossing alone (dict build + call + conversion, no
queue) is measured by ``go test -bench=Invoke ./pybridge`` (see
scripts/test.sh for the cgo environment).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from databridge import App, _core  # noqa: E402
from databridge._runtime import Attachment, new_loop  # noqa: E402

BODY = {"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"], "price": i * 1.5} for i in range(12)]}


def build_app() -> App:
    """The benchmark app (the same handlers wrk measures), plus /noop."""
    from bench.apps.databridge_app import app

    @app.get("/noop")
    def noop(request: dict[str, Any]) -> None:
        return None

    return app


def per_request_us(f: Callable[[], Any], n: int, repeats: int = 5) -> float:
    """Median over repeats of process CPU time per call of f."""
    results = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(n):
            f()
        results.append((time.process_time() - start) / n * 1e6)
    return statistics.median(results)


def in_process_us(app: App, loop: asyncio.AbstractEventLoop, method: str, path: str, body: bytes,
                  n: int, in_flight: int = 64) -> float:
    """Median over 5 repeats of process CPU time per request, in_flight at a time."""
    headers = [("host", "testserver")]
    if body:
        headers.append(("content-type", "application/json"))

    async def burst() -> None:
        futures = []
        for _ in range(in_flight):
            future = loop.create_future()
            _core.inject(app._engine, method, path, headers, body, future)
            futures.append(future)
        for status, _, _ in await asyncio.gather(*futures):
            assert status in (200, 204), status

    results = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(max(1, n // in_flight)):
            loop.run_until_complete(burst())
        results.append((time.process_time() - start) / (max(1, n // in_flight) * in_flight) * 1e6)
    return statistics.median(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000, help="requests per repeat (5 repeats, median)")
    args = parser.parse_args()
    app = build_app()
    loop = new_loop()
    attachment = Attachment(app._engine, loop)
    request = {"method": "GET", "path": "/hello", "url": "http://testserver/hello", "headers": {"host": "testserver"},
               "query_params": {}, "path_params": {}, "body": BODY, "form_data": {}, "raw_body": b"", "client": "x:1"}
    handlers = {route.path: route.handler for route in app.routes}
    plain = asyncio.new_event_loop()

    rows = []
    for path, method, body in [("/noop", "GET", b""), ("/hello", "GET", b""), ("/hello-async", "GET", b""),
                               ("/echo", "POST", json.dumps(BODY).encode())]:
        full = in_process_us(app, loop, method, path, body, args.n)
        handler = handlers[path]
        if asyncio.iscoroutinefunction(handler):
            alone = per_request_us(lambda: plain.run_until_complete(handler(request)), args.n)
        else:
            alone = per_request_us(lambda: handler(request), args.n)
        rows.append((f"{method} {path}", full, alone))
    attachment.close()
    loop.close()
    plain.close()

    print(f"Python {sys.version.split()[0]}, {args.n} requests x 5, median CPU time per request")
    print(f"{'route':<20} {'in-process µs':>14} {'handler µs':>11} {'engine µs':>10}")
    for name, full, alone in rows:
        print(f"{name:<20} {full:>14.2f} {alone:>11.2f} {full - alone:>10.2f}")
    print("(the async handler alone is timed with run_until_complete, which costs more than the engine's eager start)")


if __name__ == "__main__":
    main()
