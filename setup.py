"""Builds databridge._core from the Go packages in this repository.

`go build -buildmode=c-shared` links the Go engine, cpy3 and our C helpers
into one shared object that CPython imports as an extension module. libpython
is deliberately left unlinked: the interpreter that imports the module
provides every Py* symbol. Every command is echoed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
COMPAT_HEADER = ROOT / "compat" / "cpy3compat.h"


class GoExtension(Extension):
    """An extension built by `go build` from the Go package in `package`."""

    def __init__(self, name: str, package: str) -> None:
        super().__init__(name, sources=[])
        self.package = package


class build_go_ext(build_ext):
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
        include = sysconfig.get_paths()["include"]
        # cpy3 asks pkg-config for "python3"; answer with this interpreter's
        # headers and no libraries, whatever is installed system-wide.
        pc_dir = Path(self.build_temp).resolve() / "pkgconfig"
        pc_dir.mkdir(parents=True, exist_ok=True)
        (pc_dir / "python3.pc").write_text(
            "Name: Python\nDescription: the building interpreter\n"
            f"Version: {sysconfig.get_python_version()}\nCflags: -I{include}\nLibs:\n"
        )
        # -I<include> is also what keys Go's build cache to this interpreter:
        # the cache ignores pkg-config output (3.13 objects were once reused for 3.11).
        cflags = ["-O2", "-Wno-deprecated-declarations", f"-I{include}", "-include", str(COMPAT_HEADER)]
        return {
            "CGO_ENABLED": "1",
            "PKG_CONFIG_PATH": str(pc_dir),
            "CGO_CFLAGS": " ".join(shlex.quote(f) for f in cflags),
            # Py* symbols resolve against the host interpreter at import time.
            "CGO_LDFLAGS": "-Wl,--unresolved-symbols=ignore-all",
        }


setup(
    ext_modules=[GoExtension("databridge._core", package=".")],
    cmdclass={"build_ext": build_go_ext},
)
