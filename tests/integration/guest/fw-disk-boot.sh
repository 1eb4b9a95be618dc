# fw-disk-boot (guest): booted by SeaBIOS and GRUB from the disk itself.
# Mount the disk's own partition (virtio-blk /dev/vda1, or IDE /dev/sda1),
# say what GRUB loaded from it, and count the boots in a file on it: the
# first boot writes 1, the second finds it and writes 2.
dev=
for i in 1 2 3 4 5 6 7 8 9 10; do
  for d in /dev/vda1 /dev/sda1; do [ -b $d ] && dev=$d && break 2; done
  sleep 0.5
done
[ -n "$dev" ] || { echo "FWBOOT-NO-DISK"; exit 1; }
echo "FWBOOT-DEV $dev"
mkdir -p /mnt
mount -t ext4 $dev /mnt || { echo "FWBOOT-MOUNT-FAILED $dev"; exit 1; }
[ -f /mnt/boot/vmlinuz ] && [ -f /mnt/boot/grub/grub.cfg ] && echo "FWBOOT-FILES OK"
n=$(cat /mnt/fw-boot-count 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > /mnt/fw-boot-count
sync
umount /mnt || exit 1
echo "FWBOOT-COUNT $n"
