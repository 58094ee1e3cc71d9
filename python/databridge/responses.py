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
