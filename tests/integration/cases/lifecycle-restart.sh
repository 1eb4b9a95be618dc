# lifecycle-restart: --on-reboot=restart. One minivmm boots the cloud kernel
# with a 1 MiB raw disk; the guest script (guest/lifecycle-restart.sh) finds no marker,
# writes "BOOT 1" and reboots (reboot -f, reset through the i8042 with reboot=k);
# minivmm must start the guest again with the same kernel and command line; the second
# boot sees "BOOT 1", writes "BOOT 2" and powers off (ACPI S5), and minivmm exits 0.
# Checked: two MINIVMM-GUEST-READY lines and minivmm's "restarting" message, the same
# /proc/cmdline in both boots, the marker on the disk afterwards, exit status 0, and
# that no thread piles up: /proc/PID/task of minivmm counts the same while boot 2 runs
# as while boot 1 ran (counted while each guest waits for an "ACK N" the case writes
# into block 1 of the disk file, which the guest polls with O_DIRECT reads).
. "$TESTS/lib.sh"
log=$WORK/restart.log disk=$WORK/restart.raw
dd if=/dev/zero of="$disk" bs=1048576 count=1 2>/dev/null
cmd="console=ttyS0 reboot=k panic=-1 minivmm.modules=virtio_pci,virtio_blk minivmm.run=lifecycle-restart"
echo "+ minivmm run --kernel cloud --cmdline '$cmd' --disk $disk --on-reboot=restart" > "$log"
"$MINIVMM" run --kernel "$ASSETS/cloud/vmlinuz" --initrd "$ASSETS/cloud/initramfs.cpio.gz" \
  --cmdline "$cmd" --disk "$disk,format=raw" --on-reboot=restart >>"$log" 2>&1 </dev/null &
pid=$!
start=$(date +%s)

# wait_for REGEX: until a log line matches (0), minivmm ends or $BOOT_TIMEOUT passes (1)
wait_for() {
  _t0=$(date +%s)
  while ! expect_line "$log" "$1"; do
    kill -0 $pid 2>/dev/null || { expect_line "$log" "$1"; return; }
    [ $(( $(date +%s) - _t0 )) -lt "$BOOT_TIMEOUT" ] || return 1
    sleep 0.2
  done
}
tasks() { ls /proc/$pid/task 2>/dev/null | wc -l; }
names() { cat /proc/$pid/task/*/comm 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s*%s", s, $2, $1; s = "," }'; }
ack() { printf 'ACK %s' "$1" | dd of="$disk" bs=4096 seek=1 conv=sync,notrunc 2>/dev/null; }
fail() {
  kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
  cp "$log" "$OUT/" 2>/dev/null
  not_ok lifecycle-restart "$*"; show_tail "$log" 20; exit 0
}

wait_for '^RESTART-BOOT 1 ' || fail "boot 1 never reached the guest script"
n1=$(tasks) names1=$(names)
ack 1
wait_for '^RESTART-BOOT 2 ' || fail "no second boot after the guest's reboot (exit: $(kill -0 $pid 2>/dev/null && echo running || echo gone))"
n2=$(tasks) names2=$(names)
ack 2
# the second boot powers off
t=0
while kill -0 $pid 2>/dev/null && [ $t -lt $((BOOT_TIMEOUT * 5)) ]; do sleep 0.2; t=$((t + 1)); done
kill -0 $pid 2>/dev/null && fail "minivmm still running ${BOOT_TIMEOUT}s after the second boot"
wait $pid; rc=$?
secs=$(( $(date +%s) - start ))
echo "+ exit status $rc after $secs s" >> "$log"
cp "$log" "$OUT/" 2>/dev/null

ready=$(tr -d '\r' < "$log" | grep -c 'MINIVMM-GUEST-READY')
if [ "$ready" = 2 ] && expect_line "$log" 'restarting \(--on-reboot=restart\)' &&
   expect_line "$log" 'reboot: Restarting system' && ! expect_line "$log" 'RESTART-(UNEXPECTED|NO-ACK|WRITE-FAILED)|LIFECYCLE-STILL-RUNNING'; then
  ok lifecycle-restart-reboot "guest restarted once ($ready boots, ${secs}s)"
else
  not_ok lifecycle-restart-reboot "$ready MINIVMM-GUEST-READY lines (want 2), restart message/reset line missing or a guest error"; show_tail "$log" 20
fi
c1=$(tr -d '\r' < "$log" | sed -n 's/^RESTART-BOOT 1 //p' | head -1)
c2=$(tr -d '\r' < "$log" | sed -n 's/^RESTART-BOOT 2 //p' | head -1)
[ -n "$c1" ] && [ "$c1" = "$c2" ] && ok lifecycle-restart-same-cmdline ||
  not_ok lifecycle-restart-same-cmdline "boot 1 '$c1', boot 2 '$c2'"
m=$(dd if="$disk" bs=4096 count=1 2>/dev/null | tr -d '\000' | head -c 16)
if [ $rc = 0 ] && [ "$m" = "BOOT 2" ] && expect_line "$log" 'reboot: Power down'; then
  ok lifecycle-restart-poweroff "exit 0, disk marker '$m'"
else
  not_ok lifecycle-restart-poweroff "exit status $rc (want 0), disk marker '$m' (want 'BOOT 2')"; show_tail "$log"
fi
if [ "$n1" -gt 0 ] && [ "$n1" = "$n2" ]; then
  ok lifecycle-restart-threads "$n1 threads in both boots ($names1)"
else
  not_ok lifecycle-restart-threads "boot 1: $n1 threads ($names1), boot 2: $n2 ($names2)"
fi
