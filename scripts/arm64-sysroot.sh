#!/usr/bin/env bash
# arm64-sysroot.sh - the arm64 libfdt a cross build links, and where it is.
#
#   scripts/arm64-sysroot.sh [--refresh]
#
# Debian's libfdt-dev is not multi-arch: libfdt-dev:arm64 cannot be installed beside
# the x86 libfdt-dev (apt would remove the x86 one). So its .deb is fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into a cache, never installed; only
# the headers and the static libfdt.a are kept (the arm64 minivmm then needs no libfdt.so
# at run time). Prints the cache folder (CACHE below); meson.build runs this during
# `meson setup` of an arm64 cross build (scripts/arm64-cross.ini). A second run is a no-op.
#
#   CACHE = ${MINIVMM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/minivmm}/arm64-sysroot
#   CACHE/include/libfdt.h ...    CACHE/lib/libfdt.a
set -euo pipefail
CACHE=${MINIVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}/arm64-sysroot
[ "${1:-}" = --refresh ] && rm -rf "$CACHE"
if [ ! -f "$CACHE/lib/libfdt.a" ]; then
  log() { echo "arm64-sysroot: $*" >&2; }
  dpkg --print-foreign-architectures | grep -qx arm64 ||
    { log "dpkg has no arm64 architecture: run scripts/install-deps.sh first"; exit 1; }
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  # apt-get download writes into the current folder (as root it warns that the _apt user
  # cannot read it, which is harmless)
  if ! (cd "$tmp" && apt-get download -qq libfdt-dev:arm64 2>/dev/null); then
    log "apt-get update"; apt-get update -qq
    (cd "$tmp" && apt-get download -qq libfdt-dev:arm64)
  fi
  dpkg-deb -x "$tmp"/libfdt-dev_*_arm64.deb "$tmp/root"
  rm -rf "$CACHE.tmp"; mkdir -p "$CACHE.tmp/include" "$CACHE.tmp/lib"
  cp "$tmp"/root/usr/include/*.h "$CACHE.tmp/include/"
  cp "$tmp"/root/usr/lib/aarch64-linux-gnu/libfdt.a "$CACHE.tmp/lib/"
  rm -rf "$CACHE"; mv "$CACHE.tmp" "$CACHE"
  log "libfdt-dev:arm64 unpacked in $CACHE"
fi
echo "$CACHE"
