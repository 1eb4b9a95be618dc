# stat-live: `minivmm stat` on a running Debian guest (the cloud kernel reading its
# virtio-blk disk in a loop, guest/stat-live.sh): `stat --once` prints the table with
# exits, the vCPU's time shares and the disk's kicks and a section of exits by register,
# `stat --json` the raw counters (the disk's exits under its instance name,
# mmio:virtio-blk0, and the exits by register), both while the guest runs; the guest then
# ends normally.
. "$TESTS/lib.sh"
GUEST_MODULES=virtio_pci,virtio_blk
S=$WORK/api.sock
dd if=/dev/urandom of="$WORK/disk.img" bs=1M count=16 2>/dev/null
boot_linux "$WORK/boot.log" cloud stat-live --disk "$WORK/disk.img,format=raw" --api-socket "$S" &
bp=$!
i=0
while [ $i -lt 1200 ] && ! expect_line "$WORK/boot.log" '^STAT-LIVE-READY'; do sleep 0.1; i=$((i + 1)); done
"$MINIVMM" stat --api-socket "$S" --once --interval 1 > "$WORK/once" 2>&1; orc=$?
"$MINIVMM" stat --api-socket "$S" --json > "$WORK/json" 2>&1; jrc=$?
wait $bp; rc=$?
boot_ok stat-live-boot "$WORK/boot.log" $rc
# total column of a table line: "  NAME   RATE   TOTAL"
total() { awk -v k="$1" 'index($0, "  " k " ") == 1 && $NF ~ /^[0-9]+$/ { print $NF; exit }' "$WORK/once"; }
exits=$(total all) kicks=$(total 'notifications (kicks)')
if [ $orc = 0 ] && [ "${exits:-0}" -gt 0 ] 2>/dev/null && [ "${kicks:-0}" -gt 0 ] 2>/dev/null &&
   grep -Eq '^  vcpu0 +[0-9.]+%' "$WORK/once" && grep -q '^EXITS BY REGISTER' "$WORK/once"; then
  ok stat-live-once
  echo "# stat --once: $exits exits, $kicks kicks so far"
else
  not_ok stat-live-once "status $orc, exits '$exits', kicks '$kicks'"; sed 's/^/    | /' "$WORK/once" | head -30
fi
if [ $jrc = 0 ] && grep -q '"minivmm":"stats"' "$WORK/json" && grep -Eq '"exits":\{"all":[1-9]' "$WORK/json" &&
   grep -Eq '"mmio:virtio-blk0":[1-9]' "$WORK/json" && grep -q '"bus_regs":{' "$WORK/json"; then
  ok stat-live-json
else
  not_ok stat-live-json "status $jrc"; head -c 600 "$WORK/json" | sed 's/^/    | /'
fi
cp "$WORK/boot.log" "$WORK/once" "$WORK/json" "$OUT/" 2>/dev/null
