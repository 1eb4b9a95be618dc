# guest side of blk-hostile
sys= victim=
for b in /sys/block/vd*; do
  case "$(cat $b/serial 2>/dev/null)" in
    tools) sys=/dev/${b##*/};;
    victim) victim=$(basename "$(readlink -f $b/device/..)");;
  esac
done
echo "HOSTILE-DISKS sys=$sys victim=$victim"
[ -n "$sys" ] && [ -n "$victim" ] || exit 1
mkdir -p /mnt
mount -t ext4 -o ro,noload "$sys" /mnt || exit 1
cp /mnt/blk-hostile /tmp/ && chmod +x /tmp/blk-hostile
/tmp/blk-hostile "$victim"
echo "HOSTILE-EXIT $?"
# the first disk still works: re-read everything from the device
umount /mnt; echo 3 > /proc/sys/vm/drop_caches
mount -t ext4 -o ro,noload "$sys" /mnt && (cd /mnt && sha256sum -c SHA256SUMS) && echo "HOSTILE-FIRST-DISK OK"
umount /mnt
# give the victim back to Linux: probe resets it; it must work again
echo "$victim" > /sys/bus/pci/drivers/virtio-pci/bind 2>/dev/null
sleep 1
for b in /sys/block/vd*; do
  if [ "$(cat $b/serial 2>/dev/null)" = victim ]; then
    dd if=/dev/urandom of=/tmp/p bs=4096 count=16 2>/dev/null
    dd if=/tmp/p of=/dev/${b##*/} bs=4096 oflag=direct conv=fsync 2>/dev/null &&
      dd if=/dev/${b##*/} of=/tmp/q bs=4096 count=16 iflag=direct 2>/dev/null &&
      cmp -s /tmp/p /tmp/q && echo "HOSTILE-REBIND OK"
  fi
done
exit 0
