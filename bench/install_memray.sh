#!/usr/bin/env bash
# Installs memray 1.20.0 into .tools/memray-venv for side-by-side benchmarks (bench/run.ts).
# Benchmark-only: nothing in the shipped tool imports or runs it. Uses the real CPython 3.11.7
# (not the pyenv shim) so both profilers run the same interpreter. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.tools/memray-venv"
python="${MEMRAY_BENCH_PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3.11}"
MEMRAY_VERSION=1.20.0
log() { printf '[install_memray] %s\n' "$*" >&2; }

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c \
  "import importlib.metadata as m, sys; sys.exit(m.version('memray') != '$MEMRAY_VERSION')" 2>/dev/null; then
  log "memray $MEMRAY_VERSION already in $venv"
  exit 0
fi
[ -x "$python" ] || { log "Cannot install memray: interpreter $python not found"; exit 1; }
log "creating $venv with $("$python" --version)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "memray==$MEMRAY_VERSION"
"$venv/bin/python" -m memray --version >&2
log "ready: $venv/bin/python -m memray"
