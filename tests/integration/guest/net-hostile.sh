# guest side of net-hostile: the NIC with MAC ...:01 stays with Linux, the one with
# ...:02 is the victim the hostile driver takes over; afterwards both must work.
byaddr() { for n in /sys/class/net/*; do [ "$(cat $n/address)" = "$1" ] && { echo "${n##*/}"; return; }; done; }
pingpeer() { i=0; until ping -c 1 -W 2 10.77.0.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 15 ] || return 1; done; }
sys=
for b in /sys/block/vd*; do [ "$(cat $b/serial 2>/dev/null)" = tools ] && sys=/dev/${b##*/}; done
keep=$(byaddr 52:54:00:4e:48:01) vif=$(byaddr 52:54:00:4e:48:02)
victim=$(basename "$(readlink -f /sys/class/net/$vif/device/..)")
echo "NETHOSTILE-DEVICES tools=$sys keep=$keep victim=$vif@$victim"
[ -n "$sys" ] && [ -n "$keep" ] && [ -n "$vif" ] || exit 1
mkdir -p /mnt
mount -t ext4 -o ro,noload "$sys" /mnt || exit 1
cp /mnt/net-hostile /tmp/ && chmod +x /tmp/net-hostile
umount /mnt
ip addr add 10.77.0.2/24 dev "$keep" && ip link set "$keep" up
pingpeer && echo "NETHOSTILE-FIRST-NIC-BEFORE OK" || echo "NETHOSTILE-FIRST-NIC-BEFORE FAILED: $(ip addr show dev "$keep" | tr '\n' ' ')"
/tmp/net-hostile "$victim"
echo "HOSTILE-EXIT $?"
# the other NIC still works
pingpeer && echo "NETHOSTILE-FIRST-NIC OK" || echo "NETHOSTILE-FIRST-NIC FAILED"
# give the victim back to Linux (probe resets it); it must work again, alone on the subnet
ip link set "$keep" down; ip addr flush dev "$keep"
echo "$victim" > /sys/bus/pci/drivers/virtio-pci/bind 2>/dev/null
sleep 1
vif=$(byaddr 52:54:00:4e:48:02)
[ -n "$vif" ] && ip addr add 10.77.0.3/24 dev "$vif" && ip link set "$vif" up &&
  pingpeer && echo "NETHOSTILE-REBIND OK" || echo "NETHOSTILE-REBIND FAILED: vif '$vif', $(ls /sys/class/net | tr '\n' ' ')"
exit 0
