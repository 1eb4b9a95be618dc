# lifecycle-sigterm: SIGTERM to minivmm presses the ACPI power button; the guest script
# (guest/lifecycle-pwrbtn.sh) sees KEY_POWER on the "Power Button" input device and
# powers off through S5; minivmm exits 0.
. "$TESTS/lib.sh"
log=$WORK/sigterm.log
ird=$ASSETS/lifecycle-sigterm/initramfs.cpio.gz
if [ ! -f "$ird" ]; then
  not_ok lifecycle-sigterm "no $ird (lifecycle-sigterm.prep failed?)"; exit 0
fi
cmd="console=ttyS0 reboot=k panic=-1 minivmm.modules=button,evdev minivmm.run=lifecycle-pwrbtn"
echo "+ minivmm run --kernel cloud --initrd $ird --cmdline '$cmd'" > "$log"
"$MINIVMM" run --kernel "$ASSETS/cloud/vmlinuz" --initrd "$ird" --cmdline "$cmd" \
  >>"$log" 2>&1 </dev/null &
pid=$!
t=0
while [ $t -lt "$BOOT_TIMEOUT" ] && kill -0 $pid 2>/dev/null && ! expect_line "$log" '^PWRBTN-READY'; do
  sleep 1; t=$((t + 1))
done
if ! expect_line "$log" '^PWRBTN-READY'; then
  kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
  cp "$log" "$OUT/" 2>/dev/null
  not_ok lifecycle-sigterm "guest never got ready for the power button"; show_tail "$log"; exit 0
fi
start=$(date +%s)
kill -TERM $pid
t=0
while kill -0 $pid 2>/dev/null && [ $t -lt 60 ]; do sleep 1; t=$((t + 1)); done
if kill -0 $pid 2>/dev/null; then
  kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
  cp "$log" "$OUT/" 2>/dev/null
  not_ok lifecycle-sigterm "minivmm still running 60 s after SIGTERM"; show_tail "$log"; exit 0
fi
wait $pid; rc=$?
echo "+ exit status $rc after $(( $(date +%s) - start )) s" >> "$log"
cp "$log" "$OUT/" 2>/dev/null
if [ $rc = 0 ] && expect_line "$log" '^PWRBTN-PRESSED' && expect_line "$log" 'reboot: Power down'; then
  ok lifecycle-sigterm "clean power-off $(( $(date +%s) - start )) s after SIGTERM"
else
  not_ok lifecycle-sigterm "exit status $rc (want 0 after PWRBTN-PRESSED and 'reboot: Power down')"; show_tail "$log"
fi
