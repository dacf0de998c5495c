#!/bin/bash
# Wall-clock ns per pair of bench/micro/pairs.py under python alone and under each given engine
# library (LD_PRELOAD + bootstrap), interleaved, best of REPEAT runs (default 5) of PAIRS pairs
# (default 1000000). Best-of because this machine is shared: noise only ever adds time.
# usage: [KIND=malloc|pymalloc|temporaries] [NEST=10] [EXTRA=',"trace_python_allocators":true'] \
#        bench/micro/time_pairs.sh LIB...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3.11}
kind=${KIND:-malloc}
nest=${NEST:-10}
pairs=${PAIRS:-1000000}
repeat=${REPEAT:-5}
extra=${EXTRA:-}
capture=/tmp/time_pairs.$$.bin
trap 'rm -f "$capture"' EXIT
seconds() { # prints elapsed seconds of one run
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
declare -A best
for ((r = 0; r < repeat; r++)); do
  for lib in none "$@"; do
    if [ "$lib" = none ]; then
      t=$(seconds "$python" "$here/pairs.py" "$pairs" "$kind" "$nest")
    else
      config="{\"mode\":\"script\",\"target\":\"$here/pairs.py\",\"output\":\"$capture\",\"force\":true,\"quiet\":true$extra}"
      t=$(MEMRAYD_PRELOAD_RESTORE= LD_PRELOAD="$lib" seconds "$python" "$root/python/memray_deno/bootstrap.py" "$config" "$pairs" "$kind" "$nest")
    fi
    if [ -z "${best[$lib]:-}" ] || [ "$(echo "$t < ${best[$lib]}" | bc)" = 1 ]; then best[$lib]=$t; fi
  done
done
for lib in none "$@"; do
  ns=$(echo "${best[$lib]} * 1000000000 / $pairs" | bc)
  ratio=$(echo "scale=2; ${best[$lib]} / ${best[none]}" | bc)
  echo "$kind nest=$nest$extra $lib: best ${best[$lib]} s, $ns ns/pair (incl. start-up), ${ratio}x"
done
