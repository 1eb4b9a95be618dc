# core-boot-generic: Debian's generic kernel (bzImage) boots to the initramfs and exits 0.
. "$TESTS/lib.sh"
boot_linux "$WORK/boot.log" generic core-boot; rc=$?
boot_ok core-boot-generic "$WORK/boot.log" $rc
cp "$WORK/boot.log" "$OUT/"
