# bench-net: guest side of tests/bench/virtio-vs-emulated.sh's network part.
# Configures the first network interface (virtio-net or e1000, whichever the VMM
# gave) as minivmm.net_ip, then against the host at minivmm.net_peer runs
#   ping   200 round trips back to back (ping -A): latency mean and 99th percentile
#   tx     iperf3 guest -> host, minivmm.net_secs seconds (default 10)
#   rx     iperf3 host -> guest (-R)
# Around each job BENCH-NET-BEGIN NAME / BENCH-NET-END NAME with 2 s pauses, so the
# KVM host can read the exit counters at both ends; then one line per job:
#   BENCH-NET-RESULT NAME mbit=F kib=N lat_us=F p99_us=F cpu_sys=F cpu_iowait=F
IP=${MINIVMM_NET_IP:-10.77.0.2/24}
PEER=${MINIVMM_NET_PEER:-10.77.0.1}
T=${MINIVMM_NET_SECS:-10}
i=0   # the driver may bind a moment after /init started
while :; do
  for d in /sys/class/net/*; do n=${d##*/}; [ "$n" = lo ] || { dev=$n; break; }; done
  [ -n "${dev:-}" ] || [ $i -ge 40 ] && break
  sleep 0.5; i=$((i + 1))
done
[ -n "${dev:-}" ] || { echo "BENCH-NET-ERROR no network interface"; exit 1; }
echo "BENCH-NET-DEVICE $dev driver $(basename "$(readlink /sys/class/net/$dev/device/driver)")"
ip addr add "$IP" dev "$dev" && ip link set "$dev" up
i=0; until ping -c 1 -W 2 "$PEER" >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 30 ] || { echo "BENCH-NET-ERROR no answer from $PEER"; exit 1; }; done
command -v iperf3 >/dev/null || { echo "BENCH-NET-ERROR no iperf3 in this initramfs"; exit 1; }
cpustat() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print $4 + $7 + $8, $6, t }' /proc/stat; }
cpu() { echo "$1 $2" | awk '{ t = $6 - $3; if (t <= 0) t = 1; printf "cpu_sys=%.1f cpu_iowait=%.1f", 100 * ($4 - $1) / t, 100 * ($5 - $2) / t }'; }
# "receiver" line of iperf3: Mbit/s and the amount moved in KiB
iperf() { awk '/receiver/ { for (i = 1; i < NF; i++) {
  if ($(i+1) ~ /^[KMG]Bytes$/) { v = $i; u = $(i+1); kib = v * (u == "GBytes" ? 1048576 : u == "MBytes" ? 1024 : 1) }
  if ($(i+1) ~ /^[KMG]bits\/sec$/) { r = $i; u = $(i+1); mbit = r * (u == "Gbits/sec" ? 1000 : u == "Kbits/sec" ? 0.001 : 1) } } }
  END { printf "mbit=%s kib=%d", mbit + 0, kib + 0 }'; }
status=0
sleep 2
for j in ping tx rx; do
  echo "BENCH-NET-BEGIN $j"
  sleep 2
  c0=$(cpustat)
  case $j in
    ping) ping -A -c 200 -W 2 "$PEER" > /tmp/$j.out 2>&1;;
    tx)   iperf3 -c "$PEER" -t "$T" > /tmp/$j.out 2>&1;;
    rx)   iperf3 -c "$PEER" -t "$T" -R > /tmp/$j.out 2>&1;;
  esac
  rc=$?
  c1=$(cpustat)
  echo "BENCH-NET-END $j"
  if [ $rc != 0 ]; then
    echo "BENCH-NET-ERROR $j status $rc: $(tail -3 /tmp/$j.out | tr '\n' ' ')"; status=1
  elif [ $j = ping ]; then
    lat=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' /tmp/$j.out | sort -n |
      awk '{ v[NR] = $1 * 1000; s += v[NR] } END { if (NR) printf "mbit=0 kib=0 lat_us=%.0f p99_us=%.0f", s / NR, v[int(NR * 0.99 + 0.999)] }')
    echo "BENCH-NET-RESULT $j $lat $(cpu "$c0" "$c1")"
  else
    echo "BENCH-NET-RESULT $j $(iperf < /tmp/$j.out) lat_us=0 p99_us=0 $(cpu "$c0" "$c1")"
  fi
  sleep 2
done
exit $status
