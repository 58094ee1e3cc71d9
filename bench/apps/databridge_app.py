"""The benchmark scenarios written against databridge's public API.

Served by bench/run.py with:
    python -m databridge run bench.apps.databridge_app:app --host 127.0.0.1 --port N
"""

import asyncio
from typing import Any

from databridge import App, Router

from bench.apps._common import SLEEP_SECONDS, TEXT_10K

app = App()

# Scenarios 8 and 9 need the validation API (``Query``, ``body=``) and pydantic.
# When either is missing, scenarios 1-7 still run: /users and /search then
# answer 501 with the error, which bench/run.py reports as "failed".
VALIDATION_ERROR: str | None = None


@app.get("/hello")
def hello(request: dict[str, Any]) -> dict[str, str]:
    """Scenario 1: a sync handler returning a small JSON object."""
    return {"message": "hello"}


# Scenario 10: the same answer from a route the engine serves in Go, without
# Python (App.add_fixed_response); its ratio to /hello is the cost of the Python
# call. Without the API, /go/hello stays a 404 and run.py reports it as wrong.
if hasattr(app, "add_fixed_response"):
    app.add_fixed_response("/go/hello", {"message": "hello"})


@app.get("/hello-async")
async def hello_async(request: dict[str, Any]) -> dict[str, str]:
    """Scenario 2: the same as an async handler that never awaits."""
    return {"message": "hello"}


@app.get("/users/<int:user_id>")
def user(request: dict[str, Any]) -> dict[str, Any]:
    """Scenario 3 (and 7: /users/abc must be a 404 before Python runs)."""
    return {
        "id": request["path_params"]["user_id"],
        "page": request["query_params"].get("page"),
    }


@app.post("/echo")
def echo(request: dict[str, Any]) -> Any:
    """Scenario 4: return the parsed JSON body, re-serialised."""
    return request["body"]


@app.get("/sleep")
async def sleep(request: dict[str, Any]) -> dict[str, bool]:
    """Scenario 5: an async handler that really awaits."""
    await asyncio.sleep(SLEEP_SECONDS)
    return {"ok": True}


@app.get("/10k")
def text10k(request: dict[str, Any]) -> str:
    """Scenario 6: a 10 KB str, sent as text/plain."""
    return TEXT_10K


def _validated_routes() -> Router:
    """Scenarios 8 and 9, on a router that is added to the app only when every
    route registered (so a missing or partial API leaves no route behind)."""
    from typing import Optional

    from databridge import Query
    from pydantic import BaseModel, Field

    class NewUser(BaseModel):
        name: str = Field(min_length=1, max_length=50)
        age: int = Field(ge=0, le=150)
        email: Optional[str] = None

    router = Router()

    @router.post("/users", body=NewUser)
    def create_user(
        request: dict[str, Any], body: NewUser
    ) -> tuple[int, dict[str, str]]:
        """Scenario 8: the body is validated in Go, then built as a NewUser."""
        return (201, {"name": body.name})

    @router.get("/search")
    async def search(
        request: dict[str, Any],
        q: str,
        page: int = 1,
        limit: int = Query(10, ge=1, le=100),
    ) -> dict[str, Any]:
        """Scenario 9: limit=500 must be a 422 before Python runs."""
        return {"q": q, "page": page, "limit": limit}

    return router


def _unavailable_routes(error: str) -> Router:
    """Stand-ins for scenarios 8 and 9: 501 with the reason."""
    reply = (501, {"error": "validation unavailable", "detail": error})
    router = Router()

    @router.post("/users")
    def create_user(request: dict[str, Any]) -> tuple[int, dict[str, str]]:
        return reply

    @router.get("/search")
    def search(request: dict[str, Any]) -> tuple[int, dict[str, str]]:
        return reply

    return router


try:
    app.include_router(_validated_routes())
except Exception as exc:  # ImportError, or a route option the engine does not know
    VALIDATION_ERROR = f"{type(exc).__name__}: {exc}"
    app.include_router(_unavailable_routes(VALIDATION_ERROR))
