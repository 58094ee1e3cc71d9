#!/usr/bin/env bash
# Builds a wheel with each other supported CPython (pyenv's 3.10, 3.12,
# 3.13), installs it into a fresh venv and runs the test suite there.
#   scripts/smoke.sh            all of them
#   scripts/smoke.sh 3.13       one
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.10 3.12 3.13)
root=${PYENV_ROOT:-$HOME/.pyenv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for v in "${versions[@]}"; do
  python=$(ls -d "$root"/versions/"$v".*/bin/python 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$python" ]; then
    echo "smoke: no CPython $v under $root/versions" >&2
    exit 1
  fi
  echo "== CPython $v: $python"
  "$python" -m venv "$work/venv-$v"
  venv="$work/venv-$v/bin/python"
  "$venv" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$work/wheels-$v" .
  "$venv" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt "$work"/wheels-"$v"/databridge-*.whl
  "$venv" -m pytest -q -p no:cacheprovider tests
done
