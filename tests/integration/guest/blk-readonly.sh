# guest side of blk-readonly
echo "BLK-RO-FLAG $(cat /sys/block/vda/ro)"
mkdir -p /mnt
if mount -t ext4 -o ro,noload /dev/vda /mnt; then
  (cd /mnt && sha256sum -c SHA256SUMS >/dev/null 2>&1) && echo "BLK-SHA256 OK"
  umount /mnt
fi
# try to make the block layer let writes through (then the device must refuse)
blockdev --setrw /dev/vda 2>/dev/null
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 seek=100 oflag=direct conv=fsync 2>/tmp/dd.err; then
  echo "BLK-RO-WRITE-ACCEPTED"
else
  cat /tmp/dd.err
  echo "BLK-RO-WRITE-REFUSED"
fi
exit 0
