"""The application: a router whose routes go straight into a Go engine."""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from . import _core, openapi
from .responses import jsonable
from .routing import Route, Router, WebSocketRoute
from .server import Server

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
    ) -> None:
        super().__init__()
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
        self._add_builtin_routes()

    def run(self, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
        """Serve until Ctrl+C or SIGTERM, then finish requests in flight and
        return. ``options`` are :class:`databridge.Server`'s keyword
        arguments (limits, timeouts, TLS)."""
        Server(self, host, port, **options).run()

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

    # -- internals --------------------------------------------------------

    def _register(self, route: Route) -> None:
        try:
            _core.add_route(self._engine, route.method, route.path, route.endpoint, route.name, route.spec)
        except ValueError as exc:
            if route.spec is not None and route.path not in str(exc):
                raise ValueError(f'databridge: route "{route.method} {route.path}": {exc}') from exc
            raise
        self._openapi = None

    def _register_websocket(self, route: WebSocketRoute) -> None:
        from . import websockets

        label = f"WEBSOCKET {route.path} ({route.name})"
        run = websockets.entry(route.endpoint, route.path, label)
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
                for asset, handler in openapi.asset_handlers():
                    served.append((openapi.asset_url(self.docs_url, asset), handler, "a docs asset", "docs_url"))
        for path, handler, what, option in served:
            _core.add_route(self._engine, "GET", path, handler, f"databridge.{handler.__name__}", None)
            self._builtin[("GET", _core.canonical_path(path))] = (what, option)

    def __del__(self) -> None:
        engine = self.__dict__.pop("_engine", None)  # absent if __init__ failed
        if engine is None or _core is None:  # _core is None late in interpreter shutdown
            return
        try:
            _core.engine_free(engine)
        except Exception:
            pass
