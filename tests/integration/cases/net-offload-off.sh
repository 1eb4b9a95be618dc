# net-offload-off: the same transfers with the guest's offloads off in both
# directions, 16 MiB each way, data intact.
#  - transmit: virtio_net csum=0 gso=0 (full checksums, no TSO from the
#    guest; the module is reloaded, which also exercises a device reset and
#    re-initialisation);
#  - receive: at run time, `ethtool -K eth0 rx-gro-hw off` in the guest:
#    Linux's virtio_net sends VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET (the
#    feature CTRL_GUEST_OFFLOADS is negotiated) without GUEST_TSO4/6, ECN
#    and UFO, and minivmm's TUNSETOFFLOAD turns the tap's TSO off, which
#    `ethtool -k mvtap1` in the namespace shows before/after.
# minivmm's --stats counters then say what crossed the device: no GSO frame
# and no partial checksum either way, nothing malformed or dropped.
. "$TESTS/cases/net-common.inc"
net_setup mvnet-off || { not_ok net-off-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=280
LOG=$WORK/boot.log
net_servers 16
net_tap_snapper mvtap1
GUEST_CMDLINE="virtio_net.csum=0 virtio_net.gso=0 minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_mb=16 minivmm.net_role=host minivmm.net_offload=off"
boot_linux "$LOG" cloud net-xfer --net tap=mvtap1,bridge=mvbr0 --stats; rc=$?
boot_ok net-off-boot "$LOG" $rc
# csum=0 gso=0 turn the driver's transmit checksum/TSO off (the features
# stay negotiated: the guest just computes checksums and segments itself)
p=$(guest_value "$LOG" NET-CSUM-PARAM)
if [ "$p" = N ]; then ok net-off-driver-csum-off
else not_ok net-off-driver-csum-off "virtio_net csum parameter '$p'"; fi

# receive offloads: bit 2 of the negotiated features is CTRL_GUEST_OFFLOADS
f=$(guest_value "$LOG" NET-FEATURES)
case $f in
  ??1*) ok net-off-ctrl-guest-offloads-negotiated ;;
  *) not_ok net-off-ctrl-guest-offloads-negotiated "features '$f'" ;;
esac
feat=$(guest_value "$LOG" NET-GRO-FEATURE)
b=$(guest_value "$LOG" NET-GRO-HW-BEFORE) a=$(guest_value "$LOG" NET-GRO-HW-AFTER)
st=$(guest_value "$LOG" NET-ETHTOOL-K-STATUS)
if [ "$b" = on ] && [ "$a" = off ] && [ "$st" = 0 ]; then ok net-off-guest-rx-offloads-off
else not_ok net-off-guest-rx-offloads-off "ethtool -K ${feat:-?} off: status '$st', before '$b', after '$a'$(grep -q NET-NO-ETHTOOL "$LOG" && echo ', no ethtool in the guest')"; fi
tb=$(tap_feature "$WORK/tap-before.txt" tcp-segmentation-offload)
ta=$(tap_feature "$WORK/tap-after.txt" tcp-segmentation-offload)
ca=$(tap_feature "$WORK/tap-after.txt" tx-checksumming)
if [ "$tb" = on ] && [ "$ta" = off ] && [ "$ca" = on ]; then ok net-off-tap-offloads-followed
else not_ok net-off-tap-offloads-followed "tap TSO before '$tb' after '$ta', checksum after '$ca' (want on/off/on)"
  for x in before after; do echo "# tap-$x: $(head -c 300 "$WORK/tap-$x.txt" 2>/dev/null | tr '\n' ' ')"; done
  sed 's/^/#   snapper: /' "$WORK/snapper.log" 2>/dev/null | head -5
fi
echo "# guest ${feat:-?}: $b -> $a; tap mvtap1 TSO: $tb -> $ta, checksum after: $ca"
cp "$WORK"/tap-*.txt "$OUT/" 2>/dev/null

net_check_xfer net-off-16M "$LOG"

# what minivmm counted (--stats at exit)
n=$(vmm_stat "$LOG" "ctrl offload changes")
if [ -n "$n" ] && [ "$n" -ge 1 ]; then ok net-off-vmm-offloads-set
else not_ok net-off-vmm-offloads-set "minivmm counted '$n' GUEST_OFFLOADS_SET commands"; fi
bad=
for c in "rx gso frames" "tx gso frames" "tx needs-csum frames" "rx dropped" "tx bad header (dropped)" "tx refused by the tap"; do
  v=$(vmm_stat "$LOG" "$c")
  [ "$v" = 0 ] || bad="$bad $c='$v';"
done
rp=$(vmm_stat "$LOG" "rx packets") tp=$(vmm_stat "$LOG" "tx packets")
if [ -z "$bad" ] && [ "${rp:-0}" -gt 1000 ] && [ "${tp:-0}" -gt 1000 ]; then ok net-off-vmm-counters
else not_ok net-off-vmm-counters "want no GSO/partial checksum/drop, got:$bad rx packets '$rp', tx packets '$tp'"; fi
tr -d '\r' < "$LOG" | sed -n '/^minivmm: virtio-net0 counters/,$p' |
  grep -E 'counters|offloads|packets|bytes|gso|needs-csum|dropped|bad header|changes' | sed 's/^/# /'
echo "# seconds: send $(guest_value "$LOG" NET-SEND-SECONDS) recv $(guest_value "$LOG" NET-RECV-SECONDS)"
net_cleanup
