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
import email.utils
import enum
import http.cookies
import json
import pathlib
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Union

__all__ = [
    "Response", "JSONResponse", "PlainTextResponse", "HTMLResponse", "RedirectResponse", "MutableHeaders", "jsonable",
]

Headers = Union[Mapping[str, str], "list[tuple[str, str]]"]


class MutableHeaders(MutableMapping[str, str]):
    """A response's headers: case-insensitive names, arrival order, repeats
    kept (Starlette's ``MutableHeaders``).

    ``headers[name]`` is the first value; ``headers[name] = value`` replaces
    every value of ``name``; :meth:`append` adds one more (``Set-Cookie``);
    :meth:`getlist` gives them all. :meth:`items` lists every pair, repeats
    included, which is what the engine sends.
    """

    __slots__ = ("_pairs",)

    def __init__(self, headers: Headers | None = None) -> None:
        self._pairs: list[tuple[str, str]] = []
        if headers is None:
            return
        pairs = list(headers.items()) if isinstance(headers, Mapping) else [tuple(pair) for pair in headers]
        for pair in pairs:
            if len(pair) != 2 or not isinstance(pair[0], str) or not isinstance(pair[1], str):
                raise TypeError(f"databridge: Response header {pair!r} is not a (str, str) pair")
            self._pairs.append((pair[0], pair[1]))

    def __getitem__(self, name: str) -> str:
        key = name.lower()
        for k, v in self._pairs:
            if k.lower() == key:
                return v
        raise KeyError(name)

    def __setitem__(self, name: str, value: str) -> None:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"databridge: Response header {(name, value)!r} is not a (str, str) pair")
        key = name.lower()
        for i, (k, _) in enumerate(self._pairs):
            if k.lower() == key:
                self._pairs[i] = (name, value)
                self._pairs[i + 1:] = [p for p in self._pairs[i + 1:] if p[0].lower() != key]
                return
        self._pairs.append((name, value))

    def __delitem__(self, name: str) -> None:
        key = name.lower()
        kept = [p for p in self._pairs if p[0].lower() != key]
        if len(kept) == len(self._pairs):
            raise KeyError(name)
        self._pairs = kept

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self._pairs)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self._pairs:
            if k.lower() not in seen:
                seen.add(k.lower())
                yield k.lower()

    def __len__(self) -> int:
        return len({k.lower() for k, _ in self._pairs})

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """Every (name, value) pair, repeats included, in order."""
        return list(self._pairs)

    def raw(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def append(self, name: str, value: str) -> None:
        """Add one more value of ``name``, keeping those it has."""
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"databridge: Response header {(name, value)!r} is not a (str, str) pair")
        self._pairs.append((name, value))

    def getlist(self, name: str) -> list[str]:
        key = name.lower()
        return [v for k, v in self._pairs if k.lower() == key]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MutableHeaders):
            other_pairs = other._pairs
        elif isinstance(other, Mapping):
            other_pairs = list(other.items())
        elif isinstance(other, list):
            other_pairs = other
        else:
            return NotImplemented
        return [(k.lower(), v) for k, v in self._pairs] == [(str(k).lower(), v) for k, v in other_pairs]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MutableHeaders({self._pairs!r})"


class Response:
    """A response with an explicit status, headers and content type.

    >>> Response(b"\\x89PNG...", media_type="image/png")            # doctest: +SKIP
    >>> Response({"id": 1}, status_code=201, headers={"Location": "/users/1"})  # doctest: +SKIP
    >>> Response("a,b", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])  # doctest: +SKIP

    ``status_code`` (Starlette's name) and ``status`` are the same thing.
    :attr:`headers` is a :class:`MutableHeaders` (repeats kept), given as a
    dict or a list of ``(name, value)`` pairs. ``media_type`` sets the
    content-type unless ``headers`` already has one. :attr:`body` is the
    content as given (a dict stays a dict: it is encoded when sent).
    ``background`` (a :class:`~databridge.BackgroundTasks`) runs after the
    response is sent. The engine reads the four first slots.
    """

    __slots__ = ("body", "status", "headers", "media_type", "background")

    media_type_default: str | None = None

    body: Any
    status: int
    headers: MutableHeaders
    media_type: str | None
    background: Any

    def __init__(
        self,
        content: Any = None,
        status_code: int | None = None,
        headers: Headers | None = None,
        media_type: str | None = None,
        background: Any = None,
        *,
        status: int | None = None,
    ) -> None:
        if status_code is None:
            status_code = 200 if status is None else status
        elif status is not None and status != status_code:
            raise TypeError("databridge: Response got both status_code= and status=; give one")
        status = status_code
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError(f"databridge: Response status must be an int, not {type(status).__name__}")
        if not 100 <= status <= 599:
            raise ValueError(f"databridge: Response status {status} is not an HTTP status code (100-599)")
        if media_type is None:
            media_type = self.media_type_default
        if media_type is not None and not isinstance(media_type, str):
            raise TypeError(f"databridge: Response media_type must be a str, not {type(media_type).__name__}")
        self.body = self.render(content)
        self.status = status
        self.headers = MutableHeaders(headers)
        self.media_type = media_type
        self.background = background

    def render(self, content: Any) -> Any:
        """The body to send for ``content`` (subclasses encode it)."""
        return content

    def _schedule_background(self) -> None:
        """Called by the engine once the response is encoded, when
        :attr:`background` is set: run it after the response is sent."""
        from .background import after_response

        after_response(self.background)

    @property
    def status_code(self) -> int:
        return self.status

    @status_code.setter
    def status_code(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
            raise ValueError(f"databridge: Response status {value!r} is not an HTTP status code (100-599)")
        self.status = value

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime.datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` header (Starlette's signature and format)."""
        cookie: http.cookies.BaseCookie[str] = http.cookies.SimpleCookie()
        cookie[key] = value
        if max_age is not None:
            cookie[key]["max-age"] = max_age
        if expires is not None:
            if isinstance(expires, datetime.datetime):
                cookie[key]["expires"] = email.utils.format_datetime(expires, usegmt=True)
            else:
                cookie[key]["expires"] = expires
        if path is not None:
            cookie[key]["path"] = path
        if domain is not None:
            cookie[key]["domain"] = domain
        if secure:
            cookie[key]["secure"] = True
        if httponly:
            cookie[key]["httponly"] = True
        if samesite is not None:
            if samesite.lower() not in ("strict", "lax", "none"):
                raise ValueError("databridge: samesite must be 'strict', 'lax' or 'none'")
            cookie[key]["samesite"] = samesite
        self.headers.append("set-cookie", cookie.output(header="").strip())

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Expire cookie ``key`` (a ``Set-Cookie`` with ``Max-Age=0``)."""
        self.set_cookie(key, max_age=0, expires=0, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.body!r}, status={self.status!r}, "
            f"headers={self.headers!r}, media_type={self.media_type!r})"
        )


class JSONResponse(Response):
    """``content`` as JSON (``application/json``), whatever its type: a
    ``str`` is a JSON string, ``None`` is ``null``."""

    __slots__ = ()
    media_type_default = "application/json"

    def render(self, content: Any) -> Any:
        if content is None or isinstance(content, str):
            return json.dumps(content, ensure_ascii=False).encode()
        return content


class PlainTextResponse(Response):
    """Text (``text/plain; charset=utf-8``)."""

    __slots__ = ()
    media_type_default = "text/plain"


class HTMLResponse(Response):
    """HTML (``text/html; charset=utf-8``)."""

    __slots__ = ()
    media_type_default = "text/html"


class RedirectResponse(Response):
    """A redirect to ``url`` (307 by default, as Starlette), no body."""

    __slots__ = ()

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Headers | None = None,
        background: Any = None,
    ) -> None:
        super().__init__(None, status_code=status_code, headers=headers, background=background)
        self.headers["location"] = urllib.parse.quote(str(url), safe=":/%#?=@[]!$&'()*+,;")


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
        super().__init__(None, status_code=status_code, headers=headers, media_type=media_type)
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
            if "content-disposition" not in self.headers:
                self.headers["content-disposition"] = content_disposition(filename, content_disposition_type)

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
