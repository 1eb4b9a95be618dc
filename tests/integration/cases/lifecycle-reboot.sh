# lifecycle-reboot: the guest's `reboot -f` with reboot=a resets through the FADT reset
# register (port 0xcf9) and minivmm exits 0 (the default --on-reboot policy is exit).
. "$TESTS/lib.sh"
log=$WORK/reboot.log
GUEST_CMDLINE="reboot=a"
boot_linux "$log" cloud lifecycle-reboot; rc=$?
cp "$log" "$OUT/" 2>/dev/null
if [ $rc = 0 ] && expect_line "$log" 'reboot: Restarting system' && ! expect_line "$log" 'LIFECYCLE-STILL-RUNNING|MINIVMM-GUEST-EXIT'; then
  ok lifecycle-reboot
else
  not_ok lifecycle-reboot "minivmm exit status $rc (want 0 after 'reboot: Restarting system')"; show_tail "$log"
fi
