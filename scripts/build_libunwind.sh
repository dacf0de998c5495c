#!/usr/bin/env bash
# Builds libunwind as a static, position-independent archive from Debian's source package,
# using a private apt configuration so that no system file changes. Output: $1/libunwind/.
set -euo pipefail
tools=$1
out="$tools/libunwind"
[ -f "$out/lib/libunwind.a" ] && exit 0
printf '[setup] building libunwind (static, PIC)\n' >&2
work="$tools/libunwind-build"
rm -rf "$work"; mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
cat > "$work/apt/sources.list" <<SRC
deb-src http://deb.debian.org/debian bookworm main
SRC
cat > "$work/apt/apt.conf" <<CONF
Dir::Etc::SourceList "$work/apt/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::State::Lists "$work/apt/lists";
Dir::Cache "$work/apt/cache";
CONF
export APT_CONFIG="$work/apt/apt.conf"
apt-get -qq update >/dev/null
(cd "$work/src" && apt-get -qq source --download-only libunwind >/dev/null)
(cd "$work/src" && dpkg-source --no-check -x ./*.dsc unpacked >/dev/null)
cd "$work/src/unpacked"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
CC="$tools/bin/zig cc" CFLAGS="-O2 -fPIC -fvisibility=hidden" ./configure --quiet --prefix="$out" \
  --enable-static --disable-shared --disable-minidebuginfo --disable-zlibdebuginfo --disable-tests \
  --disable-documentation --disable-coredump --disable-ptrace --disable-setjmp >/dev/null
make -s -j"$(nproc)" >/dev/null 2>&1
make -s install >/dev/null 2>&1
rm -rf "$work"
