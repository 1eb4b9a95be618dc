# guest side of ide-ext4: sda (raw) and sdb (qcow2 clone) are read-write
# ext4 disks on the PIIX3 IDE controller; with minivmm.mode=dma sdc is a
# read-only one, with minivmm.mode=pio there is no sdc.
mode=${MINIVMM_MODE:-dma}
# the ATA serial number, through the SCSI VPD page libata makes of IDENTIFY
if [ -r /sys/block/sda/device/vpd_pg80 ]; then
  # (a 4-byte page header, then the 20 characters, space padded)
  echo "IDE-SERIAL $(dd bs=1 skip=4 count=20 < /sys/block/sda/device/vpd_pg80 2>/dev/null | sed 's/^ *//; s/ *$//')"
else
  echo "IDE-SERIAL-NA $(ls /sys/block/sda/device | tr '\n' ' ')"
fi
# the transfer mode libata chose for each device
for x in /sys/class/ata_device/dev*/xfer_mode; do
  [ -r "$x" ] && echo "IDE-XFER $(basename "$(dirname "$x")") $(cat "$x")"
done
mkdir -p /mnt
for d in sda sdb; do
  [ -b /dev/$d ] || { echo "IDE-NO-DISK $d"; ls /sys/block; exit 1; }
done
if [ "$mode" = pio ]; then
  [ -b /dev/sdc ] && { echo "IDE-UNEXPECTED-SDC"; exit 1; }
  echo "IDE-NO-SDC"
else
  [ -b /dev/sdc ] || { echo "IDE-NO-DISK sdc"; ls /sys/block; exit 1; }
fi
for d in sda sdb; do
  mount -t ext4 /dev/$d /mnt || { echo "mount $d failed"; exit 1; }
  (cd /mnt && sha256sum -c SHA256SUMS >/tmp/sums.log 2>&1) && echo "IDE-SHA256 $d OK" || tail -5 /tmp/sums.log
  if [ "$mode" = pio ]; then
    [ "$(sha256sum < /mnt/written-dma.txt)" = "$(seq 1 200000 | sha256sum)" ] && echo "IDE-PREV $d OK"
  fi
  seq 1 200000 > /mnt/written-$mode.txt && sync && echo 3 > /proc/sys/vm/drop_caches &&
    [ "$(sha256sum < /mnt/written-$mode.txt)" = "$(seq 1 200000 | sha256sum)" ] && echo "IDE-WRITE $d OK"
  umount /mnt || exit 1
done
[ "$mode" = pio ] && { sync; exit 0; }
mount -t ext4 -o ro,noload /dev/sdc /mnt || { echo "mount sdc failed"; exit 1; }
(cd /mnt && sha256sum -c SHA256SUMS >/tmp/sums.log 2>&1) && echo "IDE-SHA256 sdc OK" || tail -5 /tmp/sums.log
umount /mnt
dd if=/dev/zero of=/dev/sdc bs=4096 count=1 seek=100 conv=fsync 2>/dev/null || echo "IDE-RO-WRITE-REFUSED"
sync
exit 0
