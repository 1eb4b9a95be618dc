# fw-installer-cd: minivmm run --firmware seabios --cdrom install.iso --boot cdrom
# --memory 1G (the CD of fw-installer-cd.prep): SeaBIOS boots the ATAPI CD-ROM
# through El Torito, ISOLINUX shows its boot: prompt on COM1 and after its
# timeout loads the installer's kernel and 40 MiB initrd through the BIOS disk
# services, and Debian's installer draws its first screen, the language
# dialog, on the serial console. 1 GiB: below about 780 MiB (MemTotal 737 MiB)
# the installer enters its low-memory mode and warns first. The installer
# waits for an answer and never powers off: the control socket's "stop" ends
# minivmm (status 0). The times from minivmm's start to ISOLINUX, to the
# kernel and to the installer's screen are printed (INSTALLER-TIME).
. "$TESTS/lib.sh"
iso=$ASSETS/fw-installer-cd/install.iso
log=$WORK/installer.log plain=$WORK/installer.plain sock=$WORK/api.sock
# one boot; the case's watchdog (MINIVMM_CASE_TIMEOUT, 300 s) must leave room to stop
limit=270
if [ ! -f "$iso" ]; then
  not_ok fw-installer-cd "no $iso (fw-installer-cd.prep failed?)"; exit 0
fi
# the serial console without its ANSI escapes (SeaBIOS's and the installer's
# cursor moves and colours), carriage returns and line-drawing switches
plain() { tr -d '\033\r\016\017' < "$log" | sed 's/\[[0-9;?]*[A-Za-z]//g; s/([0B]//g' > "$plain"; }
echo "+ minivmm run --firmware seabios --cdrom install.iso --boot cdrom --memory 1G" > "$log"
t0=$(date +%s)
"$MINIVMM" run --firmware seabios --cdrom "$iso" --boot cdrom --memory 1G \
  --debugcon "$WORK/debugcon.log" --api-socket "$sock" >>"$log" 2>&1 </dev/null &
pid=$!
t_iso= t_linux= t_screen=
while kill -0 $pid 2>/dev/null && [ $(( $(date +%s) - t0 )) -lt $limit ]; do
  plain
  now=$(( $(date +%s) - t0 ))
  [ -z "$t_iso" ] && grep -q 'ISOLINUX 6' "$plain" && t_iso=$now
  [ -z "$t_linux" ] && grep -q 'Linux version' "$plain" && t_linux=$now
  if grep -q 'Choose the language' "$plain"; then t_screen=$now; break; fi
  sleep 1
done
if [ -n "$t_screen" ]; then
  sleep 2  # the rest of the screen
  echo stop | socat - "UNIX-CONNECT:$sock" > "$WORK/stop.answer" 2>&1
fi
t=0
while kill -0 $pid 2>/dev/null && [ $t -lt 15 ]; do sleep 1; t=$((t + 1)); done
if kill -0 $pid 2>/dev/null; then
  kill -TERM $pid; sleep 1; kill -TERM $pid 2>/dev/null; sleep 2; kill -KILL $pid 2>/dev/null
fi
wait $pid; rc=$?
echo "+ exit status $rc" >> "$log"
plain
mkdir -p "$OUT"
cp "$log" "$plain" "$WORK/debugcon.log" "$OUT/" 2>/dev/null
echo "# INSTALLER-TIME: ISOLINUX ${t_iso:-?} s, kernel ${t_linux:-?} s, the installer's first screen ${t_screen:-never} s (from minivmm's start; --memory 1G)"
grep -q 'SeaBIOS (version' "$plain" && grep -q 'Booting from DVD/CD' "$plain" &&
  ok fw-installer-cd-seabios || { not_ok fw-installer-cd-seabios "SeaBIOS did not boot the CD"; show_tail "$plain"; }
grep -q 'ISOLINUX 6' "$plain" && grep -q 'minivmm installer CD' "$plain" && grep -q '^boot:' "$plain" &&
  ok fw-installer-cd-isolinux ||
  { not_ok fw-installer-cd-isolinux "ISOLINUX's banner, menu or boot: prompt missing on COM1"; show_tail "$plain"; }
if [ -n "$t_screen" ] && grep -q 'Select a language' "$plain"; then
  ok fw-installer-cd-screen "the installer's language dialog after $t_screen s"
else
  not_ok fw-installer-cd-screen "no 'Select a language' / 'Choose the language' on COM1 in $limit s"
  show_tail "$plain" 25
fi
[ $rc = 0 ] && grep -q '"stopping"' "$WORK/stop.answer" 2>/dev/null && ok fw-installer-cd-stop ||
  { not_ok fw-installer-cd-stop "exit status $rc after the control socket's stop ($(cat "$WORK/stop.answer" 2>/dev/null))"; show_tail "$log" 5; }
exit 0
