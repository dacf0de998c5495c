#!/usr/bin/env bash
# Engine tests: builds libmemrayd.so and a C helper, then runs every scenario of run_checks.py
# under LD_PRELOAD in each given interpreter (default: pyenv 3.11.7).
# Usage: tests/native_engine/run.sh [PYTHON ...]   (env SCENARIOS="alloc threads" to select)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
zig="$root/.tools/bin/zig"
work=$(mktemp -d /tmp/memrayd-engine.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$root" && "$zig" build -Doptimize=ReleaseFast --summary none)
lib="$root/zig-out/lib/libmemrayd.so"
# Run-time dependencies must be glibc's own libraries only (libunwind is linked statically).
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for name in $needed; do
  case "$name" in
    libc.so.6|libpthread.so.0|libdl.so.2|ld-linux-x86-64.so.2) ;;
    *) echo "FAIL libmemrayd.so needs $name (only glibc allowed)"; exit 1 ;;
  esac
done
readelf -n "$lib" | grep -q "Build ID" || { echo "FAIL libmemrayd.so has no GNU build-id"; exit 1; }
echo "ok   libmemrayd.so needs only: $needed"
# -fno-builtin: clang would otherwise elide or rewrite the very allocator calls under test.
"$zig" cc -O2 -fno-builtin -shared -fPIC -o "$work/helper.so" "$root/tests/native_engine/helper.c" -lpthread
pythons=("$@")
[ ${#pythons[@]} -eq 0 ] && pythons=(/root/.pyenv/versions/3.11.7/bin/python3.11)
status=0
for python in "${pythons[@]}"; do
  echo "== $python"
  # shellcheck disable=SC2086
  "$python" "$root/tests/native_engine/run_checks.py" "$python" "$lib" "$work/helper.so" "$work" ${SCENARIOS:-} || status=1
done
exit $status
