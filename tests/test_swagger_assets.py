"""tools/swagger_assets.py: the build step that writes Swagger UI's files
into the package (no network here: npm is replaced or absent)."""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("swagger_assets", REPO_ROOT / "tools" / "swagger_assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def test_version_is_pinned_in_the_5_32_line(tool: ModuleType) -> None:
    assert tool.VERSION.startswith("5.32.")
    assert tool.INTEGRITY.startswith("sha512-")


def test_without_npm_the_build_goes_on_with_a_warning(tool: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tool.shutil, "which", lambda name: None)
    assert tool.ensure(tmp_path / "assets") is False
    assert "WARNING: databridge: npm is not on PATH" in capsys.readouterr().err
    assert not (tmp_path / "assets").exists()


def test_extract_keeps_only_the_listed_files(tool: ModuleType, tmp_path: Path) -> None:
    files = {member: f"content of {name}".encode() for name, member in tool.FILES.items()}
    files["package/../../evil.txt"] = b"no"
    files["package/index.html"] = b"<html>"
    target = tmp_path / "assets"
    tool.extract(tarball(tmp_path / "p.tgz", files), target)
    assert sorted(p.name for p in target.iterdir()) == sorted([*tool.FILES, "VERSION"])
    assert (target / "swagger-ui.css").read_bytes() == b"content of swagger-ui.css"
    assert not (tmp_path.parent / "evil.txt").exists()
    assert tool.is_current(target)


def test_is_current_needs_every_file_and_the_version(tool: ModuleType, tmp_path: Path) -> None:
    assert not tool.is_current(tmp_path)
    for name in tool.FILES:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "VERSION").write_text("5.0.0\n")
    assert not tool.is_current(tmp_path)
    (tmp_path / "VERSION").write_text(tool.VERSION + "\n")
    assert tool.is_current(tmp_path)
    (tmp_path / "swagger-ui.css").unlink()
    assert not tool.is_current(tmp_path)


def test_a_tarball_that_is_not_the_pinned_one_is_refused(tool: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="is pinned at"):
        tool.check_integrity(tarball(tmp_path / "p.tgz", {"package/swagger-ui.css": b"tampered"}))


def test_current_assets_are_left_alone(tool: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in tool.FILES:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "VERSION").write_text(tool.VERSION)
    monkeypatch.setattr(tool.subprocess, "run", lambda *args, **kwargs: pytest.fail("npm ran"))
    assert tool.ensure(tmp_path) is True


def test_precompress_writes_gzip_and_brotli_siblings(tool: ModuleType, tmp_path: Path) -> None:
    import gzip

    import brotli

    (tmp_path / "swagger-ui-bundle.js").write_bytes(b"var SwaggerUIBundle = 1;\n" * 100)
    (tmp_path / "swagger-ui.css").write_bytes(b"body{}\n" * 100)
    tool.precompress(tmp_path)
    for name in tool.COMPRESSED:
        original = (tmp_path / name).read_bytes()
        assert gzip.decompress((tmp_path / f"{name}.gz").read_bytes()) == original
        assert brotli.decompress((tmp_path / f"{name}.br").read_bytes()) == original
    first = (tmp_path / "swagger-ui.css.gz").read_bytes()
    (tmp_path / "swagger-ui.css.gz").unlink()
    tool.precompress(tmp_path)
    assert (tmp_path / "swagger-ui.css.gz").read_bytes() == first  # reproducible
