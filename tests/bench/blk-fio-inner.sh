#!/bin/sh
# blk-fio-inner.sh — the part of tests/bench/blk-fio.sh that runs on the KVM host (busybox sh).
#
#   sh blk-fio-inner.sh MINIVMM ASSETS IMGDIR [ROUNDS]
#
# ASSETS holds cloud/vmlinuz and cloud/initramfs-tools.cpio (with fio and
# /tests/bench-fio.sh); IMGDIR holds raw.img and qcow2.img (on a real block device:
# cache=none means O_DIRECT, which tmpfs refuses). For each round and each format it boots
# minivmm, then qemu-system-x86_64 -accel kvm (interleaved), same kernel, initramfs,
# memory (MEM MiB) and CPUs (CPUS); the guest runs tests/integration/guest/bench-fio.sh.
# minivmm runs with --stats and --api-socket: at every BENCH-FIO-BEGIN/END marker of the
# guest this script reads the exit counter ("info"), so exits per I/O are counted over
# each fio job only (boot excluded). The same log polling runs for QEMU, so both
# VMMs see the same load from this script.
# VMMS (default "minivmm qemu") picks the configurations, run in that order:
#   minivmm       --disk IMG,format=F,cache=none (its default backend)
#   minivmm-uring the same with aio=io_uring;  minivmm-sync  with aio=sync
#   minivmm-old   minivmm-uring with the binary OLD_MINIVMM (an earlier build)
#   minivmm-alt   minivmm-uring with the binary ALT_MINIVMM (another build to compare)
#   minivmm-nopoll minivmm-uring with the queues' busy-polling off (poll=0)
#   minivmm-hugepages minivmm-uring with guest RAM from hugetlbfs (--memory MEM,hugepages=on;
#                 MEM/2 pages of 2 MiB are reserved for it; the others have THP)
#   qemu          -drive file=IMG,if=virtio,format=F,cache=none (QEMU's defaults
#                 otherwise: aio=threads, no iothread, one queue per vCPU)
#   qemu-best     -drive ...,cache=none,aio=io_uring on an iothread, virtio-blk-pci
#                 num-queues=CPUS
# The table has one column per configuration and a ratio for every minivmm one against
# every qemu one. JOBS: the guest's fio jobs (bench-fio.sh's minivmm.jobs).
MINIVMM=$1 A=$2 IMG=$3 ROUNDS=${4:-1}
MEM=${MEM:-1024} CPUS=${CPUS:-1} RUNTIME=${RUNTIME:-6} SIZE=${SIZE:-256M}
K=$A/cloud/vmlinuz I=$A/cloud/initramfs-tools.cpio
W=$(pwd)/bench-work
mkdir -p "$W"; : > "$W/results"
QEMU=$(command -v qemu-system-x86_64 || true)
SOCAT=$(command -v socat || true)
VMMS=${VMMS:-minivmm qemu}
CL="console=ttyS0 quiet reboot=k panic=-1 minivmm.modules=virtio_pci,virtio_blk minivmm.run=bench-fio minivmm.runtime=$RUNTIME minivmm.size=$SIZE${JOBS:+ minivmm.jobs=$JOBS}"
echo "# bench host: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2/1024) }' /proc/meminfo) MiB; /dev/kvm: $([ -c /dev/kvm ] && echo yes || echo NO)"
echo "# guest: cloud kernel, ${MEM} MiB, $CPUS vCPU(s); fio ${RUNTIME}s per job on a ${SIZE} region, O_DIRECT, libaio"
echo "# configurations: $VMMS"
[ -n "$QEMU" ] || echo "# no qemu-system-x86_64: minivmm only"
[ -n "$SOCAT" ] || echo "# no socat: no per-job counts of minivmm's user-space exits"
case " $VMMS " in *" minivmm-hugepages "*)
  echo $((MEM / 2)) > /proc/sys/vm/nr_hugepages
  echo "# huge pages reserved: $(cat /proc/sys/vm/nr_hugepages) of 2 MiB";; esac
# KVM's per-VM counters (/sys/kernel/debug/kvm/PID-FD/exits...) count every exit, for both VMMs
mountpoint -q /sys/kernel/debug 2>/dev/null || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/debug/kvm ] || echo "# no /sys/kernel/debug/kvm: no KVM exit counts"

# kexits PID: "exits halt_exits" of that process's VM as KVM counts them (every exit,
# also those handled inside the kernel: ioeventfd, irqfd-driven HLT wake-ups, MSRs...)
kexits() {
  for d in /sys/kernel/debug/kvm/$1-*; do
    [ -r "$d/exits" ] && { echo "$(cat "$d/exits")/$(cat "$d/halt_exits")"; return; }
  done
  echo "?/?"
}
# exits: minivmm's exit counter (exits that reach user space) through its control socket
exits() {
  echo info | "$SOCAT" -t 2 - "UNIX-CONNECT:$W/api.sock" 2>/dev/null | sed -n 's/.*"exits":\([0-9]*\).*/\1/p'
}

# run TAG VMM FMT CMD...: one boot in the background; polls its console log for the
# guest's markers; appends "TAG VMM FMT job ios kib bw iops lat exits" lines to results
run() {
  tag=$1 vmm=$2 fmt=$3; shift 3
  log=$W/$tag.log; : > "$log"; : > "$W/$tag.marks"
  rm -f "$W/api.sock"
  read t0 _ < /proc/uptime
  "$@" > "$log" 2>&1 </dev/null &
  pid=$!
  seen=0
  while :; do
    alive=1; kill -0 $pid 2>/dev/null || alive=0
    read t1 _ < /proc/uptime
    if [ $alive = 1 ] && [ "${t1%.*}" -gt $((${t0%.*} + ${HANG:-240})) ]; then
      echo "# $tag: still running after ${HANG:-240} s: killed; its threads:"
      for t in /proc/$pid/task/*; do
        echo "#   $(cat $t/comm 2>/dev/null) $(cut -d' ' -f3 $t/stat 2>/dev/null) wchan=$(cat $t/wchan 2>/dev/null)"
      done
      kill -9 $pid; alive=0
    fi
    n=$(grep -c 'BENCH-FIO-[BE][EN][GD]' "$log")
    if [ "$n" -gt "$seen" ]; then
      ex=
      kx=$(kexits $pid)
      case $vmm in minivmm*) [ -n "$SOCAT" ] && [ $alive = 1 ] && ex=$(exits);; esac
      grep -o 'BENCH-FIO-[BE][EN][GD]I*N* [a-z0-9]*' "$log" | sed -n "$((seen + 1)),${n}p" |
        while read -r m j; do echo "$m $j ${ex:-?} ${kx%/*} ${kx#*/}" >> "$W/$tag.marks"; done
      seen=$n
    fi
    [ $alive = 1 ] || break
    sleep 0.3
  done
  wait $pid; rc=$?
  read t1 _ < /proc/uptime
  total=$(sed -n 's/^ *vm exits *\([0-9]*\).*/\1/p' "$log" | tr -d '\r')
  vqreq=$(sed -n 's/^ *virtqueue requests *\([0-9]*\).*/\1/p' "$log" | tr -d '\r')
  echo "# $tag: status $rc, $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.0f", b - a }') s, guest exit $(tr -d '\r' < "$log" | sed -n 's/.*MINIVMM-GUEST-EXIT \([0-9]*\).*/\1/p')${total:+, vm exits $total, virtqueue requests $vqreq}"
  tr -d '\r' < "$log" | grep -E 'BENCH-FIO-(DISK|ERROR)' | sed "s/^/#   /" | sort -u
  if [ $rc != 0 ] || { [ $vmm != idle ] && ! tr -d '\r' < "$log" | grep -q 'BENCH-FIO-RESULT'; }; then
    echo "#   last lines of the log:"; tr -d '\r' < "$log" | tail -15 | sed 's/^/#   | /'
  fi
  tr -d '\r' < "$log" | grep -o 'BENCH-FIO-RESULT .*' | while read -r _ j rest; do
    b=$(awk -v j="$j" '$1 == "BENCH-FIO-BEGIN" && $2 == j { print $3 }' "$W/$tag.marks")
    e=$(awk -v j="$j" '$1 == "BENCH-FIO-END" && $2 == j { print $3 }' "$W/$tag.marks")
    d=?
    case "$b$e" in *\?*|"") ;; *) d=$((e - b));; esac
    # KVM's own counters (all exits, HLT exits) over the job, for either VMM
    kd=$(awk -v j="$j" '$2 == j && $1 == "BENCH-FIO-BEGIN" { b = $4; bh = $5 } $2 == j && $1 == "BENCH-FIO-END" { e = $4; eh = $5 }
      END { if (b == "?" || e == "?" || b == "" || e == "") print "? ?"; else print e - b, eh - bh }' "$W/$tag.marks")
    set -- $(echo "$rest" | sed 's/[a-z_]*=//g')
    echo "$vmm $fmt $j $1 $2 $3 $4 $5 $d $kd" >> "$W/results"
    # at once too, so that a session that dies later keeps this run's figures
    echo "# result: $vmm $fmt $j $1 $2 $3 $4 $5 $d $kd"
  done
  # whole run: exits after the first fio BEGIN (boot excluded) per I/O of all jobs
  if [ -n "$total" ]; then
    first=$(awk '$1 == "BENCH-FIO-BEGIN" { print $3; exit }' "$W/$tag.marks")
    ios=$(tr -d '\r' < "$log" | grep -o 'BENCH-FIO-RESULT .*' | sed -n 's/.* ios=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
    case $first in ""|\?) ;; *)
      echo "#   exits before the first job (boot) $first; after it $((total - first)) for $ios I/Os:" \
        "$(awk -v x=$((total - first)) -v n=$ios 'BEGIN { printf "%.2f", n ? x / n : 0 }') per I/O" \
        "(includes the 2 s pauses, console lines and shutdown); virtqueue requests per I/O" \
        "$(awk -v x=$vqreq -v n=$ios 'BEGIN { printf "%.2f", n ? x / n : 0 }')";;
    esac
  fi
}

# boot VMM FMT TAG: one run of configuration VMM on image FMT
boot() {
  case $1 in
    minivmm|minivmm-uring|minivmm-sync|minivmm-old|minivmm-alt|minivmm-nopoll|minivmm-hugepages)
      bin=$MINIVMM mem=${MEM}M
      case $1 in minivmm-uring) aio=,aio=io_uring;; minivmm-sync) aio=,aio=sync;; minivmm-nopoll) aio=,aio=io_uring,poll=0;;
        minivmm-hugepages) aio=,aio=io_uring mem=${MEM}M,hugepages=on;;
        minivmm-old) aio=,aio=io_uring bin=${OLD_MINIVMM:?minivmm-old needs OLD_MINIVMM};;
        minivmm-alt) aio=,aio=io_uring bin=${ALT_MINIVMM:?minivmm-alt needs ALT_MINIVMM};; *) aio=;; esac
      run "$3" "$1" "$2" "$bin" run --kernel "$K" --initrd "$I" \
        --memory "$mem" --cpus "$CPUS" --cmdline "$CL" --stats --api-socket "$W/api.sock" \
        --disk "$IMG/$2.img,format=$2,cache=none$aio";;
    qemu)
      run "$3" "$1" "$2" "$QEMU" -M pc -accel kvm -cpu host -m "$MEM" -smp "$CPUS" \
        -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -kernel "$K" -initrd "$I" -append "$CL" \
        -drive "file=$IMG/$2.img,if=virtio,format=$2,cache=none";;
    qemu-best)
      run "$3" "$1" "$2" "$QEMU" -M pc -accel kvm -cpu host -m "$MEM" -smp "$CPUS" \
        -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -kernel "$K" -initrd "$I" -append "$CL" -object iothread,id=io0 \
        -drive "file=$IMG/$2.img,if=none,id=d0,format=$2,cache=none,aio=io_uring" \
        -device "virtio-blk-pci,drive=d0,iothread=io0,num-queues=$CPUS";;
    *) echo "# unknown configuration $1";;
  esac
}

r=1
while [ $r -le "$ROUNDS" ]; do
  for fmt in ${FMTS:-raw qcow2}; do
    for v in $VMMS; do
      case $v in qemu*) [ -n "$QEMU" ] || continue;; esac
      boot "$v" "$fmt" "$v-$fmt-$r"
    done
  done
  r=$((r + 1))
done
# background rate: one minivmm boot whose guest only sleeps (exits per second while idle)
if [ "${IDLE:-1}" = 1 ] && [ -n "$SOCAT" ]; then
  CL="$CL minivmm.jobs=idle"
  run minivmm-idle idle raw "$MINIVMM" run --kernel "$K" --initrd "$I" \
    --memory "${MEM}M" --cpus "$CPUS" --cmdline "$CL" --stats --api-socket "$W/api.sock" \
    --disk "$IMG/raw.img,format=raw,cache=none"
  awk -v t=$RUNTIME '$1 == "BENCH-FIO-BEGIN" { u = $3; k = $4; h = $5 } $1 == "BENCH-FIO-END" && u != "" {
    printf "# idle guest (sleep %d+2 s between the markers): %s user-space exits, %s KVM exits (%s HLT) = %.0f KVM exits/s\n",
      t, $3 - u, $4 - k, $5 - h, ($4 - k) / (t + 2) }' "$W/minivmm-idle.marks"
fi

echo
echo "fio in a Debian cloud-kernel guest, /dev/vda, O_DIRECT, libaio, ${RUNTIME}s per job, ${SIZE} region, $CPUS vCPU(s)"
echo "(seq: 1 MiB blocks, iodepth 1; randreadQ: 4 KiB blocks, iodepth Q; xJ: J jobs at once;"
echo " median over $ROUNDS round(s); a ratio is a minivmm configuration / a qemu one)"
awk -v vmms="$VMMS" '
function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
function med(key,   n, i, a) { n = N[key]; if (!n) return ""; for (i = 1; i <= n; i++) a[i] = V[key, i]; sort(a, n)
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function add(key, v) { N[key]++; V[key, N[key]] = v }
function row(k, fig, key, fmt,   i, m, q, line) {
  line = sprintf("%-6s %-12s %-14s", P1, P2, fig)
  for (i = 1; i <= nv; i++) { m = med(vm[i] " " k " " key); line = line sprintf(" %13s", m == "" ? "-" : sprintf(fmt, m)) }
  for (i = 1; i <= nr; i++) {
    m = med(rm[i] " " k " " key); q = med(rq[i] " " k " " key)
    line = line sprintf(" %6s", (m == "" || q == "" || q == 0) ? "-" : sprintf("%.2f", m / q))
  }
  print line
}
BEGIN { nv = split(vmms, vm, " ")
  for (i = 1; i <= nv; i++) if (vm[i] ~ /^minivmm/) for (j = 1; j <= nv; j++) if (vm[j] ~ /^qemu/) {
    nr++; rm[nr] = vm[i]; rq[nr] = vm[j]; rn[nr] = "r" nr } }
# fields: vmm fmt job ios kib bw_kib iops lat_us user-exits kvm-exits kvm-hlt-exits
{ k = $2 " " $3; if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
  add($1 " " k " bw", $6 / 1024); add($1 " " k " iops", $7); add($1 " " k " lat", $8)
  if ($4 > 0) {
    if ($9 != "?") add($1 " " k " uepi", $9 / $4)
    if ($10 != "?") { add($1 " " k " kepi", $10 / $4); add($1 " " k " hepi", $11 / $4) }
  } }
END {
  line = sprintf("%-6s %-12s %-14s", "format", "workload", "figure")
  for (i = 1; i <= nv; i++) line = line sprintf(" %13s", vm[i])
  for (i = 1; i <= nr; i++) line = line sprintf(" %6s", rn[i])
  print line
  for (i = 1; i <= nk; i++) {
    k = order[i]; split(k, p, " "); P1 = p[1]; P2 = p[2]
    if (p[2] ~ /^seq/) row(k, "MiB/s", "bw", "%.1f"); else row(k, "IOPS", "iops", "%.0f")
    row(k, "mean lat us", "lat", "%.0f")
    row(k, "KVM exits/IO", "kepi", "%.2f")
    row(k, "  HLT exits/IO", "hepi", "%.2f")
    row(k, "user exits/IO", "uepi", "%.3f")
  }
  for (i = 1; i <= nr; i++) printf "%s = %s / %s\n", rn[i], rm[i], rq[i]
}' "$W/results"
echo
echo "(KVM exits: every exit of the VM during the job, from KVM's debugfs counters, also those the"
echo " kernel handles itself: ioeventfd doorbells, HLT, interrupt windows; user exits: minivmm's"
echo " --stats/control-socket counter of exits that reach the VMM process; both include ~2 s of"
echo " idle guest before fio starts, see the idle line above)"
echo
echo "# raw results (vmm fmt job ios kib bw_kib iops lat_us user-exits kvm-exits kvm-hlt-exits):"
sed 's/^/#   /' "$W/results"
echo "# bench done"
