# core-time: the guest's clock (read from minivmm's RTC at boot) is within 5 minutes of
# the KVM host's clock, passed in as minivmm.hosttime=.
. "$TESTS/lib.sh"
GUEST_CMDLINE="minivmm.hosttime=$(date +%s)"
boot_linux "$WORK/boot.log" cloud core-time; rc=$?
cp "$WORK/boot.log" "$OUT/"
if boot_ok core-time-boot "$WORK/boot.log" $rc; then
  ok core-time "guest-host difference $(tr -d '\r' < "$WORK/boot.log" | sed -n 's/^GUEST-TIME-DIFF //p') s"
else
  d=$(tr -d '\r' < "$WORK/boot.log" | sed -n 's/^GUEST-TIME-DIFF //p')
  not_ok core-time "guest clock off by ${d:-?} s (or no boot)"
fi
