"""Routes and routers: which handler answers which method and path.

>>> router = Router(prefix="/v2")
>>> @router.get("/ping")
... def ping(request):
...     return "pong"
>>> [(r.method, r.path, r.name) for r in router.routes]
[('GET', '/v2/ping', 'ping')]

Paths take ``{name}`` or ``<name>`` parameters and the typed converters
``<int:name>``, ``<float:name>``, ``<uuid:name>`` and ``<path:name>``. Paths
are matched exactly: ``/a`` and ``/a/`` are different routes.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from . import _core

__all__ = ["Route", "Router"]

Handler = Callable[..., Any]
H = TypeVar("H", bound=Handler)

# An HTTP method is a token (RFC 9110, section 5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclasses.dataclass(frozen=True)
class Route:
    """One handler for one method and full path (prefixes included)."""

    method: str
    path: str
    handler: Handler
    name: str
    is_async: bool


class Router:
    """A group of routes under a common ``prefix`` ("" or "/like/this").

    Register with the decorators (``get``, ``post``, ``route`` ...) or
    :meth:`add_route`, then add the group to an app or another router with
    :meth:`include_router`. Registering the same path twice for a method
    raises ValueError at once.
    """

    def __init__(self, prefix: str = "") -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"databridge: router prefix must be a str, not {type(prefix).__name__}")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f'databridge: router prefix "{prefix}" must start with "/" and not end with "/"')
        self.prefix = prefix
        self.routes: list[Route] = []
        self._keys: set[tuple[str, str]] = set()  # (method, canonical path)

    # -- registering ------------------------------------------------------

    def add_route(self, method: str, path: str, handler: H, name: str | None = None) -> H:
        """Register ``handler`` for ``method`` and ``path``; return the handler."""
        self._add_all([self._route(method, path, handler, name)])
        return handler

    def route(self, path: str, methods: Iterable[str] = ("GET",), *, name: str | None = None) -> Callable[[H], H]:
        """Decorator: register the handler for ``path`` and each of ``methods``.

        Either every method is registered or, on an error, none is.
        """
        if isinstance(methods, str):
            raise TypeError(f'databridge: route "{path}": methods must be a list such as ["{methods}"], not a str')
        methods = list(methods)
        if not methods:
            raise ValueError(f'databridge: route "{path}": methods is empty')

        def decorator(handler: H) -> H:
            self._add_all([self._route(method, path, handler, name) for method in methods])
            return handler

        return decorator

    def get(self, path: str, *, name: str | None = None) -> Callable[[H], H]:
        """Decorator: register the handler for GET (which also answers HEAD)."""
        return self.route(path, ["GET"], name=name)

    def post(self, path: str, *, name: str | None = None) -> Callable[[H], H]:
        """Decorator: register the handler for POST."""
        return self.route(path, ["POST"], name=name)

    def put(self, path: str, *, name: str | None = None) -> Callable[[H], H]:
        """Decorator: register the handler for PUT."""
        return self.route(path, ["PUT"], name=name)

    def patch(self, path: str, *, name: str | None = None) -> Callable[[H], H]:
        """Decorator: register the handler for PATCH."""
        return self.route(path, ["PATCH"], name=name)

    def delete(self, path: str, *, name: str | None = None) -> Callable[[H], H]:
        """Decorator: register the handler for DELETE."""
        return self.route(path, ["DELETE"], name=name)

    def head(self, path: str, *, name: str | None = None) -> Callable[[H], H]:
        """Decorator: register the handler for HEAD."""
        return self.route(path, ["HEAD"], name=name)

    def options(self, path: str, *, name: str | None = None) -> Callable[[H], H]:
        """Decorator: register the handler for OPTIONS."""
        return self.route(path, ["OPTIONS"], name=name)

    def include_router(self, router: Router) -> None:
        """Add every route of ``router`` under this router's prefix.

        The routes are copied when this is called: routes added to
        ``router`` afterwards are not included.
        """
        if not isinstance(router, Router):
            raise TypeError(f"databridge: include_router expects a Router, not {type(router).__name__}")
        if router is self:
            raise ValueError("databridge: a router cannot include itself")
        self._add_all([dataclasses.replace(route, path=self.prefix + route.path) for route in router.routes])

    # -- internals --------------------------------------------------------

    def _route(self, method: str, path: str, handler: Handler, name: str | None) -> Route:
        if not isinstance(path, str):
            raise TypeError(f"databridge: route path must be a str, not {type(path).__name__}")
        if not isinstance(method, str) or not _TOKEN.fullmatch(method):
            raise ValueError(f'databridge: route "{path}": {method!r} is not an HTTP method')
        if not callable(handler):
            raise TypeError(f'databridge: route "{path}": handler {handler!r} is not callable')
        if name is not None and not isinstance(name, str):
            raise TypeError(f'databridge: route "{path}": name must be a str, not {type(name).__name__}')
        full_path = self.prefix + path
        if not full_path.startswith("/") or (path and not path.startswith("/")):
            raise ValueError(f'databridge: route "{path}" must start with "/"')
        return Route(
            method=method.upper(),
            path=full_path,
            handler=handler,
            name=name if name is not None else _default_name(handler),
            is_async=_is_async(handler),
        )

    def _add_all(self, routes: list[Route]) -> None:
        """Check every route first, then register them all."""
        keys: list[tuple[str, str]] = []
        for route in routes:
            key = (route.method, _core.canonical_path(route.path))
            if key in self._keys or key in keys:
                raise ValueError(f'databridge: route "{route.path}" is already registered for {route.method}')
            keys.append(key)
        for key, route in zip(keys, routes):
            self._register(route)
            self._keys.add(key)
            self.routes.append(route)

    def _register(self, route: Route) -> None:
        """Hook for subclasses that register each route somewhere else too."""


def _default_name(handler: Handler) -> str:
    while isinstance(handler, functools.partial):
        handler = handler.func
    name = getattr(handler, "__qualname__", None)
    if isinstance(name, str):
        return name
    return type(handler).__qualname__


def _is_async(handler: Handler) -> bool:
    """True for an ``async def`` function, a partial of one, or an object
    whose ``__call__`` is ``async def``."""
    while isinstance(handler, functools.partial):
        handler = handler.func
    if inspect.iscoroutinefunction(handler):
        return True
    if inspect.isfunction(handler) or inspect.ismethod(handler) or inspect.isbuiltin(handler) or isinstance(handler, type):
        return False
    return inspect.iscoroutinefunction(getattr(handler, "__call__", None))
