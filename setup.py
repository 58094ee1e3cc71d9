"""Builds databridge._core from the Go packages in this repository.

`go build -buildmode=c-shared` links the Go engine, cpy3 and our C helpers
into one shared object that CPython imports as an extension module. libpython
is deliberately left unlinked: the interpreter that imports the module
provides every Py* symbol. Every command is echoed.

The docs page's Swagger UI files (package data, databridge/static/swagger-ui/)
are written by tools/swagger_assets.py with npm: into the build for wheels
(build_py), into python/databridge/ for in-place builds (build_ext --inplace,
develop). Without npm the build still succeeds, with a warning.

An sdist (the sdist command below) is complete for an offline build: it
carries vendor/ (`go mod vendor`; the build then uses -mod=vendor, so no
module is downloaded), the Swagger UI files (so no npm) and the commit it was
made from. Every build writes databridge/_build_info.py: the Go version and
the commit, which `python -m databridge --version` prints.
"""

from __future__ import annotations

import ast
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
from cgoenv import cgo_env  # noqa: E402
import swagger_assets  # noqa: E402

SWAGGER_DIR = Path("databridge", "static", "swagger-ui")
BUILD_INFO = Path("databridge", "_build_info.py")
# GOARCH -> the machine in a CPython extension's file name.
GOARCH_MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}


def run_text(cmd: list[str]) -> str | None:
    """The stripped stdout of cmd, or None when it cannot run or fails."""
    try:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def go_version() -> str | None:
    go = shutil.which("go")
    return None if go is None else run_text([go, "env", "GOVERSION"])


def git_commit() -> str | None:
    """HEAD's short hash ("+dirty" when tracked files differ from it) when
    ROOT is the top of a git checkout; None otherwise (an unpacked sdist)."""
    git = shutil.which("git")
    if git is None:
        return None
    top = run_text([git, "rev-parse", "--show-toplevel"])
    if top is None or Path(top).resolve() != ROOT:
        return None
    commit = run_text([git, "rev-parse", "--short", "HEAD"])
    if commit is None:
        return None
    changed = run_text([git, "status", "--porcelain", "--untracked-files=no"])
    return commit + "+dirty" if changed else commit


def recorded_commit() -> str | None:
    """The commit an sdist recorded in its _build_info.py."""
    try:
        tree = ast.parse((ROOT / "python" / BUILD_INFO).read_text())
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "COMMIT" for t in node.targets):
            value = ast.literal_eval(node.value)
            return value if isinstance(value, str) else None
    return None


def write_build_info(path: Path, go: str | None) -> None:
    commit = git_commit() or recorded_commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # sdist trees hard-link files: never write through
    path.write_text(
        '"""How this databridge was built: written by setup.py, not in git."""\n\n'
        f"GO_VERSION = {go!r}\nCOMMIT = {commit!r}\n"
    )
    print(f"wrote {path}: GO_VERSION={go} COMMIT={commit}", flush=True)


class GoExtension(Extension):
    """An extension built by `go build` from the Go package in `package`."""

    def __init__(self, name: str, package: str) -> None:
        super().__init__(name, sources=[])
        self.package = package


class build_go_ext(build_ext):
    def run(self) -> None:
        super().run()
        if self.inplace:
            swagger_assets.ensure(ROOT / "python" / SWAGGER_DIR)
            write_build_info(ROOT / "python" / BUILD_INFO, go_version())

    def build_extension(self, ext: Extension) -> None:
        if not isinstance(ext, GoExtension):
            return super().build_extension(ext)
        go = shutil.which("go")
        if go is None:
            raise RuntimeError("databridge: building needs Go 1.26+ on PATH (https://go.dev/dl/)")
        output = Path(self.get_ext_fullpath(ext.name)).resolve()
        output.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, **self.cgo_env())
        cmd = [go, "build", "-buildmode=c-shared", "-buildvcs=false", "-trimpath",
               "-ldflags=-s -w", "-o", str(output), ext.package]
        if (ROOT / "vendor" / "modules.txt").is_file():
            # An sdist: its vendor/ has every module, nothing is downloaded.
            cmd.insert(2, "-mod=vendor")
        for key in ("CC", "GOARCH", "GOFLAGS", "PKG_CONFIG_PATH", "CGO_CFLAGS", "CGO_LDFLAGS"):
            if key in env:
                print(f"{key}={shlex.quote(env[key])}", flush=True)
        print(" ".join(shlex.quote(c) for c in cmd), flush=True)
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        # c-shared also writes a C header for the exports; the wheel does not need it.
        output.with_suffix(".h").unlink(missing_ok=True)

    def get_ext_filename(self, fullname: str) -> str:
        """The extension's file name; for a cross build (GOARCH of another
        machine, as scripts/build-wheels.sh does for aarch64) with that
        machine's suffix: _core.cpython-311-aarch64-linux-gnu.so."""
        name: str = super().get_ext_filename(fullname)
        target, host = GOARCH_MACHINES.get(os.environ.get("GOARCH", "")), platform.machine()
        if target is not None and target != host:
            name = name.replace(f"-{host}-", f"-{target}-")
        return name

    def cgo_env(self) -> dict[str, str]:
        return cgo_env(Path(self.build_temp).resolve() / "pkgconfig")


class build_py_with_assets(build_py):
    """build_py, then the Swagger UI files into the built package."""

    def run(self) -> None:
        super().run()
        swagger_assets.ensure(Path(self.build_lib) / SWAGGER_DIR)
        write_build_info(Path(self.build_lib) / BUILD_INFO, go_version())


class sdist_complete(sdist):
    """sdist, plus what an offline build needs that git does not hold:
    vendor/ (`go mod vendor`), the Swagger UI files and the commit."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        base = Path(base_dir).resolve()
        go = shutil.which("go")
        if go is None:
            raise RuntimeError("databridge: making an sdist needs Go on PATH (for `go mod vendor`)")
        vendor = base / "vendor"
        shutil.rmtree(vendor, ignore_errors=True)
        cmd = [go, "mod", "vendor", "-o", str(vendor)]
        print(" ".join(shlex.quote(c) for c in cmd), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)
        if not swagger_assets.ensure(base / "python" / SWAGGER_DIR):
            raise RuntimeError("databridge: making an sdist needs the Swagger UI assets (npm on PATH)")
        if git_commit() is None and recorded_commit() is None:
            raise RuntimeError("databridge: making an sdist needs a git checkout (for the commit it records)")
        write_build_info(base / "python" / BUILD_INFO, None)


setup(
    ext_modules=[GoExtension("databridge._core", package=".")],
    cmdclass={"build_ext": build_go_ext, "build_py": build_py_with_assets, "sdist": sdist_complete},
)
