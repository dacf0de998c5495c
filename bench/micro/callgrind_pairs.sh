#!/bin/bash
# Instructions per allocation pair (callgrind Ir, repeatable on a noisy machine): runs
# bench/micro/pairs.py at two pair counts and divides the difference, so start-up cancels.
# usage: [NEST=frames] bench/micro/callgrind_pairs.sh LIB|none [malloc|pymalloc] [extra config json, e.g. ,"native":true]
# Leaves the larger run's profile in $OUT (default /tmp/cg.pairs.PID) for callgrind_annotate.
set -euo pipefail
lib=$1
kind=${2:-malloc}
extra=${3:-}
nest=${NEST:-10}
python=${PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3.11}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out_prefix=${OUT:-/tmp/cg.pairs.$$}
small=20000
large=120000
run() {
  local pairs=$1 out=$2
  local capture="/tmp/cg.pairs.$$.bin"
  local config="{\"mode\":\"script\",\"target\":\"$here/pairs.py\",\"output\":\"$capture\",\"force\":true,\"quiet\":true$extra}"
  rm -f "$out".*
  if [ "$lib" = none ]; then
    valgrind --tool=callgrind --callgrind-out-file="$out.%p" "$python" "$here/pairs.py" "$pairs" "$kind" "$nest" >/dev/null 2>&1
  else
    # LD_PRELOAD is set for valgrind itself, which passes it on to its client (set by `env`
    # inside, valgrind would replace it). The library must come from build_for_callgrind.sh.
    LD_PRELOAD="$lib" valgrind --tool=callgrind --callgrind-out-file="$out.%p" \
      "$python" "$root/python/memray_deno/bootstrap.py" "$config" "$pairs" "$kind" "$nest" >/dev/null 2>&1
  fi
  # The profiled interpreter is the process with the most instructions (env execs into it).
  local file
  file=$(grep -H '^summary:' "$out".* | sort -t' ' -k2 -n | tail -1 | cut -d: -f1)
  mv "$file" "$out"
  test "$lib" = none || test -s "$capture" || { echo "no capture written" >&2; exit 1; }
  rm -f "$out".* "$capture"
  grep '^summary:' "$out" | awk '{print $2}'
}
ir_small=$(run $small "$out_prefix-small")
ir_large=$(run $large "$out_prefix")
echo "$lib $kind$extra nest=$nest: $(( (ir_large - ir_small) / (large - small) )) Ir per pair"
