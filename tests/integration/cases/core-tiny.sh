# core-tiny: the tiny bare-metal guests of guests/tiny/ (each prints to COM1, then resets
# through the 8042 so minivmm exits 0; the triple fault must give status 3 and registers).
. "$TESTS/lib.sh"
BOOT_TIMEOUT=60
T=$ASSETS/tiny

run_vmm "$WORK/hello16.log" --firmware "$T/hello16.bin"; rc=$?
if [ $rc = 0 ] && expect_line "$WORK/hello16.log" 'hello from real mode'; then ok core-tiny-hello16
else not_ok core-tiny-hello16 "status $rc"; show_tail "$WORK/hello16.log"; fi

CL="tiny-cmdline-$$ check=42"
run_vmm "$WORK/hello64.log" --kernel "$T/hello64.bzimage" --cmdline "$CL"; rc=$?
if [ $rc = 0 ] && expect_line "$WORK/hello64.log" 'hello from long mode'; then ok core-tiny-hello64
else not_ok core-tiny-hello64 "status $rc"; show_tail "$WORK/hello64.log"; fi
if expect_line "$WORK/hello64.log" "^cmdline: $CL\$"; then ok core-tiny-hello64-cmdline
else not_ok core-tiny-hello64-cmdline "the guest did not echo '$CL'"; show_tail "$WORK/hello64.log" 5; fi

run_vmm "$WORK/pvh.log" --kernel "$T/hello-pvh.elf" --cmdline "$CL"; rc=$?
if [ $rc = 0 ] && expect_line "$WORK/pvh.log" 'hello from pvh' && expect_line "$WORK/pvh.log" "^cmdline: $CL\$"; then
  ok core-tiny-pvh
else not_ok core-tiny-pvh "status $rc"; show_tail "$WORK/pvh.log"; fi

# triple fault: status 3 and a register dump on stderr (stdout = guest console kept apart)
with_timeout 60 "$MINIVMM" run --kernel "$T/triplefault64.bzimage" >"$WORK/tf.out" 2>"$WORK/tf.err"; rc=$?
if [ $rc != 3 ]; then
  not_ok core-tiny-triplefault "exit status $rc, want 3"; show_tail "$WORK/tf.err"
elif ! grep -Eiq 'rip[ =:]+(0x)?[0-9a-f]+' "$WORK/tf.err"; then
  not_ok core-tiny-triplefault "no register dump (rip ...) on stderr"; show_tail "$WORK/tf.err"
else
  ok core-tiny-triplefault
fi
