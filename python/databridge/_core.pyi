"""The Go engine, built from this repository's Go packages with
``go build -buildmode=c-shared``. Private: use :mod:`databridge` instead.

Engines are integer handles. All functions must be called with the GIL held
(as any Python code is); an engine is driven by exactly one asyncio loop at a
time, on that loop's thread.
"""

import asyncio
from typing import Any, Callable

def configure(
    *,
    response_class: type,
    http_error_class: type,
    report: Callable[[str, str, BaseException], None],
    jsonable: Callable[[Any], Any],
    file_response_class: type | None = None,
) -> None:
    """Tell the engine the Python types it needs. Called once by databridge.

    ``report(kind, route, exc)`` logs an error the client only sees as a 500:
    kind is ``"handler"`` (the handler raised) or ``"response"`` (its return
    value could not be turned into a response). ``jsonable(obj)`` returns a
    JSON-compatible stand-in for an object the encoder does not know, or
    raises TypeError. An instance of ``file_response_class`` (a subclass of
    ``response_class``) is answered with the file at its ``path``, served
    by Go.
    """

def canonical_path(path: str) -> str:
    """The identity of a route path: equal for ``/u/{id}`` and ``/u/<id>``.
    Raises ValueError (``databridge: ...``) for a malformed path."""

def parse_path(path: str) -> tuple[str, list[tuple[str, str, str | None]]]:
    """``(plain, params)`` of a route path, as the router parses it: plain
    has every parameter as ``{name}`` (``/users/{user_id}``); each param is
    ``(name, kind, regexp)`` with kind ``str``, ``int``, ``float``, ``uuid``
    or ``path`` and regexp that of a ``{name:regexp}`` parameter, else None.
    Raises ValueError (``databridge: ...``) for a malformed path."""

def engine_new() -> int: ...
def engine_free(engine: int) -> None: ...
def add_route(
    engine: int,
    method: str,
    path: str,
    handler: Callable[..., Any],
    name: str,
    spec: str | None = None,
    options: str | None = None,
) -> None:
    """Register a handler. ValueError for a malformed path, a path already
    registered for the method, or an invalid spec.

    ``spec`` is the route spec (JSON, docs/route-spec.md): Go then validates
    every request before Python runs (answering 422 itself) and calls
    ``handler(request, **params)`` with the converted parameters.
    ``options`` (JSON) are the route's own settings: ``max_body_size``
    (bytes, replacing the server's limit) and ``body``: "buffer" (the
    default: read and parsed before the call), "stream" (left for
    :func:`body_read`; the dict gets its id as ``_stream``) or "spool"
    (multipart parsed as it arrives, large files in temporary files whose
    entries have ``path``)."""

def pipe_connect(engine: int) -> int:
    """The fd of a socket connected to the app in process (a socket pair
    whose other end the engine serves, starting to the first time): the
    test client's WebSockets. OSError when the engine cannot serve."""

def body_read(stream: int, future: Any) -> None:
    """Ask for the next chunk of the streamed body ``stream``: ``future``
    gets ``[kind, data]`` (0 data, 1 end, 2 too large, 3 malformed, 4 the
    client gone; data is the message for 2 and 3). RuntimeError once the
    request was answered, or while the previous chunk is pending."""

def add_fixed(
    engine: int, method: str, path: str, name: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    """Register a route answered in Go with a fixed response (no Python
    call per request). ValueError for a bad path, a duplicate route or a
    status outside 200-599."""

def add_middleware(engine: int, kind: str, options: str) -> None:
    """Wrap everything the engine serves in a native middleware (``kind``:
    ``cors``, ``gzip``, ``trustedhost``, ``httpsredirect``) made from
    ``options`` (JSON), outside those added before. ValueError for bad
    options."""

def set_handler(engine: int, index: int, handler: Callable[..., Any]) -> None:
    """Make the ``index``-th route handler registered with :func:`add_route`
    call ``handler`` instead (the app's middleware stack around it).
    ValueError while the engine serves or for an unknown index."""

def set_hook(engine: int, hook: Callable[..., Any] | None) -> None:
    """Pass the responses Go makes itself (status >= 400: 404, 405, 413,
    422 ...) to ``hook(request, status=, headers=, body=)``, whose return
    value is sent instead; None turns it off (the default: no Python for
    them). ValueError while the engine serves."""
def add_static(
    engine: int,
    prefix: str,
    directory: str,
    name: str,
    html: bool,
    follow_symlink: bool,
    cache_control: str | None = None,
    only: str | None = None,
) -> None:
    """Serve ``directory`` at ``prefix`` (a literal path, "" for the root)
    in Go: the routes ``prefix``, ``prefix/`` and ``prefix/<path:path>``,
    GET (and HEAD). ``only``, NUL-separated file names, registers just
    ``prefix/<name>`` for each instead. ValueError for a directory that
    does not exist, a bad prefix or a duplicate route."""

def attach(engine: int, loop: asyncio.AbstractEventLoop) -> tuple[int, object]:
    """Bind the engine to ``loop`` (running on this thread) and return
    ``(fd, queue)``: watch fd with ``loop.add_reader(fd, drain, queue)``."""

def drain(queue: object) -> None:
    """Run a batch of pending requests, in C. Called by the loop when the fd
    is readable."""

def serve_handlers(queue: object) -> None:
    """A handler thread's body: run sync handler calls (those of routes
    whose handler is a ``def`` not marked inline) until
    :func:`stop_handlers`, releasing the GIL while waiting for one."""

def stop_handlers(queue: object) -> None:
    """End the handler threads of ``queue``: each returns from
    :func:`serve_handlers` once its current call is done; calls still
    queued, and new ones, run on the event loop thread meanwhile."""

def detach(engine: int) -> None: ...
def listen(engine: int, host: str, port: int, options: str | None = None) -> int:
    """Bind, start serving in Go, and return the bound port. ``options`` is
    a JSON object of limits, timeouts and TLS settings (see
    ``databridge.server.SETTINGS``; keys a Go ``listenOptions`` knows, else
    ValueError). OSError if the address cannot be bound."""

def shutdown(engine: int, timeout: float) -> None:
    """Start a graceful stop: stop accepting, finish in-flight requests (up
    to ``timeout`` seconds). Returns at once; poll :func:`stopped`."""

def stopped(engine: int) -> bool: ...
def abort(engine: int) -> None:
    """End a drain now: calls waiting for Python, and later ones, are
    answered 503 (the second Ctrl+C)."""

def inject(
    engine: int,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    future: asyncio.Future[tuple[int, list[tuple[str, str]], bytes]],
) -> None:
    """Send one request through the engine's routing and conversion without
    a socket; ``future`` gets ``(status, headers, body)``."""

# -- WebSockets (ws.go, wsroute, pybridge/ws.c) ------------------------------

def add_websocket(engine: int, path: str, entry: Callable[[list[Any]], Any], name: str, options: str | None = None) -> None:
    """Register a WebSocket route: ``entry(payload)`` runs once per session
    (databridge.websockets.entry). ``options`` is JSON (docs/websockets.md)."""

def ws_accept(handle: int, subprotocol: str | None, headers: list[tuple[str, str]], future: asyncio.Future[Any]) -> None:
    """Queue the handshake; ``future`` resolves with ``(ok,)`` once written."""

def ws_bind(address: int) -> object:
    """The capsule of a session's message queues, from its payload address."""

def ws_receive(queues: object, future: asyncio.Future[Any]) -> tuple[Any, ...] | None:
    """``(0, str)``, ``(1, bytes)`` or ``(2, code, reason)`` at once, or None
    when ``future`` was kept to be resolved with the next message."""

def ws_send(queues: object, kind: int, data: str | bytes, future: asyncio.Future[Any] | None) -> int:
    """0 queued, -1 the send queue is full (``future`` kept when given), else
    the close code of a session that cannot send."""

def ws_close(queues: object, code: int, reason: str) -> None:
    """Queue the close frame."""
