# lifecycle-panic: with the pvpanic-pci driver bound, a kernel panic is reported to the
# host (minivmm exits with status 4) before panic=-1 would reboot.
bound=$(ls /sys/bus/pci/drivers/pvpanic-pci 2>/dev/null | grep -c ':')
echo "PVPANIC-BOUND $bound"
[ "$bound" -ge 1 ] || exit 1
cat /sys/bus/pci/drivers/pvpanic-pci/*/events 2>/dev/null | sed 's/^/PVPANIC-EVENTS /'
sync
echo c > /proc/sysrq-trigger
sleep 10
echo "LIFECYCLE-STILL-RUNNING"
exit 1
