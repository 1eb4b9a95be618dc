# arm64-net: Debian's arm64 kernel pings the host over virtio-net on a tap that minivmm
# creates and puts on a bridge it creates (bridge-create=on), in a network namespace of
# its own; the host side gives the bridge 10.77.0.1/24 once it exists (busybox ip: the
# arm64 host has no iproute2), and the tap is gone after minivmm exits.
. "$TESTS/lib.sh"
NS=mvnet-arm64
ip netns del $NS 2>/dev/null
if ! ip netns add $NS 2>/dev/null; then
  # busybox ip has no netns: the default namespace of this throw-away host then
  NS=
fi
nsx() { if [ -n "$NS" ]; then ip netns exec $NS "$@"; else "$@"; fi; }
nsx ip link set lo up
# the bridge appears when minivmm starts: address it then
( i=0; while [ $i -lt 120 ]; do
    if nsx ip link show mvbr0 >/dev/null 2>&1; then
      nsx ip addr add 10.77.0.1/24 dev mvbr0; nsx ip link set mvbr0 up; exit 0
    fi
    sleep 0.5; i=$((i + 1))
  done ) &
cfg=$!
GUEST_MODULES=virtio_pci,virtio_net,af_packet
if [ -n "$NS" ]; then
  printf '#!/bin/sh\nexec ip netns exec %s "%s" "$@"\n' "$NS" "$MINIVMM" > "$WORK/minivmm-ns"
  chmod +x "$WORK/minivmm-ns"; MINIVMM=$WORK/minivmm-ns
fi
boot_linux "$WORK/net.log" arm64 arm64-net --memory 512M \
  --net tap=mvtap0,bridge=mvbr0,bridge-create=on; rc=$?
kill $cfg 2>/dev/null
cp "$WORK/net.log" "$OUT/"
boot_ok arm64-net-boot "$WORK/net.log" $rc
check arm64-net-guest-ping-host expect_line "$WORK/net.log" '^NET-PING-OK'
if nsx ip link show mvtap0 >/dev/null 2>&1; then
  not_ok arm64-net-tap-removed "mvtap0 still exists after exit"
else ok arm64-net-tap-removed; fi
[ -n "$NS" ] && ip netns del $NS 2>/dev/null
exit 0
