# guest side of ide-ext4: on the PIIX3 IDE controller, the disk with serial
# ide-raw (raw image) and ide-clone (qcow2 clone) are read-write ext4 disks;
# with minivmm.mode=dma ide-ro is a read-only one, with minivmm.mode=pio
# there is no third disk. sdX names depend on the order the kernel probes
# in, so each disk is found by the serial libata reports (VPD page 80h: a
# 4-byte header, then the 20 characters of IDENTIFY, space padded).
mode=${MINIVMM_MODE:-dma}
serial() { dd bs=1 skip=4 count=20 < "/sys/block/$1/device/vpd_pg80" 2>/dev/null | sed 's/^ *//; s/ *$//'; }
dev_of() {
  for b in /sys/block/sd*; do
    [ "$(serial "${b##*/}")" = "$1" ] && { echo "${b##*/}"; return 0; }
  done
  return 1
}
# the transfer mode libata chose for each device
for x in /sys/class/ata_device/dev*/xfer_mode; do
  [ -r "$x" ] && echo "IDE-XFER $(basename "$(dirname "$x")") $(cat "$x")"
done
roles="raw clone"; [ "$mode" = dma ] && roles="raw clone ro"
for r in $roles; do
  d=$(dev_of ide-$r) || { echo "IDE-NO-DISK ide-$r"; for b in /sys/block/sd*; do echo "  ${b##*/}: '$(serial "${b##*/}")'"; done; exit 1; }
  eval "DEV_$r=$d"
  # where it sits: ataN (channel) and the SCSI target's last number (0 master, 1 slave)
  p=$(readlink -f "/sys/block/$d")
  echo "IDE-AT $r $d $(echo "$p" | grep -o 'ata[0-9]*' | head -1) $(echo "$p" | grep -o 'target[0-9:]*' | head -1 | sed 's/.*://')"
done
if [ "$mode" = pio ]; then
  n=$(ls -d /sys/block/sd* | wc -l)
  [ "$n" = 2 ] && echo "IDE-NO-THIRD-DISK" || echo "IDE-UNEXPECTED-DISKS $n"
fi
mkdir -p /mnt
for r in raw clone; do
  eval "d=\$DEV_$r"
  mount -t ext4 /dev/$d /mnt || { echo "mount $d ($r) failed"; exit 1; }
  (cd /mnt && sha256sum -c SHA256SUMS >/tmp/sums.log 2>&1) && echo "IDE-SHA256 $r OK" || tail -5 /tmp/sums.log
  if [ "$mode" = pio ]; then
    [ "$(sha256sum < /mnt/written-dma.txt)" = "$(seq 1 200000 | sha256sum)" ] && echo "IDE-PREV $r OK"
  fi
  seq 1 200000 > /mnt/written-$mode.txt && sync && echo 3 > /proc/sys/vm/drop_caches &&
    [ "$(sha256sum < /mnt/written-$mode.txt)" = "$(seq 1 200000 | sha256sum)" ] && echo "IDE-WRITE $r OK"
  umount /mnt || exit 1
done
[ "$mode" = pio ] && { sync; exit 0; }
mount -t ext4 -o ro,noload /dev/$DEV_ro /mnt || { echo "mount $DEV_ro (ro) failed"; exit 1; }
(cd /mnt && sha256sum -c SHA256SUMS >/tmp/sums.log 2>&1) && echo "IDE-SHA256 ro OK" || tail -5 /tmp/sums.log
umount /mnt
dd if=/dev/zero of=/dev/$DEV_ro bs=4096 count=1 seek=100 conv=fsync 2>/dev/null || echo "IDE-RO-WRITE-REFUSED"
sync
exit 0
