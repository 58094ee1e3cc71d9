#!/usr/bin/env bash
# Fuzz every example app from its own OpenAPI document (issue #12), as a new
# user would: serve it with `python -m databridge run` on a loopback port and
# run schemathesis with every check. Any failure fails the step.
#
#   scripts/schemathesis.sh                 all example apps
#   scripts/schemathesis.sh examples.users  one
#   PYTHON=python3.12 MAX_EXAMPLES=100 SEED=2 scripts/schemathesis.sh
#
# databridge must be importable by $PYTHON (scripts/test.sh installs it).
# Schemathesis, pinned, goes into its own venv (build/schemathesis-venv,
# git-ignored), so it never touches the Python under test.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SCHEMATHESIS_VERSION=4.32.5
SEED=${SEED:-1}
# Bounded: the whole step takes well under 2 minutes (about 20 s for both apps).
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
VENV=${SCHEMATHESIS_VENV:-build/schemathesis-venv}

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
  echo "== schemathesis $SCHEMATHESIS_VERSION into $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
st="$(cd "$VENV" && pwd)/bin/st"
# schemathesis keeps a cache in its working directory: give it a scratch one.
workdir=$(mktemp -d)

# Checks that contradict databridge's documented behaviour. `--checks all`
# stays on otherwise; each exclusion says why.
EXCLUDE=(
  # None so far: every check passes against every example app, including
  # negative_data_rejection (databridge answers 400/422 to what the
  # document forbids), positive_data_acceptance (it accepts what the
  # document allows: issue #12) and the conformance checks.
)

# Example apps with an OpenAPI document: an App in examples/*.py (every App
# serves /openapi.json unless openapi_url=None; the script skips an app
# whose document is not served).
if [ $# -gt 0 ]; then
  apps=("$@")
else
  apps=()
  for f in examples/*.py; do
    name=$(basename "$f" .py)
    [ "$name" = __init__ ] && continue
    grep -q '= App(' "$f" && apps+=("examples.$name")
  done
fi

server_pid=""
log=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  server_pid=""
}
trap 'stop_server; rm -rf "$workdir"' EXIT

failed=0
for app in "${apps[@]}"; do
  echo "== schemathesis: $app"
  log=$(mktemp)
  # Port 0: the server binds a free loopback port and names it in its banner.
  "$PYTHON" -m databridge run "$app" --host 127.0.0.1 --port 0 --log-level warning 2>"$log" &
  server_pid=$!
  url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^databridge: serving \(http:[^ ]*\).*/\1/p' "$log" | head -1)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "$app did not start:"; cat "$log"; failed=1; stop_server; continue
  fi
  if ! "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$url/openapi.json" 2>/dev/null; then
    echo "$app serves no OpenAPI document: skipped"; stop_server; continue
  fi
  args=(run "$url/openapi.json" --checks all --seed "$SEED" --max-examples "$MAX_EXAMPLES"
        --request-timeout 10 --no-color
        # No example database: a run depends on the seed alone, and writes nothing.
        --generation-database none)
  [ ${#EXCLUDE[@]} -gt 0 ] && args+=(--exclude-checks "$(IFS=,; echo "${EXCLUDE[*]}")")
  if ! (cd "$workdir" && timeout 100 "$st" "${args[@]}"); then
    failed=1
  fi
  stop_server
  if grep -q "Traceback" "$log"; then
    echo "$app logged a traceback:"; cat "$log"; failed=1
  fi
  rm -f "$log"
done
exit $failed
