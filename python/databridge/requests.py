"""The request as Python middleware and exception handlers see it.

Handlers get the request dict (the README's contract). Middleware and
exception handlers get a :class:`Request`: a thin, Starlette-like view of
that same dict (``request.method``, ``.url``, ``.headers``, ``.state`` ...),
which also indexes like the dict (``request["path_params"]``) and hands it
over as :attr:`Request.scope`.
"""

from __future__ import annotations

import http.cookies
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from .exceptions import HTTPError

__all__ = ["ClientDisconnect", "FormData", "MultiDict", "Request", "State", "URL", "parse_cookies"]


class ClientDisconnect(HTTPError):
    """Raised by :meth:`Request.stream` (and ``body()``/``json()``) when the
    client goes away, or stops sending, before the body is complete
    (Starlette's name). Left unhandled it answers 400 (the body is
    incomplete), which a client that is gone never reads; no traceback is
    logged."""

    def __init__(self, detail: str = "request body incomplete: the client closed the connection or stopped sending") -> None:
        super().__init__(400, detail)


# Chunk kinds of a streamed body (pyroute/bodystream.go).
_DATA, _END, _TOO_LARGE, _BAD, _GONE = 0, 1, 2, 3, 4


class State:
    """An attribute namespace (Starlette's ``State``): ``app.state.pool = ...``.

    Missing attributes raise AttributeError naming them.
    """

    def __init__(self, state: Mapping[str, Any] | None = None) -> None:
        super().__setattr__("_state", dict(state or {}))

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{key}'") from None

    def __delattr__(self, key: str) -> None:
        del self._state[key]

    def __repr__(self) -> str:
        return f"State({self._state!r})"


class URL(str):
    """The request's full URL, a ``str`` with Starlette's parts:
    ``.scheme``, ``.netloc``, ``.hostname``, ``.port``, ``.path``, ``.query``."""

    @property
    def _parts(self) -> Any:
        return urlsplit(self)

    @property
    def scheme(self) -> str:
        return str(self._parts.scheme)

    @property
    def netloc(self) -> str:
        return str(self._parts.netloc)

    @property
    def hostname(self) -> str | None:
        host = self._parts.hostname
        return None if host is None else str(host)

    @property
    def port(self) -> int | None:
        port = self._parts.port
        return None if port is None else int(port)

    @property
    def path(self) -> str:
        return str(self._parts.path)

    @property
    def query(self) -> str:
        return str(self._parts.query)


class _Headers(Mapping[str, str]):
    """The request headers by case-insensitive name (values as in the dict:
    a repeated header's values joined with ", ")."""

    __slots__ = ("_d",)

    def __init__(self, d: Mapping[str, str]) -> None:
        self._d = d

    def __getitem__(self, name: str) -> str:
        return self._d[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._d

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def getlist(self, name: str) -> list[str]:
        getlist = getattr(self._d, "getlist", None)
        if getlist is not None:
            return list(getlist(name.lower()))
        value = self._d.get(name.lower())
        return [] if value is None else [value]

    def __repr__(self) -> str:
        return f"Headers({dict(self._d)!r})"


def parse_cookies(header: str) -> dict[str, str]:
    """``name -> value`` of a Cookie header, leniently, as Starlette's
    ``cookie_parser`` (a browser's header, not RFC 6265's strict grammar)."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        if "=" in chunk:
            key, value = chunk.split("=", 1)
        else:
            key, value = "", chunk
        key, value = key.strip(), value.strip()
        if key or value:
            cookies[key] = http.cookies._unquote(value)
    return cookies


class Request(Mapping[str, Any]):
    """A view of the request dict for middleware and exception handlers.

    ``method``, ``url`` (a :class:`URL`), ``headers`` (case-insensitive),
    ``query_params``, ``path_params``, ``cookies``, ``client`` (``"ip:port"``),
    ``state`` (a :class:`State` shared with the handler as
    ``request["state"]``) and ``await request.body()`` / ``.json()`` /
    ``async for chunk in request.stream()``.
    ``request[key]`` reads the dict; :attr:`scope` is the dict itself.

    On a route whose ``async def`` handler (or a dependency) takes a
    ``Request`` and that has no body model or ``UploadFile``, the engine
    does not read the body before the call: the dict's ``body``,
    ``raw_body`` and ``form_data`` are empty, and ``stream()`` gives the
    body as it arrives (``body()`` and ``json()`` read it whole, once).
    """

    __slots__ = ("scope", "_kwargs", "_endpoint")

    def __init__(
        self, scope: dict[str, Any], kwargs: dict[str, Any] | None = None, endpoint: Callable[..., Any] | None = None
    ) -> None:
        self.scope = scope
        self._kwargs = kwargs if kwargs is not None else {}
        self._endpoint = endpoint  # what the middleware stack calls last

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    @property
    def method(self) -> str:
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def url(self) -> URL:
        return URL(self.scope["url"])

    @property
    def headers(self) -> _Headers:
        return _Headers(self.scope["headers"])

    @property
    def query_params(self) -> Mapping[str, str]:
        return self.scope["query_params"]  # type: ignore[no-any-return]

    @property
    def path_params(self) -> Mapping[str, Any]:
        return self.scope["path_params"]  # type: ignore[no-any-return]

    @property
    def cookies(self) -> dict[str, str]:
        cookies = self.scope.get("cookies")
        if cookies is None:
            cookies = parse_cookies(self.scope["headers"].get("cookie", ""))
        return cookies

    @property
    def client(self) -> str:
        return self.scope["client"]  # type: ignore[no-any-return]

    @property
    def state(self) -> State:
        state = self.scope.get("state")
        if state is None:
            state = self.scope["state"] = State()
        return state

    async def stream(self) -> AsyncIterator[bytes]:
        """The body, chunk by chunk (each at most 64 KiB), as it arrives;
        ``b""`` never comes. The engine reads the next chunk only when this
        asks for it. Past the route's ``max_body_size`` it raises
        :class:`~databridge.HTTPException` 413, for a malformed body 400,
        and :class:`ClientDisconnect` when the client goes away. Once read,
        the body is gone: ``stream()`` again raises RuntimeError (``body()``
        keeps it)."""
        scope = self.scope
        cached = scope.get("_body_cache")
        if cached is not None:
            if cached:
                yield cached
            return
        stream_id = scope.get("_stream")
        if stream_id is None:
            raw = scope.get("raw_body") or b""
            if raw:
                yield raw
            return
        if scope.get("_stream_used"):
            raise RuntimeError("databridge: the request body was already read (await request.body() keeps it)")
        scope["_stream_used"] = True
        from . import _core
        from .exceptions import HTTPException

        loop = _running_loop()
        while True:
            future = loop.create_future()
            _core.body_read(stream_id, future)
            kind, data = await future
            if kind == _DATA:
                yield data
            elif kind == _END:
                return
            elif kind == _TOO_LARGE:
                raise HTTPException(413, data.decode())
            elif kind == _BAD:
                raise HTTPException(400, data.decode())
            else:
                raise ClientDisconnect()

    async def body(self) -> bytes:
        """The whole body (read once, then kept)."""
        cached = self.scope.get("_body_cache")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if self.scope.get("_stream") is None:
            return self.scope.get("raw_body") or b""
        chunks = [chunk async for chunk in self.stream()]
        body = b"".join(chunks)
        self.scope["_body_cache"] = body
        return body

    async def json(self) -> Any:
        """The body as JSON: the engine's parse on a route that reads the
        body before the call, ``json.loads`` of :meth:`body` on a streamed
        one (invalid JSON is then a 400)."""
        if self.scope.get("_stream") is None:
            return self.scope["body"]
        body = await self.body()
        try:
            return json.loads(body)
        except ValueError as exc:
            from .exceptions import HTTPException

            raise HTTPException(400, f"invalid JSON body: {exc}") from None

    async def form(self) -> FormData:
        """The form body (urlencoded or multipart) as a :class:`FormData`:
        each field's first value (a ``str``, or an
        :class:`~databridge.UploadFile` for a file) and ``getlist`` for all.
        The engine's parse when it read the body before the call; on a
        streamed route the body is read now and parsed in Python (prefer
        ``Form()``/``UploadFile`` parameters there: they are parsed as the
        body arrives, and large files go to disk)."""
        cached = self.scope.get("_form_cache")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if self.scope.get("_stream") is None:
            form = _form_from_dict(self.scope.get("form_data") or {})
        else:
            form = _parse_form(self.headers.get("content-type", ""), await self.body())
        self.scope["_form_cache"] = form
        return form

    async def is_disconnected(self) -> bool:
        """:func:`databridge.is_disconnected`: True once the client of the
        response being streamed is gone (call it from the generator)."""
        from .streaming import is_disconnected

        return await is_disconnected(self)

    def __repr__(self) -> str:
        return f"<Request {self.scope.get('method')} {self.scope.get('url')}>"


class FormData(Mapping[str, Any]):
    """A parsed form (Starlette's ``FormData``): ``form["name"]`` is the
    name's first value, ``getlist`` gives all, ``multi_items`` every pair
    in order. File values are :class:`~databridge.UploadFile`."""

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, Any]] | None = None) -> None:
        self._items = list(items or [])

    def __getitem__(self, key: str) -> Any:
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._items))

    def __len__(self) -> int:
        return len(dict.fromkeys(name for name, _ in self._items))

    def getlist(self, key: str) -> list[Any]:
        return [value for name, value in self._items if name == key]

    def multi_items(self) -> list[tuple[str, Any]]:
        return list(self._items)

    async def close(self) -> None:
        for _, value in self._items:
            close = getattr(value, "close", None)
            if close is not None:
                await close()

    def __repr__(self) -> str:
        return f"FormData({self._items!r})"


def _form_from_dict(form_data: Mapping[str, Any]) -> FormData:
    """The FormData of the engine's ``form_data``."""
    from .uploads import from_entry

    items: list[tuple[str, Any]] = []
    fields = form_data.get("fields") or {}
    for name in fields:
        values = fields.getlist(name) if hasattr(fields, "getlist") else [fields[name]]
        items.extend((name, value) for value in values)
    items.extend((entry["name"], from_entry(entry)) for entry in form_data.get("files") or ())
    return FormData(items)


def _parse_form(content_type: str, body: bytes) -> FormData:
    """A form body parsed in Python (a streamed route's ``form()``): an
    urlencoded body, or a multipart one with the standard library's MIME
    parser. Anything else is an empty form; a malformed body a 400."""
    import email.parser
    import email.policy
    import io
    from urllib.parse import parse_qsl

    from .exceptions import HTTPException
    from .uploads import UploadFile

    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        try:
            return FormData(parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise HTTPException(400, "invalid form body: not UTF-8") from None
    if media != "multipart/form-data":
        return FormData()
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise HTTPException(400, "invalid multipart body")
    items: list[tuple[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            items.append((name, data.decode("utf-8", "replace")))
        else:
            headers = {k.lower(): str(v) for k, v in part.items()}
            items.append((name, UploadFile(io.BytesIO(data), size=len(data), filename=filename, headers=headers,
                                           content_type=part.get_content_type())))
    return FormData(items)


def _running_loop() -> Any:
    import asyncio

    return asyncio.get_running_loop()


class MultiDict(dict):  # type: ignore[type-arg]
    """``request["query_params"]``, ``request["headers"]`` and
    ``request["form_data"]["fields"]``: a dict of each name's first value
    (headers: the values joined with ", "), plus :meth:`getlist` for all of
    them. The engine makes them; a plain dict elsewhere."""

    __slots__ = ("_lists",)
    _lists: dict[str, list[str]]

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key``, in order ([] when absent)."""
        try:
            lists = self._lists
        except AttributeError:
            lists = None
        if lists is not None:
            values = lists.get(key)
            if values is not None:
                return list(values)
        if key in self:
            return [self[key]]
        return []

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, names in order of first appearance."""
        return [(key, value) for key in self for value in self.getlist(key)]
