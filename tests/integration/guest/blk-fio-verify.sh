# guest side of blk-fio-verify: write 256 MiB and verify it, then random 4 KiB
# writes with verification. Prints BLK-VERIFY-SEQ/RAND OK and the rates. With 2
# vCPUs or more the random phase is 2 fio jobs, each on its own vCPU (so on its own
# virtio-blk queue) and its own 32 MiB, in flight at once.
dev=/dev/vda
jobs=1; [ "$(grep -c ^processor /proc/cpuinfo)" -ge 2 ] && jobs=2
split="--numjobs=$jobs --size=$((64 / jobs))M --offset_increment=$((64 / jobs))M --group_reporting"
[ $jobs -gt 1 ] && split="$split --cpus_allowed=0-$((jobs - 1)) --cpus_allowed_policy=split"
echo "BLK-VERIFY-JOBS $jobs"
if command -v fio >/dev/null 2>&1; then
  echo "BLK-VERIFY-TOOL fio"
  if fio --name=seq --filename=$dev --rw=write --bs=1M --size=256M --direct=1 \
      --ioengine=psync --verify=crc32c --do_verify=1 --verify_fatal=1 \
      --output-format=terse --terse-version=3 > /tmp/seq.out 2>&1; then
    # terse v3: field 7 = read bandwidth KiB/s, field 48 = write bandwidth KiB/s
    echo "BLK-VERIFY-SEQ OK write $(cut -d';' -f48 /tmp/seq.out) KiB/s verify-read $(cut -d';' -f7 /tmp/seq.out) KiB/s"
  else tail -5 /tmp/seq.out; fi
  if fio --name=rand --filename=$dev --rw=randwrite --bs=4k $split --direct=1 \
      --ioengine=libaio --iodepth=8 --verify=crc32c --do_verify=1 --verify_fatal=1 \
      --randrepeat=1 --output-format=terse --terse-version=3 > /tmp/rand.out 2>&1 ||
     fio --name=rand --filename=$dev --rw=randwrite --bs=4k $split --direct=1 \
      --ioengine=psync --verify=crc32c --do_verify=1 --verify_fatal=1 \
      --randrepeat=1 --output-format=terse --terse-version=3 > /tmp/rand.out 2>&1; then
    echo "BLK-VERIFY-RAND OK write $(cut -d';' -f49 /tmp/rand.out) IOPS"
  else tail -5 /tmp/rand.out; fi
else
  echo "BLK-VERIFY-TOOL dd"
  ok=1
  for i in 0 1 2 3 4 5 6 7; do   # 8 x 32 MiB = 256 MiB
    dd if=/dev/urandom of=/tmp/chunk bs=1M count=32 2>/dev/null
    a=$(sha256sum < /tmp/chunk)
    dd if=/tmp/chunk of=$dev bs=1M seek=$((i * 32)) oflag=direct conv=fsync 2>/dev/null || ok=0
    echo 3 > /proc/sys/vm/drop_caches
    b=$(dd if=$dev bs=1M skip=$((i * 32)) count=32 iflag=direct 2>/dev/null | sha256sum)
    [ "$a" = "$b" ] || { echo "chunk $i differs"; ok=0; }
  done
  rm -f /tmp/chunk
  [ $ok = 1 ] && echo "BLK-VERIFY-SEQ OK"
  ok=1
  for i in $(seq 1 200); do
    s=$(( (i * 7919) % 16384 ))
    printf 'block %08d %0*d' $i 4076 0 > /tmp/blk
    dd if=/tmp/blk of=$dev bs=4096 seek=$s oflag=direct conv=notrunc 2>/dev/null || ok=0
    [ "$(dd if=$dev bs=4096 skip=$s count=1 iflag=direct 2>/dev/null | head -c 14)" = "block $(printf %08d $i)" ] || ok=0
  done
  [ $ok = 1 ] && echo "BLK-VERIFY-RAND OK"
fi
exit 0
