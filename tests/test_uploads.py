"""Request bodies as streams (``request.stream()``, ``await
request.body()``), uploads (``UploadFile``, multipart parsed as it
arrives, large files spooled to disk) and per-route ``max_body_size``,
over real sockets, through TestClient, and with the server's memory
measured for a 1 GB upload and eight concurrent 50 MB ones."""

from __future__ import annotations

import concurrent.futures
import json
import os
import queue
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from databridge import App, ClientDisconnect, Request, Server, UploadFile
from databridge.testing import TestClient

from .conftest import LiveServer

BOUNDARY = "databridge-test-boundary"


def multipart(*parts: tuple[str, str | None, bytes], content_type: str = "application/octet-stream") -> bytes:
    """A multipart/form-data body of (name, filename or None, data) parts."""
    out = bytearray()
    for name, filename, data in parts:
        out += f"--{BOUNDARY}\r\n".encode()
        if filename is None:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        else:
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += f"Content-Type: {content_type}\r\nX-Part: {name}\r\n\r\n".encode()
        out += data + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before the head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the body"
        body += chunk
    return status, headers, body[:length]


# -- request.stream() -----------------------------------------------------


def test_stream_gives_chunks_as_they_arrive(serve: Callable[[App], Server]) -> None:
    """The handler runs and sees the first chunk while the client still
    holds the rest of the body: nothing is read ahead of it."""
    app = App()
    seen: queue.Queue[bytes] = queue.Queue()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        chunks = []
        async for chunk in request.stream():
            seen.put(chunk)
            chunks.append(chunk)
        body = b"".join(chunks)
        return {"size": len(body), "raw_body": len(request["raw_body"]), "body": request["body"]}

    server = serve(app)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n12345")
        assert seen.get(timeout=10) == b"12345"  # the handler has it; 5 bytes are still to come
        sock.sendall(b"67890")
        assert seen.get(timeout=10) == b"67890"
        status, _, body = read_response(sock)
    assert status == 200
    # The engine did not read or parse the body for the dict.
    assert json.loads(body) == {"size": 10, "raw_body": 0, "body": None}


def test_stream_chunked_body_and_keep_alive(serve: Callable[[App], Server]) -> None:
    app = App()

    @app.post("/count")
    async def count(request: Request) -> dict[str, Any]:
        return {"size": len(await request.body())}

    server = serve(app)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
        assert read_response(sock)[2] == b'{"size":7}'
        # The connection goes on to the next request.
        sock.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        assert read_response(sock)[2] == b'{"size":2}'


def test_body_and_json_read_once_then_kept(client: TestClient, app: App) -> None:
    calls: list[Any] = []

    @app.post("/j")
    async def j(request: Request) -> dict[str, Any]:
        first = await request.json()
        again = await request.body()
        calls.append(first)
        return {"json": first, "body": again.decode()}

    response = client.post("/j", content=b'{"a": [1, 2]}', headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"json": {"a": [1, 2]}, "body": '{"a": [1, 2]}'}
    bad = client.post("/j", content=b"{nope", headers={"content-type": "application/json"})
    assert bad.status_code == 400
    assert "invalid JSON body" in bad.json()["error"]


def test_stream_twice_is_an_error(client: TestClient, app: App) -> None:
    @app.post("/twice")
    async def twice(request: Request) -> dict[str, Any]:
        first = [c async for c in request.stream()]
        try:
            [c async for c in request.stream()]
        except RuntimeError as exc:
            return {"first": b"".join(first).decode(), "error": str(exc)}
        return {"error": None}

    body = client.post("/twice", content=b"payload").json()
    assert body["first"] == "payload"
    assert "already read" in body["error"]


def test_stream_over_the_route_limit_is_413(serve: Callable[[App], Server]) -> None:
    app = App()
    got: list[int] = []

    @app.post("/limited", max_body_size=100_000)
    async def limited(request: Request) -> dict[str, Any]:
        async for chunk in request.stream():
            got.append(len(chunk))
        return {"ok": True}

    server = serve(app)
    base = f"http://127.0.0.1:{server.port}"
    ok = httpx.post(base + "/limited", content=b"x" * 100_000, timeout=10)
    assert ok.status_code == 200
    # Content-Length over the limit: 413 before a byte is read.
    got.clear()
    too_big = httpx.post(base + "/limited", content=b"x" * 100_001, timeout=10)
    assert too_big.status_code == 413
    assert too_big.json() == {"error": "request body too large"}
    assert got == []

    # A chunked body that grows past the limit: 413 once it does.
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * 4096

    chunked = httpx.post(base + "/limited", content=chunks(), timeout=10)
    assert chunked.status_code == 413
    assert chunked.json() == {"error": "request body too large"}
    assert 0 < sum(got) <= 100_000


def test_client_gone_mid_body_raises_client_disconnect(serve: Callable[[App], Server]) -> None:
    app = App()
    outcome: queue.Queue[str] = queue.Queue()

    @app.post("/slow")
    async def slow(request: Request) -> dict[str, Any]:
        try:
            async for _ in request.stream():
                outcome.put("chunk")
        except ClientDisconnect:
            outcome.put("disconnect")
            raise
        outcome.put("complete")
        return {}

    server = serve(app)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
    assert outcome.get(timeout=10) == "chunk"
    sock.close()
    assert outcome.get(timeout=10) == "disconnect"


def test_sync_handler_with_request_keeps_the_buffered_body(client: TestClient, app: App) -> None:
    """A def handler cannot await the stream: it gets the body read and
    parsed by the engine, as before."""

    @app.post("/sync")
    def sync(request: Request) -> dict[str, Any]:
        return {"raw": request["raw_body"].decode(), "body": request["body"], "method": request.method}

    response = client.post("/sync", json={"k": 1})
    assert response.json() == {"raw": '{"k":1}', "body": {"k": 1}, "method": "POST"}


# -- max_body_size per route ----------------------------------------------


def test_route_limit_above_and_below_the_server_limit(serve: Callable[..., Server]) -> None:
    app = App()

    @app.post("/big", max_body_size=50_000)
    def big(request: dict[str, Any]) -> dict[str, Any]:
        return {"n": len(request["raw_body"])}

    @app.post("/tiny", max_body_size=10)
    def tiny(request: dict[str, Any]) -> dict[str, Any]:
        return {"n": len(request["raw_body"])}

    @app.post("/default")
    def default(request: dict[str, Any]) -> dict[str, Any]:
        return {"n": len(request["raw_body"])}

    server = serve(app, max_body_size=1000)
    base = f"http://127.0.0.1:{server.port}"
    assert httpx.post(base + "/big", content=b"a" * 40_000, timeout=10).json() == {"n": 40_000}
    assert httpx.post(base + "/big", content=b"a" * 50_001, timeout=10).status_code == 413
    assert httpx.post(base + "/tiny", content=b"a" * 10, timeout=10).json() == {"n": 10}
    assert httpx.post(base + "/tiny", content=b"a" * 11, timeout=10).status_code == 413
    assert httpx.post(base + "/default", content=b"a" * 1000, timeout=10).json() == {"n": 1000}
    refused = httpx.post(base + "/default", content=b"a" * 1001, timeout=10)
    assert refused.status_code == 413
    assert refused.json() == {"error": "request body too large"}


def test_route_limit_must_be_positive(app: App) -> None:
    with pytest.raises(ValueError, match="max_body_size"):
        app.post("/x", max_body_size=0)(lambda request: {})


# -- UploadFile -----------------------------------------------------------


def test_upload_small_file_in_memory(client: TestClient, app: App) -> None:
    @app.post("/up")
    async def up(request: dict[str, Any], file: UploadFile) -> dict[str, Any]:
        data = await file.read()
        await file.seek(0)
        first = await file.read(3)
        await file.close()
        return {
            "filename": file.filename,
            "content_type": file.content_type,
            "size": file.size,
            "data": data.decode(),
            "first": first.decode(),
            "x_part": file.headers["X-Part"],
            "fields": request["form_data"]["fields"],
        }

    body = multipart(("note", None, b"hello"), ("file", "a.txt", b"file contents"), content_type="text/plain")
    response = client.post("/up", content=body, headers=MULTIPART)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "filename": "a.txt",
        "content_type": "text/plain",
        "size": 13,
        "data": "file contents",
        "first": "fil",
        "x_part": "file",
        "fields": {"note": "hello"},
    }


def test_upload_large_file_is_spooled_and_removed_after(serve: Callable[[App], Server]) -> None:
    app = App()
    paths: list[str] = []

    @app.post("/up", max_body_size=20 << 20)
    async def up(request: dict[str, Any], file: UploadFile) -> dict[str, Any]:
        name = getattr(file.file, "name", None)
        if isinstance(name, str):
            paths.append(name)
        data = await file.read()
        return {"size": file.size, "len": len(data), "ok": data == payload}

    payload = os.urandom(3 << 20)
    server = serve(app)
    response = httpx.post(
        f"http://127.0.0.1:{server.port}/up", content=multipart(("file", "big.bin", payload)), headers=MULTIPART, timeout=30
    )
    assert response.json() == {"size": 3 << 20, "len": 3 << 20, "ok": True}
    assert len(paths) == 1 and Path(paths[0]).parent == Path(tempfile.gettempdir())
    # The engine deletes the temporary file once the response is sent.
    deadline = time.monotonic() + 10
    while os.path.exists(paths[0]) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not os.path.exists(paths[0])


def test_upload_optional_list_and_missing(client: TestClient, app: App) -> None:
    @app.post("/many")
    async def many(request: dict[str, Any], files: list[UploadFile], extra: UploadFile | None = None) -> dict[str, Any]:
        return {"names": [f.filename for f in files], "data": [(await f.read()).decode() for f in files], "extra": extra is None}

    @app.post("/one")
    async def one(request: dict[str, Any], file: UploadFile) -> dict[str, Any]:
        return {"name": file.filename}

    body = multipart(("files", "1.txt", b"one"), ("files", "2.txt", b"two"))
    assert client.post("/many", content=body, headers=MULTIPART).json() == {
        "names": ["1.txt", "2.txt"],
        "data": ["one", "two"],
        "extra": True,
    }
    missing = client.post("/one", content=multipart(("other", "x", b"1")), headers=MULTIPART)
    assert missing.status_code == 422
    assert missing.json()["details"] == [{"loc": ["body", "file"], "msg": "Field required", "type": "missing"}]
    not_multipart = client.post("/one", json={"file": "x"})
    assert not_multipart.status_code == 422


def test_upload_in_a_dependency(client: TestClient, app: App) -> None:
    from databridge import Depends

    async def checksum(file: UploadFile) -> int:
        data = await file.read()
        await file.seek(0)
        return sum(data) % 256

    @app.post("/dep")
    async def dep(request: dict[str, Any], file: UploadFile, total: int = Depends(checksum)) -> dict[str, Any]:
        return {"total": total, "again": len(await file.read())}

    response = client.post("/dep", content=multipart(("file", "f", bytes([1, 2, 3]))), headers=MULTIPART)
    assert response.json() == {"total": 6, "again": 3}


def test_upload_malformed_and_oversized(serve: Callable[[App], Server]) -> None:
    app = App()

    @app.post("/up", max_body_size=5 << 20)
    async def up(request: dict[str, Any], file: UploadFile) -> dict[str, Any]:
        return {"size": file.size}

    server = serve(app)
    base = f"http://127.0.0.1:{server.port}"
    broken = httpx.post(base + "/up", content=b"--" + BOUNDARY.encode() + b"\r\nnot a part", headers=MULTIPART, timeout=10)
    assert broken.status_code == 400
    assert broken.json()["error"].startswith("invalid multipart body")
    too_big = httpx.post(base + "/up", content=multipart(("file", "f", b"z" * (6 << 20))), headers=MULTIPART, timeout=30)
    assert too_big.status_code == 413
    assert too_big.json() == {"error": "request body too large"}
    big_field = httpx.post(base + "/up", content=multipart(("note", None, b"n" * (2 << 20))), headers=MULTIPART, timeout=30)
    assert big_field.status_code == 413
    assert "form field too large" in big_field.json()["error"]


class Item(BaseModel):
    name: str


def test_upload_route_and_json_body_are_exclusive(app: App) -> None:
    with pytest.raises(TypeError, match="UploadFile"):

        @app.post("/both")
        async def both(request: dict[str, Any], item: Item, file: UploadFile) -> None: ...


# -- memory -----------------------------------------------------------------


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _send_upload(port: int, path: str, size: int, multipart_body: bool) -> dict[str, Any]:
    """POST ``size`` bytes (in 1 MiB writes, never held whole), as a file
    part or raw, and return the JSON answer."""
    head = tail = b""
    if multipart_body:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    ctype = MULTIPART["content-type"] if multipart_body else "application/octet-stream"
    block = b"\x5a" * (1 << 20)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\nContent-Length: {len(head) + size + len(tail)}\r\n\r\n".encode()
            + head
        )
        left = size
        while left:
            n = min(left, len(block))
            sock.sendall(block[:n])
            left -= n
        sock.sendall(tail)
        status, _, body = read_response(sock)
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


@pytest.fixture
def upload_server(start_live: Callable[..., LiveServer]) -> Iterator[tuple[int, int]]:
    live = start_live("tests.apps.uploads:app", "--port", "0", "--max-body-size", str(1 << 20))
    port = int(live.url.rsplit(":", 1)[1])
    # Warm up both routes so that the baseline includes the code they run.
    _send_upload(port, "/stream", 1 << 20, False)
    _send_upload(port, "/upload", 2 << 20, True)
    yield port, live.proc.pid


def test_one_gigabyte_upload_stays_within_20_mb(upload_server: tuple[int, int]) -> None:
    port, pid = upload_server
    before = _peak_rss_kb(pid)
    assert _send_upload(port, "/stream", 1 << 30, False) == {"size": 1 << 30}
    streamed = _peak_rss_kb(pid) - before
    assert _send_upload(port, "/upload", 1 << 30, True) == {"size": 1 << 30, "read": 1 << 30, "on_disk": True}
    uploaded = _peak_rss_kb(pid) - before
    print(f"peak RSS growth: request.stream() {streamed / 1024:.1f} MB, UploadFile {uploaded / 1024:.1f} MB")
    assert streamed <= 20 * 1024
    assert uploaded <= 20 * 1024


def test_eight_concurrent_50_mb_uploads_stay_within_60_mb(upload_server: tuple[int, int]) -> None:
    port, pid = upload_server
    before = _peak_rss_kb(pid)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _send_upload(port, "/upload", 50_000_000, True), range(8)))
    assert results == [{"size": 50_000_000, "read": 50_000_000, "on_disk": True}] * 8
    growth = _peak_rss_kb(pid) - before
    print(f"peak RSS growth for 8 x 50 MB: {growth / 1024:.1f} MB")
    assert growth <= 60 * 1024


def test_openapi_describes_uploads(client: TestClient, app: App) -> None:
    @app.post("/up")
    async def up(request: dict[str, Any], file: UploadFile, more: list[UploadFile], extra: UploadFile | None = None) -> dict[str, Any]:
        return {}

    body = client.get("/openapi.json").json()["paths"]["/up"]["post"]["requestBody"]
    binary = {"type": "string", "format": "binary"}
    assert body == {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": binary, "more": {"type": "array", "items": binary}, "extra": binary},
                    "required": ["file"],
                }
            }
        },
    }


def test_form_fields_and_file_markers(client: TestClient, app: App) -> None:
    from databridge import File, Form

    @app.post("/profile")
    async def profile(
        request: dict[str, Any],
        name: str = Form(min_length=2),
        age: int = Form(ge=0),
        tags: list[str] = Form([]),
        avatar: UploadFile = File(),
        raw: bytes = File(),
        note: UploadFile | None = File(None),
    ) -> dict[str, Any]:
        return {"name": name, "age": age, "tags": tags, "avatar": avatar.filename, "raw": raw.decode(), "note": note}

    @app.post("/login")
    def login(request: dict[str, Any], username: str = Form(), remember: bool = Form(False)) -> dict[str, Any]:
        return {"username": username, "remember": remember}

    body = multipart(("name", None, b"Ada"), ("age", None, b"36"), ("tags", None, b"a"), ("tags", None, b"b"),
                     ("avatar", "me.png", b"png"), ("raw", "r.bin", b"bytes!"))
    response = client.post("/profile", content=body, headers=MULTIPART)
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "Ada", "age": 36, "tags": ["a", "b"], "avatar": "me.png", "raw": "bytes!", "note": None}
    bad = client.post("/profile", content=multipart(("name", None, b"A"), ("age", None, b"x")), headers=MULTIPART)
    assert bad.status_code == 422
    locs = {tuple(d["loc"]): d["type"] for d in bad.json()["details"]}
    assert locs == {("body", "name"): "string_too_short", ("body", "age"): "int_parsing",
                    ("body", "avatar"): "missing", ("body", "raw"): "missing"}
    # An urlencoded form, on a def handler.
    assert client.post("/login", data={"username": "ada", "remember": "on"}).json() == {"username": "ada", "remember": True}
    assert client.post("/login", data={}).status_code == 422
    schema = client.get("/openapi.json").json()["paths"]["/login"]["post"]["requestBody"]["content"]
    assert set(schema) == {"application/x-www-form-urlencoded"}
    assert schema["application/x-www-form-urlencoded"]["schema"]["required"] == ["username"]


def test_request_form_buffered_and_streamed(client: TestClient, app: App) -> None:
    """``await request.form()`` (Starlette's) on a streamed route (async,
    takes a Request) parses in Python; on an upload route it is the
    engine's parse."""

    async def describe(request: Request) -> dict[str, Any]:
        form = await request.form()
        out: dict[str, Any] = {}
        for key, value in form.multi_items():
            out.setdefault(key, []).append(
                {"file": value.filename, "type": value.content_type, "data": (await value.read()).decode()}
                if isinstance(value, UploadFile) else value
            )
        return out

    @app.post("/streamed")
    async def streamed(request: Request) -> dict[str, Any]:
        return await describe(request)

    @app.post("/buffered")
    async def buffered(request: Request, f: UploadFile) -> dict[str, Any]:
        assert request["form_data"]["files"][0]["filename"] == "x.txt"  # the engine parsed it
        return await describe(request)

    body = multipart(("a", None, b"1"), ("a", None, b"2"), ("f", "x.txt", b"data"), content_type="text/plain")
    expected = {"a": ["1", "2"], "f": [{"file": "x.txt", "type": "text/plain", "data": "data"}]}
    assert client.post("/streamed", content=body, headers=MULTIPART).json() == expected
    assert client.post("/buffered", content=body, headers=MULTIPART).json() == expected
    assert client.post("/streamed", data={"k": "v", "e": ""}).json() == {"k": ["v"], "e": [""]}
    assert client.post("/streamed", content=b"--nope", headers=MULTIPART).status_code == 400


def test_stream_and_upload_over_http2(serve: Callable[[App], Server]) -> None:
    app = App()

    @app.post("/count", max_body_size=8 << 20)
    async def count(request: Request) -> dict[str, Any]:
        return {"size": sum([len(c) async for c in request.stream()])}

    @app.post("/up", max_body_size=8 << 20)
    async def up(request: dict[str, Any], file: UploadFile) -> dict[str, Any]:
        return {"size": file.size, "same": await file.read() == payload}

    @app.post("/small", max_body_size=1000)
    async def small(request: Request) -> dict[str, Any]:
        return {"size": len(await request.body())}

    payload = os.urandom(3 << 20)
    server = serve(app)
    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client(http1=False, http2=True, timeout=30) as h2:
        response = h2.post(base + "/count", content=payload)
        assert response.http_version == "HTTP/2"
        assert response.json() == {"size": 3 << 20}
        assert h2.post(base + "/up", files={"file": ("p.bin", payload)}).json() == {"size": 3 << 20, "same": True}
        # Within the stream's flow-control window, so that httpx has sent it
        # all before the 413 comes (it fails on an early answer to a body it
        # is still sending).
        assert h2.post(base + "/small", content=b"x" * 5000).status_code == 413


def test_truncated_streamed_body_is_a_400_not_a_500(serve: Callable[..., Server], caplog: pytest.LogCaptureFixture) -> None:
    """A client that half-closes before its Content-Length is reached: the
    handler's stream raises ClientDisconnect, an HTTPError(400), so no 500
    and no traceback."""
    app = App()

    @app.post("/echo")
    async def echo(request: Request) -> bytes:
        return await request.body()

    server = serve(app)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this")
        sock.shutdown(socket.SHUT_WR)
        status, headers, body = read_response(sock)
    assert status == 400
    assert headers.get("connection") == "close"
    assert b"request body incomplete" in body
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
