# qcow2-fio: data integrity on a qcow2 disk made by `minivmm img create`
# (16 KiB clusters, so every write allocates): the guest runs the
# blk-fio-verify script (fio with crc32c verification, 1 MiB sequential over
# 256 MiB, then 4 KiB random writes with a queue depth of 8) on it; then
# qemu-img check and minivmm img check find the image clean. Boots the
# initramfs-tools image that carries fio (dd fallback without it). With 2 vCPUs the
# disk has 2 queues and the random phase runs 2 fio jobs, one per vCPU: both queues
# have requests in flight on the one image at once (--stats shows both busy).
. "$TESTS/lib.sh"
if ! "$MINIVMM" img create -o cluster_size=16K "$WORK/fio.qcow2" 256M > "$WORK/create.log" 2>&1; then
  not_ok qcow2-fio-create "$(head -2 "$WORK/create.log")"; exit 0
fi
INITRD=$ASSETS/generic/initramfs-tools.cpio.gz
[ -f "$INITRD" ] || INITRD=
BOOT_TIMEOUT=600 boot_linux "$WORK/boot.log" generic blk-fio-verify \
  --disk "$WORK/fio.qcow2,format=qcow2" --memory 1G --cpus 2 --stats; rc=$?
if boot_ok qcow2-fio-boot "$WORK/boot.log" $rc; then
  expect_line "$WORK/boot.log" '^BLK-VERIFY-SEQ OK' && ok qcow2-fio-seq-1m ||
    { not_ok qcow2-fio-seq-1m "sequential write/verify failed"; show_tail "$WORK/boot.log" 25; }
  expect_line "$WORK/boot.log" '^BLK-VERIFY-RAND OK' && ok qcow2-fio-rand-4k ||
    { not_ok qcow2-fio-rand-4k "random write/verify failed"; show_tail "$WORK/boot.log" 25; }
  # both queues served requests (minivmm --stats at exit: "virtio-blk0 queue Q:
  # K notifications, I interrupts"; DRIVER_OK alone gives each queue one)
  q=$(tr -d '\r' < "$WORK/boot.log" | grep -Ec 'virtio-blk0 queue [01]: [1-9][0-9]{2,} notifications')
  expect_line "$WORK/boot.log" '^BLK-VERIFY-JOBS 2' && [ "$q" = 2 ] && ok qcow2-fio-two-queues ||
    { not_ok qcow2-fio-two-queues "expected 2 fio jobs and 2 busy queues (got $q)"; tr -d '\r' < "$WORK/boot.log" | grep -E 'BLK-VERIFY-JOBS|queue [0-9]:' | sed 's/^/    | /'; }
  tr -d '\r' < "$WORK/boot.log" | grep -E '^BLK-VERIFY-(SEQ|RAND|TOOL|JOBS)' | sed 's/^/    # /'
fi
if qemu-img check "$WORK/fio.qcow2" > "$WORK/check.log" 2>&1; then
  ok qcow2-fio-qemu-img-check-clean
else
  not_ok qcow2-fio-qemu-img-check-clean "$(head -3 "$WORK/check.log" | tr '\n' ' ')"
fi
"$MINIVMM" img check "$WORK/fio.qcow2" > "$WORK/check2.log" 2>&1 &&
  ok qcow2-fio-img-check-clean || not_ok qcow2-fio-img-check-clean "$(head -3 "$WORK/check2.log" | tr '\n' ' ')"
rm -f "$WORK/fio.qcow2"
