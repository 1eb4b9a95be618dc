# SPDX-License-Identifier: MIT
# lib.sh - what the benchmarks that boot a Debian kernel in a tests/harness/kvm-run
# session (arm64-boot.sh, boot.sh, blk-fio.sh, fw-boot.sh, net.sh, virtio-vs-emulated.sh) share.
# Sourced first thing:  . "$(dirname "$0")/lib.sh"
# It sets HERE (tests/bench), REPO (the top) and BUILD ($MINIVMM_BUILD, else REPO/build).
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${MINIVMM_BUILD:-$REPO/build}

# bench_prepare NAME FLAVOUR [TARGET...]: minivmm and the other ninja TARGETs built in
# BUILD (set up first if need be); KC, the folder of Debian's FLAVOUR kernel (cloud or
# generic, guests/fetch-kernels.sh); T, a new folder minivmm-NAME.XXXXXX under $TMPDIR,
# removed when the script exits.
bench_prepare() {
  local name=$1 flavour=$2
  shift 2
  [ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$REPO" >/dev/null
  ninja -C "$BUILD" minivmm "$@" >/dev/null
  KC=$("$REPO/guests/fetch-kernels.sh" "$flavour" | tail -1)
  T=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-$name.XXXXXX")
  trap 'rm -rf "$T"' EXIT
}
