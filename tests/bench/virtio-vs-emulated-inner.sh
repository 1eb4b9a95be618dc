#!/bin/sh
# virtio-vs-emulated-inner.sh - the part of tests/bench/virtio-vs-emulated.sh that runs on
# the KVM host (busybox sh).
#
#   sh virtio-vs-emulated-inner.sh MINIVMM ASSETS IMGDIR OUTDIR
#
# ASSETS holds generic/vmlinuz and generic/initramfs-bench.cpio (fio, iperf3, the guest
# scripts bench-fio.sh and bench-net.sh); IMGDIR holds raw.img and qcow2.img (on a block
# device: cache=none is O_DIRECT). For each disk configuration (MODES: virtio, ide = IDE
# with bus-master DMA, ide-pio = IDE with libata.dma=0; FMTS: raw, qcow2) it boots minivmm,
# QEMU (-M pc, the same device) and, for virtio, QEMU at its best (an iothread, aio=native),
# one after the other; for each NIC (NETS: virtio, e1000) minivmm, QEMU (vhost=off) and, for
# virtio, QEMU with vhost=on. Between the guest's BEGIN/END markers of every job it reads
# KVM's exit counters of that VM (debugfs: every exit, by reason) and, for minivmm, its own
# counters through the control socket (exits that reached the VMM, by device). Last, fio on
# the image file itself: the host's ceiling. Writes OUTDIR/results.csv (see HEADER).
MINIVMM=$1 A=$2 IMG=$3 OUT=$4
MEM=${MEM:-1024} CPUS=${CPUS:-1} RUNTIME=${RUNTIME:-5} SIZE=${SIZE:-256M} SECS=${SECS:-10}
MODES=${MODES:-virtio ide ide-pio} FMTS=${FMTS:-raw qcow2} NETS=${NETS:-virtio e1000}
K=$A/generic/vmlinuz I=$A/generic/initramfs-bench.cpio
W=$(pwd)/vve-work
mkdir -p "$W" "$OUT"
QEMU=$(command -v qemu-system-x86_64 || true)
SOCAT=$(command -v socat || true)
HEADER=kind,vmm,device,format,job,ios,kib,bw_mib_s,iops,lat_us,p99_us,cpu_sys_pct,cpu_iowait_pct,kvm_exits,kvm_io_exits,kvm_mmio_exits,kvm_halt_exits,vmm_exits,vmm_exits_by_device
CSV=$OUT/results.csv
echo "$HEADER" > "$CSV"
MODS=virtio_pci,virtio_blk,virtio_net,ata_piix,sd_mod,e1000
BASE="console=ttyS0 quiet reboot=k panic=-1 minivmm.modules=$MODS"
echo "# bench host: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2/1024) }' /proc/meminfo) MiB; /dev/kvm: $([ -c /dev/kvm ] && echo yes || echo NO)"
echo "# guest: Debian generic kernel, ${MEM} MiB, $CPUS vCPU(s); fio ${RUNTIME}s per job on ${SIZE}; iperf3 ${SECS}s each way"
[ -n "$QEMU" ] || echo "# no qemu-system-x86_64: minivmm only"
mountpoint -q /sys/kernel/debug 2>/dev/null || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/debug/kvm ] || echo "# no /sys/kernel/debug/kvm: no KVM exit counts"
IP=/usr/sbin/ip; [ -x "$IP" ] || IP=/sbin/ip

# kvm PID: "exits io mmio halt" of that process's VM as KVM counts them
kvm() {
  for d in /sys/kernel/debug/kvm/$1-*; do
    [ -r "$d/exits" ] || continue
    for f in exits io_exits mmio_exits halt_exits; do cat "$d/$f" 2>/dev/null || echo '?'; done | tr '\n' ' '
    return
  done
  echo "? ? ? ?"
}
# vmm: "exits pio:com1=N,mmio:virtio-blk0=N,..." from minivmm's control socket
vmm() {
  echo info | "$SOCAT" -t 2 - "UNIX-CONNECT:$W/api.sock" 2>/dev/null | awk '{
    e = "?"; if (match($0, /"exits":[0-9]+/)) e = substr($0, RSTART + 8, RLENGTH - 8)
    b = ""; if (match($0, /"bus_exits":\{[^}]*\}/)) b = substr($0, RSTART + 13, RLENGTH - 14)
    gsub(/":/, "=", b); gsub(/"/, "", b); gsub(/ /, "_", b)
    print e, (b == "" ? "-" : b) }'
}

# run KIND VMM DEVICE FMT CMD...: one boot in the background, its console in $W/TAG.log;
# at each BENCH-*-BEGIN/END marker the counters go to $W/TAG.marks; the results to $CSV
run() {
  kind=$1 v=$2 dv=$3 fmt=$4; shift 4
  tag=$kind-$v-$dv-$fmt log=$W/$kind-$v-$dv-$fmt.log marks=$W/$kind-$v-$dv-$fmt.marks
  : > "$log"; : > "$marks"; rm -f "$W/api.sock"
  read t0 _ < /proc/uptime
  "$@" > "$log" 2>&1 </dev/null &
  pid=$!
  seen=0
  while :; do
    alive=1; kill -0 $pid 2>/dev/null || alive=0
    read t1 _ < /proc/uptime
    if [ $alive = 1 ] && [ "${t1%.*}" -gt $((${t0%.*} + ${HANG:-300})) ]; then
      echo "# $tag: still running after ${HANG:-300} s: killed"; kill -9 $pid; alive=0
    fi
    n=$(grep -ac 'BENCH-[A-Z]*-\(BEGIN\|END\) ' "$log")
    if [ "$n" -gt "$seen" ]; then
      k=$(kvm $pid); u="? -"
      [ "$v" = minivmm ] && [ -n "$SOCAT" ] && [ $alive = 1 ] && u=$(vmm)
      tr -d '\r' < "$log" | grep -ao 'BENCH-[A-Z]*-\(BEGIN\|END\) [a-z0-9]*' | sed -n "$((seen + 1)),${n}p" |
        while read -r m j; do echo "${m##*-} $j $k $u" >> "$marks"; done
      seen=$n
    fi
    [ $alive = 1 ] || break
    sleep 0.3
  done
  wait $pid; rc=$?
  read t1 _ < /proc/uptime
  echo "# $tag: status $rc, $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.0f", b - a }') s; $(tr -d '\r' < "$log" | grep -ao 'BENCH-[A-Z]*-\(DISK\|DEVICE\) .*' | head -1)"
  tr -d '\r' < "$log" | grep -a 'BENCH-[A-Z]*-ERROR' | sed 's/^/#   /'
  tr -d '\r' < "$log" | grep -aq 'BENCH-[A-Z]*-RESULT' ||
    { echo "#   no result; last lines:"; tr -d '\r' < "$log" | tail -8 | sed 's/^/#   | /'; }
  # one CSV row per job: the guest's figures, then the counters' differences END - BEGIN
  tr -d '\r' < "$log" | grep -ao 'BENCH-[A-Z]*-RESULT .*' | while read -r _ j rest; do
    awk -v j="$j" -v kind="$kind" -v v="$v" -v dv="$dv" -v fmt="$fmt" -v rest="$rest" '
      function num(x) { return x ~ /^[0-9]+$/ }
      function bus(s, a,   n, i, kv, p) { delete a; n = split(s, p, ","); for (i = 1; i <= n; i++) { split(p[i], kv, "="); a[kv[1]] = kv[2] } }
      $1 == "BEGIN" && $2 == j { for (i = 3; i <= 7; i++) b[i] = $i; bb = $8 }
      $1 == "END" && $2 == j { for (i = 3; i <= 7; i++) e[i] = $i; eb = $8 }
      END {
        n = split(rest, f, " "); for (i = 1; i <= n; i++) { split(f[i], kv, "="); r[kv[1]] = kv[2] }
        if (kind == "net") { kib = r["kib"]; ios = 0; bw = r["mbit"] / 8 * 1000000 / 1048576; iops = 0 }
        else { kib = r["kib"]; ios = r["ios"]; bw = r["bw_kib"] / 1024; iops = r["iops"] }
        row = sprintf("%s,%s,%s,%s,%s,%d,%d,%.3f,%.0f,%.0f,%.0f,%.1f,%.1f", kind, v, dv, fmt, j, ios, kib, bw, iops,
          r["lat_us"], r["p99_us"], r["cpu_sys"], r["cpu_iowait"])
        for (i = 3; i <= 7; i++) row = row "," ((num(b[i]) && num(e[i])) ? e[i] - b[i] : "")
        by = ""
        if (bb != "" && eb != "" && eb != "-") {
          bus(bb, B); bus(eb, E)
          for (x in E) if (E[x] - B[x] > 0) by = by (by == "" ? "" : " ") x "=" (E[x] - B[x])
        }
        print row ",\"" by "\"" }' "$marks" | tee -a "$CSV" | sed 's/^/# result: /'
  done
  sync
}

boot_minivmm() { # boot_minivmm CMDLINE DEVICE-OPTIONS...
  cl=$1; shift
  echo "$MINIVMM" run --kernel "$K" --initrd "$I" --memory "${MEM}M" --cpus "$CPUS" \
    --cmdline "\"$cl\"" --stats --api-socket "$W/api.sock" "$@"
}
qemu_base() {
  echo "$QEMU" -M pc -accel kvm -cpu host -m "$MEM" -smp "$CPUS" -nodefaults -no-user-config \
    -display none -serial stdio -no-reboot -kernel "$K" -initrd "$I"
}

# ---- disks ----
for fmt in $FMTS; do
  for mode in $MODES; do
    cl="$BASE minivmm.run=bench-fio minivmm.runtime=$RUNTIME minivmm.size=$SIZE"
    case $mode in
      virtio) dev=vda; mo=; qd="-drive file=$IMG/$fmt.img,if=virtio,format=$fmt,cache=none";;
      ide) dev=sda; mo=,if=ide; qd="-drive file=$IMG/$fmt.img,if=ide,format=$fmt,cache=none";;
      ide-pio) dev=sda; mo=,if=ide; cl="$cl libata.dma=0"
        qd="-drive file=$IMG/$fmt.img,if=ide,format=$fmt,cache=none";;
      *) echo "# unknown mode $mode"; continue;;
    esac
    cl="$cl minivmm.dev=$dev"
    eval "run disk minivmm $mode $fmt $(boot_minivmm "$cl" --disk "$IMG/$fmt.img,format=$fmt,cache=none$mo")"
    if [ -n "$QEMU" ]; then
      eval "run disk qemu $mode $fmt $(qemu_base) -append \"$cl\" $qd"
      [ $mode = virtio ] && eval "run disk qemu-best $mode $fmt $(qemu_base) -append \"$cl\"" \
        "-object iothread,id=io0 -drive file=$IMG/$fmt.img,if=none,id=d0,format=$fmt,cache=none,aio=native" \
        "-device virtio-blk-pci,drive=d0,iothread=io0"
    fi
  done
done

# ---- network: a bridge in a private namespace, iperf3 server on it ----
if [ -n "$NETS" ]; then
  NS=mvvve
  "$IP" netns del $NS 2>/dev/null
  "$IP" netns add $NS
  "$IP" -n $NS link set lo up
  "$IP" -n $NS link add mvbr0 type bridge
  "$IP" -n $NS addr add 10.77.0.1/24 dev mvbr0
  "$IP" -n $NS link set mvbr0 up
  "$IP" netns exec $NS iperf3 -s -D --logfile "$W/iperf3.log"
  sleep 1
  cl="$BASE minivmm.run=bench-net minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_secs=$SECS"
  n=0
  for nic in $NETS; do
    case $nic in
      virtio) mo=; qdev=virtio-net-pci,disable-legacy=on;;
      e1000) mo=,model=e1000; qdev=e1000;;
      *) echo "# unknown NIC $nic"; continue;;
    esac
    eval "run net minivmm $nic - \"$IP\" netns exec $NS $(boot_minivmm "$cl" --net "tap=mvvt$n,bridge=mvbr0$mo")"
    n=$((n + 1))
    if [ -n "$QEMU" ]; then
      for best in off on; do
        [ $best = on ] && { [ $nic = virtio ] && [ -c /dev/vhost-net ] || continue; }
        t=mvvq$n; n=$((n + 1))
        "$IP" -n $NS tuntap add dev $t mode tap vnet_hdr
        "$IP" -n $NS link set $t master mvbr0 up
        v=qemu; [ $best = on ] && v=qemu-best
        eval "run net $v $nic - \"$IP\" netns exec $NS $(qemu_base) -append \"$cl\"" \
          "-netdev tap,id=n0,ifname=$t,script=no,downscript=no,vhost=$best -device $qdev,netdev=n0,romfile="
      done
    fi
  done
  for p in $("$IP" netns pids $NS); do kill "$p"; done
  "$IP" netns del $NS
fi

# ---- the host's own fio on the same image file: the ceiling ----
if command -v fio >/dev/null; then
  for j in seqwrite seqread randread1 randread32; do
    case $j in
      seqwrite) args="--rw=write --bs=1M --iodepth=1"; pc=59 f="47 48 49 81";;
      seqread) args="--rw=read --bs=1M --iodepth=1"; pc=18 f="6 7 8 40";;
      randread1) args="--rw=randread --bs=4k --iodepth=1"; pc=18 f="6 7 8 40";;
      randread32) args="--rw=randread --bs=4k --iodepth=32"; pc=18 f="6 7 8 40";;
    esac
    fio --name=$j --filename="$IMG/raw.img" --direct=1 --ioengine=libaio $args --size="$SIZE" \
      --time_based --runtime="$RUNTIME" --norandommap --randrepeat=0 --lat_percentiles=1 \
      --output-format=terse --terse-version=3 2>/dev/null | tail -1 |
      awk -F';' -v j=$j -v pc=$pc -v f="$f" '{ split(f, x, " "); p99 = 0
        for (i = pc; i < pc + 20; i++) if ($i ~ /^99\.0+%=/) { p99 = $i; sub(/.*=/, "", p99) }
        bs = j ~ /^seq/ ? 1024 : 4
        printf "disk,host,-,raw,%s,%d,%d,%.3f,%.0f,%.0f,%.0f,,,,,,,,\"\"\n", j, $x[1] / bs, $x[1], $x[2] / 1024, $x[3], $x[4], p99 }' |
      tee -a "$CSV" | sed 's/^/# result: /'
  done
fi
sync
echo "# bench done"
