# blk-two-disks: two virtio-blk devices at once: a read-only ext4 disk and a
# blank raw scratch disk; the guest sees both with their serials and sizes,
# reads the first while writing and verifying a pattern on the second. With
# 2 vCPUs the machine gives the first disk 2 request queues (VIRTIO_BLK_F_MQ, one per
# vCPU by default): the guest's blk-mq shows 2 hardware queues; the scratch disk asks for
# one (num-queues=1). The scratch disk uses aio=sync (the synchronous path), the first
# one io_uring (the default).
. "$TESTS/lib.sh"
GUEST_MODULES=virtio_pci,virtio_blk,crc32c_generic,ext4
truncate -s 64M "$WORK/scratch.img"
boot_linux "$WORK/boot.log" generic blk-two-disks \
  --disk "$ASSETS/blk/ext4.img,format=raw,readonly=on,serial=first" \
  --disk "$WORK/scratch.img,format=raw,serial=second,aio=sync,num-queues=1" --memory 512M --cpus 2; rc=$?
if boot_ok blk-two-disks-boot "$WORK/boot.log" $rc; then
  expect_line "$WORK/boot.log" '^BLK-DISKS first 65536 second 131072$' && ok blk-two-disks-seen ||
    { not_ok blk-two-disks-seen "serials/sizes wrong"; tr -d '\r' < "$WORK/boot.log" | grep '^BLK-DISKS' | sed 's/^/    | /'; }
  expect_line "$WORK/boot.log" '^BLK-MQ 2 1$' && ok blk-two-disks-multiqueue ||
    { not_ok blk-two-disks-multiqueue "expected 2 hardware queues on the first disk, 1 (num-queues=1) on the second"; tr -d '\r' < "$WORK/boot.log" | grep '^BLK-MQ' | sed 's/^/    | /'; }
  # every request queue has its own interrupt, and the first disk's two queues go to two
  # vCPUs (the second's one queue has no second CPU to differ from)
  # ("BLK-IRQ virtioN-req.Q IRQ CPU" from the guest's /proc/interrupts)
  irqs=$(tr -d '\r' < "$WORK/boot.log" | grep '^BLK-IRQ ')
  nq=$(echo "$irqs" | grep -c .)
  nirq=$(echo "$irqs" | awk '{ print $3 }' | sort -u | grep -c .)
  spread=$(echo "$irqs" | awk '{ split($2, d, "-"); cpus[d[1]] = cpus[d[1]] " " $4 }
    END { n = 0; for (k in cpus) { split(cpus[k], c, " "); if (c[1] != c[2]) n++ } print n }')
  [ "$nq" = 3 ] && [ "$nirq" = 3 ] && [ "$spread" = 2 ] && ok blk-two-disks-queue-irqs ||
    { not_ok blk-two-disks-queue-irqs "expected 3 queue interrupts, each its own, the first disk's two on two vCPUs"; echo "$irqs" | sed 's/^/    | /'; }
  echo "$irqs" | sed 's/^/    # /'
  expect_line "$WORK/boot.log" '^BLK-TWO OK$' && ok blk-two-disks-io ||
    { not_ok blk-two-disks-io "parallel I/O failed"; show_tail "$WORK/boot.log"; }
fi
# the pattern really is on the scratch image
s=$(dd if="$WORK/scratch.img" bs=1M skip=10 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
p=$(tr -d '\r' < "$WORK/boot.log" | sed -n 's/^BLK-PATTERN-MD5 //p')
[ -n "$p" ] && [ "$s" = "$p" ] && ok blk-two-disks-on-host || not_ok blk-two-disks-on-host "host md5 $s, guest $p"
