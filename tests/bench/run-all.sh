#!/usr/bin/env bash
# run-all.sh - every benchmark, one after the other, into one report (the figures in the
# README come from it). Native ones first (no guest: device models, block backends,
# minivmm's own cost), then the ones with a Debian guest, minivmm and QEMU side by side in
# one KVM session each (tests/harness/kvm-run: the emulated KVM host where the local
# /dev/kvm cannot run Linux).
#
#   tests/bench/run-all.sh [REPORT]      (default build/bench-report.txt)
#
# Needs root (taps and namespaces for net-pps and net.sh). About 45 minutes under the
# emulated KVM host on a 2-core machine.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${MINIVMM_BUILD:-$REPO/build}
REPORT=${1:-$BUILD/bench-report.txt}
bash "$REPO/scripts/install-deps.sh"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$REPO" >/dev/null
ninja -C "$BUILD" >/dev/null || exit 1
section() { printf '\n######## %s  (%s)\n' "$1" "$(date -u +%FT%TZ)"; }
{
  echo "minivmm benchmarks, $(git -C "$REPO" describe --always --dirty 2>/dev/null), $(uname -r), $(nproc) CPUs"
  section "virtio-blk device model, native (tests/bench/blk-devmodel.sh)"
  sh "$HERE/blk-devmodel.sh" "$BUILD"
  section "block backends raw vs qcow2, native (tests/bench/disk-bench.sh)"
  bash "$HERE/disk-bench.sh" "$BUILD"
  section "virtio-net device model, native (tests/bench/net-pps.sh)"
  MINIVMM_BUILD=$BUILD sh "$HERE/net-pps.sh"
  section "boot, minivmm vs QEMU (tests/bench/boot.sh), then minivmm's own cost natively"
  MINIVMM_BUILD=$BUILD bash "$HERE/boot.sh" 5
  section "fio in a guest, minivmm vs QEMU (tests/bench/blk-fio.sh)"
  MINIVMM_BUILD=$BUILD bash "$HERE/blk-fio.sh" 1
  section "iperf3 guest <-> host, minivmm vs QEMU (tests/bench/net.sh)"
  MINIVMM_BUILD=$BUILD bash "$HERE/net.sh"
  section "done"
} 2>&1 | tee "$REPORT"
echo "report: $REPORT"
