# arm64-panic: a kernel panic (sysrq c) in Debian's arm64 kernel. minivmm's pvpanic device
# is on the PCI bus, but the kernel has no driver for it (CONFIG_PVPANIC unset): nothing
# tells the host of the panic, and panic=-1 on the command line makes the kernel reset at
# once (PSCI SYSTEM_RESET), as a reboot does.
dev=0
for p in /sys/bus/pci/devices/*; do
  [ "$(cat "$p/vendor" 2>/dev/null):$(cat "$p/device" 2>/dev/null)" = 0x1b36:0x0011 ] && dev=$((dev + 1))
done
echo "PVPANIC-DEVICES $dev"
minivmm-modprobe pvpanic_pci pvpanic
echo "PVPANIC-DRIVER $([ -d /sys/bus/pci/drivers/pvpanic-pci ] && echo bound || echo none)"
sync
echo c > /proc/sysrq-trigger
sleep 10
echo "LIFECYCLE-STILL-RUNNING"
exit 1
