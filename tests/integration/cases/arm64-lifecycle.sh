# arm64-lifecycle: the arm64 guest's `reboot -f` (PSCI SYSTEM_RESET, KVM_EXIT_SYSTEM_EVENT
# reset) ends minivmm with status 0, as a reboot does on x86. A panic cannot give status 4
# here: Debian's arm64 kernel is built without the pvpanic drivers (CONFIG_PVPANIC unset),
# so with panic=-1 (boot_linux's command line) the panicking kernel resets through PSCI
# SYSTEM_RESET and minivmm exits with status 0, as for a reboot.
. "$TESTS/lib.sh"
log=$WORK/reboot.log
boot_linux "$log" arm64 lifecycle-reboot --memory 512M; rc=$?
cp "$log" "$OUT/"
if [ $rc = 0 ] && expect_line "$log" 'reboot: Restarting system' && ! expect_line "$log" 'LIFECYCLE-STILL-RUNNING'; then
  ok arm64-lifecycle-reboot
else
  not_ok arm64-lifecycle-reboot "minivmm exit status $rc (want 0 after 'reboot: Restarting system')"; show_tail "$log"
fi
log=$WORK/panic.log
boot_linux "$log" arm64 arm64-panic --memory 512M; rc=$?
cp "$log" "$OUT/"
if [ $rc = 0 ] && expect_line "$log" '^PVPANIC-DEVICES 1' && expect_line "$log" '^PVPANIC-DRIVER none' && expect_line "$log" 'Kernel panic - not syncing' &&
   ! expect_line "$log" 'LIFECYCLE-STILL-RUNNING'; then
  ok arm64-lifecycle-panic-resets
else
  not_ok arm64-lifecycle-panic-resets "minivmm exit status $rc (want 0 after 'Kernel panic - not syncing', no pvpanic driver)"; show_tail "$log"
fi
