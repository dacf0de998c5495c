#!/bin/bash
# Builds the engine for valgrind: a copy of native/ whose capture file reserves 1 GiB of address
# space instead of 64 GiB (valgrind refuses the large reservation with ENOMEM). Nothing else
# differs. usage: bench/micro/build_for_callgrind.sh [prefix]  (default /tmp/cgbuild; the library
# is then PREFIX/lib/libmemrayd.so). With HEAD_FILES="native/python native/engine/hooks.zig ...",
# those paths are taken from git HEAD instead of the working tree (a baseline for A/B runs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${1:-/tmp/cgbuild}
tree=$prefix.src
mkdir -p "$tree"
rm -rf "$tree/native"
cp -a "$root/native" "$tree/native"
cp "$root/build.zig" "$tree/"
ln -sfn "$root/.tools" "$tree/.tools"
for path in ${HEAD_FILES:-}; do
  for file in $(cd "$root" && git ls-tree -r --name-only HEAD -- "$path"); do
    (cd "$root" && git show "HEAD:$file") > "$tree/$file"
  done
done
sed -i 's/const reservation_size_bytes: u64 = 64 << 30;/const reservation_size_bytes: u64 = 1 << 30;/' \
  "$tree/native/engine/capture_file.zig"
grep -q 'reservation_size_bytes: u64 = 1 << 30' "$tree/native/engine/capture_file.zig"
(cd "$tree" && "$root/.tools/bin/zig" build -Doptimize=ReleaseFast -p "$prefix")
echo "$prefix/lib/libmemrayd.so"
