# lifecycle-restart (guest): run twice by one minivmm under --on-reboot=restart.
# /dev/vda is a small raw disk: block 0 (4 KiB) holds the boot marker, block 1 the KVM
# host's acknowledgement (read with O_DIRECT, so the host's writes to the file are seen).
# No marker: this is boot 1: print RESTART-BOOT 1 and the command line, wait for
# "ACK 1" in block 1 (the case counts minivmm's threads meanwhile), write "BOOT 1" and
# reboot -f. Marker "BOOT 1": boot 2: the same with ACK 2, write "BOOT 2", power off.
# Any other marker: print RESTART-UNEXPECTED and power off.
dev=/dev/vda
[ -b $dev ] || { echo "RESTART-NO-DISK"; exit 1; }
# (bs=4096: busybox dd's buffer is page-aligned from 4 KiB up, as O_DIRECT wants)
block() { dd if=$dev bs=4096 skip=$1 count=1 iflag=direct 2>/dev/null | tr -d '\000' | head -c 16; }
mark() { printf "$1" | dd of=$dev bs=4096 seek=0 conv=sync,notrunc,fsync oflag=direct 2>/dev/null; }
# wait_ack N: poll block 1 until the host wrote "ACK N" (at most 120 s)
wait_ack() {
  i=0
  while [ "$(block 1)" != "ACK $1" ]; do
    i=$((i + 1)); [ $i -lt 600 ] || { echo "RESTART-NO-ACK $1"; return 1; }
    sleep 0.2
  done
}
m=$(block 0)
case "$m" in
"")
  echo "RESTART-BOOT 1 $(cat /proc/cmdline)"
  wait_ack 1
  mark "BOOT 1" || { echo "RESTART-WRITE-FAILED"; exit 1; }
  sync
  reboot -f
  ;;
"BOOT 1")
  echo "RESTART-BOOT 2 $(cat /proc/cmdline)"
  wait_ack 2
  mark "BOOT 2" || { echo "RESTART-WRITE-FAILED"; exit 1; }
  sync
  poweroff -f
  ;;
*)
  echo "RESTART-UNEXPECTED marker '$m'"
  sync
  poweroff -f
  ;;
esac
sleep 10
echo "LIFECYCLE-STILL-RUNNING"
exit 1
