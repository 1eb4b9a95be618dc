#!/usr/bin/env bash
# net.sh - iperf3 between a guest and the host over a tap on a bridge, 10 s in
# each direction: minivmm (--net ...,vhost=off and vhost=on) against
# qemu-system-x86_64 -netdev tap,vhost=off|on -device virtio-net-pci, same
# kernel, initramfs and bridge, in ONE tests/harness/kvm-run session (the
# inner script is net-iperf.sh; the emulated host loads vhost_net), with the
# ratios minivmm/QEMU.
#
#   tests/bench/net.sh            (SECS=10 by default)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${MINIVMM_BUILD:-$REPO/build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$REPO" >/dev/null
ninja -C "$BUILD" minivmm >/dev/null
KC=$("$REPO/guests/fetch-kernels.sh" cloud | tail -1)
T=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-netbench.XXXXXX"); trap 'rm -rf "$T"' EXIT
mkdir -p "$T/assets/cloud"
cp -L "$KC/vmlinuz" "$T/assets/cloud/vmlinuz"
"$REPO/guests/mkinitramfs.sh" -k "$KC/modules" -o "$T/assets/cloud/initramfs.cpio.gz" \
	-b "$(command -v iperf3)" 2>/dev/null
KVMRUN_MODULES=vhost_net "$REPO/tests/harness/kvm-run" -m 4096 -t "${BENCH_TIMEOUT:-1800}" -s 400 \
	-b "$BUILD/minivmm" -b /usr/sbin/ip -b "$(command -v iperf3)" \
	-b "$(command -v qemu-system-x86_64)" -f /usr/share/qemu -f /usr/share/seabios \
	-f "$HERE/net-iperf.sh:/vm/net-iperf.sh" -f "$T/assets:/vm/assets" \
	-- "MINIVMM='$BUILD/minivmm' ASSETS=\$PWD/assets SECS=${SECS:-10} sh net-iperf.sh" 2>&1 |
	grep --line-buffered -E 'minivmm|qemu|kvm-run'
