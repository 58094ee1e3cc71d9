"""Typed parameters, validated bodies and OpenAPI docs (issue #4's example).

    python -m databridge run examples.users
    curl -X POST localhost:8000/api/users -H 'content-type: application/json' -d '{"name": "Ann", "age": 30}'
    curl 'localhost:8000/api/search?q=shoes&limit=500'     # 422, answered by Go
    open http://localhost:8000/docs                        # Swagger UI, served offline
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

from databridge import App, Query, RequestValidator


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    age: int = Field(ge=0, le=150)
    email: Optional[str] = None


class User(NewUser):
    id: int


app = App(title="Users API", version="1.0")


# status_code= and response_model= describe the response in the OpenAPI document.
@app.post("/api/users", body=NewUser, status_code=201, response_model=User, tags=["users"])
def create_user(request: dict[str, Any], body: NewUser) -> tuple[int, User]:
    """Create a user.

    The body is checked by the engine before this runs."""
    return (201, User(id=1, **body.model_dump()))


@app.get("/api/search", tags=["search"])
async def search(
    request: dict[str, Any],
    q: str,
    page: int = 1,
    limit: int = Query(10, ge=1, le=100),
    tags: list[str] = Query([]),
) -> dict[str, Any]:
    """Search everything."""
    return {"q": q, "page": page, "limit": limit, "tags": tags}


@app.get(
    "/api/items/<int:item_id>",
    validator=RequestValidator(query={"type": "object", "properties": {"full": {"type": "boolean"}}}),
)
def get_item(request: dict[str, Any], item_id: int) -> dict[str, Any]:
    """One item; `?full=true` for all of it."""
    return {"item_id": item_id, "full": request["query_params"].get("full") == "true"}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000)
