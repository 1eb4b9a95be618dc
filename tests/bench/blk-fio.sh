#!/usr/bin/env bash
# blk-fio.sh — virtio-blk benchmark: fio INSIDE a Debian guest (cloud kernel) on /dev/vda
# with O_DIRECT: sequential 1 MiB read and write (iodepth 1), 4 KiB random read at
# iodepth 1 and 32 (libaio), on a raw image and on a fully allocated qcow2 image, each for
# minivmm (--disk IMG,format=F,cache=none) and qemu-system-x86_64 -accel kvm
# (-drive file=IMG,if=virtio,format=F,cache=none), same kernel, initramfs, memory and vCPUs,
# interleaved (minivmm, qemu, minivmm, qemu...) in ONE tests/harness/kvm-run session
# (inner script: blk-fio-inner.sh, guest script: tests/integration/guest/bench-fio.sh).
# minivmm's VM exits per I/O are counted over each fio job through its control socket.
#
#   tests/bench/blk-fio.sh [ROUNDS]        (default 1; the table shows medians over rounds)
#   tests/bench/blk-fio.sh --peers [ROUNDS]
#
# --peers: 4 KiB random reads at iodepth 1 and 32, in 1 and 2 jobs, on 2 vCPUs (one queue
# each), 5 s per job, raw image, for minivmm with aio=io_uring and with aio=sync, QEMU at
# its best (cache=none,aio=io_uring on an iothread, num-queues=2) and QEMU with
# cache=none and its other defaults (aio=threads, no iothread); ratios of every minivmm
# configuration to every QEMU one (the defaults below are overridden by the environment).
#
# Environment: RUNTIME (s per fio job, default 6), SIZE (fio region, default 256M; the
# images are 256 MiB), MEM (guest MiB, default 1024), CPUS (guest vCPUs, default 1),
# FMTS (image formats, default "raw qcow2"), IDLE (0: skip the idle-guest run),
# BENCH_TIMEOUT (kvm-run limit, default 2400), VMMS and JOBS (blk-fio-inner.sh), OLD_MINIVMM
# (an earlier minivmm binary: VMMS may then name minivmm-old, run like minivmm-uring) and
# ALT_MINIVMM (another build, minivmm-alt). Under the emulated KVM host everything is
# TCG-emulated: compare the VMMs side by side, not with real hardware.
set -euo pipefail
# The whole script is one { } block: bash reads it completely before running it, so
# editing this file while a run is in progress cannot derail that run.
{
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" = --peers ]; then
  shift
  : "${CPUS:=2}" "${RUNTIME:=5}" "${FMTS:=raw}" "${IDLE:=0}"
  : "${VMMS:=minivmm-uring minivmm-sync qemu-best qemu}"
  : "${JOBS:=randread1,randread32,randread1x2,randread32x2}"
fi
ROUNDS=${1:-1}
bench_prepare fiobench cloud
mkdir -p "$T/assets/cloud" "$T/img"
cp -L "$KC/vmlinuz" "$T/assets/cloud/vmlinuz"
# the fio initramfs, uncompressed (gunzip of ~100 MiB is slow under TCG)
"$REPO/guests/mkinitramfs.sh" -k "$KC/modules" -o "$T/assets/cloud/initramfs-tools.cpio" \
  -z none -b "$(command -v fio)" 2>/dev/null
# images full of random data, so every block is allocated (in the qcow2 image too: convert
# writes every non-zero cluster) and reads are real reads; the ext4 disk kvm-run makes of
# this folder (-d) gives the KVM host a block device for O_DIRECT (tmpfs refuses it)
head -c 256M /dev/urandom > "$T/img/raw.img"
qemu-img convert -f raw -O qcow2 "$T/img/raw.img" "$T/img/qcow2.img"
qemu-img info "$T/img/qcow2.img" | grep -E 'disk size|cluster' | sed 's/^/# qcow2 image: /'

ARGS=(-b "$BUILD/minivmm" -f "$T/assets:/vm/assets" -d "$T/img:/vm/img"
      -f "$HERE/blk-fio-inner.sh:/vm/blk-fio-inner.sh")
command -v socat >/dev/null && ARGS+=(-b "$(command -v socat)")
[ -n "${OLD_MINIVMM:-}" ] && ARGS+=(-b "$OLD_MINIVMM")
[ -n "${ALT_MINIVMM:-}" ] && ARGS+=(-b "$ALT_MINIVMM")
if command -v qemu-system-x86_64 >/dev/null; then
  # QEMU and its firmware (SeaBIOS for -M pc, option ROMs)
  ARGS+=(-b "$(command -v qemu-system-x86_64)" -f /usr/share/qemu -f /usr/share/seabios)
fi
"$REPO/tests/harness/kvm-run" -m 4096 -t "${BENCH_TIMEOUT:-2400}" -s 300 "${ARGS[@]}" \
  -- "OLD_MINIVMM='${OLD_MINIVMM:-}' ALT_MINIVMM='${ALT_MINIVMM:-}' MEM=${MEM:-1024} CPUS=${CPUS:-1} RUNTIME=${RUNTIME:-6} SIZE=${SIZE:-256M} FMTS='${FMTS:-raw qcow2}' IDLE=${IDLE:-1} VMMS='${VMMS:-minivmm qemu}' JOBS='${JOBS:-}' sh blk-fio-inner.sh '$BUILD/minivmm' \$PWD/assets /vm/img $ROUNDS" 2>&1 |
  sed -u 's/\r$//' | grep --line-buffered -v -E '^\[ *[0-9]+\.[0-9]+\]'
exit
}
