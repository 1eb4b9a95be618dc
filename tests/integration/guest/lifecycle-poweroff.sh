# lifecycle-poweroff: power the machine off the way an OS does: reboot(RB_POWER_OFF),
# which Linux carries out with ACPI S5 (SLP_TYP of \_S5 + SLP_EN into PM1a_CNT).
echo "LIFECYCLE-S5-SUPPORTED $(dmesg | grep -c 'ACPI: PM: (supports.*S5')"
sync
poweroff -f
sleep 10
echo "LIFECYCLE-STILL-RUNNING"
exit 1
