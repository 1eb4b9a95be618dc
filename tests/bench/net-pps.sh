#!/bin/sh
# SPDX-License-Identifier: MIT
# net-pps.sh [FRAME_BYTES...] - native packets/s of the virtio-net device
# model (tests/bench/net-pps.c): builds it, then runs it as root inside a
# private network namespace (two taps on a bridge; nothing leaves it).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${WORK:-/tmp}/net-pps
SECS=${SECS:-3}
[ "$(id -u)" = 0 ] || { echo "net-pps: needs root (tap, bridge, netns)" >&2; exit 77; }
cc -O2 -D_GNU_SOURCE -std=gnu11 -I"$ROOT" -o "$OUT" \
	"$ROOT/tests/bench/net-pps.c" "$ROOT/virtio/net.c" \
	"$ROOT/virtio/virtqueue.c" "$ROOT/virtio/virtio_pci.c" \
	"$ROOT/devices/pci.c" "$ROOT/devices/msix.c" "$ROOT/devices/tap.c" \
	"$ROOT/tests/unit/fake_vm.c" "$ROOT/vmm/evloop.c" "$ROOT/vmm/log.c" \
	"$ROOT/vmm/guest_mem.c" "$ROOT/vmm/bus.c" -lpthread
[ $# -gt 0 ] || set -- 64 512 1500
for sz in "$@"; do
	unshare -n sh -c 'sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv6.conf.all.disable_ipv6=1 2>/dev/null; exec "$@"' - \
		"$OUT" "$sz" "$SECS"
done
