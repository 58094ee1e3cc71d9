"""Builds databridge._core from the Go packages in this repository.

`go build -buildmode=c-shared` links the Go engine, cpy3 and our C helpers
into one shared object that CPython imports as an extension module. libpython
is deliberately left unlinked: the interpreter that imports the module
provides every Py* symbol. Every command is echoed.

The docs page's Swagger UI files (package data, databridge/static/swagger-ui/)
are written by tools/swagger_assets.py with npm: into the build for wheels
(build_py), into python/databridge/ for in-place builds (build_ext --inplace,
develop). Without npm the build still succeeds, with a warning.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
from cgoenv import cgo_env  # noqa: E402
import swagger_assets  # noqa: E402

SWAGGER_DIR = Path("databridge", "static", "swagger-ui")


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

    def build_extension(self, ext: Extension) -> None:
        if not isinstance(ext, GoExtension):
            return super().build_extension(ext)
        go = shutil.which("go")
        if go is None:
            raise RuntimeError("databridge: building needs Go 1.22+ on PATH (https://go.dev/dl/)")
        output = Path(self.get_ext_fullpath(ext.name)).resolve()
        output.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, **self.cgo_env())
        cmd = [go, "build", "-buildmode=c-shared", "-buildvcs=false", "-trimpath",
               "-ldflags=-s -w", "-o", str(output), ext.package]
        for key in ("PKG_CONFIG_PATH", "CGO_CFLAGS", "CGO_LDFLAGS"):
            print(f"{key}={shlex.quote(env[key])}", flush=True)
        print(" ".join(shlex.quote(c) for c in cmd), flush=True)
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        # c-shared also writes a C header for the exports; the wheel does not need it.
        output.with_suffix(".h").unlink(missing_ok=True)

    def cgo_env(self) -> dict[str, str]:
        return cgo_env(Path(self.build_temp).resolve() / "pkgconfig")


class build_py_with_assets(build_py):
    """build_py, then the Swagger UI files into the built package."""

    def run(self) -> None:
        super().run()
        swagger_assets.ensure(Path(self.build_lib) / SWAGGER_DIR)


setup(
    ext_modules=[GoExtension("databridge._core", package=".")],
    cmdclass={"build_ext": build_go_ext, "build_py": build_py_with_assets},
)
