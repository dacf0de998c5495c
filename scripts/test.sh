#!/usr/bin/env bash
# Runs the whole test suite: the (quiet, idempotent) set-up, then every *_test.ts with deno test.
# The last line printed is always "N passed, M failed"; the exit status is deno test's.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! bash scripts/setup.sh; then
  printf 'set-up failed\n0 passed, 1 failed\n'
  exit 1
fi
# memray 1.20 from PyPI, test- and benchmark-only: tests read captures it writes.
if ! bash bench/install_memray.sh 2>/dev/null; then
  printf 'set-up failed: cannot install memray 1.20 into .tools/memray-venv\n0 passed, 1 failed\n'
  exit 1
fi
if ! bash scripts/install_test_packages.sh; then
  printf 'set-up failed: cannot install the Debian packages the tests need\n0 passed, 1 failed\n'
  exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
TZ=UTC NO_COLOR=1 "$root/.tools/bin/deno" test -A --parallel "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)
if [ -z "$summary" ]; then
  # No summary: deno test stopped before running tests (a type error, a bad module).
  printf '0 passed, 1 failed\n'
  exit $(( status == 0 ? 1 : status ))
fi
passed=$(printf '%s' "$summary" | sed -E 's/.*[|] ([0-9]+) passed.*/\1/')
failed=$(printf '%s' "$summary" | sed -nE 's/.*[|] ([0-9]+) failed.*/\1/p')
printf '%s passed, %s failed\n' "$passed" "${failed:-0}"
exit "$status"
