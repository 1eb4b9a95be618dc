#!/usr/bin/env bash
# boot.sh — boot-time benchmark: minivmm vs QEMU (-M microvm and -M pc, -accel kvm) booting
# Debian's cloud kernel with 256 MiB and the shared test initramfs, RUNS times each
# (default 5), all inside ONE tests/harness/kvm-run session, once with the emulated host's
# nested paging off (kvm_amd npt=0, kvm-run's setting) and once with it on (npt=1), one
# table each (BOOT_NPT="0" or "1" for one of them); with BASELINE-MINIVMM (another build's
# binary) a row for it too, for before/after figures; then minivmm's own cost with
# the hello64 tiny guest, natively on this machine's /dev/kvm (tests/bench/vmm-cost.sh:
# exec -> first KVM_RUN, reset -> exit, RSS beyond guest RAM).
#
#   tests/bench/boot.sh [RUNS] [BASELINE-MINIVMM]
#
# Prints a min/median/max table and each row's ratio to QEMU -M pc. Under the emulated KVM
# host everything is TCG-emulated: compare the VMMs side by side, not with real hardware.
set -euo pipefail
# The whole script is one { } block: bash reads it completely before running it, so
# editing this file while a run is in progress cannot derail that run.
{
. "$(dirname "$0")/lib.sh"
RUNS=${1:-5}
BASE=${2:-}
bench_prepare bench cloud guests/hello64.bzimage
mkdir -p "$T/assets/cloud"
cp -L "$KC/vmlinuz" "$T/assets/cloud/vmlinuz"
"$REPO/guests/mkinitramfs.sh" -k "$KC/modules" -o "$T/assets/cloud/initramfs.cpio.gz" 2>/dev/null

ARGS=(-b "$BUILD/minivmm" -f "$T/assets:/vm/assets" -f "$HERE/boot-inner.sh:/vm/boot-inner.sh")
[ -n "$BASE" ] && ARGS+=(-b "$BASE")
if command -v qemu-system-x86_64 >/dev/null; then
  # QEMU and its firmware (SeaBIOS for -M pc, qboot for -M microvm, option ROMs)
  ARGS+=(-b "$(command -v qemu-system-x86_64)" -f /usr/share/qemu -f /usr/share/seabios)
fi
"$REPO/tests/harness/kvm-run" -m 4096 -t "${BENCH_TIMEOUT:-2400}" -s 300 "${ARGS[@]}" \
  -- "NPT='${BOOT_NPT:-0 1}' BOOT_VMMS='${BOOT_VMMS:-}' sh boot-inner.sh '$BUILD/minivmm' $RUNS '$BASE'" 2>&1 | sed -u 's/\r$//' | grep --line-buffered -v -E '^\[ *[0-9]+\.[0-9]+\]'
echo
sh "$HERE/vmm-cost.sh" "$BUILD/minivmm" "$BUILD/guests/hello64.bzimage" 10 ${BASE:+"$BASE"}
exit
}
