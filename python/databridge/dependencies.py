"""``Depends``: values a handler gets from functions of the request, as in
FastAPI.

>>> from databridge import App, Depends, Header
>>> app = App()
>>> def current_user(x_user: str = Header()):
...     return {"name": x_user}
>>> @app.get("/me")
... def me(request, user: dict = Depends(current_user)):
...     return user

A dependency's own parameters are declared like a handler's (``Query``,
``Header``, path parameters, plain annotations) and are merged into the
route's spec, so the engine validates them in Go and they appear in the
OpenAPI operation. It may also take ``request`` (the request dict, by that
name), a parameter annotated :class:`~databridge.Request` (the middleware
view), a :class:`~databridge.BackgroundTasks`, and other ``Depends``. On a
websocket route it takes the session's :class:`~databridge.WebSocket`
(a parameter annotated so) instead of those three, and the parameters are
read in Python (see :func:`databridge.validation.plan_websocket`).

A dependency is called once per request (its result is shared) unless
``use_cache=False``. A generator dependency (``yield``) gives the yielded
value; the code after ``yield`` runs after the response is sent (after the
background tasks), or, when the handler raised, with that exception thrown
in at the ``yield`` before the error response.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["Depends", "DependsMarker", "Dependant", "solve"]


class DependsMarker:
    """What :func:`Depends` returns (FastAPI's ``params.Depends``)."""

    __slots__ = ("dependency", "use_cache")

    def __init__(self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True) -> None:
        if dependency is not None and not callable(dependency):
            raise TypeError(f"databridge: Depends({dependency!r}): the dependency must be callable")
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", repr(self.dependency))
        return f"Depends({name}{'' if self.use_cache else ', use_cache=False'})"


def Depends(dependency: Callable[..., Any] | None = None, *, use_cache: bool = True) -> Any:  # noqa: N802
    """Declare a dependency: ``user: User = Depends(get_user)``.

    Typed as ``Any`` (like FastAPI's) so that the annotation, not the
    default, gives the parameter's type."""
    return DependsMarker(dependency, use_cache=use_cache)


@dataclasses.dataclass
class Dependant:
    """A call to make per request: a dependency, or (at the root) the handler.

    ``params`` are the names of its request parameters (keyword arguments
    the engine validated); ``deps`` its sub-dependencies by argument name;
    ``connection``/``request_view``/``background`` the argument names that
    receive the connection (the request dict, or the WebSocket on a
    websocket route), the request's
    :class:`Request` view and the :class:`BackgroundTasks`."""

    call: Callable[..., Any]
    use_cache: bool = True
    params: list[str] = dataclasses.field(default_factory=list)
    deps: list[tuple[str | None, Dependant]] = dataclasses.field(default_factory=list)
    connection: list[str] = dataclasses.field(default_factory=list)
    request_view: list[str] = dataclasses.field(default_factory=list)
    background: list[str] = dataclasses.field(default_factory=list)
    uploads: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (name, "one"|"optional"|"list"), also in params
    kind: str = "sync"  # sync, async, gen, asyncgen

    @property
    def cache_key(self) -> Any:
        return self.call


def kind_of(call: Callable[..., Any]) -> str:
    """"asyncgen", "gen", "async" or "sync": what calling ``call`` (through
    partials, or a callable object's ``__call__``) gives."""
    fn = call
    while isinstance(fn, functools.partial):
        fn = fn.func
    candidates = [fn]
    dunder = getattr(fn, "__call__", None)
    if not inspect.isfunction(fn) and not inspect.ismethod(fn) and dunder is not None:
        candidates.append(dunder)
    for candidate in candidates:
        if inspect.isasyncgenfunction(candidate):
            return "asyncgen"
        if inspect.isgeneratorfunction(candidate):
            return "gen"
        if inspect.iscoroutinefunction(candidate):
            return "async"
    return "sync"


class Solved:
    """What solving gives for one request: the root's keyword arguments,
    the exit stack of the yield dependencies and the background tasks."""

    __slots__ = ("kwargs", "stack", "background")

    def __init__(self, kwargs: dict[str, Any], stack: contextlib.AsyncExitStack | None, background: Any) -> None:
        self.kwargs = kwargs
        self.stack = stack
        self.background = background


async def solve(
    root: Dependant,
    extra: list[Dependant],
    connection: Any,
    values: dict[str, Any],
    new_background: Callable[[], Any],
) -> Solved:
    """Call every dependency of ``root`` (after the route-level ``extra``
    ones), sub-dependencies first; return the root's arguments.
    ``connection`` is the request dict (or the WebSocket), ``values`` the
    validated parameters by name. On an exception the yield
    dependencies entered so far are closed with it."""
    cache: dict[Any, Any] = {}
    state: dict[str, Any] = {"stack": None, "background": None, "view": None}

    def background() -> Any:
        if state["background"] is None:
            state["background"] = new_background()
        return state["background"]

    def view() -> Any:
        if state["view"] is None:
            from .requests import Request

            state["view"] = Request(connection, values)
        return state["view"]

    async def arguments(dep: Dependant) -> dict[str, Any]:
        kwargs: dict[str, Any] = {name: values[name] for name in dep.params if name in values}
        for name in dep.connection:
            kwargs[name] = connection
        for name in dep.request_view:
            kwargs[name] = view()
        for name in dep.background:
            kwargs[name] = background()
        for arg, sub in dep.deps:
            value = await run(sub)
            if arg is not None:
                kwargs[arg] = value
        return kwargs

    async def run(dep: Dependant) -> Any:
        if dep.use_cache and dep.cache_key in cache:
            return cache[dep.cache_key]
        kwargs = await arguments(dep)
        if dep.kind == "sync":
            value = dep.call(**kwargs)
        elif dep.kind == "async":
            value = await dep.call(**kwargs)
        else:
            if state["stack"] is None:
                state["stack"] = contextlib.AsyncExitStack()
            stack: contextlib.AsyncExitStack = state["stack"]
            if dep.kind == "gen":
                value = stack.enter_context(contextlib.contextmanager(dep.call)(**kwargs))
            else:
                value = await stack.enter_async_context(contextlib.asynccontextmanager(dep.call)(**kwargs))
        if dep.use_cache:
            cache[dep.cache_key] = value
        return value

    try:
        for dep in extra:
            await run(dep)
        kwargs = await arguments(root)
    except BaseException as exc:
        stack = state["stack"]
        if stack is not None:
            await stack.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    return Solved(kwargs, state["stack"], state["background"])


def all_sync(root: Dependant, extra: list[Dependant]) -> bool:
    """Whether every dependency is a plain function or a sync generator (so
    that a sync handler's endpoint can stay sync)."""
    pending = [*extra, *(dep for _, dep in root.deps)]
    while pending:
        dep = pending.pop()
        if dep.kind not in ("sync", "gen"):
            return False
        pending.extend(sub for _, sub in dep.deps)
    return True


class SolvedSync:
    """:class:`Solved` for :func:`solve_sync`: an ExitStack."""

    __slots__ = ("kwargs", "stack", "background")

    def __init__(self, kwargs: dict[str, Any], stack: contextlib.ExitStack | None, background: Any) -> None:
        self.kwargs = kwargs
        self.stack = stack
        self.background = background


def solve_sync(
    root: Dependant,
    extra: list[Dependant],
    connection: Any,
    values: dict[str, Any],
    new_background: Callable[[], Any],
) -> SolvedSync:
    """:func:`solve` for dependencies that are all sync (``all_sync``):
    no coroutine per dependency, which halves the cost of a route with
    dependencies."""
    cache: dict[Any, Any] = {}
    stack: contextlib.ExitStack | None = None
    background: Any = None
    view: Any = None

    def arguments(dep: Dependant) -> dict[str, Any]:
        nonlocal background, view
        kwargs: dict[str, Any] = {name: values[name] for name in dep.params if name in values}
        for name in dep.connection:
            kwargs[name] = connection
        if dep.request_view:
            if view is None:
                from .requests import Request

                view = Request(connection, values)
            for name in dep.request_view:
                kwargs[name] = view
        if dep.background:
            if background is None:
                background = new_background()
            for name in dep.background:
                kwargs[name] = background
        for arg, sub in dep.deps:
            value = run(sub)
            if arg is not None:
                kwargs[arg] = value
        return kwargs

    def run(dep: Dependant) -> Any:
        nonlocal stack
        if dep.use_cache and dep.call in cache:
            return cache[dep.call]
        kwargs = arguments(dep)
        if dep.kind == "gen":
            if stack is None:
                stack = contextlib.ExitStack()
            value = stack.enter_context(contextlib.contextmanager(dep.call)(**kwargs))
        else:
            value = dep.call(**kwargs)
        if dep.use_cache:
            cache[dep.call] = value
        return value

    try:
        for dep in extra:
            run(dep)
        kwargs = arguments(root)
    except BaseException as exc:
        if stack is not None:
            stack.__exit__(type(exc), exc, exc.__traceback__)
        raise
    return SolvedSync(kwargs, stack, background)
