# guest side of tests/bench/blk-fio.sh: fio on /dev/vda with O_DIRECT (libaio).
# Kernel parameters: minivmm.runtime=SECONDS (default 6), minivmm.size=REGION (default 256M),
# minivmm.jobs=list (default seqwrite,seqread,randread1,randread32; "idle" = sleep only;
# randreadQ is 4 KiB random reads at iodepth Q, randreadQxJ the same in J jobs at once,
# each with its own Q in flight, reported together).
# Around every job it prints BENCH-FIO-BEGIN NAME / BENCH-FIO-END NAME with 2 s pauses
# so the KVM host can read minivmm's exit counters (control socket) at both ends; fio's
# own output goes to /tmp (console output costs exits), then one line per job:
#   BENCH-FIO-RESULT NAME ios=N kib=N bw_kib=N iops=N lat_us=F p99_us=N cpu_sys=F cpu_iowait=F
# (p99_us: 99th percentile of the total latency, submission included (--lat_percentiles):
# a device that does its I/O while the guest submits shows it there; cpu_*: the guest's CPU time in the
# kernel (system, irq, softirq) and waiting for I/O, in % of all its CPU time during the job)
# minivmm.dev=NAME: the disk to test (default vda; an IDE disk is sda)
name=${MINIVMM_DEV:-vda}
dev=/dev/$name
rt=${MINIVMM_RUNTIME:-6}
size=${MINIVMM_SIZE:-256M}
jobs=$(echo "${MINIVMM_JOBS:-seqwrite,seqread,randread1,randread32}" | tr ',' ' ')
command -v fio >/dev/null 2>&1 || { echo "BENCH-FIO-ERROR no fio in this initramfs"; exit 1; }
i=0   # an ATA disk appears when libata's probe has ended, after /init started
while [ ! -b $dev ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
[ -b $dev ] || { echo "BENCH-FIO-ERROR no $dev"; exit 1; }
q=/sys/block/$name/queue
echo "BENCH-FIO-DISK $dev $(cat /sys/block/$name/size) sectors, max_sectors_kb $(cat $q/max_sectors_kb), max_segments $(cat $q/max_segments), nr_requests $(cat $q/nr_requests)"
echo none > $q/scheduler 2>/dev/null
# cpustat: "busy iowait total" jiffies of all CPUs so far (busy = system + irq + softirq)
cpustat() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print $4 + $7 + $8, $6, t }' /proc/stat; }
status=0
sleep 2
for j in $jobs; do
  case $j in
    seqwrite)   args="--rw=write --bs=1M --iodepth=1";      dir=w;;
    seqread)    args="--rw=read --bs=1M --iodepth=1";       dir=r;;
    randread[0-9]*x[0-9]*)
                q=${j#randread}
                args="--rw=randread --bs=4k --iodepth=${q%x*} --numjobs=${q#*x} --group_reporting"
                dir=r;;
    randread[0-9]*) args="--rw=randread --bs=4k --iodepth=${j#randread}"; dir=r;;
    idle)       args=;;
    *) echo "BENCH-FIO-ERROR unknown job $j"; status=1; continue;;
  esac
  echo "BENCH-FIO-BEGIN $j"
  sleep 2
  if [ "$j" = idle ]; then
    sleep "$rt"; echo "BENCH-FIO-END $j"; sleep 2; continue
  fi
  c0=$(cpustat)
  fio --name="$j" --filename=$dev --direct=1 --ioengine=libaio $args --size="$size" \
      --time_based --runtime="$rt" --norandommap --randrepeat=0 --lat_percentiles=1 \
      --output-format=terse --terse-version=3 > /tmp/$j.out 2>&1
  rc=$?
  c1=$(cpustat)
  echo "BENCH-FIO-END $j"
  if [ $rc = 0 ]; then
    # terse v3: read total KiB;bw KiB/s;IOPS at fields 6-8, mean total latency (us) at 40;
    # write: the same at 47-49 and 81
    # latency percentiles ("99.000000%=N" us) at fields 18-37 (read), 59-78 (write)
    if [ $dir = r ]; then f="6 7 8 40"; pc=18; else f="47 48 49 81"; pc=59; fi
    set -- $f
    line=$(tail -1 /tmp/$j.out)
    p99=$(echo "$line" | awk -F';' -v a=$pc '{ for (i = a; i < a + 20; i++) if ($i ~ /^99\.0+%=/) { sub(/.*=/, "", $i); print $i } }')
    cpu=$(echo "$c0 $c1" | awk '{ t = $6 - $3; if (t <= 0) t = 1; printf "cpu_sys=%.1f cpu_iowait=%.1f", 100 * ($4 - $1) / t, 100 * ($5 - $2) / t }')
    kib=$(echo "$line" | cut -d';' -f$1) bw=$(echo "$line" | cut -d';' -f$2)
    iops=$(echo "$line" | cut -d';' -f$3) lat=$(echo "$line" | cut -d';' -f$4)
    case $j in seq*) bs=1024;; *) bs=4;; esac
    echo "BENCH-FIO-RESULT $j ios=$((kib / bs)) kib=$kib bw_kib=$bw iops=$iops lat_us=$lat p99_us=${p99:-0} $cpu"
  else
    echo "BENCH-FIO-ERROR $j fio status $rc: $(tail -3 /tmp/$j.out | tr '\n' ' ')"
    status=1
  fi
  sleep 2
done
exit $status
