#!/usr/bin/env bash
# The Autobahn testsuite (wstest -m fuzzingclient, every case) against
# bench/apps/ws_echo.py, in six groups run in parallel (about 7 minutes on
# 2 CPUs); prints the count of each behaviour and the cases that were not
# OK. Reports: bench/results/autobahn/g*/index.html.
#   bench/autobahn.sh
# Needs wstest: autobahntestsuite 0.8.2 is Python 2 only, e.g.
#   ~/.pyenv/versions/2.7.18/bin/python -m pip install --user autobahntestsuite==0.8.2
# (WSTEST=path overrides ~/.local/bin/wstest) and databridge importable by
# python3 (installed, or built in place: python3 setup.py build_ext --inplace).
set -euo pipefail
cd "$(dirname "$0")/.."
WSTEST=${WSTEST:-$HOME/.local/bin/wstest}
PORT=${PORT:-9001}
out=$PWD/bench/results/autobahn
rm -rf "$out"
mkdir -p "$out"
PYTHONPATH=$PWD/python:$PWD python3 -m databridge run bench.apps.ws_echo:app --port "$PORT" --log-level warning \
  >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  if (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
pids=()
i=0
for cases in '["1.*","2.*","3.*","4.*","5.*"]' '["6.*"]' '["7.*","10.*"]' '["9.*"]' '["12.*"]' '["13.*"]'; do
  i=$((i + 1))
  cat >"$out/spec$i.json" <<JSON
{"outdir": "$out/g$i", "servers": [{"agent": "databridge", "url": "ws://127.0.0.1:$PORT/ws"}],
 "cases": $cases, "exclude-cases": [], "exclude-agent-cases": {}}
JSON
  (cd "$out" && "$WSTEST" -m fuzzingclient -s "spec$i.json" >"g$i.log" 2>&1) &
  pids+=($!)
done
wait "${pids[@]}"
python3 - "$out" <<'PY'
import collections, glob, json, sys
counts, odd = collections.Counter(), collections.defaultdict(list)
for path in glob.glob(f"{sys.argv[1]}/g*/index.json"):
    for cases in json.load(open(path)).values():
        for case, r in cases.items():
            counts[r["behavior"]] += 1
            if r["behavior"] != "OK":
                odd[r["behavior"]].append(case)
            if r["behaviorClose"] not in ("OK", "INFORMATIONAL"):
                odd["close " + r["behaviorClose"]].append(case)
key = lambda c: [int(x) for x in c.split(".")]
print(sum(counts.values()), "cases:", dict(counts))
for behavior, cases in sorted(odd.items()):
    print(f"{behavior}: {' '.join(sorted(cases, key=key))}")
sys.exit(1 if any(b not in ("OK", "NON-STRICT", "INFORMATIONAL") for b in counts) or any(k.startswith("close") for k in odd) else 0)
PY
