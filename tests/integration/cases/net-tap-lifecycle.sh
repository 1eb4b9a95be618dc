# net-tap-lifecycle: a pre-existing persistent tap is used and left in place
# (and off the bridge again); an explicit mac= reaches the guest; a missing
# bridge without bridge-create and a malformed MAC are refused with a message
# naming them; bridge-create=on makes the bridge.
. "$TESTS/cases/net-common.inc"
net_setup mvnet-life || { not_ok net-life-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=200
ip -n "$NS" tuntap add dev mvpers mode tap vnet_hdr
GUEST_CMDLINE="minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_role=ping"
boot_linux "$WORK/pers.log" cloud net-xfer --net tap=mvpers,bridge=mvbr0,mac=52:54:00:ab:cd:ef; rc=$?
boot_ok net-life-persistent-boot "$WORK/pers.log" $rc
check net-life-persistent-ping expect_line "$WORK/pers.log" '^NET-PING-OK'
check net-life-explicit-mac expect_line "$WORK/pers.log" '^NET-MAC 52:54:00:ab:cd:ef'
check net-life-persistent-kept ip -n "$NS" link show mvpers
if ip -n "$NS" link show mvpers | grep -q 'master'; then
  not_ok net-life-persistent-detached "mvpers is still a bridge port"
else ok net-life-persistent-detached; fi

run_vmm "$WORK/nobr.log" --kernel "$ASSETS/cloud/vmlinuz" --net tap=mvtap2,bridge=nosuchbr; rc=$?
if [ $rc != 0 ] && expect_line "$WORK/nobr.log" "bridge 'nosuchbr' does not exist"; then
  ok net-life-missing-bridge
else not_ok net-life-missing-bridge "status $rc"; show_tail "$WORK/nobr.log" 5; fi
check net-life-missing-bridge-no-tap-left sh -c "! $IP -n $NS link show mvtap2 >/dev/null 2>&1"

run_vmm "$WORK/badmac.log" --kernel "$ASSETS/cloud/vmlinuz" --net tap=mvtap2,mac=01:02:03; rc=$?
if [ $rc != 0 ] && expect_line "$WORK/badmac.log" "MAC"; then ok net-life-bad-mac
else not_ok net-life-bad-mac "status $rc"; show_tail "$WORK/badmac.log" 5; fi

GUEST_CMDLINE="minivmm.net_ip=10.77.1.2/24 minivmm.net_peer=10.77.1.1 minivmm.net_role=ping"
ip netns exec "$NS" sh -c "sleep 8; $IP addr add 10.77.1.1/24 dev mvbrnew" &
boot_linux "$WORK/newbr.log" cloud net-xfer --net tap=mvtap3,bridge=mvbrnew,bridge-create=on; rc=$?
boot_ok net-life-bridge-create-boot "$WORK/newbr.log" $rc
check net-life-bridge-created ip -n "$NS" link show mvbrnew
check net-life-bridge-create-ping expect_line "$WORK/newbr.log" '^NET-PING-OK'
net_cleanup
