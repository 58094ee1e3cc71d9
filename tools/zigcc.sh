#!/bin/sh
# cgo's C compiler for the manylinux wheels (scripts/build-wheels.sh sets
# CC to this): zig cc, linking against the glibc of $ZIG_TARGET (e.g.
# x86_64-linux-gnu.2.17, aarch64-linux-gnu.2.17) instead of the build
# machine's, so the extension loads on any glibc from that one on.
#   ZIG         the zig binary (PyPI's ziglang package ships one)
#   ZIG_TARGET  zig's target triple with the glibc version
# zig's linker has no --unresolved-symbols (tools/cgoenv.py passes
# ignore-all): it is dropped; lld leaves a shared object's undefined symbols
# (the Py* ones, provided by the interpreter that imports it) alone anyway.
# -Wno-macro-redefined: pyconfig.h redefines _POSIX_C_SOURCE of zig's glibc.
: "${ZIG:?tools/zigcc.sh: set ZIG to the zig binary}"
: "${ZIG_TARGET:?tools/zigcc.sh: set ZIG_TARGET, e.g. x86_64-linux-gnu.2.17}"
for arg do
  shift
  case "$arg" in
    -Wl,--unresolved-symbols=ignore-all) continue ;;
  esac
  set -- "$@" "$arg"
done
exec "$ZIG" cc -target "$ZIG_TARGET" -Wno-macro-redefined "$@"
