# guest side of blk-two-disks (disks in PCI order: vda first, vdb second)
echo "BLK-DISKS $(cat /sys/block/vda/serial) $(cat /sys/block/vda/size) $(cat /sys/block/vdb/serial) $(cat /sys/block/vdb/size)"
echo "BLK-MQ $(ls /sys/block/vda/mq | wc -l) $(ls /sys/block/vdb/mq | wc -l)"
# each request queue's interrupt: its own MSI-X vector (IRQ) and the vCPU it goes to
grep -E 'virtio[0-9]+-req\.[0-9]+' /proc/interrupts | while read -r irq rest; do
  irq=${irq%:}
  cpu=$(cat /proc/irq/$irq/effective_affinity_list 2>/dev/null || cat /proc/irq/$irq/smp_affinity_list)
  echo "BLK-IRQ ${rest##* } $irq $cpu"
done
mkdir -p /mnt
mount -t ext4 -o ro,noload /dev/vda /mnt || exit 1
(cd /mnt && sha256sum -c SHA256SUMS >/tmp/a.log 2>&1; echo $? > /tmp/a.rc) &
# 8 MiB of a pattern at 10 MiB on vdb, while vda is being read
dd if=/dev/urandom of=/tmp/pat bs=1M count=8 2>/dev/null
dd if=/tmp/pat of=/dev/vdb bs=1M seek=10 oflag=direct conv=fsync 2>/dev/null || exit 1
wait
dd if=/dev/vdb of=/tmp/back bs=1M skip=10 count=8 iflag=direct 2>/dev/null
echo "BLK-PATTERN-MD5 $(dd if=/tmp/pat bs=1M count=1 2>/dev/null | md5sum | cut -d' ' -f1)"
umount /mnt
if [ "$(cat /tmp/a.rc)" = 0 ] && cmp -s /tmp/pat /tmp/back; then echo "BLK-TWO OK"; fi
exit 0
