#!/usr/bin/env bash
# fetch-kernels.sh — download Debian's stock kernels for minivmm's tests.
#
#   guests/fetch-kernels.sh [--print-dir] [--refresh] [generic|cloud|arm64]...
#
# For each flavour (default: generic and cloud, the x86-64 ones) this resolves the real image package behind the
# meta-package (linux-image-amd64 -> linux-image-6.1.0-NN-amd64, likewise
# linux-image-cloud-amd64; arm64: linux-image-arm64:arm64, from dpkg's arm64 architecture,
# which scripts/install-deps.sh adds) with `apt-cache depends`, fetches it with `apt-get download`
# and unpacks it with `dpkg-deb -x` into a cache. Nothing is installed and /boot is
# never touched. A stamp file makes a second run a no-op (--refresh forces a fetch).
#
# Stable paths afterwards (CACHE = $MINIVMM_CACHE/kernels, default
# ${XDG_CACHE_HOME:-~/.cache}/minivmm/kernels):
#   CACHE/<flavour>/vmlinuz     the bzImage
#   CACHE/<flavour>/modules     -> lib/modules/<version> (modules.dep, kernel/...)
#   CACHE/<flavour>/version     the kernel release string (uname -r)
#   CACHE/cloud/vmlinux         the cloud kernel as an uncompressed ELF with the Xen PVH
#                               entry note (made by guests/extract-vmlinux.sh)
#   CACHE/arm64/vmlinuz         the arm64 kernel Image
#   CACHE/arm64/busybox         busybox-static:arm64's static busybox, for arm64 initramfs
#                               images (it cannot be installed beside the x86 one)
# --print-dir prints CACHE (and does nothing else).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${MINIVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}
CACHE=$BASE/kernels
REFRESH=0 FLAVOURS=()
for a in "$@"; do
  case $a in
    --print-dir) echo "$CACHE"; exit 0;;
    --refresh) REFRESH=1;;
    generic|cloud|arm64) FLAVOURS+=("$a");;
    *) sed -n '2,24p' "$0"; exit 2;;
  esac
done
[ ${#FLAVOURS[@]} -gt 0 ] || FLAVOURS=(generic cloud)

log() { echo "fetch-kernels: $*" >&2; }
APT_UPDATED=0
apt_update() { [ $APT_UPDATED = 1 ] && return; log "apt-get update"; apt-get update -qq; APT_UPDATED=1; }

# meta-package name -> the versioned image package it depends on
resolve() {
  local meta=$1 pkg
  pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  if [ -z "$pkg" ]; then
    apt_update
    pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  fi
  [ -n "$pkg" ] || { log "cannot resolve $meta with apt-cache depends"; return 1; }
  echo "$pkg"
}

fetch() {
  local flavour=$1 meta dir pkg deb ver extra=()
  case $flavour in
    generic) meta=linux-image-amd64;;
    cloud) meta=linux-image-cloud-amd64;;
    arm64) meta=linux-image-arm64:arm64 extra=(busybox-static:arm64)
      dpkg --print-foreign-architectures | grep -qx arm64 ||
        { log "arm64: dpkg has no arm64 architecture (scripts/install-deps.sh adds it)"; return 1; };;
  esac
  dir=$CACHE/$flavour
  if [ $REFRESH = 0 ] && [ -f "$dir/.stamp" ] && [ -f "$dir/vmlinuz" ]; then
    { [ "$flavour" != cloud ] || [ -f "$dir/vmlinux" ]; } &&
      { [ "$flavour" != arm64 ] || [ -f "$dir/busybox" ]; } && return 0
  fi
  pkg=$(resolve "$meta")
  log "$flavour: $meta -> $pkg"
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/deb" "$dir.tmp/root"
  # apt-get download writes into the current directory; as root it warns about
  # the _apt sandbox user being unable to read the folder, which is harmless.
  if ! (cd "$dir.tmp/deb" && apt-get download -qq "$pkg" ${extra[@]+"${extra[@]}"} 2>/dev/null); then
    apt_update
    (cd "$dir.tmp/deb" && apt-get download -qq "$pkg" ${extra[@]+"${extra[@]}"})
  fi
  deb=$(ls "$dir.tmp"/deb/linux-image-*.deb | head -1)
  dpkg-deb -x "$deb" "$dir.tmp/root"
  if [ "$flavour" = arm64 ]; then
    # busybox-static:arm64, unpacked beside the kernel (never installed)
    dpkg-deb -x "$(ls "$dir.tmp"/deb/busybox-static_*.deb | head -1)" "$dir.tmp/bb"
    cp "$dir.tmp/bb/bin/busybox" "$dir.tmp/busybox"
    rm -rf "$dir.tmp/bb"
  fi
  ver=$(ls "$dir.tmp/root/lib/modules" | head -1)
  [ -n "$ver" ] && [ -f "$dir.tmp/root/boot/vmlinuz-$ver" ] || { log "unexpected package layout in $deb"; return 1; }
  # The package ships no modules.dep (depmod runs at install time): make one here.
  [ -f "$dir.tmp/root/lib/modules/$ver/modules.dep" ] || depmod -b "$dir.tmp/root" "$ver"
  ln -s "root/boot/vmlinuz-$ver" "$dir.tmp/vmlinuz"
  ln -s "root/lib/modules/$ver" "$dir.tmp/modules"
  echo "$ver" > "$dir.tmp/version"
  rm -rf "$dir.tmp/deb"
  if [ "$flavour" = cloud ]; then
    "$HERE/extract-vmlinux.sh" "$dir.tmp/vmlinuz" "$dir.tmp/vmlinux"
  fi
  echo "$pkg" > "$dir.tmp/.stamp"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  log "$flavour: ready in $dir ($ver)"
}

mkdir -p "$CACHE"
for f in "${FLAVOURS[@]}"; do fetch "$f"; done
for f in "${FLAVOURS[@]}"; do echo "$CACHE/$f"; done
