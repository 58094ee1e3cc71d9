"""Makes a directory to use as PATH that lacks some programs, and prints it.

    PATH=$(python3 tools/restricted_path.py /tmp/bin @toolchain npm node):$venv/bin

DIR gets a symlink to every executable of the system directories
(/usr/local/bin, /usr/bin, /bin, /usr/sbin, /sbin; not Go's or pyenv's)
except those whose name matches one of the patterns (fnmatch). @toolchain
stands for Go and every C compiler and linker. The smoke test of the wheels
(no Go, no compiler) and the sdist check (no npm) use it; both then check
with `command -v` that the programs are really gone. Standard library only.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path

SYSTEM_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")
TOOLCHAIN = (
    "go", "gofmt", "gcc", "gcc-*", "g++", "g++-*", "cc", "c++", "c89*", "c99*", "cpp", "cpp-*",
    "clang*", "tcc", "zig", "ld", "ld.*", "*-linux-gnu-*", "*-linux-gnu*-gcc*",
)


def make(target: Path, patterns: list[str]) -> Path:
    expanded: list[str] = []
    for pattern in patterns:
        expanded.extend(TOOLCHAIN if pattern == "@toolchain" else [pattern])
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        old.unlink()
    for directory in SYSTEM_DIRS:
        if not os.path.isdir(directory):
            continue
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            name = entry.name
            if any(fnmatch.fnmatchcase(name, p) for p in expanded) or (target / name).exists():
                continue
            if os.access(entry.path, os.X_OK) and not entry.is_dir():
                (target / name).symlink_to(os.path.realpath(entry.path))
    return target


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    print(make(Path(argv[0]).resolve(), argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
