"""The request as Python middleware and exception handlers see it.

Handlers get the request dict (the README's contract). Middleware and
exception handlers get a :class:`Request`: a thin, Starlette-like view of
that same dict (``request.method``, ``.url``, ``.headers``, ``.state`` ...),
which also indexes like the dict (``request["path_params"]``) and hands it
over as :attr:`Request.scope`.
"""

from __future__ import annotations

import http.cookies
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MultiDict", "Request", "State", "URL", "parse_cookies"]


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
    ``request["state"]``) and ``await request.body()`` / ``.json()``.
    ``request[key]`` reads the dict; :attr:`scope` is the dict itself.
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

    async def body(self) -> bytes:
        return self.scope["raw_body"]  # type: ignore[no-any-return]

    async def json(self) -> Any:
        return self.scope["body"]

    async def is_disconnected(self) -> bool:
        """:func:`databridge.is_disconnected`: True once the client of the
        response being streamed is gone (call it from the generator)."""
        from .streaming import is_disconnected

        return await is_disconnected(self)

    def __repr__(self) -> str:
        return f"<Request {self.scope.get('method')} {self.scope.get('url')}>"


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
