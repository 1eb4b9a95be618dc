#!/usr/bin/env bash
# mkinstallcd.sh — make an installer CD that boots by itself through a BIOS on the serial
# console: Debian's installer (its kernel and initrd) behind ISOLINUX, in an El Torito
# "no emulation" ISO 9660 image. No root, no loop device: xorriso writes the image from a
# folder.
#
#   scripts/mkinstallcd.sh [-d DIR] [-t TENTHS] [-s] OUT.iso
#
#   -d  the folder with the installer's linux and initrd.gz (default: the text netboot
#       installer of debian-installer-12-netboot-amd64,
#       /usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64)
#   -t  how long the boot: prompt waits before it boots the installer, in tenths of
#       a second (default 30)
#   -s  ISOLINUX drives COM1 itself (SERIAL 0 115200), for a BIOS without a serial
#       console of its own (a PC, or QEMU with a screen); not for minivmm (below)
#
# Then: minivmm run --firmware seabios --cdrom OUT.iso --boot cdrom --memory 1G
# ISOLINUX (packages isolinux and syslinux-common) shows a boot: prompt listing its
# entries (install, expert, rescue; Tab lists them too); after the timeout, or Enter, it
# boots "install": the installer with console=ttyS0,115200n8, which draws its text screens
# on that serial port. Below about 780 MiB of RAM the installer runs in its low-memory mode.
# ISOLINUX writes and reads through the BIOS (INT 10h, INT 16h), which SeaBIOS's serial
# console (fw_cfg etc/sercon-port) carries to and from COM1. With -s ISOLINUX 6.04 also
# writes to COM1 directly and under such a BIOS every character comes twice: its CONSOLE 0
# directive cannot silence the BIOS output of its own prompt, whose console is opened
# before the configuration is read.
set -euo pipefail
DI=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
TIMEOUT=30 SERIAL=
usage() { sed -n '2,15p' "$0"; exit 2; }
while getopts "d:t:sh" o; do
  case $o in d) DI=$OPTARG;; t) TIMEOUT=$OPTARG;; s) SERIAL=1;; *) usage;; esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || usage
OUT=$1
case $TIMEOUT in ''|*[!0-9]*) echo "mkinstallcd: -t wants a number of tenths of a second" >&2; exit 2;; esac
ISOLINUX=/usr/lib/ISOLINUX/isolinux.bin LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
for f in "$DI/linux" "$DI/initrd.gz"; do
  [ -r "$f" ] || { echo "mkinstallcd: cannot read $f (debian-installer-12-netboot-amd64, or -d)" >&2; exit 1; }
done
for f in "$ISOLINUX" "$LDLINUX"; do
  [ -r "$f" ] || { echo "mkinstallcd: cannot read $f (isolinux, syslinux-common)" >&2; exit 1; }
done
command -v xorriso >/dev/null || { echo "mkinstallcd: xorriso missing (scripts/install-deps.sh)" >&2; exit 1; }

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
R=$T/root
mkdir -p "$R/isolinux" "$R/install.amd"
cp "$ISOLINUX" "$LDLINUX" "$R/isolinux/"
cp "$DI/linux" "$R/install.amd/vmlinuz"
cp "$DI/initrd.gz" "$R/install.amd/initrd.gz"
# SERIAL (-s) first, as the configuration manual asks; CONSOLE 0 then keeps ISOLINUX's
# messages off the BIOS screen where it can. The text after --- is what the installer also
# gives the installed system; quiet as on Debian's own CDs (ISOLINUX then says nothing
# while it loads the kernel and initrd).
K="kernel /install.amd/vmlinuz"
A="append initrd=/install.amd/initrd.gz"
SER=console=ttyS0,115200n8
{
  [ -z "$SERIAL" ] || printf 'serial 0 115200\nconsole 0\n'
  cat <<EOF
display boot.txt
prompt 1
timeout $TIMEOUT
default install
label install
  $K
  $A $SER --- $SER quiet
label expert
  $K
  $A priority=low $SER --- $SER quiet
label rescue
  $K
  $A rescue/enable=true $SER --- $SER quiet
EOF
} > "$R/isolinux/isolinux.cfg"
cat > "$R/isolinux/boot.txt" <<EOF

minivmm installer CD: Debian's installer on the serial console (ttyS0)
  install  the installer (default, in $((TIMEOUT / 10)).$((TIMEOUT % 10)) s unless a key is pressed)
  expert   the installer, asking every question
  rescue   the installer's rescue mode
Type a name and Enter, optionally followed by more kernel arguments.
EOF
xorriso -as mkisofs -quiet -r -J -V MINIVMM_INSTALL -o "$T/out.iso" \
  -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
  "$R" 2>"$T/xorriso.log" || { cat "$T/xorriso.log" >&2; exit 1; }
mv "$T/out.iso" "$OUT"
echo "mkinstallcd: $OUT ($(( $(stat -c %s "$OUT") >> 20 )) MiB): ISOLINUX, the installer from $DI"
