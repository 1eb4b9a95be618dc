# guest side of ide-cdrom: the ATAPI CD-ROM on the PIIX3 IDE controller,
# as /dev/sr0 (ata_piix, sr_mod, cdrom, isofs). Reads the whole disc and
# compares its SHA256 with minivmm.isosum, mounts it and checks every
# file's SHA256; a write is refused; packets sent through SG_IO get the
# sense data they should; the tray ejects (the disc is gone) and closes
# (it is back). With minivmm.disk=1 an ext4 IDE disk (serial
# ide-disk) sits beside it and is checked too.
for x in /sys/class/ata_device/dev*/xfer_mode; do
  [ -r "$x" ] && echo "IDE-XFER $(basename "$(dirname "$x")") $(cat "$x")"
done
[ -b /dev/sr0 ] || { echo "CD-NO-SR0"; ls /sys/block; exit 1; }
p=$(readlink -f /sys/block/sr0)
echo "CD-AT sr0 $(echo "$p" | grep -o 'ata[0-9]*' | head -1) $(echo "$p" | grep -o 'target[0-9:]*' | head -1 | sed 's/.*://')"
echo "CD-MODEL $(cat /sys/block/sr0/device/vendor) $(cat /sys/block/sr0/device/model)"
echo "CD-SIZE $(blockdev --getsize64 /dev/sr0)"
sum=$(dd if=/dev/sr0 bs=65536 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$sum" = "$MINIVMM_ISOSUM" ] && echo "CD-IMAGE-SHA256 OK" || echo "CD-IMAGE-SHA256 BAD $sum"
mkdir -p /mnt
mount -t iso9660 -o ro /dev/sr0 /mnt || { echo "mount /dev/sr0 failed"; exit 1; }
(cd /mnt && sha256sum -c SHA256SUMS > /tmp/sums.log 2>&1) && echo "CD-SHA256 OK" || tail -5 /tmp/sums.log
[ "$(cat /mnt/hello.txt)" = "hello from the CD-ROM" ] && echo "CD-HELLO OK"
T=/tmp/cd-tray
cp /mnt/cd-tray $T && chmod +x $T
umount /mnt
dd if=/dev/zero of=/dev/sr0 bs=2048 count=1 conv=fsync 2>/dev/null && echo "CD-WRITE-ACCEPTED" || echo "CD-WRITE-REFUSED"
# packets through SG_IO (guest/cd-tray.c, from the disc): the sense data
# of a block past the end, an unknown opcode, an unsupported field
blocks=$(( $(blockdev --getsize64 /dev/sr0) / 2048 ))
echo "CD-SENSE lba $($T /dev/sr0 packet "$(printf '2800%08x000001000000' $blocks)")"
echo "CD-SENSE lba-wrap $($T /dev/sr0 packet 28ffffffff00ffff00000000)"
echo "CD-SENSE opcode $($T /dev/sr0 packet ff0000000000000000000000)"
echo "CD-SENSE field $($T /dev/sr0 packet 120199000024000000000000)"
echo "CD-SENSE good $($T /dev/sr0 packet 2800$(printf '%08x' $((blocks - 1)))000001000000)"
# the tray: open (no disc to read), closed (the disc is back); without
# autoclose an open of the drive does not close the tray itself
echo 0 > /proc/sys/dev/cdrom/autoclose
echo "CD-STATUS closed $($T /dev/sr0 status)"
if $T /dev/sr0 eject; then
  echo "CD-STATUS open $($T /dev/sr0 status)"
  dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/dev/null && echo "CD-EJECT-STILL-READS" || echo "CD-EJECTED"
  $T /dev/sr0 close
  echo "CD-STATUS reloaded $($T /dev/sr0 status)"
  dd if=/dev/sr0 bs=2048 count=1 skip=16 2>/dev/null | head -c 6 | tail -c 5 | grep -q CD001 && echo "CD-RELOADED"
else
  echo "CD-EJECT-FAILED"
fi
if [ "${MINIVMM_DISK:-0}" = 1 ]; then
  for b in /sys/block/sd*; do
    s=$(dd bs=1 skip=4 count=20 < "$b/device/vpd_pg80" 2>/dev/null | sed 's/^ *//; s/ *$//')
    [ "$s" = ide-disk ] && d=${b##*/}
  done
  [ -n "$d" ] || { echo "CD-NO-DISK"; exit 1; }
  p=$(readlink -f "/sys/block/$d")
  echo "CD-DISK-AT $d $(echo "$p" | grep -o 'ata[0-9]*' | head -1) $(echo "$p" | grep -o 'target[0-9:]*' | head -1 | sed 's/.*://')"
  mount -t ext4 -o ro,noload /dev/$d /mnt || { echo "mount $d failed"; exit 1; }
  (cd /mnt && sha256sum -c SHA256SUMS > /tmp/sums.log 2>&1) && echo "CD-DISK-SHA256 OK" || tail -5 /tmp/sums.log
  umount /mnt
fi
exit 0
