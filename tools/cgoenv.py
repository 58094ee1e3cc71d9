"""The cgo environment that builds databridge against one Python.

Used by setup.py (the extension module) and scripts/test.sh (go vet and go
test of the cgo packages). Standard library only: it runs before anything is
installed.

    python3 tools/cgoenv.py --shell            # export lines for a shell
    python3 tools/cgoenv.py --shell --embed    # ... for test binaries that embed Python
"""

from __future__ import annotations

import argparse
import shlex
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPAT_HEADER = ROOT / "compat" / "cpy3compat.h"


def cgo_env(pc_dir: Path, *, embed: bool = False) -> dict[str, str]:
    """Environment for `go build`/`go test` against the running interpreter.

    cpy3 asks pkg-config for "python3": a python3.pc written into pc_dir
    answers with this interpreter's headers and no libraries. -I<include>
    in CGO_CFLAGS also keys Go's build cache to this interpreter: the cache
    ignores pkg-config output (3.13 objects were once reused for 3.11).

    Without embed, libpython stays unlinked: the interpreter that imports
    the extension provides every Py* symbol. With embed (Go test binaries,
    which are programs), libpython is linked and found at run time.
    """
    include = sysconfig.get_paths()["include"]
    pc_dir.mkdir(parents=True, exist_ok=True)
    (pc_dir / "python3.pc").write_text(
        "Name: Python\nDescription: the building interpreter\n"
        f"Version: {sysconfig.get_python_version()}\nCflags: -I{include}\nLibs:\n"
    )
    cflags = ["-O2", "-Wno-deprecated-declarations", f"-I{include}", "-include", str(COMPAT_HEADER)]
    if embed:
        libdir = sysconfig.get_config_var("LIBDIR")
        version = sysconfig.get_config_var("LDVERSION") or sysconfig.get_python_version()
        ldflags = f"-L{libdir} -lpython{version} -Wl,-rpath,{libdir} -ldl -lm"
    else:
        ldflags = "-Wl,--unresolved-symbols=ignore-all"
    return {
        "CGO_ENABLED": "1",
        "PKG_CONFIG_PATH": str(pc_dir),
        "CGO_CFLAGS": " ".join(shlex.quote(f) for f in cflags),
        "CGO_LDFLAGS": ldflags,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shell", action="store_true", help="print `export NAME=value` lines")
    parser.add_argument("--embed", action="store_true", help="link libpython (for Go test binaries)")
    parser.add_argument("--pc-dir", type=Path, default=Path(tempfile.gettempdir()) / "databridge-pkgconfig")
    args = parser.parse_args()
    for key, value in cgo_env(args.pc_dir, embed=args.embed).items():
        print(f"export {key}={shlex.quote(value)}" if args.shell else f"{key}={value}")


if __name__ == "__main__":
    main()
