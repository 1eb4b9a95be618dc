# lifecycle-panic: with pvpanic-pci loaded, `echo c > /proc/sysrq-trigger` makes minivmm
# exit with status 4 (guest panic) and say so.
. "$TESTS/lib.sh"
log=$WORK/panic.log
GUEST_MODULES=pvpanic_pci
boot_linux "$log" cloud lifecycle-panic; rc=$?
cp "$log" "$OUT/" 2>/dev/null
if ! expect_line "$log" '^PVPANIC-BOUND [1-9]'; then
  not_ok lifecycle-panic "the pvpanic-pci driver did not bind (exit status $rc)"; show_tail "$log"
elif [ $rc = 4 ] && expect_line "$log" 'guest kernel panicked'; then
  ok lifecycle-panic
else
  not_ok lifecycle-panic "minivmm exit status $rc (want 4 and 'guest kernel panicked')"; show_tail "$log"
fi
