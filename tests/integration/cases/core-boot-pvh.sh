# core-boot-pvh: Debian's cloud kernel as an uncompressed ELF vmlinux, entered through its
# Xen PVH note (XEN_ELFNOTE_PHYS32_ENTRY), boots to the initramfs and exits 0.
. "$TESTS/lib.sh"
boot_linux "$WORK/boot.log" cloud-pvh core-boot; rc=$?
boot_ok core-boot-pvh "$WORK/boot.log" $rc
cp "$WORK/boot.log" "$OUT/"
