#!/usr/bin/env bash
# HTTP/2 conformance of databridge's HTTP/2 front with h2spec: once on h2c
# (prior knowledge, which h2spec speaks on plain TCP) and once on h2 over
# TLS (-t -k: the server's certificate is self-signed).
#   scripts/h2spec.sh               both
# h2spec is installed from the Go module proxy into .tools/, and so is
# bench/h2server, the server it tests (through server.Listen, the path
# real connections take). Every case must pass. Two of x/net/http2's
# departures from RFC 9113 are fixed in front of it by server/http2_guard.go
# (a SETTINGS frame repeating a setting; connection-specific request
# fields), so KNOWN, the cases allowed to fail, is empty.
#   H2SPEC_STRICT=1 makes even a KNOWN case fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
# The latest h2spec the module proxy serves (go list -m -versions
# github.com/summerwind/h2spec); its binary reports itself as 2.0.0.
H2SPEC_VERSION=v2.2.1+incompatible
KNOWN=""
PYTHON=${PYTHON:-python3}

mkdir -p "$TOOLS"
echo "== install h2spec $H2SPEC_VERSION and build bench/h2server"
GOBIN="$TOOLS" go install "github.com/summerwind/h2spec/cmd/h2spec@$H2SPEC_VERSION"
go build -o "$TOOLS/h2server" ./bench/h2server

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start NAME ARGS...: runs h2server in the background (in this shell, so
# that cleanup knows its pid) and waits for its port, left in $port.
start() {
  local name=$1; shift
  "$TOOLS/h2server" -port-file "$work/$name.port" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    if [ -s "$work/$name.port" ]; then port=$(cat "$work/$name.port"); return; fi
    sleep 0.1
  done
  echo "h2server $name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}

# verdict NAME: reads the JUnit report, prints the result and fails on
# unexpected failures.
verdict() {
  "$PYTHON" - "$work/$1.xml" "$1" "$KNOWN" "${H2SPEC_STRICT:-}" <<'PY'
import sys
import xml.etree.ElementTree as ET

path, name, known, strict = sys.argv[1], sys.argv[2], set(sys.argv[3].split()), sys.argv[4]
passed, failed, skipped = [], [], []
for suite in ET.parse(path).getroot().iter("testsuite"):
    for i, case in enumerate(suite.iter("testcase"), 1):
        cid = f"{suite.get('package')}/{i}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(cid)
        elif case.find("skipped") is not None:
            skipped.append(cid)
        else:
            passed.append(cid)
unexpected = [c for c in failed if strict or c not in known]
print(f"h2spec {name}: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped"
      f" of {len(passed) + len(failed) + len(skipped)}")
for c in failed:
    print(f"  failed: {c}" + ("" if c in unexpected else " (known: x/net)"))
for c in sorted(known - set(failed)):
    print(f"  note: known case {c} passed now; drop it from KNOWN")
sys.exit(1 if unexpected else 0)
PY
}

status=0
start h2c
echo "== h2spec, h2c with prior knowledge (port $port)"
"$TOOLS/h2spec" -h 127.0.0.1 -p "$port" -j "$work/h2c.xml" >"$work/h2c.out" 2>&1 || true
if [ ! -s "$work/h2c.xml" ]; then cat "$work/h2c.out"; exit 1; fi
verdict h2c || { status=1; sed -n '/^Failures:/,$p' "$work/h2c.out"; }

start tls -tls
echo "== h2spec, h2 over TLS (port $port)"
"$TOOLS/h2spec" -t -k -h 127.0.0.1 -p "$port" -j "$work/tls.xml" >"$work/tls.out" 2>&1 || true
if [ ! -s "$work/tls.xml" ]; then cat "$work/tls.out"; exit 1; fi
verdict tls || { status=1; sed -n '/^Failures:/,$p' "$work/tls.out"; }
exit $status
