"""The application: a router whose routes go straight into a Go engine."""

from __future__ import annotations

from . import _core
from .routing import Route, Router
from .server import Server

__all__ = ["App"]


class App(Router):
    """A databridge application.

    >>> app = App()
    >>> @app.get("/users/{user_id}")
    ... def get_user(request):
    ...     return {"id": request["path_params"]["user_id"]}

    Each route is registered with the engine as soon as it is added, so a
    malformed or duplicate path fails at the decorator. ``title`` and
    ``version`` describe the API (for OpenAPI).
    """

    def __init__(self, *, title: str = "databridge", version: str = "0.1.0") -> None:
        super().__init__()
        self.title = title
        self.version = version
        self._engine: int = _core.engine_new()

    def run(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        """Serve until Ctrl+C or SIGTERM, then finish requests in flight and
        return. See :class:`databridge.Server` for more control."""
        Server(self, host, port).run()

    def _register(self, route: Route) -> None:
        _core.add_route(self._engine, route.method, route.path, route.handler, route.name)

    def __del__(self) -> None:
        engine = self.__dict__.pop("_engine", None)  # absent if __init__ failed
        if engine is None or _core is None:  # _core is None late in interpreter shutdown
            return
        try:
            _core.engine_free(engine)
        except Exception:
            pass
