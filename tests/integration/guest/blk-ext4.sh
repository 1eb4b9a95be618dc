# guest side of blk-ext4: mount /dev/vda, check the files, write one.
echo "BLK-SERIAL $(cat /sys/block/vda/serial 2>/dev/null)"
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || { echo "mount failed"; exit 1; }
if (cd /mnt && sha256sum -c SHA256SUMS >/tmp/sums.log 2>&1); then echo "BLK-SHA256 OK"
else tail -5 /tmp/sums.log; fi
seq 1 200000 > /mnt/written-by-guest.txt && sync &&
  [ "$(sha256sum < /mnt/written-by-guest.txt)" = "$(seq 1 200000 | sha256sum)" ] && echo "BLK-WRITE OK"
umount /mnt || exit 1
sync
