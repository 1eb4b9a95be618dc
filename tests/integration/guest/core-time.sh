# core-time: print the guest's clock (seconds since the epoch, from the RTC at boot) and
# compare it with minivmm.hosttime= (the KVM host's clock just before the boot).
now=$(date +%s)
echo "GUEST-TIME $now"
echo "GUEST-RTC $(cat /sys/class/rtc/rtc0/since_epoch 2>/dev/null || echo none)"
[ -n "${MINIVMM_HOSTTIME:-}" ] || exit 0
d=$((now - MINIVMM_HOSTTIME)); [ $d -lt 0 ] && d=$((-d))
echo "GUEST-TIME-DIFF $d"
[ $d -le 300 ]
