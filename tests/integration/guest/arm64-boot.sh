# arm64-boot: the arm64 guest reached its initramfs (/init printed MINIVMM-GUEST-READY):
# say what it runs on, then power off the way an OS does (PSCI SYSTEM_OFF on arm64).
echo "GUEST-ARCH $(uname -m)"
echo "GUEST-KERNEL $(uname -r)"
echo "GUEST-NPROC $(nproc)"
echo "GUEST-UPTIME $(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
sleep 10
echo "ARM64-STILL-RUNNING"
exit 1
