#!/usr/bin/env bash
# Installs each manylinux wheel that scripts/build-wheels.sh wrote to dist/
# into a fresh venv of its CPython (pyenv's), with neither Go nor a C
# compiler on PATH, then: `python -m databridge --version`, serves
# examples.hello and GETs it (tools/serve_check.py), and runs the test suite
# against the installed wheel (on 3.10 and 3.12 without uvloop, so that the
# suite runs on asyncio's loop there and on uvloop elsewhere).
#   scripts/smoke.sh            3.10, 3.11, 3.12, 3.13
#   scripts/smoke.sh 3.13       one
# JOBS (default 2) versions at a time; each one's output is printed when it
# ends.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.10 3.11 3.12 3.13)
root=${PYENV_ROOT:-$HOME/.pyenv}
arch=$(uname -m)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The system's programs minus Go, compilers and linkers (and npm).
bin=$(python3 tools/restricted_path.py "$work/bin" @toolchain npm npx node)

smoke_one() {  # VERSION (errexit does not apply here: it runs as an if condition)
  local v=$1 tag python wheels
  tag=cp${v/./}
  wheels=(dist/databridge-*-"$tag"-"$tag"-*manylinux*_"$arch".whl)
  if [ ${#wheels[@]} -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
    echo "smoke: want one manylinux $arch wheel for CPython $v in dist/ (scripts/build-wheels.sh), found: ${wheels[*]}" >&2
    return 1
  fi
  python=$(ls -d "$root"/versions/"$v".*/bin/python 2>/dev/null | sort -V | tail -n 1)
  [ -n "$python" ] || { echo "smoke: no CPython $v under $root/versions" >&2; return 1; }
  echo "== CPython $v: ${wheels[0]}"
  "$python" -m venv "$work/venv-$v" || return 1
  export PATH="$work/venv-$v/bin:$bin"
  unset GOROOT GOPATH CC CXX
  hash -r
  for tool in go gcc cc clang ld zig npm; do
    if command -v "$tool" >/dev/null; then echo "smoke: $tool is still on PATH: $(command -v $tool)" >&2; return 1; fi
  done
  python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt "${wheels[0]}" || return 1
  case $v in  # half the suites on asyncio's own loop (Server(loop="auto") takes uvloop when installed)
    3.10|3.12) python -m pip uninstall --quiet --yes uvloop || return 1 ;;
  esac
  python -m databridge --version || return 1
  python tools/serve_check.py || return 1
  python -m pytest -q -p no:cacheprovider tests || return 1
}

JOBS=${JOBS:-2}
pids=()
for v in "${versions[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  ( t=$SECONDS
    if smoke_one "$v" >"$work/log-$v" 2>&1; then
      echo "== CPython $v: OK ($((SECONDS - t)) s)"
      grep -E '^(== CPython|databridge [0-9]|serve_check:|[0-9]+ passed)' "$work/log-$v" | sed 's/^/   /'
    else
      echo "== CPython $v: FAILED"; cat "$work/log-$v"; exit 1
    fi ) &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
