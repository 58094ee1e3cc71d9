"""``UploadFile``: a file of a multipart upload, as FastAPI and Starlette
have it.

A handler parameter annotated ``UploadFile`` receives the file field of its
name (``UploadFile | None`` when it may be absent, ``list[UploadFile]`` for
every file of that name)::

    @app.post("/upload", max_body_size=2 * 1024**3)
    async def upload(request, file: UploadFile):
        data = await file.read(1 << 20)
        ...

The engine parses the multipart body in Go as it arrives, before the
handler runs: a file of up to 1 MiB is kept in memory, a larger one is
written to a temporary file (``tempfile.gettempdir()``), which the engine
deletes once the response is sent (the handler's open file stays readable
until it is closed or collected). So an upload costs the server a few
buffers whatever its size; the route's ``max_body_size`` bounds it (default:
the server's ``max_body_size``, 16 MiB).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from typing import IO, Any

from .requests import _Headers

__all__ = ["UploadFile"]


class UploadFile:
    """One uploaded file: ``filename``, ``content_type``, ``size`` (bytes),
    ``headers`` (the part's), ``file`` (a binary file object, positioned at
    the start) and the async ``read(size=-1)``, ``seek(offset)``,
    ``write(data)`` and ``close()`` of Starlette. Reads and seeks of a file
    spooled to disk run on the event loop's executor, so a large read does
    not hold up other requests."""

    __slots__ = ("file", "filename", "size", "headers", "_content_type", "_on_disk")

    def __init__(
        self,
        file: IO[bytes],
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        self.file = file
        self.filename = filename
        self.size = size
        self.headers: Mapping[str, str] = _Headers({k.lower(): v for k, v in (headers or {}).items()})
        self._content_type = content_type
        self._on_disk = not isinstance(file, io.BytesIO)

    @property
    def content_type(self) -> str | None:
        """The part's Content-Type (``application/octet-stream`` when it
        gave none)."""
        if self._content_type is not None:
            return self._content_type
        return self.headers.get("content-type")

    async def read(self, size: int = -1) -> bytes:
        if self._on_disk:
            return await asyncio.get_running_loop().run_in_executor(None, self.file.read, size)
        return self.file.read(size)

    async def seek(self, offset: int) -> None:
        if self._on_disk:
            await asyncio.get_running_loop().run_in_executor(None, self.file.seek, offset)
        else:
            self.file.seek(offset)

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)
        if self._on_disk:
            await asyncio.get_running_loop().run_in_executor(None, self.file.write, data)
        else:
            self.file.write(data)

    async def close(self) -> None:
        self.file.close()

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size!r}, content_type={self.content_type!r})"


def from_entry(entry: Mapping[str, Any]) -> UploadFile:
    """The UploadFile of one ``request["form_data"]["files"]`` entry: its
    ``content`` in memory, or the temporary file at its ``path``."""
    path = entry.get("path")
    file: IO[bytes]
    if path is not None:
        file = open(path, "r+b")  # noqa: SIM115: the UploadFile owns it
    else:
        file = io.BytesIO(entry.get("content", b""))
    return UploadFile(
        file,
        size=entry.get("size"),
        filename=entry.get("filename"),
        headers=entry.get("headers"),
        content_type=entry.get("content_type"),
    )


def open_all(request: Mapping[str, Any], names: set[str]) -> dict[str, list[UploadFile]]:
    """The UploadFiles of the request's file fields named in ``names``, by
    name, opened now (before the engine deletes the temporary files once the
    response is sent)."""
    form = request.get("form_data") or {}
    found: dict[str, list[UploadFile]] = {}
    for entry in form.get("files") or ():
        name = entry.get("name")
        if name in names:
            found.setdefault(name, []).append(from_entry(entry))
    return found
