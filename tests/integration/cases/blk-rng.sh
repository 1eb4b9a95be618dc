# blk-rng: with --rng the guest's virtio-rng is the current hwrng and
# /dev/hwrng yields random bytes.
. "$TESTS/lib.sh"
boot_linux "$WORK/boot.log" generic blk-rng --rng --memory 256M; rc=$?
if boot_ok blk-rng-boot "$WORK/boot.log" $rc; then
  expect_line "$WORK/boot.log" '^RNG-CURRENT virtio_rng' && ok blk-rng-current ||
    { not_ok blk-rng-current "virtio_rng is not the current hwrng"; show_tail "$WORK/boot.log" 8; }
  expect_line "$WORK/boot.log" '^RNG-BYTES 4096 distinct-ok$' && ok blk-rng-bytes ||
    { not_ok blk-rng-bytes "could not read 4096 varied bytes from /dev/hwrng"; show_tail "$WORK/boot.log" 8; }
fi
