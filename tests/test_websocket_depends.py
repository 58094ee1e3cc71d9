"""Depends(...) on websocket routes, over a real loopback server: values
reach the endpoint, nested and cached dependencies, yield dependencies torn
down after the session, the WebSocket and query parameters in a dependency,
dependencies= on the decorator, a router and the app, and the handshake
refused (403) by a WebSocketException or an invalid parameter."""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from databridge import (
    App,
    BackgroundTasks,
    Depends,
    Header,
    Query,
    Request,
    Router,
    Server,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
)
from databridge.testing import TestClient

TIMEOUT = 10
Serve = Callable[[App], Server]


def open_ws(server: Server, path: str) -> ClientConnection:
    return connect(f"ws://127.0.0.1:{server.port}{path}", open_timeout=TIMEOUT, close_timeout=TIMEOUT)


def refused_status(server: Server, path: str) -> int:
    """The HTTP status the handshake to ``path`` is refused with."""
    with pytest.raises(InvalidStatus) as info:
        with open_ws(server, path):
            pass
    return info.value.response.status_code


def close_of(ws: ClientConnection) -> tuple[int, str]:
    """The close code and reason the server sends next."""
    with pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=TIMEOUT)
    assert info.value.rcvd is not None
    return info.value.rcvd.code, info.value.rcvd.reason


def test_websocket_exception_after_accept_closes_with_its_code(serve: Serve) -> None:
    app = App()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise WebSocketException(4003, "not allowed")

    server = serve(app)
    with open_ws(server, "/ws") as ws:
        ws.send("go")
        assert close_of(ws) == (4003, "not allowed")


def test_websocket_exception_before_accept_refuses_with_403(serve: Serve) -> None:
    ran: queue.Queue[str] = queue.Queue()
    app = App()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        ran.put("endpoint")
        raise WebSocketException(1008)

    server = serve(app)
    assert refused_status(server, "/ws") == 403
    assert ran.get(timeout=TIMEOUT) == "endpoint"


def test_websocket_exception_with_a_code_that_cannot_be_sent_closes_1011(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(1005)  # reserved: never sent in a close frame

    server = serve(app)
    with open_ws(server, "/ws") as ws:
        assert close_of(ws)[0] == 1011
    assert any("1005" in record.getMessage() for record in caplog.records)


def test_websocket_exception_is_exported_with_starlettes_shape() -> None:
    exc = WebSocketException(4000, "bye")
    assert (exc.code, exc.reason, str(exc)) == (4000, "bye", "4000: bye")
    assert repr(exc) == "WebSocketException(code=4000, reason='bye')"
    assert WebSocketException(1000).reason == ""


# -- values ------------------------------------------------------------------


def room_name(room: str) -> str:
    return room.upper()


async def greeting(name: Annotated[str, Depends(room_name)]) -> str:
    return f"hello {name}"


class Settings:
    def __init__(self) -> None:
        self.level = 3


def test_dependency_values_reach_the_endpoint() -> None:
    """Depends as a default and in Annotated (annotations are resolved at
    module level), sync and async, a class with Depends(), and a dependency
    taking the route's path parameter."""
    app = App()

    @app.websocket("/rooms/{room}")
    async def endpoint(
        websocket: WebSocket,
        room: str,
        text: str = Depends(greeting),
        upper: Annotated[str, Depends(room_name)] = "",
        settings: Settings = Depends(),
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"room": room, "text": text, "upper": upper, "level": settings.level})

    with TestClient(app) as client, client.websocket_connect("/rooms/blue") as ws:
        assert ws.receive_json() == {"room": "blue", "text": "hello BLUE", "upper": "BLUE", "level": 3}


def test_nested_dependency_is_called_once_per_session(serve: Serve) -> None:
    calls: list[str] = []
    app = App()

    def connection_id() -> int:
        calls.append("connection_id")
        return len(calls)

    def user(cid: int = Depends(connection_id)) -> str:
        return f"user-{cid}"

    async def session_name(cid: int = Depends(connection_id), who: str = Depends(user)) -> str:
        return f"{who}@{cid}"

    def fresh(cid: int = Depends(connection_id, use_cache=False)) -> int:
        return cid

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket, name: str = Depends(session_name), again: int = Depends(connection_id),
                       uncached: int = Depends(fresh)) -> None:
        await websocket.accept()
        await websocket.send_json({"name": name, "again": again, "uncached": uncached})

    server = serve(app)
    with open_ws(server, "/ws") as ws:
        first = json.loads(ws.recv(timeout=TIMEOUT))
    # connection_id once for session_name, user and the endpoint, and once more for use_cache=False.
    assert first == {"name": "user-1@1", "again": 1, "uncached": 2}
    with open_ws(server, "/ws") as ws:
        second = json.loads(ws.recv(timeout=TIMEOUT))
    assert second == {"name": "user-3@3", "again": 3, "uncached": 4}  # the cache is the session's
    assert calls == ["connection_id"] * 4


def test_a_dependency_gets_the_sessions_websocket() -> None:
    app = App()

    def client_tag(ws: WebSocket) -> tuple[WebSocket, str]:
        return ws, ws.headers["x-client"] + ":" + ws.query_params.get("v", "")

    async def tag_only(pair: tuple[WebSocket, str] = Depends(client_tag)) -> str:
        return pair[1]

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket, pair: tuple[WebSocket, str] = Depends(client_tag),
                       tag: str = Depends(tag_only)) -> None:
        await websocket.accept()
        await websocket.send_json({"same": pair[0] is websocket, "tag": tag})

    with TestClient(app) as client, client.websocket_connect("/ws?v=2", headers={"x-client": "cli"}) as ws:
        assert ws.receive_json() == {"same": True, "tag": "cli:2"}


def test_query_header_and_path_parameters_of_a_dependency_are_converted(serve: Serve) -> None:
    app = App()

    def options(
        room: int,
        limit: int = 10,
        verbose: bool = False,
        ratio: float = Query(0.5, ge=0, le=1),
        tags: list[str] = Query([]),
        name: str = Query("anon", alias="user", min_length=2),
        x_token: str = Header(),
    ) -> dict[str, Any]:
        return {"room": room, "limit": limit, "verbose": verbose, "ratio": ratio, "tags": tags, "name": name, "token": x_token}

    @app.websocket("/rooms/{room}")
    async def endpoint(websocket: WebSocket, room: int, opts: dict[str, Any] = Depends(options)) -> None:
        await websocket.accept()
        await websocket.send_json({"endpoint_room": room, **opts})

    server = serve(app)

    def get(query: str) -> Any:
        with connect(f"ws://127.0.0.1:{server.port}/rooms/7{query}", additional_headers={"x-token": "t"},
                     open_timeout=TIMEOUT) as ws:
            return json.loads(ws.recv(timeout=TIMEOUT))

    got = get("?limit=5&verbose=yes&ratio=0.25&tags=a&tags=b&user=ann&limit=6")
    # {room} is a str path parameter, made an int by the annotation; a repeated key gives its last value.
    assert got == {"endpoint_room": 7, "room": 7, "limit": 6, "verbose": True, "ratio": 0.25, "tags": ["a", "b"],
                   "name": "ann", "token": "t"}
    assert get("") == {"endpoint_room": 7, "room": 7, "limit": 10, "verbose": False, "ratio": 0.5, "tags": [],
                       "name": "anon", "token": "t"}
    for bad in ("?limit=five", "?verbose=maybe", "?ratio=2", "?user=a"):
        with pytest.raises(InvalidStatus) as info:
            get(bad)
        assert info.value.response.status_code == 403, bad


def test_missing_required_query_parameter_refuses_the_handshake(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    app = App()

    def token(token: str) -> str:
        ran.append("token")
        return token

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket, tok: str = Depends(token)) -> None:
        ran.append("endpoint")
        await websocket.accept()
        await websocket.send_text(tok)

    server = serve(app)
    with open_ws(server, "/ws?token=abc") as ws:
        assert ws.recv(timeout=TIMEOUT) == "abc"
    ran.clear()
    with caplog.at_level(logging.DEBUG, logger="databridge"):
        assert refused_status(server, "/ws") == 403
    assert ran == []  # neither the dependency nor the endpoint ran
    assert any("['query', 'token']" in record.getMessage() and "missing" in record.getMessage() for record in caplog.records)


def test_testclient_sees_the_refusal_as_websocketdisconnect_with_the_status() -> None:
    app = App()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket, n: int) -> None:
        await websocket.accept()
        await websocket.send_json(n)

    with TestClient(app) as client:
        with client.websocket_connect("/ws?n=4") as ws:
            assert ws.receive_json() == 4
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect("/ws"):
                pass
    assert getattr(info.value, "status_code", None) == 403


# -- yield dependencies ------------------------------------------------------


def test_yield_dependency_is_torn_down_after_the_client_disconnects(serve: Serve) -> None:
    events: queue.Queue[str] = queue.Queue()
    app = App()

    async def resource() -> AsyncIterator[str]:
        events.put("setup")
        try:
            yield "res"
        except WebSocketDisconnect as exc:
            events.put(f"thrown in: {exc.code}")
            raise
        finally:
            events.put("teardown")

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket, res: str = Depends(resource)) -> None:
        await websocket.accept()
        await websocket.send_text(res)
        await websocket.receive_text()  # until the client goes: WebSocketDisconnect

    server = serve(app)
    with open_ws(server, "/ws") as ws:
        assert ws.recv(timeout=TIMEOUT) == "res"
        assert events.get(timeout=TIMEOUT) == "setup"
        assert events.empty()  # not torn down while the session lasts
        ws.close(4000)
    assert [events.get(timeout=TIMEOUT) for _ in range(2)] == ["thrown in: 4000", "teardown"]


def test_sync_yield_dependency_is_torn_down_before_the_close_frame(serve: Serve) -> None:
    events: queue.Queue[str] = queue.Queue()
    app = App()

    def resource() -> Iterator[str]:
        yield "res"
        events.put("teardown")

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket, res: str = Depends(resource)) -> None:
        await websocket.accept()
        await websocket.send_text(res)

    server = serve(app)
    with open_ws(server, "/ws") as ws:
        assert ws.recv(timeout=TIMEOUT) == "res"
        assert close_of(ws)[0] == 1000
        assert events.get_nowait() == "teardown"  # queued before the close frame was


def test_yield_dependency_sees_the_endpoints_exception(serve: Serve) -> None:
    events: queue.Queue[str] = queue.Queue()
    app = App()

    async def resource() -> AsyncIterator[None]:
        try:
            yield
        except ValueError as exc:
            events.put(f"thrown in: {exc}")
            raise

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket, _: None = Depends(resource)) -> None:
        await websocket.accept()
        raise ValueError("boom")

    server = serve(app)
    with open_ws(server, "/ws") as ws:
        assert close_of(ws)[0] == 1011
    assert events.get(timeout=TIMEOUT) == "thrown in: boom"


# -- dependencies= and WebSocketException ------------------------------------


def test_decorator_router_and_app_dependencies_run_in_order(serve: Serve) -> None:
    order: list[str] = []

    def record(name: str) -> Callable[[], None]:
        def dependency() -> None:
            order.append(name)
        dependency.__qualname__ = f"record_{name}"
        return dependency

    app = App(dependencies=[Depends(record("app"))])
    router = Router(prefix="/r", dependencies=[Depends(record("router"))])

    @router.websocket("/ws", dependencies=[Depends(record("route"))])
    async def endpoint(websocket: WebSocket) -> None:
        order.append("endpoint")
        await websocket.accept()
        await websocket.send_text("ok")

    @app.websocket("/direct", dependencies=[Depends(record("direct"))])
    async def direct(websocket: WebSocket) -> None:
        order.append("endpoint")
        await websocket.accept()
        await websocket.send_text("ok")

    app.include_router(router)
    server = serve(app)
    with open_ws(server, "/r/ws") as ws:
        assert ws.recv(timeout=TIMEOUT) == "ok"
    assert order == ["app", "router", "route", "endpoint"]
    order.clear()
    with open_ws(server, "/direct") as ws:
        assert ws.recv(timeout=TIMEOUT) == "ok"
    assert order == ["app", "direct", "endpoint"]


def test_dependency_raising_websocket_exception_refuses_the_handshake(serve: Serve) -> None:
    events: queue.Queue[str] = queue.Queue()
    app = App()

    async def opened() -> AsyncIterator[None]:
        try:
            yield
        finally:
            events.put("closed")

    def auth(token: str = "") -> str:
        if token != "secret":
            raise WebSocketException(1008, "bad token")
        return token

    @app.websocket("/ws", dependencies=[Depends(opened)])
    async def endpoint(websocket: WebSocket, tok: str = Depends(auth)) -> None:
        events.put("endpoint")
        await websocket.accept()
        await websocket.send_text(tok)

    server = serve(app)
    assert refused_status(server, "/ws?token=wrong") == 403
    assert events.get(timeout=TIMEOUT) == "closed"  # the yield dependency entered before auth is torn down
    with open_ws(server, "/ws?token=secret") as ws:
        assert ws.recv(timeout=TIMEOUT) == "secret"
    assert [events.get(timeout=TIMEOUT) for _ in range(2)] == ["endpoint", "closed"]


def test_dependency_that_accepts_then_raises_closes_with_the_code(serve: Serve) -> None:
    app = App()

    async def auth(ws: WebSocket, token: str = "") -> None:
        if token != "secret":
            await ws.accept()  # so that the client can see the close code (a refused handshake has none)
            raise WebSocketException(4401, "bad token")

    @app.websocket("/ws", dependencies=[Depends(auth)])
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("in")

    server = serve(app)
    with open_ws(server, "/ws?token=nope") as ws:
        assert close_of(ws) == (4401, "bad token")
    with open_ws(server, "/ws?token=secret") as ws:
        assert ws.recv(timeout=TIMEOUT) == "in"


# -- registration errors -----------------------------------------------------


async def _endpoint_with(websocket: WebSocket, value: Any = None) -> None:
    pass


@dataclasses.dataclass
class Point:
    x: int


def test_what_a_websocket_route_cannot_take_fails_at_registration() -> None:
    def wants_background(tasks: BackgroundTasks) -> None: ...
    def wants_request(request: Request) -> None: ...
    def wants_request_dict(request: dict[str, Any]) -> None: ...
    def wants_body(values: Point) -> None: ...

    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: App().websocket("/ws", dependencies=[Depends(wants_background)])(_endpoint_with),
         'websocket route "/ws": parameter "tasks" of dependency'),
        (lambda: App().websocket("/ws", dependencies=[Depends(wants_request)])(_endpoint_with),
         "annotate it WebSocket"),
        (lambda: App().websocket("/ws", dependencies=[Depends(wants_request_dict)])(_endpoint_with),
         "would take the request dict"),
        (lambda: App().websocket("/ws", dependencies=[Depends(wants_body)])(_endpoint_with),
         "a websocket route has no body"),
        (lambda: App().websocket("/ws", dependencies=[wants_background])(_endpoint_with),
         "dependencies must be a list of Depends(...)"),
        (lambda: App().websocket("/ws/<int:room>")(_room_endpoint_str_for_int),
         'parameter "room" has type str, but the path converter <int:room>'),
        (lambda: App().websocket("/ws")(_keyword_only_endpoint),
         "must take the WebSocket as its first positional argument"),
    ]
    for register, message in cases:
        with pytest.raises(TypeError) as info:
            register()
        assert message in str(info.value), (message, str(info.value))


async def _room_endpoint_str_for_int(websocket: WebSocket, room: str) -> None:
    pass


async def _keyword_only_endpoint(*, websocket: WebSocket) -> None:
    pass


def test_a_websocket_parameter_on_an_http_route_fails_at_registration() -> None:
    def wants_websocket(ws: WebSocket) -> None: ...

    with pytest.raises(TypeError, match="annotated WebSocket, which only a websocket route has"):
        App().get("/x", dependencies=[Depends(wants_websocket)])(lambda request: None)
