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

Handler parameters after ``request`` are filled from the request by name
and type, checked by the engine first (see :mod:`databridge.params`); every
decorator takes the options of :class:`RouteOptions`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from . import _core
from .params import RequestValidator
from .validation import Plan, WebSocketPlan, plan_route, plan_websocket

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

__all__ = ["Route", "Router", "RouteOptions", "WebSocketRoute"]

Handler = Callable[..., Any]
H = TypeVar("H", bound=Handler)

# An HTTP method is a token (RFC 9110, section 5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class RouteOptions(TypedDict, total=False):
    """Keyword options of every route decorator and of :meth:`Router.add_route`
    (the decorators also take ``name``, the route's name, which defaults to
    the handler's qualified name).

    - ``body``: the JSON body's schema: a pydantic model, a dataclass, a
      TypedDict or a JSON Schema dict; the parameter named ``body`` (or
      annotated with the model) receives it, built.
    - ``validator``: a :class:`~databridge.RequestValidator`.
    - ``summary``, ``description``, ``tags``: for OpenAPI (summary and
      description default to the docstring's first line and the rest).
    - ``response_model``, ``status_code``: the success response, for
      OpenAPI only (default: the return annotation, and 200).
    - ``include_in_schema``: False leaves the route out of OpenAPI.
    - ``dependencies``: ``[Depends(fn), ...]`` run before the handler, their
      values unused (FastAPI's); their parameters are validated too.
    - ``max_body_size``: the route's request body limit in bytes, larger
      or smaller than the server's ``max_body_size`` (which is the
      default); past it the answer is 413. An upload route (``UploadFile``)
      or a streamed body (``request.stream()``) may take gigabytes without
      holding them in memory.
    """

    body: Any
    validator: RequestValidator | None
    summary: str | None
    description: str | None
    tags: Iterable[str] | None
    response_model: Any
    status_code: int | None
    include_in_schema: bool
    dependencies: Iterable[Any] | None
    max_body_size: int | None


class NamedRouteOptions(RouteOptions, total=False):
    name: str | None


_OPTIONS = NamedRouteOptions.__required_keys__ | NamedRouteOptions.__optional_keys__


@dataclasses.dataclass(frozen=True)
class Route:
    """One handler for one method and full path (prefixes included), with
    its options. :attr:`endpoint` is what the engine calls and
    :attr:`spec` the route spec it validates with (None: no validation)."""

    method: str
    path: str
    handler: Handler
    name: str
    is_async: bool
    body: Any = None
    validator: RequestValidator | None = None
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    response_model: Any = None
    status_code: int | None = None
    include_in_schema: bool = True
    dependencies: tuple[Any, ...] = ()
    max_body_size: int | None = None
    plan: Plan | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def endpoint(self) -> Handler:
        return self.plan.endpoint if self.plan is not None else self.handler

    @property
    def spec(self) -> str | None:
        return self.plan.spec if self.plan is not None else None


@dataclasses.dataclass(frozen=True)
class WebSocketRoute:
    """A WebSocket endpoint for one full path, with its engine options and
    its ``Depends(...)`` (app's, routers', its own; see
    :meth:`Router.websocket`); :attr:`plan` is how its parameters and
    dependencies are read and solved."""

    path: str
    endpoint: Handler
    name: str
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    dependencies: tuple[Any, ...] = ()
    plan: WebSocketPlan | None = dataclasses.field(default=None, compare=False, repr=False)


_WS_OPTIONS = {"max_message_size", "send_queue", "receive_queue", "ping_interval", "idle_timeout", "compression"}


class Router:
    """A group of routes under a common ``prefix`` ("" or "/like/this").

    Register with the decorators (``get``, ``post``, ``route`` ...) or
    :meth:`add_route`, then add the group to an app or another router with
    :meth:`include_router`. Registering the same path twice for a method
    raises ValueError at once.
    """

    def __init__(self, prefix: str = "", *, dependencies: Iterable[Any] | None = None) -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"databridge: router prefix must be a str, not {type(prefix).__name__}")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f'databridge: router prefix "{prefix}" must start with "/" and not end with "/"')
        self.prefix = prefix
        #: ``Depends(...)`` run for every route of this router (FastAPI's
        #: ``dependencies=``), before the route's own.
        self.dependencies: list[Any] = list(dependencies or ())
        self.routes: list[Route] = []
        self._keys: set[tuple[str, str]] = set()  # (method, canonical path)
        self.websocket_routes: list[WebSocketRoute] = []

    # -- registering ------------------------------------------------------

    def add_route(self, method: str, path: str, handler: H, name: str | None = None, **options: Unpack[RouteOptions]) -> H:
        """Register ``handler`` for ``method`` and ``path``; return the handler."""
        self._add_all([self._route(method, path, handler, NamedRouteOptions(**options, name=name))])
        return handler

    def route(self, path: str, methods: Iterable[str] = ("GET",), **options: Unpack[NamedRouteOptions]) -> Callable[[H], H]:
        """Decorator: register the handler for ``path`` and each of ``methods``.

        Either every method is registered or, on an error, none is.
        """
        if isinstance(methods, str):
            raise TypeError(f'databridge: route "{path}": methods must be a list such as ["{methods}"], not a str')
        methods = list(methods)
        if not methods:
            raise ValueError(f'databridge: route "{path}": methods is empty')

        def decorator(handler: H) -> H:
            self._add_all([self._route(method, path, handler, options) for method in methods])
            return handler

        return decorator

    def get(self, path: str, **options: Unpack[NamedRouteOptions]) -> Callable[[H], H]:
        """Decorator: register the handler for GET (which also answers HEAD)."""
        return self.route(path, ["GET"], **options)

    def post(self, path: str, **options: Unpack[NamedRouteOptions]) -> Callable[[H], H]:
        """Decorator: register the handler for POST."""
        return self.route(path, ["POST"], **options)

    def put(self, path: str, **options: Unpack[NamedRouteOptions]) -> Callable[[H], H]:
        """Decorator: register the handler for PUT."""
        return self.route(path, ["PUT"], **options)

    def patch(self, path: str, **options: Unpack[NamedRouteOptions]) -> Callable[[H], H]:
        """Decorator: register the handler for PATCH."""
        return self.route(path, ["PATCH"], **options)

    def delete(self, path: str, **options: Unpack[NamedRouteOptions]) -> Callable[[H], H]:
        """Decorator: register the handler for DELETE."""
        return self.route(path, ["DELETE"], **options)

    def head(self, path: str, **options: Unpack[NamedRouteOptions]) -> Callable[[H], H]:
        """Decorator: register the handler for HEAD."""
        return self.route(path, ["HEAD"], **options)

    def options(self, path: str, **options: Unpack[NamedRouteOptions]) -> Callable[[H], H]:
        """Decorator: register the handler for OPTIONS."""
        return self.route(path, ["OPTIONS"], **options)

    def websocket(self, path: str, name: str | None = None, *, dependencies: Iterable[Any] | None = None,
                  **options: Any) -> Callable[[H], H]:
        """Decorator: register an ``async def endpoint(websocket, ...)`` for
        WebSocket connections to ``path`` (see :mod:`databridge.websockets`).
        Its parameters after the WebSocket are declared as an HTTP handler's
        (path and query parameters, ``Header``, ``Depends``) and read from
        the handshake request; ``dependencies=[Depends(...)]`` run first,
        after the router's. Options: ``max_message_size`` (bytes,
        default 16 MiB; past it the connection is closed with 1009),
        ``send_queue`` and ``receive_queue`` (messages, default 64),
        ``ping_interval`` and ``idle_timeout`` (seconds, default 20 and 60;
        None turns either off), ``compression`` (permessage-deflate, default
        True)."""
        where = f'databridge: websocket route "{path}"'
        unknown = sorted(set(options) - _WS_OPTIONS)
        if unknown:
            raise TypeError(f"{where}: unknown option {unknown[0]!r}")
        own = _checked_dependencies(where, dependencies)

        def decorator(endpoint: H) -> H:
            if not _is_async(endpoint):
                raise TypeError(f"{where}: the endpoint must be async def")
            full = self.prefix + path
            if not full.startswith("/"):
                raise ValueError(f'databridge: route "{path}" must start with "/"')
            _core.canonical_path(full)
            route = WebSocketRoute(full, endpoint, name or _default_name(endpoint), dict(options), (*self.dependencies, *own))
            self._add_websocket(_planned_websocket(route))
            return endpoint

        return decorator

    def add_websocket_route(self, path: str, endpoint: H, name: str | None = None, *,
                            dependencies: Iterable[Any] | None = None, **options: Any) -> H:
        """Register a WebSocket endpoint (as :meth:`websocket`); return it."""
        return self.websocket(path, name, dependencies=dependencies, **options)(endpoint)

    def _add_websocket(self, route: WebSocketRoute) -> None:
        key = ("GET", _core.canonical_path(route.path))
        if key in self._keys:
            raise ValueError(f'databridge: route "{route.path}" is already registered for GET')
        self._register_websocket(route)
        self._keys.add(key)
        self.websocket_routes.append(route)

    def _register_websocket(self, route: WebSocketRoute) -> None:
        """Hook for subclasses that register each WebSocket route somewhere else too."""

    def include_router(self, router: Router) -> None:
        """Add every route of ``router`` under this router's prefix.

        The routes are copied when this is called: routes added to
        ``router`` afterwards are not included.
        """
        if not isinstance(router, Router):
            raise TypeError(f"databridge: include_router expects a Router, not {type(router).__name__}")
        if router is self:
            raise ValueError("databridge: a router cannot include itself")
        self._add_all([
            _planned(dataclasses.replace(route, path=self.prefix + route.path, dependencies=(*self.dependencies, *route.dependencies)))
            for route in router.routes
        ])
        for ws in router.websocket_routes:
            self._add_websocket(_planned_websocket(
                dataclasses.replace(ws, path=self.prefix + ws.path, dependencies=(*self.dependencies, *ws.dependencies))
            ))

    # -- internals --------------------------------------------------------

    def _route(self, method: str, path: str, handler: Handler, options: NamedRouteOptions) -> Route:
        if not isinstance(path, str):
            raise TypeError(f"databridge: route path must be a str, not {type(path).__name__}")
        if not isinstance(method, str) or not _TOKEN.fullmatch(method):
            raise ValueError(f'databridge: route "{path}": {method!r} is not an HTTP method')
        if not callable(handler):
            raise TypeError(f'databridge: route "{path}": handler {handler!r} is not callable')
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise TypeError(f'databridge: route "{path}": unknown option {unknown[0]!r}')
        name = options.get("name")
        if name is not None and not isinstance(name, str):
            raise TypeError(f'databridge: route "{path}": name must be a str, not {type(name).__name__}')
        full_path = self.prefix + path
        if not full_path.startswith("/") or (path and not path.startswith("/")):
            raise ValueError(f'databridge: route "{path}" must start with "/"')
        _core.canonical_path(full_path)  # a malformed path fails here, as itself
        return _planned(Route(
            method=method.upper(),
            path=full_path,
            handler=handler,
            name=name if name is not None else _default_name(handler),
            is_async=_is_async(handler),
            **_with_dependencies(self.dependencies, _checked_options(path, options)),
        ))

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


def _checked_options(path: str, options: RouteOptions) -> dict[str, Any]:
    """The OpenAPI and validation options of a route, checked."""
    where = f'databridge: route "{path}"'
    checked: dict[str, Any] = {}
    for key in ("summary", "description"):
        value = options.get(key)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{where}: {key} must be a str, not {type(value).__name__}")
        checked[key] = value
    tags = options.get("tags")
    if tags is not None:
        if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
            raise TypeError(f'{where}: tags must be a list of str, such as ["users"]')
        checked["tags"] = tuple(tags)
    status = options.get("status_code")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise ValueError(f"{where}: status_code {status!r} is not an HTTP status code (100-599)")
    checked["status_code"] = status
    include = options.get("include_in_schema", True)
    if not isinstance(include, bool):
        raise TypeError(f"{where}: include_in_schema must be a bool")
    checked["include_in_schema"] = include
    if options.get("response_model") is not None:
        from ._schema import schema_of

        try:
            schema_of(options["response_model"], mode="serialization")
        except TypeError as exc:
            raise TypeError(f"{where}: response_model: {exc}") from None
    checked["response_model"] = options.get("response_model")
    checked["body"] = options.get("body")
    checked["validator"] = options.get("validator")
    dependencies = options.get("dependencies")
    if dependencies is not None:
        checked["dependencies"] = _checked_dependencies(where, dependencies)
    limit = options.get("max_body_size")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ValueError(f"{where}: max_body_size must be a positive int (bytes), not {limit!r}")
    checked["max_body_size"] = limit
    return checked


def _checked_dependencies(where: str, dependencies: Iterable[Any] | None) -> tuple[Any, ...]:
    """A route's ``dependencies=`` option, checked."""
    if dependencies is None:
        return ()
    from .dependencies import DependsMarker

    if isinstance(dependencies, (str, bytes)) or not all(isinstance(dep, DependsMarker) for dep in dependencies):
        raise TypeError(f"{where}: dependencies must be a list of Depends(...)")
    return tuple(dependencies)


def _with_dependencies(outer: list[Any], checked: dict[str, Any]) -> dict[str, Any]:
    checked["dependencies"] = (*outer, *checked.get("dependencies", ()))
    return checked


def _planned(route: Route) -> Route:
    """``route`` with its validation plan, made for its full path."""
    plan = plan_route(route.method, route.path, route.handler, route.is_async, route.body, route.validator, route.dependencies)
    return dataclasses.replace(route, plan=plan)


def _planned_websocket(route: WebSocketRoute) -> WebSocketRoute:
    """``route`` with its plan, made for its full path and dependencies."""
    return dataclasses.replace(route, plan=plan_websocket(route.path, route.endpoint, route.dependencies))


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
