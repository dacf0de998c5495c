#!/usr/bin/env bash
# Debian packages the tests drive (not needed to profile or report): chromium for the HTML pages
# (with playwright-core from npm), debuginfod + elfutils for the symbolizer's debuginfod client,
# tmux for the live terminal view. Quiet and idempotent: nothing happens when all are present.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v debuginfod >/dev/null 2>&1 || need+=(debuginfod)
command -v eu-readelf >/dev/null 2>&1 || need+=(elfutils)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
[ ${#need[@]} -eq 0 ] && exit 0
echo "[setup] installing test packages: ${need[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
