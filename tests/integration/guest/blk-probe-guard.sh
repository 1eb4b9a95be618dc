# blk-probe-guard (guest): /dev/vda is a raw disk that minivmm opened with no
# format= (detected raw), run under --on-reboot=restart. At 1 MiB it holds a
# small qcow2 image (16 KiB) whose backing file is a host file; block 512
# (2 MiB) holds this script's boot marker.
# Every boot first looks for the host file's text in the disk's first 64 KiB
# (GUARD-SECRET-SEEN: the attack worked; power off).
# Boot 1 (no marker): ordinary data in sector 0 must be accepted, then the
# copy of the qcow2 image over sectors 0..31 must be refused (an I/O error
# with O_DIRECT); writes "BOOT 1" and reboots.
# Boot 2 (marker "BOOT 1"): prints what sector 0 holds and powers off.
dev=/dev/vda
[ -b $dev ] || { echo "GUARD-NO-DISK"; exit 1; }
block() { dd if=$dev bs=4096 skip=$1 count=1 iflag=direct 2>/dev/null | tr -d '\000' | head -c 16; }
mark() { printf "$1" | dd of=$dev bs=4096 seek=512 conv=sync,notrunc,fsync oflag=direct 2>/dev/null; }
if dd if=$dev bs=65536 count=1 iflag=direct 2>/dev/null | grep -q HOST-SECRET; then
  echo "GUARD-SECRET-SEEN"
  sync
  poweroff -f
fi
echo "GUARD-SECRET-NOT-SEEN"
m=$(block 512)
case "$m" in
"")
  printf 'PLAIN-DATA' | dd of=$dev bs=4096 seek=0 conv=sync,notrunc oflag=direct 2>/dev/null &&
    [ "$(block 0)" = "PLAIN-DATA" ] && echo "GUARD-PLAIN-OK" || echo "GUARD-PLAIN-FAILED"
  if dd if=$dev of=$dev bs=4096 skip=256 seek=0 count=4 conv=notrunc iflag=direct oflag=direct 2>/dev/null; then
    echo "GUARD-WRITE-ACCEPTED"
  else
    echo "GUARD-WRITE-REFUSED"
  fi
  echo "GUARD-BOOT1-SECTOR0 $(block 0)"
  mark "BOOT 1" || echo "GUARD-MARK-FAILED"
  sync
  reboot -f
  ;;
"BOOT 1")
  echo "GUARD-BOOT2-SECTOR0 $(block 0)"
  mark "BOOT 2" || echo "GUARD-MARK-FAILED"
  sync
  poweroff -f
  ;;
*)
  echo "GUARD-UNEXPECTED marker '$m'"
  sync
  poweroff -f
  ;;
esac
sleep 10
echo "GUARD-STILL-RUNNING"
exit 1
