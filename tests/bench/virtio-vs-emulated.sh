#!/usr/bin/env bash
# virtio-vs-emulated.sh - the "-hda versus if=virtio" lab in one command: the same Debian
# guest (generic kernel) on the same images and the same bridge, given its disk as
# virtio-blk, as an IDE disk with bus-master DMA and as an IDE disk in PIO mode
# (libata.dma=0), and its NIC as virtio-net and as an e1000; fio inside for the disk
# (sequential 1 MiB write and read, 4 KiB random read at iodepth 1 and 32), iperf3 both
# ways and ping for the NIC. Beside minivmm it runs QEMU with the same devices (-drive
# if=virtio / if=ide, -device virtio-net-pci / e1000; for virtio also at its best: an
# iothread with aio=native, vhost=on), and fio on the image file itself (the ceiling).
# For every configuration: throughput or IOPS, mean and p99 latency, the guest's CPU time
# in the kernel and in iowait, and VM exits per MiB or per request by exit reason (KVM's
# counters, both VMMs) and by device (minivmm's own counters).
#
#   tests/bench/virtio-vs-emulated.sh [OUTDIR]      (default build/vve)
#
# Prints the table, writes OUTDIR/results.csv, OUTDIR/report.txt and OUTDIR/chart.png.
# Where /dev/kvm cannot run Linux (PVM, none) everything runs inside the emulated KVM
# host (tests/harness/kvm-run), as the table says; compare side by side there, not with
# hardware. Environment: MODES ("virtio ide ide-pio"), FMTS ("raw qcow2"), NETS
# ("virtio e1000"; empty: no network part), RUNTIME (s per fio job, 5), SECS (s per
# iperf3 direction, 10), MEM (guest MiB, 1024), CPUS (1), BENCH_TIMEOUT (3600).
set -euo pipefail
{
. "$(dirname "$0")/lib.sh"
OUTDIR=$(mkdir -p "${1:-$REPO/build/vve}" && cd "${1:-$REPO/build/vve}" && pwd)
bash "$REPO/scripts/install-deps.sh"
bench_prepare vve generic
mkdir -p "$T/assets/generic" "$T/img" "$T/out"
cp -L "$KC/vmlinuz" "$T/assets/generic/vmlinuz"
# uncompressed: gunzip of ~100 MiB of fio's libraries is slow under TCG
"$REPO/guests/mkinitramfs.sh" -k "$KC/modules" -o "$T/assets/generic/initramfs-bench.cpio" -z none \
  -b "$(command -v fio)" -b "$(command -v iperf3)" 2>/dev/null
# random data, so that every block is allocated (qcow2 too) and reads are real reads
head -c 256M /dev/urandom > "$T/img/raw.img"
qemu-img convert -f raw -O qcow2 "$T/img/raw.img" "$T/img/qcow2.img"

ARGS=(-b "$BUILD/minivmm" -b /usr/sbin/ip -b "$(command -v fio)" -b "$(command -v iperf3)"
      -b "$(command -v socat)" -b "$(command -v qemu-system-x86_64)" -f /usr/share/qemu -f /usr/share/seabios
      -f "$T/assets:/vm/assets" -d "$T/img:/vm/img" -o "$T/out"
      -f "$HERE/virtio-vs-emulated-inner.sh:/vm/vve-inner.sh")
ENV="MEM=${MEM:-1024} CPUS=${CPUS:-1} RUNTIME=${RUNTIME:-5} SECS=${SECS:-10} MODES='${MODES:-virtio ide ide-pio}' FMTS='${FMTS:-raw qcow2}' NETS='${NETS-virtio e1000}'"
KVMRUN_MODULES=vhost_net "$REPO/tests/harness/kvm-run" -m 6144 -t "${BENCH_TIMEOUT:-3600}" -s 400 "${ARGS[@]}" \
  -- "$ENV sh vve-inner.sh '$BUILD/minivmm' \$PWD/assets /vm/img /vm/out" 2>&1 |
  sed -u 's/\r$//' | grep --line-buffered -E '^(#|kvm-run:)' | tee "$T/log.txt"
where=$(grep -o 'using [a-z]* [^(]*' "$T/log.txt" | head -1 | sed 's/using //; s/ *$//')
cp "$T/out/results.csv" "$OUTDIR/results.csv" 2>/dev/null || { echo "virtio-vs-emulated: no results came back"; exit 1; }
python3 "$HERE/vve-report.py" --where "${where:-?}, $(date -u '+%Y-%m-%d %H:%M UTC')" \
  "$OUTDIR/results.csv" "$OUTDIR" | tee "$OUTDIR/report.txt"
exit
}
