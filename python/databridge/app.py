"""The application: a router whose routes go straight into a Go engine."""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, Union

from . import _core, openapi
from ._stack import Stack
from .requests import Request, State
from .responses import jsonable
from .routing import Route, Router, WebSocketRoute
from .server import Server
from .staticfiles import StaticFiles
from .validation import plan_websocket

Lifespan = Callable[["App"], contextlib.AbstractAsyncContextManager[Any]]
ExceptionKey = Union[int, type[BaseException]]
F = TypeVar("F", bound=Callable[..., Any])

logger = logging.getLogger("databridge")

__all__ = ["App"]


class App(Router):
    """A databridge application.

    >>> app = App(title="Users API", version="1.0")
    >>> @app.get("/users/{user_id}")
    ... def get_user(request, user_id: str):
    ...     return {"id": user_id}

    Each route is registered with the engine as soon as it is added, so a
    malformed or duplicate path fails at the decorator. ``title``,
    ``version`` and ``description`` describe the API in its OpenAPI
    document, :meth:`openapi`, served at ``openapi_url``; ``docs_url`` serves
    Swagger UI for it, from assets shipped in the package. ``None`` turns
    either off (the docs page needs the document).
    """

    def __init__(
        self,
        *,
        title: str = "databridge",
        version: str = "0.1.0",
        description: str | None = None,
        docs_url: str | None = "/docs",
        openapi_url: str | None = "/openapi.json",
        lifespan: Lifespan | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        exception_handlers: Mapping[ExceptionKey, Callable[..., Any]] | None = None,
        dependencies: Sequence[Any] | None = None,
        thread_pool_size: int | None = None,
    ) -> None:
        super().__init__(dependencies=dependencies)
        if thread_pool_size is not None and (
            isinstance(thread_pool_size, bool) or not isinstance(thread_pool_size, int) or thread_pool_size < 0
        ):
            raise ValueError(f"databridge: App(thread_pool_size={thread_pool_size!r}) must be an int >= 0")
        #: Handler threads for sync (``def``) handlers when served (None: the
        #: server's default, 40); a ``Server(thread_pool_size=...)`` or the
        #: ``--thread-pool-size`` flag wins over it.
        self.thread_pool_size = thread_pool_size
        if lifespan is not None and not callable(lifespan):
            raise TypeError("databridge: App(lifespan=...) must be a function of the app returning an async context manager")
        #: Attributes for the app's own use (Starlette's ``app.state``): a
        #: pool made at startup, settings ...
        self.state = State()
        self.lifespan = lifespan
        self._on_startup: list[Callable[[], Any]] = list(on_startup or ())
        self._on_shutdown: list[Callable[[], Any]] = list(on_shutdown or ())
        self._lifespan_cm: contextlib.AbstractAsyncContextManager[Any] | None = None
        #: ``{class or status: handler}``, as FastAPI's ``app.exception_handlers``.
        self.exception_handlers: dict[ExceptionKey, Callable[..., Any]] = {}
        self._http_middleware: list[Callable[..., Any]] = []  # outermost first
        self._stack_version = 0
        self._built_version = -1
        self._stack: Stack | None = None  # None: plain endpoints
        self._endpoints: list[Callable[..., Any]] = []  # as registered with the engine, in order
        for exc_key, handler in (exception_handlers or {}).items():
            self.add_exception_handler(exc_key, handler)
        for key, url in (("docs_url", docs_url), ("openapi_url", openapi_url)):
            if url is not None and (not isinstance(url, str) or not url.startswith("/")):
                raise ValueError(f'databridge: App({key}={url!r}) must be None or a path starting with "/"')
        self.title = title
        self.version = version
        self.description = description
        self.docs_url = docs_url
        self.openapi_url = openapi_url
        self._openapi: dict[str, Any] | None = None
        # (method, canonical path) -> (what the app serves there, the App option)
        self._builtin: dict[tuple[str, str], tuple[str, str]] = {}
        self._engine: int = _core.engine_new()
        #: (path, StaticFiles, name) of each mount, in order.
        self.mounts: list[tuple[str, StaticFiles, str | None]] = []
        self._add_builtin_routes()

    def run(self, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
        """Serve until Ctrl+C or SIGTERM, then finish requests in flight and
        return. ``options`` are :class:`databridge.Server`'s keyword
        arguments (limits, timeouts, TLS)."""
        Server(self, host, port, **options).run()

    # -- lifespan -----------------------------------------------------------

    def on_event(self, event_type: str) -> Callable[[F], F]:
        """Decorator: run the function (sync or async) at ``"startup"`` (before
        the port accepts) or ``"shutdown"`` (after requests in flight finish)."""
        if event_type not in ("startup", "shutdown"):
            raise ValueError(f'databridge: on_event takes "startup" or "shutdown", not {event_type!r}')

        def decorator(fn: F) -> F:
            self.add_event_handler(event_type, fn)
            return fn

        return decorator

    def add_event_handler(self, event_type: str, fn: Callable[[], Any]) -> None:
        if event_type not in ("startup", "shutdown"):
            raise ValueError(f'databridge: add_event_handler takes "startup" or "shutdown", not {event_type!r}')
        if not callable(fn):
            raise TypeError(f"databridge: event handler {fn!r} is not callable")
        (self._on_startup if event_type == "startup" else self._on_shutdown).append(fn)

    async def _startup(self) -> None:
        """Run the startup handlers, then enter the lifespan (on the loop
        that will serve). A mapping the lifespan yields is merged into
        :attr:`state`."""
        for fn in self._on_startup:
            result = fn()
            if inspect.isawaitable(result):
                await result
        if self.lifespan is not None:
            cm = self.lifespan(self)
            if not hasattr(cm, "__aenter__"):
                raise TypeError("databridge: App(lifespan=...) must return an async context manager (use @contextlib.asynccontextmanager)")
            value = await cm.__aenter__()
            self._lifespan_cm = cm
            if isinstance(value, Mapping):
                for key, item in value.items():
                    setattr(self.state, key, item)

    async def _shutdown(self) -> None:
        """Leave the lifespan, then run the shutdown handlers."""
        cm, self._lifespan_cm = self._lifespan_cm, None
        if cm is not None:
            await cm.__aexit__(None, None, None)
        for fn in self._on_shutdown:
            result = fn()
            if inspect.isawaitable(result):
                await result

    # -- middleware and exception handlers ------------------------------------

    def middleware(self, middleware_type: str) -> Callable[[F], F]:
        """Decorator: ``@app.middleware("http")`` on ``async def mw(request,
        call_next)``. ``request`` is a :class:`~databridge.Request` (a view
        of the request dict); ``await call_next(request)`` returns the
        :class:`~databridge.Response`, which the middleware may change or
        replace. The last one added runs outermost. Middleware see every
        response, the engine's 404/405/413/422 included."""
        if middleware_type != "http":
            raise ValueError(f'databridge: middleware type must be "http", not {middleware_type!r}')

        def decorator(fn: F) -> F:
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"databridge: middleware {fn!r} must be an async def function (request, call_next)")
            self._http_middleware.insert(0, fn)
            self._changed()
            return fn

        return decorator

    def exception_handler(self, exc_class_or_status_code: ExceptionKey) -> Callable[[F], F]:
        """Decorator: answer an exception class (or HTTPError/HTTPException
        of a status code; 500 for any unhandled exception) with
        ``handler(request, exc)``, which returns any response form."""

        def decorator(fn: F) -> F:
            self.add_exception_handler(exc_class_or_status_code, fn)
            return fn

        return decorator

    def add_exception_handler(self, exc_class_or_status_code: ExceptionKey, handler: Callable[..., Any]) -> None:
        key = exc_class_or_status_code
        if isinstance(key, bool) or not (
            (isinstance(key, int) and 100 <= key <= 599) or (isinstance(key, type) and issubclass(key, BaseException))
        ):
            raise TypeError(f"databridge: exception handler key {key!r} must be an exception class or an HTTP status code")
        if not callable(handler):
            raise TypeError(f"databridge: exception handler {handler!r} is not callable")
        self.exception_handlers[key] = handler
        self._changed()

    def _changed(self) -> None:
        self._stack_version += 1

    def _build(self) -> None:
        """Install the middleware stack, if it changed: each endpoint wrapped
        (or not) and the response hook (called before serving)."""
        if self._built_version == self._stack_version:
            return
        stack = Stack(self)
        self._stack = None if stack.empty else stack
        for index, endpoint in enumerate(self._endpoints):
            _core.set_handler(self._engine, index, endpoint if self._stack is None else self._stack.wrap(endpoint))
        _core.set_hook(self._engine, stack.hook() if stack.wants_hook else None)
        self._built_version = self._stack_version

    def _log_server_error(self, request: Request, exc: BaseException) -> None:
        logger.error("%s %s raised; answered by the exception handler for 500", request.method, request.url,
                     exc_info=(type(exc), exc, exc.__traceback__))

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of the routes (made once, and again after
        routes are added). The same dict is returned each time: changes to
        it are served at ``openapi_url``."""
        if self._openapi is None:
            self._openapi = openapi.build(self)
        return self._openapi

    def add_fixed_response(
        self,
        path: str,
        content: Any,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        methods: Iterable[str] = ("GET",),
        name: str | None = None,
    ) -> None:
        """Answer ``path`` with one fixed response, made now and sent by
        the engine without calling Python: health checks, ``robots.txt``.

        ``content`` is encoded as a handler's body would be: ``bytes`` as
        they are (``application/octet-stream``), ``str`` as UTF-8 text
        (``text/plain; charset=utf-8``), anything else as JSON. A GET route
        also answers HEAD. The route is not in :attr:`routes` nor in the
        OpenAPI document.
        """
        if isinstance(content, (bytes, bytearray, memoryview)):
            body, default_type = bytes(content), "application/octet-stream"
        elif isinstance(content, str):
            body, default_type = content.encode(), "text/plain; charset=utf-8"
        else:
            body = json.dumps(content, default=jsonable, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
            default_type = "application/json"
        pairs = [(str(k), str(v)) for k, v in (headers or {}).items()]
        if not any(k.lower() == "content-type" for k, _ in pairs):
            if media_type is not None and media_type.startswith("text/") and "charset" not in media_type:
                media_type += "; charset=utf-8"
            pairs.append(("content-type", media_type or default_type))
        label = name or f"fixed {path}"
        for method in methods:
            _core.add_fixed(self._engine, method.upper(), path, label, status_code, pairs, body)

    def add_middleware(self, middleware_class: type[Any], **options: Any) -> None:
        """Wrap the app in a native middleware from :mod:`databridge.middleware`
        (CORS, GZip, TrustedHost, HTTPSRedirect), made with ``options`` (its
        keyword arguments, Starlette's) and run by the engine in Go, with no
        Python call per request. As in Starlette, the middleware added last
        is the outermost. Raises TypeError for a class that is not one and
        TypeError/ValueError for bad options."""
        _core.add_middleware(self._engine, *_native_middleware(middleware_class, options))
    def mount(self, path: str, app: StaticFiles, name: str | None = None) -> None:
        """Serve ``app`` under ``path``: ``/static/css/site.css`` is the
        file ``css/site.css`` of ``StaticFiles(directory=...)``. The engine
        serves it, in Go, with no Python per request; GET and HEAD (other
        methods are 405). Only :class:`StaticFiles` can be mounted for now
        (other applications come with ASGI hosting). Routes registered
        before the mount win over it for the paths they match."""
        if not isinstance(app, StaticFiles):
            raise TypeError(
                f"databridge: App.mount() takes a StaticFiles, not {type(app).__name__}: "
                "mounting other applications (ASGI) is not supported yet"
            )
        if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in "{}<>"):
            raise ValueError(f'databridge: mount path {path!r} must be a literal path starting with "/"')
        prefix = path.rstrip("/")
        label = name or f"mount {prefix or '/'}"
        try:
            _core.add_static(self._engine, prefix, app.directory, label, app.html, app.follow_symlink, app.cache_control)
        except ValueError as exc:
            if "static directory" in str(exc):
                raise RuntimeError(str(exc)) from exc
            raise
        self.mounts.append((prefix or "/", app, name))

    # -- internals --------------------------------------------------------

    def _add_endpoint(
        self, method: str, path: str, endpoint: Callable[..., Any], name: str, spec: str | None, options: str | None = None
    ) -> None:
        served = endpoint if self._stack is None else self._stack.wrap(endpoint)
        _core.add_route(self._engine, method, path, served, name, spec, options)
        self._endpoints.append(endpoint)

    def _register(self, route: Route) -> None:
        options: dict[str, Any] = {}
        if route.max_body_size is not None:
            options["max_body_size"] = route.max_body_size
        if route.plan is not None and route.plan.body_mode != "buffer":
            options["body"] = route.plan.body_mode
        try:
            self._add_endpoint(route.method, route.path, route.endpoint, route.name, route.spec, json.dumps(options) if options else None)
        except ValueError as exc:
            if route.spec is not None and route.path not in str(exc):
                raise ValueError(f'databridge: route "{route.method} {route.path}": {exc}') from exc
            raise
        self._openapi = None

    def _register_websocket(self, route: WebSocketRoute) -> None:
        from . import websockets

        label = f"WEBSOCKET {route.path} ({route.name})"
        plan = route.plan if route.plan is not None else plan_websocket(route.path, route.endpoint, route.dependencies)
        run = websockets.entry(route.endpoint, plan, label)
        _core.add_websocket(self._engine, route.path, run, route.name, json.dumps({k: (0 if v is None else v) for k, v in route.options.items()}))

    def _add_all(self, routes: list[Route]) -> None:
        for route in routes:
            builtin = self._builtin.get((route.method, _core.canonical_path(route.path)))
            if builtin is not None:
                what, option = builtin
                raise ValueError(
                    f'databridge: route "{route.path}" is already registered for {route.method}: '
                    f"the app serves {what} there (move it with App({option}=...) or turn it off with App({option}=None))"
                )
        super()._add_all(routes)

    def _add_builtin_routes(self) -> None:
        """The OpenAPI document and the docs page with its assets. They are
        not in :attr:`routes` (nor in the document)."""
        app = weakref.ref(self)  # the engine holds the handlers: no cycle through it
        served: list[tuple[str, Any, str, str]] = []
        if self.openapi_url is not None:
            served.append((self.openapi_url, openapi.document_handler(app), "the OpenAPI document", "openapi_url"))
            if self.docs_url is not None:
                served.append((self.docs_url, openapi.docs_handler(app), "the API docs page", "docs_url"))
                if openapi.missing_assets():  # not built: each asset answers 503 saying so
                    for asset, handler in openapi.asset_handlers():
                        served.append((openapi.asset_url(self.docs_url, asset), handler, "a docs asset", "docs_url"))
                else:  # the Go file server sends them: no Python per request
                    _core.add_static(self._engine, self.docs_url.rstrip("/"), str(openapi.ASSET_DIR), "databridge.docs_assets",
                                     False, False, openapi.ASSET_CACHE_CONTROL, "\0".join(openapi.ASSETS))
                    for asset in openapi.ASSETS:
                        self._builtin[("GET", _core.canonical_path(openapi.asset_url(self.docs_url, asset)))] = (
                            "a docs asset", "docs_url")
        for path, handler, what, option in served:
            self._add_endpoint("GET", path, handler, f"databridge.{handler.__name__}", None)
            self._builtin[("GET", _core.canonical_path(path))] = (what, option)

    def __del__(self) -> None:
        engine = self.__dict__.pop("_engine", None)  # absent if __init__ failed
        if engine is None or _core is None:  # _core is None late in interpreter shutdown
            return
        try:
            _core.engine_free(engine)
        except Exception:
            pass


def _native_middleware(middleware_class: type[Any], options: dict[str, Any]) -> tuple[str, str]:
    """(kind, options JSON) of a native middleware class and its options."""
    from .middleware import NativeMiddleware

    if not (isinstance(middleware_class, type) and issubclass(middleware_class, NativeMiddleware)):
        raise TypeError(
            f"databridge: add_middleware takes a class from databridge.middleware "
            f"(CORSMiddleware, GZipMiddleware, TrustedHostMiddleware, HTTPSRedirectMiddleware), not {middleware_class!r}"
        )
    instance = middleware_class(**options)
    return instance.kind, instance.options_json()
