#!/usr/bin/env bash
# Installs every tool the project needs into .tools/ (git-ignored): a pinned Deno (npm),
# a pinned Zig (PyPI ziglang), a static PIC libunwind built from Debian's source package,
# then the npm packages and the native library. Idempotent and quiet: a second run prints nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
DENO_VERSION=2.9.6
ZIG_VERSION=0.15.2
mkdir -p "$tools"
log() { printf '[setup] %s\n' "$*" >&2; }

# Deno, from the npm registry.
if [ ! -x "$tools/deno/node_modules/.bin/deno" ] || ! "$tools/deno/node_modules/.bin/deno" --version | grep -q "deno $DENO_VERSION"; then
  log "installing deno $DENO_VERSION"
  mkdir -p "$tools/deno"
  (cd "$tools/deno" && npm install --silent --no-audit --no-fund "deno@$DENO_VERSION" >/dev/null)
fi
mkdir -p "$tools/bin"
ln -sf "$(readlink -f "$tools/deno/node_modules/.bin/deno")" "$tools/bin/deno"

# Zig, from PyPI (ziglang wheels carry the compiler).
if [ ! -x "$tools/zig/ziglang/zig" ] || ! "$tools/zig/ziglang/zig" version | grep -qx "$ZIG_VERSION"; then
  log "installing zig $ZIG_VERSION"
  rm -rf "$tools/zig"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --target "$tools/zig" "ziglang==$ZIG_VERSION"
fi
ln -sf "$tools/zig/ziglang/zig" "$tools/bin/zig"

# libunwind, static and PIC, so the preloaded library needs nothing but libc at run time.
bash "$root/scripts/build_libunwind.sh" "$tools"

# npm packages for Deno (deno.json nodeModulesDir) and the native library.
(cd "$root" && "$tools/bin/deno" install --quiet >/dev/null)

# The HTML reports' browser app, bundled by esbuild into reporters/html/generated/ (git-ignored)
# when missing or older than one of its sources.
html_assets="$root/reporters/html/generated/assets.ts"
if [ ! -f "$html_assets" ] || [ -n "$(find "$root/reporters/html/app" "$root/reporters/html/data" \
    "$root/reporters/html/build_assets.ts" -newer "$html_assets" -print -quit)" ]; then
  (cd "$root" && "$tools/bin/deno" run -A --quiet reporters/html/build_assets.ts)
fi
if [ -f "$root/build.zig" ]; then
  (cd "$root" && "$tools/bin/zig" build -Doptimize=ReleaseFast --summary none)
else
  log "no build.zig yet: the native library is not built"
fi
