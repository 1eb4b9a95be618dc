# net-host: virtio-net over a tap on a bridge (private /24 in a namespace of
# its own): guest->host and host->guest ping, a 64 MiB checksummed TCP
# transfer each way (busybox nc) with all offloads on, and the tap minivmm
# created is gone after it exits. The data path is the kernel's vhost-net
# (vhost=on; minivmm's own is what net-offload-off and net-e1000-virtio
# move their data through), and the guest reloads virtio_net before the
# transfers: vhost is stopped at the reset and started again at the new
# DRIVER_OK, which --stats counts.
. "$TESTS/cases/net-common.inc"
net_setup mvnet-host || { not_ok net-host-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=280
net_vhost
[ $VHOST = on ] || not_ok net-host-vhost-net "no /dev/vhost-net in the KVM host: vhost=off"
net_servers 64
GUEST_CMDLINE="minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_mb=64 minivmm.net_role=host minivmm.net_reload=1"
boot_linux "$WORK/boot.log" cloud net-xfer --net tap=mvtap0,bridge=mvbr0,vhost=$VHOST --stats; rc=$?
boot_ok net-host-boot "$WORK/boot.log" $rc
check net-host-reprobe expect_line "$WORK/boot.log" '^NET-RELOADED yes'
[ $VHOST = on ] && net_check_vhost net-host-vhost "$WORK/boot.log" 2
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
