# guest side of tests/bench/blk-fio.sh: fio on /dev/vda with O_DIRECT (libaio).
# Kernel parameters: minivmm.runtime=SECONDS (default 6), minivmm.size=REGION (default 256M),
# minivmm.jobs=list (default seqwrite,seqread,randread1,randread32; "idle" = sleep only).
# Around every job it prints BENCH-FIO-BEGIN NAME / BENCH-FIO-END NAME with 2 s pauses
# so the KVM host can read minivmm's exit counters (control socket) at both ends; fio's
# own output goes to /tmp (console output costs exits), then one line per job:
#   BENCH-FIO-RESULT NAME ios=N kib=N bw_kib=N iops=N lat_us=F
dev=/dev/vda
rt=${MINIVMM_RUNTIME:-6}
size=${MINIVMM_SIZE:-256M}
jobs=$(echo "${MINIVMM_JOBS:-seqwrite,seqread,randread1,randread32}" | tr ',' ' ')
command -v fio >/dev/null 2>&1 || { echo "BENCH-FIO-ERROR no fio in this initramfs"; exit 1; }
[ -b $dev ] || { echo "BENCH-FIO-ERROR no $dev"; exit 1; }
echo "BENCH-FIO-DISK $(cat /sys/block/vda/size) sectors, max_sectors_kb $(cat /sys/block/vda/queue/max_sectors_kb), max_segments $(cat /sys/block/vda/queue/max_segments), nr_requests $(cat /sys/block/vda/queue/nr_requests)"
echo none > /sys/block/vda/queue/scheduler 2>/dev/null
status=0
sleep 2
for j in $jobs; do
  case $j in
    seqwrite)   args="--rw=write --bs=1M --iodepth=1";      dir=w;;
    seqread)    args="--rw=read --bs=1M --iodepth=1";       dir=r;;
    randread1)  args="--rw=randread --bs=4k --iodepth=1";   dir=r;;
    randread32) args="--rw=randread --bs=4k --iodepth=32";  dir=r;;
    idle)       args=;;
    *) echo "BENCH-FIO-ERROR unknown job $j"; status=1; continue;;
  esac
  echo "BENCH-FIO-BEGIN $j"
  sleep 2
  if [ "$j" = idle ]; then
    sleep "$rt"; echo "BENCH-FIO-END $j"; sleep 2; continue
  fi
  fio --name="$j" --filename=$dev --direct=1 --ioengine=libaio $args --size="$size" \
      --time_based --runtime="$rt" --norandommap --randrepeat=0 \
      --output-format=terse --terse-version=3 > /tmp/$j.out 2>&1
  rc=$?
  echo "BENCH-FIO-END $j"
  if [ $rc = 0 ]; then
    # terse v3: read total KiB;bw KiB/s;IOPS at fields 6-8, mean total latency (us) at 40;
    # write: the same at 47-49 and 81
    if [ $dir = r ]; then f="6 7 8 40"; else f="47 48 49 81"; fi
    set -- $f
    line=$(tail -1 /tmp/$j.out)
    kib=$(echo "$line" | cut -d';' -f$1) bw=$(echo "$line" | cut -d';' -f$2)
    iops=$(echo "$line" | cut -d';' -f$3) lat=$(echo "$line" | cut -d';' -f$4)
    case $j in seq*) bs=1024;; *) bs=4;; esac
    echo "BENCH-FIO-RESULT $j ios=$((kib / bs)) kib=$kib bw_kib=$bw iops=$iops lat_us=$lat"
  else
    echo "BENCH-FIO-ERROR $j fio status $rc: $(tail -3 /tmp/$j.out | tr '\n' ' ')"
    status=1
  fi
  sleep 2
done
exit $status
