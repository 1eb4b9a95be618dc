# net-e1000-virtio: an e1000 guest (generic kernel) and a virtio-net guest
# (cloud kernel) on one bridge: each pings the other, and the virtio guest
# sends a 32 MiB checksummed TCP stream to the e1000 guest.
. "$TESTS/cases/net-common.inc"
net_setup mvnet-e1kv || { not_ok net-e1000-virtio-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=280
( GUEST_MODULES=e1000
  GUEST_CMDLINE="minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.3 minivmm.net_mb=32 minivmm.net_role=recv"
  boot_linux "$WORK/a.log" generic net-xfer --net tap=mvtapA,bridge=mvbr0,model=e1000 ) &
apid=$!
GUEST_CMDLINE="minivmm.net_ip=10.77.0.3/24 minivmm.net_peer=10.77.0.2 minivmm.net_mb=32 minivmm.net_role=send"
boot_linux "$WORK/b.log" cloud net-xfer --net tap=mvtapB,bridge=mvbr0; brc=$?
wait $apid; arc=$?
boot_ok net-e1000-virtio-boot-e1000 "$WORK/a.log" $arc
boot_ok net-e1000-virtio-boot-virtio "$WORK/b.log" $brc
check net-e1000-virtio-driver expect_line "$WORK/a.log" 'e1000 .*Intel\(R\) PRO/1000 Network Connection'
s=$(guest_value "$WORK/b.log" GUEST-SEND-MD5) r=$(guest_value "$WORK/a.log" GUEST-RECV-MD5)
if [ -n "$s" ] && [ "$s" = "$r" ]; then ok net-e1000-virtio-32M
else not_ok net-e1000-virtio-32M "virtio sent '$s', e1000 got '$r'"; fi
check net-e1000-virtio-e1000-pings-virtio expect_line "$WORK/a.log" '^NET-PING-OK 10.77.0.3'
check net-e1000-virtio-virtio-pings-e1000 expect_line "$WORK/b.log" '^NET-PING-OK 10.77.0.2'
cp "$WORK/a.log" "$WORK/b.log" "$OUT/" 2>/dev/null
net_cleanup
