# blk-readonly: a disk given with readonly=on is read-only to the guest
# (VIRTIO_BLK_F_RO: /sys/block/vda/ro is 1), can be mounted read-only and
# read, a raw write to /dev/vda fails (Linux 6.1 refuses it in the block
# layer because of the RO feature, even after blockdev --setrw; the device's
# own IOERR answer to a write is covered by the unit test test_virtio_blk),
# and the image is unchanged.
. "$TESTS/lib.sh"
GUEST_MODULES=virtio_pci,virtio_blk,crc32c_generic,ext4
img=$ASSETS/blk/ext4.img
before=$(sha256sum < "$img" | cut -d' ' -f1)
boot_linux "$WORK/boot.log" generic blk-readonly \
  --disk "$img,format=raw,readonly=on" --memory 512M; rc=$?
if boot_ok blk-readonly-boot "$WORK/boot.log" $rc; then
  expect_line "$WORK/boot.log" '^BLK-RO-FLAG 1$' && ok blk-readonly-flag ||
    { not_ok blk-readonly-flag "/sys/block/vda/ro is not 1"; show_tail "$WORK/boot.log" 5; }
  expect_line "$WORK/boot.log" '^BLK-SHA256 OK$' && ok blk-readonly-read ||
    { not_ok blk-readonly-read "reading the files failed"; show_tail "$WORK/boot.log"; }
  expect_line "$WORK/boot.log" '^BLK-RO-WRITE-REFUSED$' && ok blk-readonly-write-refused ||
    { not_ok blk-readonly-write-refused "a write to the disk succeeded"; show_tail "$WORK/boot.log"; }
fi
after=$(sha256sum < "$img" | cut -d' ' -f1)
[ "$before" = "$after" ] && ok blk-readonly-image-unchanged || not_ok blk-readonly-image-unchanged "the image changed"
