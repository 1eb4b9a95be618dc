#!/usr/bin/env bash
# net.sh - iperf3 between a guest and the host over a tap on a bridge, 10 s in
# each direction: minivmm (--net ...,vhost=off and vhost=on) against
# qemu-system-x86_64 -netdev tap,vhost=off|on -device virtio-net-pci, same
# kernel, initramfs and bridge, in ONE tests/harness/kvm-run session (the
# inner script is net-iperf.sh; the emulated host loads vhost_net). ROUNDS
# rounds, the four configurations interleaved in each (their order rotated
# from round to round); per configuration the minimum, median and maximum,
# and the ratios minivmm/QEMU of the medians.
#
#   tests/bench/net.sh [ROUNDS]     (ROUNDS from the environment otherwise,
#                                    default 3; SECS=10 per direction)
#
# BENCH_TIMEOUT: kvm-run's limit in seconds (default 600 + 600 per round).
set -euo pipefail
# One { } block: bash reads it whole before running it, so editing this file
# during a run cannot derail that run.
{
. "$(dirname "$0")/lib.sh"
ROUNDS=${1:-${ROUNDS:-3}}
case $ROUNDS in '' | *[!0-9]* | 0) echo "net.sh: ROUNDS must be a positive number" >&2; exit 2 ;; esac
bench_prepare netbench cloud
mkdir -p "$T/assets/cloud"
cp -L "$KC/vmlinuz" "$T/assets/cloud/vmlinuz"
"$REPO/guests/mkinitramfs.sh" -k "$KC/modules" -o "$T/assets/cloud/initramfs.cpio.gz" \
	-b "$(command -v iperf3)" 2>/dev/null
KVMRUN_MODULES=vhost_net "$REPO/tests/harness/kvm-run" -m 4096 \
	-t "${BENCH_TIMEOUT:-$((600 + 600 * ROUNDS))}" -s 400 \
	-b "$BUILD/minivmm" -b /usr/sbin/ip -b "$(command -v iperf3)" \
	-b "$(command -v qemu-system-x86_64)" -f /usr/share/qemu -f /usr/share/seabios \
	-f "$HERE/net-iperf.sh:/vm/net-iperf.sh" -f "$T/assets:/vm/assets" \
	-- "MINIVMM='$BUILD/minivmm' ASSETS=\$PWD/assets SECS=${SECS:-10} ROUNDS=$ROUNDS sh net-iperf.sh" 2>&1 |
	grep --line-buffered -E 'minivmm|qemu|kvm-run'
exit
}
