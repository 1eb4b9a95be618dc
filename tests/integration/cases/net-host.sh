# net-host: virtio-net over a tap on a bridge (private /24 in a namespace of
# its own): guest->host and host->guest ping, a 64 MiB checksummed TCP
# transfer each way (busybox nc) with all offloads on, and the tap minivmm
# created is gone after it exits.
. "$TESTS/cases/net-common.inc"
net_setup mvnet-host || { not_ok net-host-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=280
net_servers 64
GUEST_CMDLINE="minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_mb=64 minivmm.net_role=host"
boot_linux "$WORK/boot.log" cloud net-xfer --net tap=mvtap0,bridge=mvbr0; rc=$?
boot_ok net-host-boot "$WORK/boot.log" $rc
check net-host-guest-ping-host expect_line "$WORK/boot.log" '^NET-PING-OK'
check net-host-host-ping-guest expect_line "$WORK/boot.log" '^NET-HOST-PINGED yes'
net_check_xfer net-host-64M "$WORK/boot.log"
f=$(guest_value "$WORK/boot.log" NET-FEATURES)
# bit 0 CSUM, 1 GUEST_CSUM, 7 GUEST_TSO4, 11 HOST_TSO4, 15 MRG_RXBUF
case $f in
  1[1]?????1???1???1*) ok net-host-offloads-negotiated ;;
  *) not_ok net-host-offloads-negotiated "features '$f'" ;;
esac
echo "# seconds: send $(guest_value "$WORK/boot.log" NET-SEND-SECONDS) recv $(guest_value "$WORK/boot.log" NET-RECV-SECONDS)"
if ip -n "$NS" link show mvtap0 >/dev/null 2>&1; then
  not_ok net-host-tap-removed "mvtap0 still exists after exit"
else ok net-host-tap-removed; fi
net_cleanup
