"""FileResponse and StaticFiles (issue #10): files sent by the Go file
server, over a real socket (and the test client), with conditional
requests, ranges, precompressed siblings and no way out of a mount."""

from __future__ import annotations

import gzip
import os
import socket
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import brotli
import pytest
import requests

from databridge import App, FileResponse, Response, Server, StaticFiles, openapi
from databridge.testing import TestClient

LETTERS = b"abcdefghijklmnopqrstuvwxyz"
MTIME = 1_700_000_000  # whole seconds: HTTP dates have no fraction
HTTP_DATE = formatdate(MTIME, usegmt=True)
OLDER = formatdate(MTIME - 3600, usegmt=True)
JS = b"console.log('hello from a static file');\n" * 20


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (MTIME, MTIME))
    return path


def raw_get(port: int, target: str, *headers: str) -> tuple[int, dict[str, str], bytes]:
    """One request through a raw socket, so that nothing normalises the target."""
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + "".join(h + "\r\n" for h in headers)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), fields, body


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A served directory "static", with a secret file beside it."""
    static = tmp_path / "static"
    write(tmp_path / "secret.txt", b"secret")
    write(static / "letters.txt", LETTERS)
    write(static / "app.js", JS)
    write(static / "app.js.gz", gzip.compress(JS))
    write(static / "app.js.br", brotli.compress(JS))
    write(static / "style.css", b"body { color: red }")
    write(static / "logo.png", b"\x89PNG fake")
    write(static / "data.json", b"{}")
    write(static / "index.html", b"<h1>home</h1>")
    write(static / "404.html", b"<h1>not here</h1>")
    write(static / "docs" / "index.html", b"<h1>docs</h1>")
    write(static / "docs" / "page.txt", b"a page")
    (static / "out.txt").symlink_to(tmp_path / "secret.txt")
    (static / "outdir").symlink_to(tmp_path)
    (static / "in.txt").symlink_to("docs/page.txt")
    return static


@pytest.fixture
def file_app(tree: Path) -> App:
    app = App()
    letters = tree / "letters.txt"

    @app.get("/letters")
    def get_letters(request):
        return FileResponse(letters)

    @app.get("/download")
    def download(request):
        return FileResponse(str(letters), filename="letters.txt")

    @app.get("/download-utf8")
    def download_utf8(request):
        return FileResponse(letters, filename="naïve résumé.txt")

    @app.get("/typed")
    def typed(request):
        return FileResponse(letters, media_type="text/csv")

    @app.get("/named")
    def named(request):
        return FileResponse(tree / "docs" / "page.txt", filename="page.html", content_disposition_type="inline")

    @app.get("/headers")
    def with_headers(request):
        return FileResponse(letters, headers={"cache-control": "no-store", "x-extra": "1"})

    @app.get("/gone")
    def gone(request):
        return FileResponse(tree / "nope.txt")

    @app.get("/status")
    def status(request):
        return FileResponse(tree / "404.html", status_code=404)

    @app.post("/upload")
    def upload(request):
        return FileResponse(letters)

    return app


@pytest.fixture
def file_url(file_app: App, serve: Callable[[App], Server]) -> str:
    return f"http://127.0.0.1:{serve(file_app).port}"


def test_file_response_is_sent_with_validators(file_url: str) -> None:
    r = requests.get(f"{file_url}/letters")
    assert r.status_code == 200
    assert r.content == LETTERS
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["content-length"] == "26"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["last-modified"] == HTTP_DATE
    assert r.headers["etag"].startswith('"') and r.headers["etag"].endswith('"')
    assert "content-disposition" not in r.headers
    assert ":databridge-file" not in {k.lower() for k in r.headers}


def test_file_response_range(file_url: str) -> None:
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=2-5"})
    assert (r.status_code, r.content, r.headers["content-range"]) == (206, b"cdef", "bytes 2-5/26")
    assert r.headers["content-length"] == "4"
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=-4"})
    assert (r.status_code, r.content, r.headers["content-range"]) == (206, b"wxyz", "bytes 22-25/26")
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=20-"})
    assert (r.status_code, r.content) == (206, b"uvwxyz")


def test_file_response_unsatisfiable_range(file_url: str) -> None:
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=26-30"})
    assert r.status_code == 416
    assert r.headers["content-range"] == "bytes */26"


def test_file_response_multiple_ranges(file_url: str) -> None:
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=0-1, 24-"})
    assert r.status_code == 206
    assert r.headers["content-type"].startswith("multipart/byteranges; boundary=")
    boundary = r.headers["content-type"].split("boundary=")[1].encode()
    parts = r.content.split(b"--" + boundary)
    assert b"Content-Range: bytes 0-1/26\r\n\r\nab\r\n" in parts[1]
    assert b"Content-Range: bytes 24-25/26\r\n\r\nyz\r\n" in parts[2]
    assert parts[-1] == b"--\r\n"


def test_if_range(file_url: str) -> None:
    etag = requests.get(f"{file_url}/letters").headers["etag"]
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=0-0", "If-Range": etag})
    assert (r.status_code, r.content) == (206, b"a")
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=0-0", "If-Range": '"stale"'})
    assert (r.status_code, r.content) == (200, LETTERS)
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=0-0", "If-Range": HTTP_DATE})
    assert r.status_code == 206
    r = requests.get(f"{file_url}/letters", headers={"Range": "bytes=0-0", "If-Range": OLDER})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"If-None-Match": "{etag}"}, 304),
        ({"If-None-Match": '"a", {etag}, "b"'}, 304),
        ({"If-None-Match": "W/{etag}"}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"other"'}, 200),
        ({"If-Modified-Since": HTTP_DATE}, 304),
        ({"If-Modified-Since": OLDER}, 200),
        ({"If-None-Match": '"other"', "If-Modified-Since": HTTP_DATE}, 200),
        ({"If-Match": '"other"'}, 412),
        ({"If-Match": "{etag}"}, 200),
        ({"If-Unmodified-Since": OLDER}, 412),
    ],
)
def test_conditional_requests(file_url: str, headers: dict[str, str], status: int) -> None:
    etag = requests.get(f"{file_url}/letters").headers["etag"]
    r = requests.get(f"{file_url}/letters", headers={k: v.replace("{etag}", etag) for k, v in headers.items()})
    assert r.status_code == status
    if status == 304:
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert r.headers["last-modified"] == HTTP_DATE
    if status == 200:
        assert r.content == LETTERS


def test_if_none_match_on_post_is_412(file_url: str) -> None:
    etag = requests.get(f"{file_url}/letters").headers["etag"]
    assert requests.post(f"{file_url}/upload", headers={"If-None-Match": etag}).status_code == 412
    assert requests.post(f"{file_url}/upload").content == LETTERS


def test_head(file_url: str) -> None:
    r = requests.head(f"{file_url}/letters")
    assert r.status_code == 200
    assert r.headers["content-length"] == "26"
    assert r.content == b""
    status, fields, body = raw_get_head(file_url, "/letters")
    assert (status, fields["content-length"], body) == (200, "26", b"")


def raw_get_head(url: str, target: str) -> tuple[int, dict[str, str], bytes]:
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"HEAD {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    return int(lines[0].split()[1]), {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}, body


def test_content_disposition(file_url: str) -> None:
    r = requests.get(f"{file_url}/download")
    assert r.headers["content-disposition"] == 'attachment; filename="letters.txt"'
    r = requests.get(f"{file_url}/download-utf8")
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"na_ve r_sum_.txt\"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt"
    )
    assert r.content == LETTERS


def test_content_type_from_media_type_or_filename(file_url: str) -> None:
    assert requests.get(f"{file_url}/typed").headers["content-type"] == "text/csv; charset=utf-8"
    r = requests.get(f"{file_url}/named")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-disposition"] == 'inline; filename="page.html"'


def test_handler_headers_are_kept(file_url: str) -> None:
    r = requests.get(f"{file_url}/headers")
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-extra"] == "1"
    assert r.content == LETTERS


def test_missing_file_is_a_500(file_url: str) -> None:
    r = requests.get(f"{file_url}/gone")
    assert r.status_code == 500
    assert r.json() == {"error": "Internal Server Error"}


def test_other_status_sends_the_file_whole(file_url: str) -> None:
    r = requests.get(f"{file_url}/status", headers={"If-None-Match": "*", "Range": "bytes=0-1"})
    assert (r.status_code, r.content) == (404, b"<h1>not here</h1>")
    assert r.headers["content-type"] == "text/html; charset=utf-8"


def test_file_response_object() -> None:
    response = FileResponse(Path("a/b.txt"), filename="b.txt", headers=[("x-a", "1")])
    assert isinstance(response, Response)
    assert (response.path, response.status_code, response.filename) == ("a/b.txt", 200, "b.txt")
    assert response.headers == [("x-a", "1"), ("content-disposition", 'attachment; filename="b.txt"')]
    with pytest.raises(ValueError, match="NUL"):
        FileResponse("a\x00b")
    with pytest.raises(TypeError):
        FileResponse(42)  # type: ignore[arg-type]


def test_file_response_through_the_test_client(file_app: App) -> None:
    with TestClient(file_app) as client:
        r = client.get("/letters", headers={"Range": "bytes=0-2"})
        assert (r.status_code, r.content, r.headers["content-range"]) == (206, b"abc", "bytes 0-2/26")
        etag = client.get("/letters").headers["etag"]
        assert client.get("/letters", headers={"If-None-Match": etag}).status_code == 304


# -- StaticFiles ---------------------------------------------------------------


@pytest.fixture
def static_port(tree: Path, serve: Callable[[App], Server]) -> int:
    app = App()
    app.mount("/static", StaticFiles(directory=tree), name="static")
    app.mount("/site", StaticFiles(directory=str(tree), html=True))

    @app.get("/after")
    def after(request):
        return "python"

    return serve(app).port


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("letters.txt", "text/plain; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("logo.png", "image/png"),
        ("data.json", "application/json"),
        ("index.html", "text/html; charset=utf-8"),
    ],
)
def test_static_content_types(static_port: int, tree: Path, path: str, content_type: str) -> None:
    r = requests.get(f"http://127.0.0.1:{static_port}/static/{path}", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert r.headers["content-type"] == content_type
    assert r.content == (tree / path).read_bytes()


def test_static_conditionals_and_ranges(static_port: int) -> None:
    url = f"http://127.0.0.1:{static_port}/static/letters.txt"
    r = requests.get(url)
    assert r.headers["last-modified"] == HTTP_DATE
    assert requests.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert requests.get(url, headers={"If-Modified-Since": HTTP_DATE}).status_code == 304
    r = requests.get(url, headers={"Range": "bytes=-1"})
    assert (r.status_code, r.content) == (206, b"z")
    assert requests.get(url, headers={"Range": "bytes=99-"}).status_code == 416
    r = requests.head(url)
    assert (r.status_code, r.headers["content-length"], r.content) == (200, "26", b"")
    assert requests.post(url).status_code == 405


@pytest.mark.parametrize(
    "target",
    [
        "/static/../secret.txt",
        "/static/docs/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/.%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/docs%2f..%2f..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/letters.txt%00.png",
        "/static/%00",
        "/static//letters.txt",
        "/static/./letters.txt",
        "/static/out.txt",
        "/static/outdir/secret.txt",
        "/static%2fletters.txt",
        "/static/missing.txt",
        "/static/docs/",
        "/static/docs",
        "/static/",
        "/static",
    ],
)
def test_static_traversal_and_misses_are_404(static_port: int, target: str) -> None:
    status, _, body = raw_get(static_port, target)
    assert status == 404, target
    assert b"secret" not in body


def test_static_raw_backslash_is_refused(static_port: int) -> None:
    # The HTTP/1.1 front refuses "\\" in a request-target (not a URI
    # character) before routing: 400. The mount itself answers 404 for it
    # (files/files_test.go), and for the encoded %5c above.
    status, _, body = raw_get(static_port, "/static/..\\secret.txt")
    assert status in (400, 404) and b"secret" not in body


def test_static_symlink_inside_is_served(static_port: int) -> None:
    status, _, body = raw_get(static_port, "/static/in.txt")
    assert (status, body) == (200, b"a page")


def test_static_escaped_names(tmp_path: Path, serve: Callable[[App], Server]) -> None:
    write(tmp_path / "a b.txt", b"space")
    app = App()
    app.mount("/s", StaticFiles(directory=tmp_path))
    port = serve(app).port
    assert raw_get(port, "/s/a%20b.txt")[2] == b"space"


@pytest.mark.parametrize(("encoding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_static_precompressed_siblings(static_port: int, tree: Path, encoding: str, decode: Callable[[bytes], bytes]) -> None:
    url = f"http://127.0.0.1:{static_port}/static/app.js"
    r = requests.get(url, headers={"Accept-Encoding": encoding})
    assert r.headers["content-encoding"] == encoding
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.content == JS  # decoded by the client
    sibling = tree / ("app.js.br" if encoding == "br" else "app.js.gz")
    assert r.headers["content-length"] == str(sibling.stat().st_size)
    status, fields, raw = raw_get(static_port, "/static/app.js", f"Accept-Encoding: {encoding}")
    assert decode(raw) == JS
    identity = requests.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in identity.headers and identity.content == JS
    assert identity.headers["etag"] != r.headers["etag"]
    assert requests.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": r.headers["etag"]}).status_code == 304


def test_static_changes_are_served_at_once(tmp_path: Path, serve: Callable[[App], Server]) -> None:
    """The engine keeps served files open (a cache kept exact by inotify):
    a file written, replaced, chmod-ed, removed or made, or a sibling added,
    is served as it is now by the very next request, with no wait."""
    static = tmp_path / "static"
    big = 200 * 1024  # sent by sendfile
    write(static / "f.bin", b"a" * big)
    write(static / "app.js", JS)
    app = App()
    app.mount("/static", StaticFiles(directory=static))
    port = serve(app).port
    session = requests.Session()  # one kept-alive connection, as a browser
    url = f"http://127.0.0.1:{port}/static/"

    def get(name: str, **headers: str) -> requests.Response:
        return session.get(url + name, headers={"Accept-Encoding": "identity", **headers})

    first = get("f.bin")
    assert first.content == b"a" * big
    assert get("f.bin").content == b"a" * big  # from the cache
    (static / "f.bin").write_bytes(b"b" * (big + 1))  # rewritten in place
    r = get("f.bin")
    assert r.content == b"b" * (big + 1)
    assert r.headers["etag"] != first.headers["etag"]
    assert r.headers["content-length"] == str(big + 1)
    tmp = static / ".f.tmp"
    tmp.write_bytes(b"c" * 10)
    os.replace(tmp, static / "f.bin")  # replaced by a rename, as deploys do
    assert get("f.bin").content == b"c" * 10
    etag = get("f.bin").headers["etag"]
    os.utime(static / "f.bin", (MTIME, MTIME))  # only its mtime: a new ETag, no 304
    r = get("f.bin", **{"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    os.chmod(static / "f.bin", 0o600)
    assert get("f.bin").content == b"c" * 10
    (static / "f.bin").unlink()
    assert get("f.bin").status_code == 404
    write(static / "f.bin", b"d")
    assert get("f.bin").content == b"d"
    (static / "sub").mkdir()
    write(static / "sub" / "g.txt", b"one")
    assert get("sub/g.txt").content == b"one"
    os.rename(static / "sub", static / "old")  # a directory of the path renamed
    assert get("sub/g.txt").status_code == 404
    assert get("old/g.txt").content == b"one"
    # A precompressed sibling added next to a cached file is used at once.
    assert "content-encoding" not in get("app.js", **{"Accept-Encoding": "gzip"}).headers
    write(static / "app.js.gz", gzip.compress(JS))
    r = get("app.js", **{"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.content == JS


def test_static_prefers_br(static_port: int) -> None:
    r = requests.get(f"http://127.0.0.1:{static_port}/static/app.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.headers["content-encoding"] == "br"
    r = requests.get(f"http://127.0.0.1:{static_port}/static/app.js", headers={"Accept-Encoding": "gzip, br;q=0"})
    assert r.headers["content-encoding"] == "gzip"


def test_static_html_mode(static_port: int) -> None:
    assert raw_get(static_port, "/site/")[2] == b"<h1>home</h1>"
    assert raw_get(static_port, "/site/docs/")[2] == b"<h1>docs</h1>"
    status, fields, _ = raw_get(static_port, "/site/docs?x=1")
    assert (status, fields["location"]) == (307, "/site/docs/?x=1")
    status, fields, _ = raw_get(static_port, "/site")
    assert (status, fields["location"]) == (307, "/site/")
    status, fields, body = raw_get(static_port, "/site/nothing-here")
    assert (status, body, fields["content-type"]) == (404, b"<h1>not here</h1>", "text/html; charset=utf-8")
    status, _, body = raw_get(static_port, "/site/../secret.txt")
    assert (status, body) == (404, b"<h1>not here</h1>")
    r = requests.get(f"http://127.0.0.1:{static_port}/site/docs")  # follows the redirect
    assert (r.status_code, r.content) == (200, b"<h1>docs</h1>")


def test_routes_after_a_mount_still_work(static_port: int) -> None:
    assert requests.get(f"http://127.0.0.1:{static_port}/after").text == "python"


def test_static_through_the_test_client(tree: Path) -> None:
    app = App()
    app.mount("/static", StaticFiles(directory=tree, html=True))
    with TestClient(app) as client:
        assert client.get("/static/letters.txt").content == LETTERS
        assert client.get("/static/").content == b"<h1>home</h1>"
        assert client.get("/static/nope").status_code == 404


def test_mount_errors(tmp_path: Path) -> None:
    app = App()
    with pytest.raises(TypeError, match="StaticFiles"):
        app.mount("/api", App())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "nope")
    lazy = StaticFiles(directory=tmp_path / "nope", check_dir=False)
    with pytest.raises(RuntimeError, match="static directory"):
        app.mount("/lazy", lazy)
    with pytest.raises(ValueError, match="literal path"):
        app.mount("/files/{name}", StaticFiles(directory=tmp_path))
    with pytest.raises(ValueError, match="literal path"):
        app.mount("files", StaticFiles(directory=tmp_path))
    with pytest.raises(TypeError, match="directory"):
        StaticFiles()
    app.mount("/ok/", StaticFiles(directory=tmp_path), name="ok")
    assert app.mounts[-1][0] == "/ok" and app.mounts[-1][2] == "ok"


def test_follow_symlink(tree: Path, serve: Callable[[App], Server]) -> None:
    app = App()
    app.mount("/static", StaticFiles(directory=tree, follow_symlink=True))
    port = serve(app).port
    assert raw_get(port, "/static/out.txt")[2] == b"secret"
    assert raw_get(port, "/static/../secret.txt")[0] == 404


# -- the docs page's assets ----------------------------------------------------


def test_docs_assets_are_served_by_the_file_server(serve: Callable[[App], Server]) -> None:
    if openapi.missing_assets():
        pytest.skip("Swagger UI assets not built (test_openapi fails for it)")
    port = serve(App(title="Docs")).port
    status, _, page = raw_get(port, "/docs")
    assert status == 200 and b"swagger-ui-bundle.js" in page
    for asset, content_type in openapi.ASSETS.items():
        status, fields, body = raw_get(port, f"/docs/{asset}")
        assert status == 200
        assert fields["content-type"] == content_type
        assert fields["cache-control"] == openapi.ASSET_CACHE_CONTROL
        assert body == (openapi.ASSET_DIR / asset).read_bytes()
        status, _, body = raw_get(port, f"/docs/{asset}", f"If-None-Match: {fields['etag']}")
        assert (status, body) == (304, b"")
    # The build precompresses the bundle: sent encoded to clients that accept it.
    bundle = openapi.ASSET_DIR / "swagger-ui-bundle.js"
    if (openapi.ASSET_DIR / "swagger-ui-bundle.js.gz").is_file():
        r = requests.get(f"http://127.0.0.1:{port}/docs/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
        assert r.content == bundle.read_bytes()
    # Only the assets are claimed under the docs URL.
    assert raw_get(port, "/docs/LICENSE")[0] == 404
    assert raw_get(port, "/docs/../openapi.json")[0] == 404


def test_docs_url_still_takes_other_routes_below_it() -> None:
    app = App()

    @app.get("/docs/extra")
    def extra(request):
        return "extra"

    with TestClient(app) as client:
        assert client.get("/docs/extra").text == "extra"
        with pytest.raises(ValueError, match="docs asset"):
            app.add_route("GET", "/docs/swagger-ui.css", extra)


def test_mount_at_the_root_comes_after_the_routes(tmp_path: Path) -> None:
    write(tmp_path / "index.html", b"home")
    write(tmp_path / "404.html", b"nothing")
    app = App()

    @app.get("/reports/{name}")
    def report(request, name: str):
        return name

    app.mount("/", StaticFiles(directory=tmp_path, html=True))
    with TestClient(app) as client:
        assert client.get("/").content == b"home"
        assert client.get("/reports/q3").text == "q3"
        assert (client.get("/missing").status_code, client.get("/missing").content) == (404, b"nothing")
        assert client.get("/openapi.json").status_code == 200


def test_async_handler_returns_a_file(tree: Path) -> None:
    app = App()

    @app.get("/a")
    async def a(request):
        return FileResponse(tree / "letters.txt", headers=[("x-a", "1")])

    with TestClient(app) as client:
        r = client.get("/a", headers={"Range": "bytes=-2"})
        assert (r.status_code, r.content, r.headers["x-a"]) == (206, b"yz", "1")


def test_the_reserved_header_cannot_come_from_a_handler(serve: Callable[[App], Server]) -> None:
    app = App()

    @app.get("/forged")
    def forged(request):
        return Response("x", headers={":databridge-file": "/etc/passwd"})

    @app.get("/forged-tuple")
    def forged_tuple(request):
        return 200, "x", [(":databridge-file", "/etc/passwd")]

    port = serve(app).port
    for target in ("/forged", "/forged-tuple"):
        status, fields, body = raw_get(port, target)
        assert status == 500 and b"root:" not in body
        assert ":databridge-file" not in fields
