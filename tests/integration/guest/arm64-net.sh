# arm64-net (guest): the first virtio-net device gets 10.77.0.2/24 and pings the host's
# bridge at 10.77.0.1 (up to 60 s: the host configures the bridge once minivmm made it).
dev=$(ls /sys/class/net | grep -v '^lo$' | head -1)
[ -n "$dev" ] || { echo "NET-NO-DEVICE"; exit 1; }
echo "NET-DEVICE $dev $(cat /sys/class/net/$dev/address)"
ip addr add 10.77.0.2/24 dev "$dev" && ip link set "$dev" up || exit 1
i=0
while [ $i -lt 30 ]; do
  if ping -c 1 -W 2 10.77.0.1 >/dev/null 2>&1; then
    echo "NET-PING-OK after $i tries"
    ping -c 3 10.77.0.1 | tail -2
    exit 0
  fi
  i=$((i + 1))
done
echo "NET-PING-FAILED"
exit 1
