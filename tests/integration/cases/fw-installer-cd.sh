# fw-installer-cd: minivmm run --firmware seabios --cdrom install.iso --boot cdrom
# --memory 1G (the CD of fw-installer-cd.prep): SeaBIOS boots the ATAPI CD-ROM
# through El Torito; ISOLINUX shows its menu and boot: prompt through the BIOS,
# which SeaBIOS's serial console carries to COM1; the test types "install" and
# Enter on minivmm's stdin (SeaBIOS hands COM1's input to ISOLINUX as keys) and
# sees it echoed once; ISOLINUX loads the installer's kernel and 40 MiB initrd
# through the BIOS disk services (quietly: "quiet" is on the kernel's command
# line), and Debian's installer draws its first
# screen, the language dialog, on the serial console. 1 GiB: below about 780
# MiB (MemTotal 737 MiB) the installer enters its low-memory mode and warns
# first. The installer waits for an answer and never powers off: the control
# socket's "stop" ends minivmm (status 0). The times from minivmm's start to
# ISOLINUX, to the typing at its prompt and to the installer's screen are
# printed (INSTALLER-TIME).
. "$TESTS/lib.sh"
iso=$ASSETS/fw-installer-cd/install.iso
log=$WORK/installer.log plain=$WORK/installer.plain sock=$WORK/api.sock in=$WORK/console.in
# one boot; the case's watchdog (MINIVMM_CASE_TIMEOUT, 300 s) must leave room to stop
limit=270
if [ ! -f "$iso" ]; then
  not_ok fw-installer-cd "no $iso (fw-installer-cd.prep failed?)"; exit 0
fi
# the serial console without its ANSI escapes (SeaBIOS's and the installer's
# cursor moves and colours), carriage returns and line-drawing switches
plain() { tr -d '\033\r\016\017' < "$log" | sed 's/\[[0-9;?]*[A-Za-z]//g; s/([0B]//g' > "$plain"; }
echo "+ minivmm run --firmware seabios --cdrom install.iso --boot cdrom --memory 1G" > "$log"
mkfifo "$in"
t0=$(date +%s)
"$MINIVMM" run --firmware seabios --cdrom "$iso" --boot cdrom --memory 1G \
  --debugcon "$WORK/debugcon.log" --api-socket "$sock" >>"$log" 2>&1 <"$in" &
pid=$!
exec 3>"$in"
t_iso= t_screen= typed=
while kill -0 $pid 2>/dev/null && [ $(( $(date +%s) - t0 )) -lt $limit ]; do
  plain
  now=$(( $(date +%s) - t0 ))
  [ -z "$t_iso" ] && grep -q 'ISOLINUX 6' "$plain" && t_iso=$now
  if [ -z "$typed" ] && grep -q '^boot:' "$plain"; then printf 'install\r' >&3; typed=$now; fi
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
exec 3>&-
echo "+ exit status $rc" >> "$log"
plain
mkdir -p "$OUT"
cp "$log" "$plain" "$WORK/debugcon.log" "$OUT/" 2>/dev/null
echo "# INSTALLER-TIME: ISOLINUX ${t_iso:-?} s, typed at the prompt ${typed:-?} s, the installer's first screen ${t_screen:-never} s (from minivmm's start; --memory 1G)"
grep -q 'SeaBIOS (version' "$plain" && grep -q 'Booting from DVD/CD' "$plain" &&
  ok fw-installer-cd-seabios || { not_ok fw-installer-cd-seabios "SeaBIOS did not boot the CD"; show_tail "$plain"; }
# each once: ISOLINUX's output comes through one path only
[ "$(grep -c 'ISOLINUX 6' "$plain")" = 1 ] && [ "$(grep -c 'minivmm installer CD' "$plain")" = 1 ] &&
  ok fw-installer-cd-isolinux ||
  { not_ok fw-installer-cd-isolinux "ISOLINUX's banner and menu not seen exactly once on COM1"; show_tail "$plain"; }
grep -q '^boot: install$' "$plain" &&
  ok fw-installer-cd-prompt "typed at the boot: prompt ${typed:-?} s after the start" ||
  { not_ok fw-installer-cd-prompt "no 'boot: install' echoed once at ISOLINUX's prompt"; grep -a -A2 '^boot:' "$plain" | sed 's/^/    | /'; }
if [ -n "$t_screen" ] && grep -q 'Select a language' "$plain"; then
  ok fw-installer-cd-screen "the installer's language dialog after $t_screen s"
else
  not_ok fw-installer-cd-screen "no 'Select a language' / 'Choose the language' on COM1 in $limit s"
  show_tail "$plain" 25
fi
[ $rc = 0 ] && grep -q '"stopping"' "$WORK/stop.answer" 2>/dev/null && ok fw-installer-cd-stop ||
  { not_ok fw-installer-cd-stop "exit status $rc after the control socket's stop ($(cat "$WORK/stop.answer" 2>/dev/null))"; show_tail "$log" 5; }
exit 0
