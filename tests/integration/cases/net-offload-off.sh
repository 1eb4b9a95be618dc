# net-offload-off: the same transfers with the guest driver's transmit
# offloads off (virtio_net csum=0 gso=0: full checksums, no TSO from the
# guest; the module is reloaded, which also exercises a device reset and
# re-initialisation), 16 MiB each way, data intact.
. "$TESTS/cases/net-common.inc"
net_setup mvnet-off || { not_ok net-off-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=280
net_servers 16
GUEST_CMDLINE="virtio_net.csum=0 virtio_net.gso=0 minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_mb=16 minivmm.net_role=host minivmm.net_offload=off"
boot_linux "$WORK/boot.log" cloud net-xfer --net tap=mvtap1,bridge=mvbr0; rc=$?
boot_ok net-off-boot "$WORK/boot.log" $rc
# csum=0 gso=0 turn the driver's transmit checksum/TSO off (the features
# stay negotiated: the guest just computes checksums and segments itself)
p=$(guest_value "$WORK/boot.log" NET-CSUM-PARAM)
if [ "$p" = N ]; then ok net-off-driver-csum-off
else not_ok net-off-driver-csum-off "virtio_net csum parameter '$p'"; fi
net_check_xfer net-off-16M "$WORK/boot.log"
net_cleanup
