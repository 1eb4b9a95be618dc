# net-hostile: a hostile guest against virtio-net. A root program in the guest
# (guest/net-hostile.c) takes the second of two virtio-net devices away from Linux and
# feeds its transmit queue malformed packet headers (chains shorter than the header,
# runts, frames over 64 KiB, unknown flags, checksum fields past the frame, unknown or
# unnegotiated segmentation, impossible segment sizes), malformed rings, and malformed
# control commands. minivmm must survive, drop each bad frame and count it by reason
# (--stats), answer bad commands VIRTIO_NET_ERR, still send well-formed frames; the
# first NIC keeps working, and the victim works again once given back to Linux.
. "$TESTS/cases/net-common.inc"
net_setup mvnet-hostile || { not_ok net-hostile-setup "cannot create namespace/bridge"; exit 0; }
BOOT_TIMEOUT=280
GUEST_MODULES=virtio_pci,virtio_blk,virtio_net,crc32c_generic,ext4
log=$WORK/boot.log
boot_linux "$log" generic net-hostile --memory 512M --stats \
  --disk "$ASSETS/net-hostile/tools.img,format=raw,readonly=on,serial=tools" \
  --net tap=mvnh0,bridge=mvbr0,mac=52:54:00:4e:48:01 \
  --net tap=mvnh1,bridge=mvbr0,mac=52:54:00:4e:48:02; rc=$?
if [ $rc != 0 ]; then
  not_ok net-hostile-vmm-survives "minivmm exit status $rc"; show_tail "$log" 25
else
  ok net-hostile-vmm-survives
fi
tr -d '\r' < "$log" | sed -n 's/^HOSTILE \([^ ]*\) ok$/ok net-hostile-\1/p; s/^HOSTILE \([^ ]*\) FAIL - \(.*\)$/not ok net-hostile-\1 - \2/p'
expect_line "$log" '^HOSTILE-RESULT pass=[0-9]+ fail=0$' ||
  { not_ok net-hostile-attacks "the attack program did not finish cleanly"; show_tail "$log" 25; }
check net-hostile-first-nic-works expect_line "$log" '^NETHOSTILE-FIRST-NIC OK$'
check net-hostile-device-recovers expect_line "$log" '^NETHOSTILE-REBIND OK$'
expect_line "$log" '^NETHOSTILE-FIRST-NIC OK$' && expect_line "$log" '^NETHOSTILE-REBIND OK$' ||
  { tr -d '\r' < "$log" | grep -E '^NETHOSTILE|^HOSTILE-' | sed 's/^/    | /'; show_tail "$log" 30; }

# minivmm's --stats for the victim (net1): every bad frame dropped and counted by reason
st=$(tr -d '\r' < "$log" | sed -n '/^minivmm: virtio-net1 counters/,/^minivmm:/p')
cnt() { echo "$st" | sed -n "s/^ *$1 *\([0-9][0-9]*\)\$/\1/p" | head -1; }
want() { # want NAME LABEL EXPECTED(=N or >=N)
  v=$(cnt "$2")
  case $3 in
    ">="*) [ -n "$v" ] && [ "$v" -ge "${3#>=}" ];;
    *) [ "$v" = "$3" ];;
  esac && ok "net-hostile-counted-$1 ($2: $v)" || not_ok "net-hostile-counted-$1" "$2: '${v}', expected $3"
}
want bad-headers 'tx bad header (dropped)' 10
want short 'chain or frame too short' 2
want too-big 'frame too big' 1
want flags 'unknown flags' 1
want csum 'bad checksum request' 1
want gso-type 'gso type not negotiated' 3
want gso-size 'gso fields past frame' 2
want sent 'tx packets' '>=4'
want ctrl-failed 'ctrl commands failed' '>=5'
net_cleanup
