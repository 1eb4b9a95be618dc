# lifecycle-reboot: reboot(RB_AUTOBOOT); with reboot=a on the command line Linux resets
# through the FADT's RESET_REG (port 0xcf9, value 6).
sync
reboot -f
sleep 10
echo "LIFECYCLE-STILL-RUNNING"
exit 1
