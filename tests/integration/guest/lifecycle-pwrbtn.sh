# lifecycle-pwrbtn: act on the ACPI power button like a desktop's acpid would. Needs the
# modules button (ACPI fixed power button -> input device "Power Button") and evdev
# (/dev/input/eventN); the case loads them with minivmm.modules=button,evdev.
# Waits for one input event from that device (the KEY_POWER press that minivmm's SIGTERM
# causes), then powers off through ACPI S5.
dev=
for d in /sys/class/input/event*; do
  [ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] && dev=/dev/input/${d##*/}
done
if [ -z "$dev" ]; then
  echo "PWRBTN-NO-DEVICE"
  ls /sys/class/input/ 2>&1
  exit 1
fi
# struct input_event is 24 bytes on x86-64: read exactly one event. The reader is started
# (and has the device open) before READY is announced, so no press can be missed.
dd if="$dev" of=/tmp/ev bs=24 count=1 2>/dev/null &
sleep 1
echo "PWRBTN-READY $dev"
wait
echo "PWRBTN-PRESSED $(od -An -tu2 -j16 -N4 /tmp/ev | tr -s ' ')"
sync
poweroff -f
sleep 10
echo "LIFECYCLE-STILL-RUNNING"
exit 1
