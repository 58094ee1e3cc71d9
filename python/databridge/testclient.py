"""Calling an app in-process, through the engine's real routing and
conversion, without a socket.

>>> from databridge.testing import TestClient
>>> with TestClient(app) as client:                    # doctest: +SKIP
...     assert client.get("/users/7").json() == {"id": "7"}

The client runs the app's handlers on its own event loop, on the calling
thread, one request at a time. Do not use it from inside a running event
loop, and do not serve the same app with a :class:`~databridge.Server` or a
second client at the same time: an engine is driven by one loop at a time.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import mimetypes
import secrets
import socket
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import quote, urlencode, urlsplit

from . import _core
from ._runtime import Attachment, new_loop
from .background import pending

if TYPE_CHECKING:
    from .app import App

__all__ = ["TestClient", "TestResponse", "Headers", "WebSocketTestSession"]

HeaderInput = Union[Mapping[str, str], list[tuple[str, str]]]
Params = Union[Mapping[str, Any], list[tuple[str, Any]]]
FileValue = Union[bytes, str, tuple[str, Any], tuple[str, Any, str]]
Files = Union[Mapping[str, FileValue], list[tuple[str, FileValue]]]

# Characters left as they are when quoting a path: the reserved ones and "%",
# so a path that is already percent-encoded goes through unchanged.
_PATH_SAFE = "/%!$&'()*+,;=:@-._~"


class Headers(Mapping[str, str]):
    """Response headers by case-insensitive name; a repeated header's
    values are joined with ", "."""

    def __init__(self, raw: list[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        for name, value in raw:
            key = name.lower()
            self._values[key] = f"{self._values[key]}, {value}" if key in self._values else value

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Headers({self._values!r})"


class TestResponse:
    """What the app answered: :attr:`status_code`, :attr:`headers`,
    :attr:`content` (bytes), :attr:`text` and :meth:`json`."""

    __test__ = False  # not a pytest test class

    def __init__(self, status_code: int, raw_headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.headers = Headers(raw_headers)
        self.content = content

    @property
    def text(self) -> str:
        """The body decoded with the content-type's charset (UTF-8 by default)."""
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.content)

    def __repr__(self) -> str:
        return f"<TestResponse [{self.status_code}]>"


class TestClient:
    """Sends requests to ``app`` in-process; returns :class:`TestResponse`.

    ``base_url`` gives the ``host`` header (and so the request's ``url``)
    and a path prefix. A request that gets no answer within ``timeout``
    seconds raises TimeoutError. Use as a context manager, or call
    :meth:`close`.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, app: App, base_url: str = "http://testserver", *, timeout: float | None = 30.0) -> None:
        parts = urlsplit(base_url)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f'databridge: base_url "{base_url}" must be absolute, like "http://testserver"')
        self.app = app
        self.base_url = base_url
        self.timeout = timeout
        self._host = parts.netloc
        self._root = parts.path.rstrip("/")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._attachment: Attachment | None = None
        self._started = False
        self._serving = False  # the engine serves the in-process WebSocket connections

    # -- requests ---------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        headers: HeaderInput | None = None,
        json: Any = None,
        data: Mapping[str, Any] | list[tuple[str, Any]] | str | bytes | None = None,
        files: Files | None = None,
        content: str | bytes | None = None,
    ) -> TestResponse:
        """Send one request and return the response.

        ``json`` sends JSON; ``data`` a form (urlencoded, or multipart with
        ``files``) or raw str/bytes; ``files`` maps a field to bytes, to
        ``(filename, bytes)`` or to ``(filename, bytes, content_type)``;
        ``content`` sends raw bytes. ``params`` is added to the query.
        """
        target, host = self._target(url, params)
        header_list = _header_list(headers)
        body, content_type = _encode_body(json, data, files, content)
        names = {name.lower() for name, _ in header_list}
        if "host" not in names:
            header_list.insert(0, ("host", host))
        if content_type is not None and "content-type" not in names:
            header_list.append(("content-type", content_type))
        if "content-length" not in names and "transfer-encoding" not in names and (body or method.upper() in ("POST", "PUT", "PATCH")):
            header_list.append(("content-length", str(len(body))))

        loop = self._attach()
        self.app._build()  # middleware or exception handlers added since the last request
        future: asyncio.Future[tuple[int, list[tuple[str, str]], bytes]] = loop.create_future()
        _core.inject(self.app._engine, method.upper(), target, header_list, body, future)
        if not future.done():
            loop.run_until_complete(asyncio.wait([future], timeout=self.timeout))
            if not future.done():
                raise TimeoutError(f"databridge: {method.upper()} {target} got no response within {self.timeout} s")
        status, raw_headers, response_body = future.result()
        # As Starlette's TestClient: background tasks (and yield-dependency
        # cleanup) have run when the response is returned.
        loop.run_until_complete(asyncio.sleep(0))  # the start of work after the response
        work = pending(loop)
        if work:
            loop.run_until_complete(asyncio.wait(work, timeout=self.timeout))
        return TestResponse(status, list(raw_headers), response_body)

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("OPTIONS", url, **kwargs)

    def websocket_connect(self, url: str, subprotocols: list[str] | None = None,
                          headers: HeaderInput | None = None) -> WebSocketTestSession:
        """Open a WebSocket session with the app, as Starlette's test client:
        ``with client.websocket_connect("/ws") as ws: ws.send_text("hi")``.

        The session runs in process, without a network port: the engine
        serves one end of a socket pair (the same HTTP/1.1 front and
        WebSocket code as a real connection, the peer's address
        ``testclient:50000``) and the ``websockets`` package's client
        speaks over the other, on this client's event loop: each call runs
        the loop until it is done, so the endpoint runs meanwhile. A refused
        handshake raises :class:`WebSocketDisconnect` (code 1006) carrying the
        HTTP status as ``status_code``."""
        loop = self._attach()
        path, _ = self._target(url, None)
        fd = _core.pipe_connect(self.app._engine)
        self._serving = True
        sock = socket.socket(fileno=fd)
        return WebSocketTestSession(self, f"ws://testserver{path}", loop, subprotocols, _header_list(headers), sock)

    def _run(self, loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
        return loop.run_until_complete(asyncio.wait_for(coro, self.timeout))

    # -- lifetime ---------------------------------------------------------

    def close(self) -> None:
        """Run the app's shutdown if :meth:`__enter__` ran its startup, cancel
        handler tasks still running, detach from the engine and close the
        event loop. A later request starts afresh."""
        loop, attachment = self._loop, self._attachment
        self._loop = self._attachment = None
        if loop is None:
            return
        if self._serving:
            self._serving = False
            _core.shutdown(self.app._engine, 1.0)

            async def stopped() -> None:
                while not _core.stopped(self.app._engine):
                    await asyncio.sleep(0.005)

            loop.run_until_complete(stopped())
        try:
            if self._started:
                self._started = False
                loop.run_until_complete(self.app._shutdown())
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            try:
                if attachment is not None:
                    attachment.close()
            finally:
                loop.close()

    def __enter__(self) -> TestClient:
        """Start the app as a server would: its startup handlers and lifespan
        run on this client's loop (so what they make works in handlers);
        :meth:`__exit__` runs its shutdown."""
        loop = self._attach()
        try:
            self.app._build()
            loop.run_until_complete(self.app._startup())
        except BaseException:
            self.close()
            raise
        self._started = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------

    def _attach(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = new_loop()
            try:
                self._attachment = Attachment(self.app._engine, loop)
            except BaseException:
                loop.close()
                raise
            self._loop = loop
        return self._loop

    def _target(self, url: str, params: Params | None) -> tuple[str, str]:
        """The request target (path and query) and host for ``url``."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            host, path = parts.netloc, parts.path
        else:
            host, path = self._host, self._root + parts.path
        path = quote(path or "/", safe=_PATH_SAFE)
        query = parts.query
        if params:
            pairs = params.items() if isinstance(params, Mapping) else params
            encoded = urlencode(list(pairs), doseq=True)
            query = f"{query}&{encoded}" if query else encoded
        return (f"{path}?{query}" if query else path), host


def _header_list(headers: HeaderInput | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), str(value)) for name, value in pairs]


def _encode_body(
    json: Any,
    data: Mapping[str, Any] | list[tuple[str, Any]] | str | bytes | None,
    files: Files | None,
    content: str | bytes | None,
) -> tuple[bytes, str | None]:
    """The body bytes and their content-type (None: leave it unset)."""
    given = [name for name, value in (("json", json), ("data", data), ("content", content)) if value is not None]
    if files is not None and "data" in given:
        given.remove("data")  # form fields go into the multipart body
    if files is not None:
        given.append("files")
    if len(given) > 1:
        raise TypeError(f"databridge: pass only one of {', '.join(given)}")
    if json is not None:
        return jsonlib.dumps(json, separators=(",", ":")).encode(), "application/json"
    if files is not None:
        if isinstance(data, (str, bytes)):
            raise TypeError("databridge: with files=, data= must be a dict of form fields")
        return encode_multipart(_pairs(data), _file_parts(files))
    if isinstance(data, (str, bytes)):
        return _bytes(data), None
    if data is not None:
        return urlencode(_pairs(data)).encode(), "application/x-www-form-urlencoded"
    if content is not None:
        return _bytes(content), None
    return b"", None


def _pairs(data: Mapping[str, Any] | list[tuple[str, Any]] | None) -> list[tuple[str, str]]:
    """Form fields as pairs; a list value gives one pair per item."""
    if data is None:
        return []
    pairs: list[tuple[str, str]] = []
    for name, value in data.items() if isinstance(data, Mapping) else data:
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((name, item.decode() if isinstance(item, bytes) else str(item)))
    return pairs


def _file_parts(files: Files) -> list[tuple[str, str, bytes, str]]:
    """``(field, filename, content, content_type)`` for each file."""
    parts: list[tuple[str, str, bytes, str]] = []
    for field, value in files.items() if isinstance(files, Mapping) else files:
        if isinstance(value, tuple):
            if len(value) == 2:
                filename, body = value
                content_type = None
            elif len(value) == 3:
                filename, body, content_type = value
            else:
                raise TypeError(f"databridge: file {field!r} must be bytes, (filename, bytes) or (filename, bytes, content_type)")
        else:
            filename, body, content_type = field, value, None
        if hasattr(body, "read"):
            body = body.read()
        if content_type is None:
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        parts.append((field, filename, _bytes(body), content_type))
    return parts


def encode_multipart(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes, str]]
) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) and its content-type.

    ``fields`` are ``(name, value)``; ``files`` are ``(field, filename,
    content, content_type)``.
    """
    boundary = secrets.token_hex(16)
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode())
        chunks.append(value.encode())
        chunks.append(b"\r\n")
    for field, filename, body, content_type in files:
        chunks.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{_quote(field)}"; filename="{_quote(filename)}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
        )
        chunks.append(body)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _quote(value: str) -> str:
    """Escape a name for a quoted Content-Disposition parameter, as browsers do."""
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _bytes(value: str | bytes) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"databridge: expected str or bytes, not {type(value).__name__}")


class WebSocketTestSession:
    """A WebSocket session opened by :meth:`TestClient.websocket_connect`:
    Starlette's ``WebSocketTestSession`` methods, synchronous."""

    __test__ = False

    def __init__(self, client: TestClient, url: str, loop: asyncio.AbstractEventLoop, subprotocols: list[str] | None,
                 headers: list[tuple[str, str]], sock: socket.socket) -> None:
        self._client, self._url, self._loop, self._sock = client, url, loop, sock
        self._subprotocols, self._headers = subprotocols, headers
        self._ws: Any = None
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[str, str]] = []

    def __enter__(self) -> WebSocketTestSession:
        try:
            from websockets.asyncio.client import connect
            from websockets.exceptions import InvalidStatus
        except ImportError as exc:  # pragma: no cover
            raise RuntimeError("databridge: TestClient.websocket_connect needs the websockets package") from exc
        from .websockets import WebSocketDisconnect

        try:
            self._ws = self._client._run(self._loop, connect(
                self._url, subprotocols=self._subprotocols,  # type: ignore[arg-type]
                additional_headers=self._headers or None, sock=self._sock,
                open_timeout=self._client.timeout, max_size=None))
        except InvalidStatus as exc:
            self._sock.close()
            error = WebSocketDisconnect(1006, f"HTTP {exc.response.status_code}")
            error.status_code = exc.response.status_code  # type: ignore[attr-defined]
            raise error from None
        self.accepted_subprotocol = self._ws.subprotocol
        self.extra_headers = list(self._ws.response.headers.raw_items())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(1000)

    def _call(self, coro: Any) -> Any:
        return self._client._run(self._loop, coro)

    def send_text(self, data: str) -> None:
        self._call(self._ws.send(data))

    def send_bytes(self, data: bytes) -> None:
        self._call(self._ws.send(bytes(data)))

    def send_json(self, data: Any, mode: str = "text") -> None:
        text = jsonlib.dumps(data, separators=(",", ":"), ensure_ascii=False)
        self._call(self._ws.send(text if mode == "text" else text.encode()))

    def receive(self) -> dict[str, Any]:
        """The next message as an ASGI event (``websocket.send`` with
        ``text`` or ``bytes``, or ``websocket.close`` with ``code``)."""
        from websockets.exceptions import ConnectionClosed

        try:
            data = self._call(self._ws.recv())
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            return {"type": "websocket.close", "code": rcvd.code if rcvd else 1006, "reason": rcvd.reason if rcvd else ""}
        return {"type": "websocket.send", ("text" if isinstance(data, str) else "bytes"): data}

    def _data(self) -> str | bytes:
        from .websockets import WebSocketDisconnect

        message = self.receive()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message["code"], message["reason"])
        data: str | bytes = message["text"] if "text" in message else message["bytes"]
        return data

    def receive_text(self) -> str:
        data = self._data()
        if not isinstance(data, str):
            raise TypeError("expected a text message, got a binary one")
        return data

    def receive_bytes(self) -> bytes:
        data = self._data()
        if not isinstance(data, bytes):
            raise TypeError("expected a binary message, got a text one")
        return data

    def receive_json(self, mode: str = "text") -> Any:
        return jsonlib.loads(self._data())

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            self._call(ws.close(code, reason or ""))
