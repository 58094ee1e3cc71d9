"""The example app from the README.

    python -m databridge run examples.hello        # or: python -m examples.hello
    curl http://127.0.0.1:8000/api/items/42
"""

from __future__ import annotations

from typing import Any

from databridge import App, Router

app = App()


@app.get("/")
def index(request: dict[str, Any]) -> dict[str, str]:
    return {"message": "hello"}


@app.get("/api/users/{user_id}")  # mux style
def get_user(request: dict[str, Any]) -> dict[str, Any]:
    return {"status": 200, "body": {"id": request["path_params"]["user_id"]}}


@app.post("/api/users", status_code=201)  # status_code= documents the 201 in /openapi.json
async def create_user(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = request["body"]  # the parsed JSON: any JSON value, or None without one
    name = body.get("name") if isinstance(body, dict) else None
    return (201, {"id": "new_id", "name": name})


@app.route("/api/items/<int:item_id>", methods=["GET", "PUT"])  # Flask style, typed
def item(request: dict[str, Any]) -> dict[str, int]:
    return {"item": request["path_params"]["item_id"]}  # an int


v2 = Router(prefix="/v2")


@v2.get("/ping")
def ping(request: dict[str, Any]) -> str:
    return "pong"


app.include_router(v2)

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000)
