#!/usr/bin/env bash
# The test command: installs databridge and its test requirements into the
# current Python, then runs the Go checks, the Python test suite and
# mypy --strict on the examples (against the installed package) and on the
# package's source.
#   scripts/test.sh            everything
#   PYTHON=python3.12 scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

echo "== install"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
"$PYTHON" -m pip install --quiet --disable-pip-version-check .

echo "== go: gofmt, vet, test"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bench/.venv/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
# cgo packages (pybridge, the c-shared main) compile against this Python;
# their test binaries embed it.
eval "$("$PYTHON" tools/cgoenv.py --shell --embed)"
go vet ./...
go test -count=1 ./...

echo "== python: pytest"
# Run from the installed package, not the source tree.
"$PYTHON" -m pytest -q -p no:cacheprovider tests

echo "== mypy --strict: examples/, python/databridge"
"$PYTHON" -m mypy --strict --no-incremental examples
MYPYPATH=python "$PYTHON" -m mypy --strict --no-incremental -p databridge
