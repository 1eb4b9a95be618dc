# net-iperf: guest side of tests/bench/net-iperf.sh. Configures the first
# network interface as minivmm.net_ip, then runs iperf3 against the server at
# minivmm.net_peer: guest->host (-c) and host->guest (-R), 10 s each, and
# prints "NET-IPERF-TX <Mbit/s>" / "NET-IPERF-RX <Mbit/s>".
IP=${MINIVMM_NET_IP:-10.77.0.2/24}
PEER=${MINIVMM_NET_PEER:-10.77.0.1}
T=${MINIVMM_NET_SECS:-10}
for d in /sys/class/net/*; do n=${d##*/}; [ "$n" = lo ] || { dev=$n; break; }; done
[ -n "${dev:-}" ] || { echo "NET-NO-DEVICE"; exit 1; }
ip addr add "$IP" dev "$dev" && ip link set "$dev" up
i=0; until ping -c 1 -W 2 "$PEER" >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 30 ] || exit 1; done
command -v iperf3 >/dev/null || { echo "NET-NO-IPERF3"; exit 1; }
mbps() { sed -n 's/.* \([0-9.]*\) \([MG]\)bits\/sec.*receiver.*/\1 \2/p' | tail -1 |
         awk '{ v = $1; if ($2 == "G") v *= 1000; print v }'; }
echo "NET-IPERF-TX $(iperf3 -c "$PEER" -t "$T" 2>&1 | tee /tmp/tx.txt | mbps)"
echo "NET-IPERF-RX $(iperf3 -c "$PEER" -t "$T" -R 2>&1 | tee /tmp/rx.txt | mbps)"
cat /tmp/tx.txt /tmp/rx.txt | grep -E 'sender|receiver' | sed 's/^/  /'
exit 0
