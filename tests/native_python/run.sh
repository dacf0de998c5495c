#!/usr/bin/env bash
# Builds and runs every check of the Python frame walker (native/python/), exit status non-zero on
# any mismatch:
#   1. Zig unit tests of native/python/.
#   2. Layout: layout_probe.c compiled against each interpreter's own headers (offsetof/sizeof)
#      compared with the Zig tables (check_layout.py).
#   3. End to end: walker_testlib.zig loaded with ctypes.PyDLL into every interpreter, stacks
#      compared with sys._getframe() truth (e2e_walker.py), ReleaseSafe build; then the walk time
#      at depth 25 on a ReleaseFast build (bound: WALKER_BENCH_MAX_NS, default 1000).
# Interpreters: pyenv 3.9-3.13 (all required) and Debian's /usr/bin/python3.11 when present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
zig="$root/.tools/bin/zig"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
bench_max_ns="${WALKER_BENCH_MAX_NS:-1000}"
work=$(mktemp -d "${TMPDIR:-/tmp}/walker_test.XXXXXX")
# Wait for background builds first so that none writes into a removed directory.
trap 'wait 2>/dev/null; rm -rf "$work"' EXIT
log() { printf '[native_python] %s\n' "$*" >&2; }

pythons=()
for minor in 9 10 11 12 13; do
  found=$(ls -d "$pyenv_root"/versions/3."$minor".*/bin/python3."$minor" 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ]; then
    log "Cannot run walker tests: no pyenv CPython 3.$minor under $pyenv_root/versions"
    exit 1
  fi
  pythons+=("$found")
done
if [ -x /usr/bin/python3.11 ]; then pythons+=(/usr/bin/python3.11); fi

log "zig unit tests"
"$zig" test -lc "$root/native/python/walker.zig" 2>&1 | tail -n 1

log "building test library (ReleaseSafe, ReleaseFast) and layout dumper"
build_lib() { # $1 = optimize mode, $2 = output
  "$zig" build-lib -dynamic -lc -O "$1" --dep walker -Mroot="$here/walker_testlib.zig" \
    -Mwalker="$root/native/python/walker.zig" -femit-bin="$2"
}
build_lib ReleaseSafe "$work/libwalker_test_safe.so" &
safe_pid=$!
build_lib ReleaseFast "$work/libwalker_test_fast.so" &
fast_pid=$!
"$zig" build-exe --dep layout -Mroot="$here/dump_layout.zig" -Mlayout="$root/native/python/layout.zig" \
  -femit-bin="$work/dump_layout"
"$work/dump_layout" >"$work/tables.txt"

probes=()
for python in "${pythons[@]}"; do
  name=$(basename "$(dirname "$(dirname "$python")")")-$(basename "$python")
  include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  platinclude=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["platinclude"])')
  if [ ! -d "$include/internal" ]; then
    log "Cannot check layout for $python: $include/internal is missing"
    exit 1
  fi
  "$zig" cc -I"$include" -I"$include/internal" -I"$platinclude" "$here/layout_probe.c" \
    -o "$work/probe-$name"
  "$work/probe-$name" >"$work/probe-$name.txt"
  probes+=("$work/probe-$name.txt")
done
status=0
log "layout tables vs headers"
"${pythons[0]}" "$here/check_layout.py" "$work/tables.txt" "${probes[@]}" || status=1

wait "$safe_pid"
wait "$fast_pid"
for python in "${pythons[@]}"; do
  log "end to end: $python"
  "$python" "$here/e2e_walker.py" "$work/libwalker_test_safe.so" || status=1
  "$python" "$here/e2e_walker.py" "$work/libwalker_test_fast.so" --bench-max-ns "$bench_max_ns" || status=1
done
if [ "$status" -ne 0 ]; then
  log "FAILED"
  exit 1
fi
log "all walker checks passed"
