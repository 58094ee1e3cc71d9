"""Responses a handler returns, and the JSON fallback for unusual values.

A handler usually returns plain data (see the README); :class:`Response` is
for full control over status, headers and content type. Bodies are encoded
the same way wherever they appear:

=============================================  =================================
body                                           content-type
=============================================  =================================
dict, list, int, float, bool, None             ``application/json``
str                                            ``text/plain; charset=utf-8``
bytes                                          ``application/octet-stream``
=============================================  =================================

A ``content-type`` header, when given, wins over both.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import pathlib
import uuid
from collections.abc import Mapping
from typing import Any, Union

__all__ = ["Response", "jsonable"]

Headers = Union[Mapping[str, str], list[tuple[str, str]]]


class Response:
    """A response with an explicit status, headers and content type.

    >>> Response(b"\\x89PNG...", media_type="image/png")            # doctest: +SKIP
    >>> Response({"id": 1}, status=201, headers={"Location": "/users/1"})  # doctest: +SKIP
    >>> Response("a,b", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])  # doctest: +SKIP

    ``headers`` is kept as given: a dict, or a list of ``(name, value)``
    pairs when a header repeats. ``media_type`` sets the content-type
    unless ``headers`` already has one. The engine reads the four slots.
    """

    __slots__ = ("body", "status", "headers", "media_type")

    body: Any
    status: int
    headers: dict[str, str] | list[tuple[str, str]] | None
    media_type: str | None

    def __init__(
        self,
        body: Any = None,
        status: int = 200,
        headers: Headers | None = None,
        media_type: str | None = None,
    ) -> None:
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError(f"databridge: Response status must be an int, not {type(status).__name__}")
        if not 100 <= status <= 599:
            raise ValueError(f"databridge: Response status {status} is not an HTTP status code (100-599)")
        if media_type is not None and not isinstance(media_type, str):
            raise TypeError(f"databridge: Response media_type must be a str, not {type(media_type).__name__}")
        self.body = body
        self.status = status
        self.headers = _copy_headers(headers)
        self.media_type = media_type

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.body!r}, status={self.status!r}, "
            f"headers={self.headers!r}, media_type={self.media_type!r})"
        )


def _copy_headers(headers: Headers | None) -> dict[str, str] | list[tuple[str, str]] | None:
    if headers is None:
        return None
    if isinstance(headers, Mapping):
        pairs = list(headers.items())
    else:
        pairs = [tuple(pair) for pair in headers]  # type: ignore[misc]
    for pair in pairs:
        if len(pair) != 2 or not isinstance(pair[0], str) or not isinstance(pair[1], str):
            raise TypeError(f"databridge: Response header {pair!r} is not a (str, str) pair")
    if isinstance(headers, Mapping):
        return dict(pairs)
    return pairs


def jsonable(obj: Any) -> Any:
    """Return a JSON-compatible stand-in for ``obj``; the engine's encoder
    calls this for any value it does not know, and encodes the result.

    datetime, date and time become ISO 8601 strings; UUID and paths
    strings; Decimal a float (an int when integral); an Enum its value;
    a dataclass a dict; a pydantic model ``model_dump(mode="json")``; a set
    a list. Anything else raises TypeError.
    """
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (datetime.date, datetime.time)):  # datetime is a date
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, decimal.Decimal):
        if obj.is_finite() and obj == obj.to_integral_value():
            return int(obj)
        return float(obj)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, pathlib.PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if not isinstance(obj, type) and callable(getattr(obj, "model_dump", None)):
        return obj.model_dump(mode="json")
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


# -- files (served by the engine) ---------------------------------------------

import os  # noqa: E402
import urllib.parse  # noqa: E402

__all__ += ["FileResponse"]


class FileResponse(Response):
    """A file, sent by the engine: opened and read in Go, off the GIL.

    >>> FileResponse("reports/q3.pdf", filename="Q3 report.pdf")  # doctest: +SKIP

    As Starlette's: the content type comes from ``media_type``, else from
    the extension of ``filename`` or ``path`` (a built-in table, so it does
    not depend on the machine; unknown extensions are
    ``application/octet-stream``). ``filename`` adds
    ``Content-Disposition: attachment; filename="..."`` (with
    ``filename*=UTF-8''...`` as well when the name is not plain ASCII).
    With ``status_code`` 200 the engine answers conditional requests (ETag
    and Last-Modified: 304, 412) and ranges (206, 416); another status
    sends the file whole. A missing file is a 500, logged.
    """

    __slots__ = ("path", "filename")

    path: str
    filename: str | None

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Headers | None = None,
        media_type: str | None = None,
        filename: str | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        super().__init__(None, status=status_code, headers=headers, media_type=media_type)
        path = os.fspath(path)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            raise TypeError(f"databridge: FileResponse path must be a str or a path, not {type(path).__name__}")
        if "\x00" in path:
            raise ValueError("databridge: FileResponse path contains a NUL character")
        if filename is not None and not isinstance(filename, str):
            raise TypeError(f"databridge: FileResponse filename must be a str, not {type(filename).__name__}")
        self.path = path
        self.filename = filename
        if filename is not None:
            disposition = content_disposition(filename, content_disposition_type)
            if self.headers is None:
                self.headers = {"content-disposition": disposition}
            elif isinstance(self.headers, dict):
                if not any(k.lower() == "content-disposition" for k in self.headers):
                    self.headers["content-disposition"] = disposition
            elif not any(k.lower() == "content-disposition" for k, _ in self.headers):
                self.headers.append(("content-disposition", disposition))

    @property
    def status_code(self) -> int:
        return self.status

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.path!r}, status_code={self.status!r}, "
            f"headers={self.headers!r}, media_type={self.media_type!r}, filename={self.filename!r})"
        )


def content_disposition(filename: str, disposition_type: str = "attachment") -> str:
    """``attachment; filename="name"`` (RFC 6266); a name that is not plain
    ASCII also gets ``filename*=UTF-8''...`` (RFC 5987), after an ASCII
    stand-in for old clients."""
    quoted = urllib.parse.quote(filename)
    if quoted == filename:
        return f'{disposition_type}; filename="{filename}"'
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f"{disposition_type}; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"
