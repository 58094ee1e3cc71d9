"""The benchmark scenarios with Robyn's decorators.

Robyn reads its own options from the command line, so bench/run.py starts it as
    python bench/apps/robyn_app.py --processes 1 --workers 1 --log-level WARN \
        --disable-openapi --host 127.0.0.1 --port 8106
(``--host``/``--port`` are read here; Robyn ignores arguments it does not know).
"""

import argparse
import asyncio
import os
import sys
from typing import Any

# Run as a script (python bench/apps/robyn_app.py): make `bench` importable.
sys.path.insert(
    0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
)

from robyn import Request, Response, Robyn  # noqa: E402

from bench.apps._common import SLEEP_SECONDS, TEXT_10K  # noqa: E402

app = Robyn(__file__)


@app.get("/hello")
def hello(request: Request) -> dict[str, str]:
    return {"message": "hello"}


@app.get("/hello-async")
async def hello_async(request: Request) -> dict[str, str]:
    return {"message": "hello"}


@app.get("/users/:user_id")
def user(request: Request) -> Any:
    raw = request.path_params["user_id"]
    if not (raw.isascii() and raw.isdigit()):  # Robyn has no int converter
        return Response(
            status_code=404,
            headers={"content-type": "text/plain"},
            description="Not Found",
        )
    return {"id": int(raw), "page": request.query_params.get("page", None)}


@app.post("/echo")
def echo(request: Request) -> Any:
    return request.json()


@app.get("/sleep")
async def sleep(request: Request) -> dict[str, bool]:
    await asyncio.sleep(SLEEP_SECONDS)
    return {"ok": True}


@app.get("/10k")
def text10k(request: Request) -> str:
    return TEXT_10K


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8106)
    args, _ = parser.parse_known_args()
    app.start(host=args.host, port=args.port, _check_port=False)


if __name__ == "__main__":
    main()
