# core-boot-cloud: Debian's cloud kernel (bzImage) boots to the initramfs and exits 0.
. "$TESTS/lib.sh"
boot_linux "$WORK/boot.log" cloud core-boot; rc=$?
boot_ok core-boot-cloud "$WORK/boot.log" $rc
cp "$WORK/boot.log" "$OUT/"
