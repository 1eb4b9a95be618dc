# lifecycle-poweroff: the guest's `poweroff -f` goes through ACPI S5 and minivmm exits 0.
. "$TESTS/lib.sh"
log=$WORK/poweroff.log
boot_linux "$log" cloud lifecycle-poweroff; rc=$?
cp "$log" "$OUT/" 2>/dev/null
if [ $rc = 0 ] && expect_line "$log" 'reboot: Power down' && ! expect_line "$log" 'LIFECYCLE-STILL-RUNNING|MINIVMM-GUEST-EXIT'; then
  ok lifecycle-poweroff
else
  not_ok lifecycle-poweroff "minivmm exit status $rc (want 0 after 'reboot: Power down')"; show_tail "$log"
fi
if expect_line "$log" '^LIFECYCLE-S5-SUPPORTED [1-9]'; then
  ok lifecycle-s5-advertised
else
  not_ok lifecycle-s5-advertised "dmesg lacks 'ACPI: PM: (supports ... S5)'"
fi
