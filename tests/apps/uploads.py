"""Upload routes for the memory tests (tests/test_uploads.py): served by
``python -m databridge run tests.apps.uploads:app`` so that RSS is the
server's alone."""

from __future__ import annotations

from typing import Any

from databridge import App, Request, UploadFile

app = App()

GIB = 1 << 30


@app.post("/stream", max_body_size=2 * GIB)
async def stream(request: Request) -> dict[str, Any]:
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
    return {"size": total}


@app.post("/upload", max_body_size=2 * GIB)
async def upload(request: dict[str, Any], file: UploadFile) -> dict[str, Any]:
    read = 0
    while chunk := await file.read(1 << 20):
        read += len(chunk)
    return {"size": file.size, "read": read, "on_disk": not hasattr(file.file, "getvalue")}
