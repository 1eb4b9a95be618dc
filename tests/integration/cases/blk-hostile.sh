# blk-hostile: a hostile guest. A root program in the guest takes a second
# virtio-blk device away from Linux, maps its BAR through sysfs and feeds
# it malformed rings (loops, out-of-range indices, buffers outside RAM,
# nested/oversized indirect tables, bad ring addresses, register abuse) and
# malformed requests (data buffers in the wrong direction: IOERR; no byte
# for the status: DEVICE_NEEDS_RESET), and checks that nothing is served
# while bus mastering is off. minivmm must survive, answer with
# DEVICE_NEEDS_RESET or an error status, and the first disk must keep
# working; afterwards the abused device is given back to Linux and works
# again.
. "$TESTS/lib.sh"
GUEST_MODULES=virtio_pci,virtio_blk,crc32c_generic,ext4
truncate -s 8M "$WORK/victim.img"
boot_linux "$WORK/boot.log" generic blk-hostile \
  --disk "$ASSETS/blk-hostile/tools.img,format=raw,readonly=on,serial=tools" \
  --disk "$WORK/victim.img,format=raw,serial=victim" --memory 512M; rc=$?
if [ $rc != 0 ]; then
  not_ok blk-hostile-vmm-survives "minivmm exit status $rc"; show_tail "$WORK/boot.log" 25
else
  ok blk-hostile-vmm-survives
fi
tr -d '\r' < "$WORK/boot.log" | sed -n 's/^HOSTILE \([^ ]*\) ok$/ok blk-hostile-\1/p; s/^HOSTILE \([^ ]*\) FAIL - \(.*\)$/not ok blk-hostile-\1 - \2/p'
# these attacks print their own ok/not ok above; make sure they ran at all
for a in write-data-device-writable read-data-device-readable no-status-byte bus-master-off; do
  expect_line "$WORK/boot.log" "^HOSTILE $a (ok|FAIL)" || not_ok "blk-hostile-$a" "attack did not run"
done
expect_line "$WORK/boot.log" '^HOSTILE-RESULT pass=[0-9]+ fail=0$' ||
  { not_ok blk-hostile-attacks "the attack program did not finish cleanly"; show_tail "$WORK/boot.log" 25; }
expect_line "$WORK/boot.log" '^HOSTILE-FIRST-DISK OK$' && ok blk-hostile-first-disk-works ||
  not_ok blk-hostile-first-disk-works "the other disk broke"
expect_line "$WORK/boot.log" '^HOSTILE-REBIND OK$' && ok blk-hostile-device-recovers ||
  not_ok blk-hostile-device-recovers "the abused device did not work again after rebinding"
