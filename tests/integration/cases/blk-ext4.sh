# blk-ext4: the guest mounts an ext4 image (virtio-blk, raw) made on the
# build host, verifies every file's sha256, writes a new file and syncs;
# blk-ext4.post reads that file back from the image with debugfs.
. "$TESTS/lib.sh"
GUEST_MODULES=virtio_pci,virtio_blk,crc32c_generic,ext4
cp "$ASSETS/blk/ext4.img" "$WORK/disk.img"
boot_linux "$WORK/boot.log" generic blk-ext4 \
  --disk "$WORK/disk.img,format=raw,serial=ext4-disk" --memory 512M; rc=$?
if boot_ok blk-ext4-boot "$WORK/boot.log" $rc; then
  expect_line "$WORK/boot.log" '^BLK-SERIAL ext4-disk$' && ok blk-ext4-serial ||
    { not_ok blk-ext4-serial "serial not seen in /sys/block/vda/serial"; show_tail "$WORK/boot.log" 5; }
  expect_line "$WORK/boot.log" '^BLK-SHA256 OK$' && ok blk-ext4-checksums ||
    { not_ok blk-ext4-checksums "sha256sum -c failed"; show_tail "$WORK/boot.log"; }
  expect_line "$WORK/boot.log" '^BLK-WRITE OK$' && ok blk-ext4-write ||
    { not_ok blk-ext4-write "writing the new file failed"; show_tail "$WORK/boot.log"; }
fi
mkdir -p "$OUT" && cp "$WORK/disk.img" "$OUT/disk.img"
