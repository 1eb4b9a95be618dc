# blk-no-ioeventfd: blk-ext4's round trip (mount, check every file's sha256, write a file
# that blk-no-ioeventfd.post reads back) with --ioeventfd=off --irqfd=off: every virtio
# kick is an MMIO exit minivmm handles and every MSI-X interrupt is injected by the
# device's thread with KVM_SIGNAL_MSI. --stats must count no kick through an ioeventfd and
# no interrupt through an irqfd, and the trace (mmio exits of virtio-blk, to a file) must
# show the kicks: "virtio-blk0 notify q0 <- 0x0".
. "$TESTS/lib.sh"
GUEST_MODULES=virtio_pci,virtio_blk,crc32c_generic,ext4
cp "$ASSETS/blk/ext4.img" "$WORK/disk.img"
boot_linux "$WORK/boot.log" generic blk-ext4 \
  --disk "$WORK/disk.img,format=raw,serial=ext4-disk" --memory 512M \
  --ioeventfd=off --irqfd=off --stats --trace=mmio,virtio-blk --trace-file "$WORK/trace"; rc=$?
# stat NAME: the value of the "  NAME   N" line of the --stats table
stat() {
  tr -d '\r' < "$WORK/boot.log" | sed -n '/^minivmm: statistics/,$p' |
    awk -v k="$1" '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, ""); if ($0 == k) { print v; exit } }'
}
if boot_ok blk-no-ioeventfd-boot "$WORK/boot.log" $rc; then
  expect_line "$WORK/boot.log" '^BLK-SHA256 OK$' && ok blk-no-ioeventfd-checksums ||
    { not_ok blk-no-ioeventfd-checksums "sha256sum -c failed"; show_tail "$WORK/boot.log"; }
  expect_line "$WORK/boot.log" '^BLK-WRITE OK$' && ok blk-no-ioeventfd-write ||
    { not_ok blk-no-ioeventfd-write "writing the new file failed"; show_tail "$WORK/boot.log"; }
  kicks=$(stat 'kicks via ioeventfd') irqfd=$(stat 'interrupts via irqfd')
  reqs=$(stat 'virtqueue requests') irqs=$(stat 'interrupts injected')
  if [ "$kicks" = 0 ] && [ "$irqfd" = 0 ] && [ "${reqs:-0}" -gt 0 ] && [ "${irqs:-0}" -gt 0 ]; then
    ok blk-no-ioeventfd-stats
  else
    not_ok blk-no-ioeventfd-stats "kicks via ioeventfd '$kicks', via irqfd '$irqfd' (want 0 and 0), requests '$reqs', interrupts '$irqs'"
  fi
  n=$(grep -c 'vcpu[0-9]* mmio write 0x[0-9a-f]* 2 virtio-blk0 notify q0 <- 0x0 ' "$WORK/trace" 2>/dev/null)
  if [ "${n:-0}" -gt 0 ]; then ok blk-no-ioeventfd-trace-kicks
  else not_ok blk-no-ioeventfd-trace-kicks "no 'virtio-blk0 notify q0' line in the trace"; head -5 "$WORK/trace" 2>/dev/null | sed 's/^/    | /'; fi
fi
mkdir -p "$OUT" && cp "$WORK/disk.img" "$OUT/disk.img"
