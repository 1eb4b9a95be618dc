# blk-fio-verify: data integrity over 256 MiB: fio writes the whole raw disk
# with crc32c verification headers (1 MiB sequential, then 4 KiB random
# over 64 MiB with a queue depth of 8 through libaio... or psync) and reads
# everything back verifying it; without fio, a dd + sha256 loop does the
# same job. The guest boots the initramfs that carries fio.
. "$TESTS/lib.sh"
truncate -s 256M "$WORK/verify.img"
INITRD=$ASSETS/generic/initramfs-tools.cpio.gz
[ -f "$INITRD" ] || INITRD=
BOOT_TIMEOUT=600 boot_linux "$WORK/boot.log" generic blk-fio-verify \
  --disk "$WORK/verify.img,format=raw" --memory 1G; rc=$?
if boot_ok blk-fio-verify-boot "$WORK/boot.log" $rc; then
  expect_line "$WORK/boot.log" '^BLK-VERIFY-SEQ OK' && ok blk-fio-verify-seq-1m ||
    { not_ok blk-fio-verify-seq-1m "sequential write/verify failed"; show_tail "$WORK/boot.log" 25; }
  expect_line "$WORK/boot.log" '^BLK-VERIFY-RAND OK' && ok blk-fio-verify-rand-4k ||
    { not_ok blk-fio-verify-rand-4k "random write/verify failed"; show_tail "$WORK/boot.log" 25; }
  tr -d '\r' < "$WORK/boot.log" | grep -E '^BLK-VERIFY-(SEQ|RAND|TOOL)' | sed 's/^/    # /'
fi
rm -f "$WORK/verify.img"
