# net-e1000: the emulated Intel 82540EM (--net ...,model=e1000) under Debian's
# own e1000 driver (the generic kernel: the cloud kernel has no e1000), on a
# tap on a bridge (private /24 in a namespace of its own): guest->host and
# host->guest ping and a 16 MiB checksummed TCP transfer each way (busybox
# nc; TSO and checksum offload on, as the driver sets them up).
. "$TESTS/cases/net-common.inc"
net_setup mvnet-e1k || { not_ok net-e1000-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=280
GUEST_MODULES=e1000
net_servers 16
GUEST_CMDLINE="minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_mb=16 minivmm.net_role=host"
boot_linux "$WORK/boot.log" generic net-xfer --net tap=mvtap0,bridge=mvbr0,model=e1000 --stats; rc=$?
boot_ok net-e1000-boot "$WORK/boot.log" $rc
check net-e1000-driver expect_line "$WORK/boot.log" 'e1000 .*Intel\(R\) PRO/1000 Network Connection'
check net-e1000-link-up expect_line "$WORK/boot.log" 'NIC Link is Up 1000 Mbps Full Duplex'
check net-e1000-guest-ping-host expect_line "$WORK/boot.log" '^NET-PING-OK'
check net-e1000-host-ping-guest expect_line "$WORK/boot.log" '^NET-HOST-PINGED yes'
net_check_xfer net-e1000-16M "$WORK/boot.log"
echo "# seconds: send $(guest_value "$WORK/boot.log" NET-SEND-SECONDS) recv $(guest_value "$WORK/boot.log" NET-RECV-SECONDS)"
# the device's counters from --stats: nothing dropped or malformed
for c in "tx bad buffer" "tx too big" "tx bad context" "rx bad buffer" "ring errors"; do
  v=$(vmm_stat "$WORK/boot.log" "$c")
  [ "$v" = 0 ] || not_ok "net-e1000-stats-$(echo "$c" | tr ' ' '-')" "--stats says '$v'"
done
echo "# e1000: $(vmm_stat "$WORK/boot.log" 'frames sent') frames sent ($(vmm_stat "$WORK/boot.log" 'TSO segments sent') TSO segments), $(vmm_stat "$WORK/boot.log" 'frames received') received, $(vmm_stat "$WORK/boot.log" 'interrupts') interrupts ($(vmm_stat "$WORK/boot.log" 'interrupts held by ITR') held by ITR), $(vmm_stat "$WORK/boot.log" 'MMIO') MMIO exits"
if tr -d '\r' < "$WORK/boot.log" | grep -q 'warning: e1000'; then
  tr -d '\r' < "$WORK/boot.log" | grep 'warning: e1000' | head -5 | sed 's/^/#   /'
fi
cp "$WORK/boot.log" "$OUT/" 2>/dev/null
net_cleanup
