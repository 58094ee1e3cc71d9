"""Paths, names, small helpers and the environment of the benchmark suite: the venv,
the peers, databridge built from the checkout, the Go server, the CPUs.

Part of bench/run.py (see bench/README.md). Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_DIR = BENCH_DIR / ".venv"
VENV_PYTHON = VENV_DIR / "bin" / "python"
GOSERVER_BIN = VENV_DIR / "goserver"
REQUIREMENTS = BENCH_DIR / "requirements.txt"
ECHO_LUA = BENCH_DIR / "echo.lua"
USERS_LUA = BENCH_DIR / "users.lua"
DELETE_LUA = BENCH_DIR / "delete.lua"
LOG_DIR = BENCH_DIR / "results" / "logs"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
RESULTS_JSON = BENCH_DIR / "results.json"
REQUIREMENTS_STAMP = VENV_DIR / ".bench-requirements.sha256"
DATABRIDGE_STAMP = VENV_DIR / ".bench-databridge.sha256"

HOST = "127.0.0.1"
MEMORY_LIMIT_S = 3600  # upper bound of one wrk run of the memory scenario
DATABRIDGE = "databridge"
GO = "go"
PEERS_PACKAGES = (
    "uvicorn",
    "uvloop",
    "httptools",
    "granian",
    "robyn",
    "fastapi",
    "starlette",
    "pydantic",
)

# Scenario 11: the same last route in databridge's 203-route app and its 1-route app.
ROUTES_BIG = "databridge-routes203"
ROUTES_ONE = "databridge-route1"
# Scenario 12: Granian started with --http 2 (h2c with prior knowledge only).
GRANIAN_H2 = "granian-rsgi-h2"
H2_INSTALL_HINT = "sudo apt-get install -y nghttp2-client   (Debian/Ubuntu: h2load and nghttp)"


class BenchError(Exception):
    """A server could not be installed, started or queried."""


def log(message: str) -> None:
    print(message, flush=True)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def sha256_of(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def read_stamp(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def command_output(argv: list[str], cwd: Path | None = None) -> str:
    """stdout+stderr of a short command, or '' when it cannot run."""
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout + done.stderr).strip()


def fmt_num(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def ensure_venv() -> None:
    """Create bench/.venv with the running interpreter (no system site-packages)."""
    if VENV_PYTHON.exists():
        return
    log(f"creating {VENV_DIR.relative_to(REPO_ROOT)} with {sys.executable}")
    subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)


def pip_install(args: list[str], log_path: Path, timeout: float) -> bool:
    """Run ``pip install ARGS`` in the venv; output to log_path. True on success."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        str(VENV_PYTHON),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        *args,
    ]
    with log_path.open("w") as out:
        out.write("$ " + shlex.join(argv) + "\n")
        out.flush()
        try:
            done = subprocess.run(
                argv,
                cwd=REPO_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            out.write(f"\npip timed out after {timeout:.0f} s\n")
            return False
    return done.returncode == 0


def install_peers(force: bool) -> None:
    """pip-install bench/requirements.txt unless the venv already has exactly that file."""
    stamp = sha256_of(REQUIREMENTS.read_bytes(), str(VENV_PYTHON.resolve()).encode())
    if not force and read_stamp(REQUIREMENTS_STAMP) == stamp:
        log("peers: bench/requirements.txt already installed")
        return
    log("peers: pip install -r bench/requirements.txt")
    log_path = LOG_DIR / "pip-peers.log"
    if not pip_install(["-r", str(REQUIREMENTS)], log_path, timeout=900):
        raise SystemExit(
            f"error: installing the peers failed; see {log_path}\n{tail(log_path)}"
        )
    REQUIREMENTS_STAMP.write_text(stamp + "\n")


# Top-level folders that do not go into the databridge package: changing them
# does not trigger a reinstall (--reinstall forces one).
NOT_PACKAGED = ("bench/", "tests/", "docs/", "examples/", ".ci/")


def source_files() -> list[Path]:
    """The repo's files that make up databridge (honours .gitignore)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        listed = None
    if listed is not None and listed.returncode == 0 and listed.stdout:
        names = [n for n in listed.stdout.split("\0") if n]
    else:  # not a git checkout: walk the tree
        skip = {
            ".git",
            *(folder.rstrip("/") for folder in NOT_PACKAGED),
            "build",
            "dist",
            "__pycache__",
            ".pytest_cache",
            "node_modules",
        }
        names = []
        for root, dirs, files in os.walk(REPO_ROOT):
            dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
            names += [str(Path(root, f).relative_to(REPO_ROOT)) for f in files]
    return sorted(REPO_ROOT / n for n in names if not n.startswith(NOT_PACKAGED))


def databridge_source_hash() -> str:
    parts: list[bytes] = [str(VENV_PYTHON.resolve()).encode()]
    for path in source_files():
        try:
            parts += [str(path.relative_to(REPO_ROOT)).encode(), path.read_bytes()]
        except OSError:
            continue
    return sha256_of(*parts)


def build_errors(log_path: Path, limit: int = 5) -> str:
    """The compiler's error lines (file.go:N: ...) of a pip log, else its tail."""
    text = tail(log_path, 400)
    found = re.findall(r"^\s*(\S+\.(?:go|c|h|py|pyx):\d+.*)$", text, re.MULTILINE)
    found = [line for line in found if "Warning" not in line]
    if not found:
        return tail(log_path, limit)
    return "\n".join("  " + line for line in found[:limit])


def install_databridge(force: bool) -> str | None:
    """pip-install databridge from the repo root. Returns an error message, or None."""
    stamp = databridge_source_hash()
    if not force and read_stamp(DATABRIDGE_STAMP) == stamp:
        log("databridge: sources unchanged since the last install")
        return None
    DATABRIDGE_STAMP.unlink(missing_ok=True)
    log(f"databridge: pip install {REPO_ROOT} (this builds the Go engine)")
    log_path = LOG_DIR / "pip-databridge.log"
    started = time.monotonic()
    if not pip_install([str(REPO_ROOT)], log_path, timeout=1800):
        elapsed = time.monotonic() - started
        log(f"databridge: install FAILED after {elapsed:.0f} s; see {log_path}")
        log(build_errors(log_path))
        # Leave no older build behind for --no-install runs or the version header.
        subprocess.run(
            [str(VENV_PYTHON), "-m", "pip", "uninstall", "-y", "-q", DATABRIDGE],
            capture_output=True,
            check=False,
        )
        return f"install failed (see {log_path.relative_to(REPO_ROOT)})"
    log(f"databridge: installed in {time.monotonic() - started:.0f} s")
    DATABRIDGE_STAMP.write_text(stamp + "\n")
    return None


def build_goserver() -> str | None:
    """go build the pure-Go ceiling. Returns an error message, or None."""
    go = shutil.which("go")
    if go is None:
        return "`go` is not on PATH"
    GOSERVER_BIN.parent.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / "go-build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [go, "build", "-o", str(GOSERVER_BIN), "./bench/goserver"]
    with log_path.open("w") as out:
        done = subprocess.run(
            argv, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        return f"go build failed (see {log_path.relative_to(REPO_ROOT)}): {tail(log_path, 3)}"
    return None


def load_average() -> float:
    """1-minute load average (0.0 when unknown)."""
    try:
        with open("/proc/loadavg") as loadavg:
            return float(loadavg.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def pick_cpus() -> tuple[int, int]:
    """(server CPU, load-generator CPU): the first two CPUs we may run on."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        log(
            f"warning: only CPU {cpus[0]} is available; server and wrk share it, numbers are not comparable"
        )
        return cpus[0], cpus[0]
    return cpus[0], cpus[1]


@dataclass(frozen=True)
class Plan:
    """How long and how often to load each server."""

    duration: float
    runs: int
    warmup: float
    reuse_server: bool
    startup_timeout: float
    server_cpu: int
    load_cpu: int
