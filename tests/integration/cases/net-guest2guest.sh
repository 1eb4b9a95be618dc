# net-guest2guest: two minivmm instances on one bridge: a 32 MiB checksummed
# transfer from guest B (10.77.0.3) to guest A (10.77.0.2), and each pings
# the other; default MACs of the two taps differ. Both with vhost=on: the
# frames go tap -> bridge -> tap between two vhost-net workers.
. "$TESTS/cases/net-common.inc"
net_setup mvnet-g2g || { not_ok net-g2g-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=280
net_vhost
[ $VHOST = on ] || not_ok net-g2g-vhost-net "no /dev/vhost-net in the KVM host: vhost=off"
GUEST_CMDLINE="minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.3 minivmm.net_mb=32 minivmm.net_role=recv"
boot_linux "$WORK/a.log" cloud net-xfer --net tap=mvtapA,bridge=mvbr0,vhost=$VHOST --stats &
apid=$!
GUEST_CMDLINE="minivmm.net_ip=10.77.0.3/24 minivmm.net_peer=10.77.0.2 minivmm.net_mb=32 minivmm.net_role=send"
boot_linux "$WORK/b.log" cloud net-xfer --net tap=mvtapB,bridge=mvbr0,vhost=$VHOST --stats; brc=$?
wait $apid; arc=$?
boot_ok net-g2g-boot-a "$WORK/a.log" $arc
boot_ok net-g2g-boot-b "$WORK/b.log" $brc
s=$(guest_value "$WORK/b.log" GUEST-SEND-MD5) r=$(guest_value "$WORK/a.log" GUEST-RECV-MD5)
if [ -n "$s" ] && [ "$s" = "$r" ]; then ok net-g2g-32M
else not_ok net-g2g-32M "B sent '$s', A got '$r'"; fi
check net-g2g-a-pings-b expect_line "$WORK/a.log" '^NET-PING-OK 10.77.0.3'
check net-g2g-b-pings-a expect_line "$WORK/b.log" '^NET-PING-OK 10.77.0.2'
if [ $VHOST = on ]; then
  net_check_vhost net-g2g-vhost-a "$WORK/a.log" 1
  net_check_vhost net-g2g-vhost-b "$WORK/b.log" 1
fi
ma=$(guest_value "$WORK/a.log" NET-MAC) mb=$(guest_value "$WORK/b.log" NET-MAC)
if [ -n "$ma" ] && [ "$ma" != "$mb" ]; then ok net-g2g-distinct-macs
else not_ok net-g2g-distinct-macs "A '$ma' B '$mb'"; fi
net_cleanup
