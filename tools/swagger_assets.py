"""Writes the Swagger UI files the docs page needs into a directory.

    python3 tools/swagger_assets.py python/databridge/static/swagger-ui

They come from the swagger-ui-dist npm package, at the version pinned
below, fetched with ``npm pack`` (the npm registry, or npm's cache) and
checked against the pinned sha512 before anything is extracted. Only the
files the page loads are kept, with the package's license notices. A
directory that already holds this version is left alone. Without npm,
:func:`ensure` prints a warning and returns False: the build goes on and
the app's docs page answers 503 saying the assets were not built.

setup.py calls :func:`ensure` for wheels (build_py) and in-place builds
(build_ext --inplace, develop).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "swagger-ui-dist"
VERSION = "5.32.15"
# `npm view swagger-ui-dist@5.32.15 dist.integrity`
INTEGRITY = "sha512-TSFER+rFQlf1nzk6WvKkMaHTxAPQ3eAAxigFThnxQedSREanfZgSbJFayZVs/ULnSbNdrJOb99vLD6xpb3R3eg=="

# Files of the npm tarball ("package/...") to keep, by their name here.
FILES = {
    "swagger-ui.css": "package/swagger-ui.css",
    "swagger-ui-bundle.js": "package/swagger-ui-bundle.js",
    "favicon-32x32.png": "package/favicon-32x32.png",
    "LICENSE": "package/LICENSE",
    "NOTICE": "package/NOTICE",
    "swagger-ui-bundle.js.LICENSE.txt": "package/swagger-ui-bundle.js.LICENSE.txt",
}

STAMP = "VERSION"


def is_current(target: Path) -> bool:
    """Whether ``target`` already holds every file of the pinned version."""
    stamp = target / STAMP
    return stamp.is_file() and stamp.read_text().strip() == VERSION and all((target / name).is_file() for name in FILES)


def ensure(target: Path) -> bool:
    """Make ``target`` hold the assets; False (after a warning) when they
    cannot be had."""
    target = Path(target)
    if is_current(target):
        precompress(target)
        return True
    npm = shutil.which("npm")
    if npm is None:
        warn(f"npm is not on PATH: the Swagger UI assets were not written to {target}; "
             "the docs page will answer 503 until they are (install npm and build again)")
        return False
    with tempfile.TemporaryDirectory(prefix="databridge-swagger-") as tmp:
        cmd = [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"]
        print(" ".join(cmd), flush=True)
        try:
            subprocess.run(cmd, cwd=tmp, check=True, stdout=subprocess.DEVNULL, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            warn(f"`npm pack {PACKAGE}@{VERSION}` failed ({exc}): the Swagger UI assets were not written to {target}")
            return False
        tarballs = list(Path(tmp).glob("*.tgz"))
        if len(tarballs) != 1:
            warn(f"`npm pack` left {len(tarballs)} tarballs in {tmp}; expected one")
            return False
        check_integrity(tarballs[0])
        extract(tarballs[0], target)
    precompress(target)
    return True


# The large text files the docs page loads; the engine's file server sends
# a ".gz" (and, when the brotli module is there at build time, a ".br")
# beside each to clients that accept it: the bundle goes from 1.5 MB to
# about 0.4 MB on the wire.
COMPRESSED = ("swagger-ui.css", "swagger-ui-bundle.js")


def precompress(target: Path) -> None:
    """Write name.gz (and name.br) next to each of COMPRESSED, unless an
    up-to-date one is there. gzip without a name or time: the same bytes
    on every build."""
    try:
        import brotli  # type: ignore[import-not-found]
    except ImportError:
        brotli = None
    for name in COMPRESSED:
        source = target / name
        if not source.is_file():
            continue
        data = None
        for ext in (".gz", ".br"):
            if ext == ".br" and brotli is None:
                continue
            sibling = target / (name + ext)
            if sibling.is_file() and sibling.stat().st_mtime >= source.stat().st_mtime:
                continue
            if data is None:
                data = source.read_bytes()
            packed = gzip.compress(data, compresslevel=9, mtime=0) if ext == ".gz" else brotli.compress(data, quality=11)
            sibling.write_bytes(packed)


def check_integrity(tarball: Path) -> None:
    algorithm, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"{tarball.name}: {algorithm} is {digest}, but {PACKAGE}@{VERSION} is pinned at {expected}")


def extract(tarball: Path, target: Path) -> None:
    """Copy the kept files out of the tarball (by name: nothing else of the
    archive is written anywhere)."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for name, member in FILES.items():
            source = archive.extractfile(member)
            if source is None:
                raise RuntimeError(f"{tarball.name} has no file {member}")
            (target / name).write_bytes(source.read())
    (target / STAMP).write_text(VERSION + "\n")
    print(f"wrote {PACKAGE} {VERSION} ({', '.join(FILES)}) to {target}", flush=True)


def warn(message: str) -> None:
    print(f"WARNING: databridge: {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: {Path(sys.argv[0]).name} TARGET_DIR", file=sys.stderr)
        return 2
    return 0 if ensure(Path(argv[0])) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
