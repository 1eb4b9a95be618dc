#!/usr/bin/env bash
# mkbootdisk.sh — make a disk image that boots by itself through a BIOS, as an installed
# system does: an MBR partition table, one ext4 partition holding a kernel, an initramfs and
# GRUB's configuration, and GRUB for BIOS in the MBR and the gap after it. No root, no loop
# device: the partition is built as a file (mkfs.ext4 -d) and copied into place.
#
#   scripts/mkbootdisk.sh -k KERNEL -i INITRD -o DISK.img [-a 'KERNEL ARGS'] [-s SIZE-MiB]
#
#   -k  the kernel (bzImage), installed as /boot/vmlinuz
#   -i  the initramfs, installed as /boot/initrd.img
#   -a  the kernel command line GRUB passes (default: console=ttyS0)
#   -s  size of the disk in MiB (default: what the files need, plus 32 MiB free space)
#   -o  the raw disk image to write (replaced)
#
# Then: minivmm run --firmware seabios --disk DISK.img,format=raw --memory 512M
# GRUB comes from grub-pc-bin (/usr/lib/grub/i386-pc): boot.img's first 440 bytes go to
# sector 0 (the partition table after them stays), core.img (grub-mkimage -O i386-pc with
# the modules to read the partition and boot Linux, its prefix pointing at the partition)
# to sectors 1 and up; the partition starts at 1 MiB. GRUB's menu and messages appear on the
# BIOS console, which SeaBIOS mirrors to the serial port.
set -euo pipefail
KERNEL= INITRD= OUT= ARGS="console=ttyS0" SIZE=
while getopts "k:i:o:a:s:h" o; do
  case $o in
    k) KERNEL=$OPTARG;; i) INITRD=$OPTARG;; o) OUT=$OPTARG;; a) ARGS=$OPTARG;; s) SIZE=$OPTARG;;
    *) sed -n '2,19p' "$0"; exit 2;;
  esac
done
[ -n "$KERNEL" ] && [ -n "$INITRD" ] && [ -n "$OUT" ] || { sed -n '2,19p' "$0"; exit 2; }
GRUBDIR=/usr/lib/grub/i386-pc
for f in "$KERNEL" "$INITRD" "$GRUBDIR/boot.img"; do
  [ -r "$f" ] || { echo "mkbootdisk: cannot read $f (kernel, initrd, grub-pc-bin)" >&2; exit 1; }
done
for p in grub-mkimage sfdisk mkfs.ext4; do
  command -v $p >/dev/null || { echo "mkbootdisk: $p missing (scripts/install-deps.sh)" >&2; exit 1; }
done

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$T/root/boot/grub"
cp "$KERNEL" "$T/root/boot/vmlinuz"
cp "$INITRD" "$T/root/boot/initrd.img"
cat > "$T/root/boot/grub/grub.cfg" <<EOF
set timeout=0
set default=0
menuentry 'Linux (minivmm boot disk)' {
  echo 'GRUB: loading /boot/vmlinuz'
  linux /boot/vmlinuz $ARGS
  echo 'GRUB: loading /boot/initrd.img'
  initrd /boot/initrd.img
}
EOF

# the partition: the files plus room to write, in MiB
need=$(( ($(du -sk "$T/root" | cut -f1) + 1023) / 1024 ))
part_mib=$(( need + 32 ))
[ -n "$SIZE" ] && part_mib=$(( SIZE - 1 ))
[ "$part_mib" -gt "$need" ] || { echo "mkbootdisk: -s $SIZE is too small (need $((need + 2)) MiB)" >&2; exit 1; }
mkfs.ext4 -q -F -L minivmm-boot -d "$T/root" "$T/part.img" "${part_mib}M" >/dev/null

# GRUB's core image: read the MBR partition's ext4 and run grub.cfg from it
grub-mkimage -O i386-pc -o "$T/core.img" -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos ext2 normal configfile linux echo test boot
core_sectors=$(( ($(stat -c %s "$T/core.img") + 511) / 512 ))
[ "$core_sectors" -lt 2047 ] || { echo "mkbootdisk: core.img too large for the MBR gap" >&2; exit 1; }

rm -f "$OUT"
truncate -s $(( (part_mib + 1) * 1024 * 1024 )) "$OUT"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$OUT" >/dev/null
dd if="$GRUBDIR/boot.img" of="$OUT" bs=440 count=1 conv=notrunc status=none
dd if="$T/core.img" of="$OUT" bs=512 seek=1 conv=notrunc status=none
dd if="$T/part.img" of="$OUT" bs=1M seek=1 conv=notrunc,sparse status=none
echo "mkbootdisk: $OUT ($((part_mib + 1)) MiB): GRUB, /boot/vmlinuz, /boot/initrd.img, args: $ARGS"
