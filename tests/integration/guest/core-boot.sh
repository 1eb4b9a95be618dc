# core-boot: the guest got this far (MINIVMM-GUEST-READY was printed by /init); say what we are.
echo "GUEST-KERNEL $(uname -r)"
echo "GUEST-CPUS $(grep -c ^processor /proc/cpuinfo)"
grep MemTotal /proc/meminfo
exit 0
