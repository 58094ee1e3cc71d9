#!/usr/bin/env bash
# Checks that the sdist is complete and builds offline:
#  1. every Go package of `go list ./...` (but bench/, which the build does
#     not use) is in it with all its sources (Go, cgo, C, headers, assembly,
#     embedded files, files for other platforms), plus vendor/modules.txt,
#     the Swagger UI files and the recorded commit;
#  2. unpacked in an empty directory, it builds a wheel with the network
#     blocked (unshare -n when possible; GOPROXY=off, GOFLAGS=-mod=vendor, an
#     empty Go module cache, pip --no-index) and no npm on PATH;
#  3. the wheel has the Swagger UI files and installs; --version names the
#     sdist's commit.
#   scripts/check-sdist.sh                      makes an sdist of this checkout
#   scripts/check-sdist.sh dist/databridge-0.1.0.tar.gz
# Needs Go, a C compiler, git, and (for 1. without an argument) npm and the
# PyPI package build in $PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS

if [ $# -ge 1 ]; then
  sdist=$(realpath "$1")
else
  echo "== sdist"
  "$PYTHON" -m build --sdist --outdir "$work/dist" . >"$work/sdist.log" 2>&1 || { cat "$work/sdist.log"; exit 1; }
  sdist=$(ls "$work"/dist/databridge-*.tar.gz)
fi
echo "== $sdist: contents"
mkdir "$work/src"
tar -xzf "$sdist" -C "$work/src"
src=$(ls -d "$work"/src/databridge-*)

go list -f '{{.ImportPath}}|{{.Dir}}|{{join .GoFiles " "}} {{join .CgoFiles " "}} {{join .CFiles " "}} {{join .HFiles " "}} {{join .SFiles " "}} {{join .EmbedFiles " "}} {{join .IgnoredGoFiles " "}} {{join .IgnoredOtherFiles " "}}' ./... >"$work/packages"
"$PYTHON" - "$repo" "$src" "$work/packages" <<'EOF'
import sys
from pathlib import Path

repo, src, listing = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
missing, packages = [], 0
for line in listing.read_text().splitlines():
    import_path, directory, files = line.split("|", 2)
    rel = Path(directory).relative_to(repo)
    if rel.parts[:1] == ("bench",):  # the benchmarks' own Go server: not part of the build
        continue
    packages += 1
    if not (src / rel).is_dir():
        missing.append(f"package {import_path} ({rel}/)")
        continue
    missing += [f"{rel / name}" for name in files.split() if not (src / rel / name).is_file()]
needed = ["go.mod", "go.sum", "vendor/modules.txt", "compat/cpy3compat.h", "tools/cgoenv.py", "tools/swagger_assets.py",
          "python/databridge/_build_info.py", "python/databridge/static/swagger-ui/swagger-ui-bundle.js",
          "python/databridge/static/swagger-ui/swagger-ui.css"]
missing += [name for name in needed if not (src / name).is_file()]
if missing:
    sys.exit("check-sdist: the sdist lacks:\n  " + "\n  ".join(missing))
print(f"check-sdist: all {packages} Go packages of `go list ./...` (but bench/) and their sources are in the sdist")
EOF

echo "== offline wheel build from the unpacked sdist"
# setuptools and wheel are installed first (the build runs without index).
"$PYTHON" -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install --quiet --disable-pip-version-check setuptools wheel
go_bin=$(dirname "$(command -v go)")
bin=$("$PYTHON" tools/restricted_path.py "$work/bin" npm npx node)
mkdir "$work/gomodcache" "$work/wheel"
offline=(env PATH="$work/build-venv/bin:$go_bin:$bin" GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local
         GOMODCACHE="$work/gomodcache" GONOSUMDB= GOSUMDB=off PIP_NO_INDEX=1
         HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9)
if unshare -n true 2>/dev/null; then
  offline=(unshare -n "${offline[@]}")
  echo "(network namespace without interfaces: unshare -n)"
else
  echo "(unshare -n is not permitted here: offline by GOPROXY=off, an empty module cache and pip --no-index)"
fi
"${offline[@]}" sh -c '! command -v npm >/dev/null || { echo "check-sdist: npm is on PATH" >&2; exit 1; }'
(cd "$src" && "${offline[@]}" python -m pip wheel --quiet --disable-pip-version-check --no-build-isolation \
  --no-deps --no-index -w "$work/wheel" .) >"$work/wheel.log" 2>&1 || { cat "$work/wheel.log"; exit 1; }
if [ -n "$(ls -A "$work/gomodcache")" ]; then
  echo "check-sdist: the build put modules into the empty module cache:"; ls -R "$work/gomodcache" | head; exit 1
fi
wheel=$(ls "$work"/wheel/databridge-*.whl)
echo "$(basename "$wheel") ($(du -h "$wheel" | cut -f1))"

echo "== the wheel"
"$PYTHON" - "$wheel" <<'EOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
want = {"databridge/static/swagger-ui/swagger-ui-bundle.js", "databridge/static/swagger-ui/swagger-ui.css",
        "databridge/_build_info.py", "databridge/py.typed"}
missing = sorted(want - names)
if missing or not any(n.startswith("databridge/_core.") and n.endswith(".so") for n in names):
    sys.exit(f"check-sdist: the wheel lacks {missing or 'databridge/_core*.so'}")
print("check-sdist: the wheel has _core, the Swagger UI files and _build_info")
EOF
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "$wheel"
version=$(cd "$work" && "$work/venv/bin/python" -m databridge --version)
echo "$version"
commit=$(tar -xzf "$sdist" -O --wildcards '*/python/databridge/_build_info.py' | sed -n "s/^COMMIT = '\(.*\)'$/\1/p")
case "$version" in
  *"commit $commit)") ;;
  *) echo "check-sdist: --version does not name the sdist's commit $commit" >&2; exit 1 ;;
esac
echo "== check-sdist: OK ($((SECONDS - start)) s)"
