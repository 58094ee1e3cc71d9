"""The route-table scenario: the same last route in a 203-route app and in a 1-route app.

``app`` registers the GitHub API route set of bench/data/github_routes.txt (from
julienschmidt/go-http-routing-benchmark) in its order; ``one`` registers only its
last route. bench/run.py requests that route (``DELETE /user/keys/42``) on both:
the ratio shows what a realistic route table costs the router.

    python -m databridge run bench.apps.databridge_routes:app  --host 127.0.0.1 --port N
    python -m databridge run bench.apps.databridge_routes:one  --host 127.0.0.1 --port N
"""

from pathlib import Path
from typing import Any, Callable

from databridge import App

ROUTES_FILE = Path(__file__).resolve().parent.parent / "data" / "github_routes.txt"


def load_routes() -> list[tuple[str, str]]:
    """(method, path) pairs of the route file, in order."""
    routes = []
    for line in ROUTES_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            method, path = line.split(None, 1)
            routes.append((method, path))
    return routes


def _handler(method: str, path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A sync handler answering with its route and the path parameters."""

    def handler(request: dict[str, Any]) -> dict[str, Any]:
        return {"route": f"{method} {path}", "params": request["path_params"]}

    handler.__name__ = "r_" + "".join(c if c.isalnum() else "_" for c in f"{method}{path}")
    return handler


def build(routes: list[tuple[str, str]]) -> App:
    application = App()
    for method, path in routes:
        application.add_route(method, path, _handler(method, path))
    return application


ROUTES = load_routes()
app = build(ROUTES)
one = build(ROUTES[-1:])
