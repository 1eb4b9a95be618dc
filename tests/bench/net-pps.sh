#!/bin/sh
# SPDX-License-Identifier: MIT
# net-pps.sh [FRAME_BYTES...] - native packets/s of the virtio-net device
# model (tests/bench/net-pps.c, the meson target tests/net-pps): builds it,
# then runs it as root inside a
# private network namespace (two taps on a bridge; nothing leaves it).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${MINIVMM_BUILD:-$ROOT/build}
SECS=${SECS:-3}
[ "$(id -u)" = 0 ] || { echo "net-pps: needs root (tap, bridge, netns)" >&2; exit 77; }
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >/dev/null
ninja -C "$BUILD" tests/net-pps >/dev/null
OUT=$BUILD/tests/net-pps
[ $# -gt 0 ] || set -- 64 512 1500
for sz in "$@"; do
	unshare -n sh -c 'sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv6.conf.all.disable_ipv6=1 2>/dev/null; exec "$@"' - \
		"$OUT" "$sz" "$SECS"
done
