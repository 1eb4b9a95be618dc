# qcow2-crash (guest): a write-heavy loop on two qcow2 disks that the KVM host kills
# (SIGKILL of minivmm) at a random moment; see cases/qcow2-crash.sh.
# Disks by serial: crash-a (standalone qcow2) and crash-b (clone over a backing file).
# Both are cut in 16 KiB slots: slots 0..3071 (48 MiB) hold verified batches, the rest
# (48..64 MiB) takes unverified noise.
# A batch (tag T, round R, sequence S) is 4 records of 4 KiB written with one O_DIRECT
# write to slot crash_slot(R, S), then flushed (fsync on the block device = virtio-blk
# FLUSH); only then the guest prints "CRASH-FLUSHED T R S". Meanwhile a noise loop per
# disk discards a MiB of the noise area and writes it again (16 O_DIRECT writes of
# 64 KiB, never flushed by itself): clusters are freed and allocated all the time, so
# the kill often lands in the middle of an allocation or a free.
# Kernel parameters: minivmm.round=R, minivmm.md5=1 (first print the md5 of both whole
# disks as minivmm reads them: "CRASH-MD5 T md5").
# The case script sources this file with CRASH_LIB=1 for the two functions only.

CRASH_SLOTS=3072
# crash_slot R S: sets CRASH_SLOT (1009 is prime to 3072, so one round never reuses
# a slot; different rounds overlap, which the case tracks)
crash_slot() { CRASH_SLOT=$(( ($2 * 1009 + $1 * 389) % CRASH_SLOTS )); }
# crash_batch T R S SLOT FILE: the 16 KiB of that batch into FILE. Record k is a
# 64-byte line naming (T, R, S, k, SLOT), repeated 64 times; builtins only (no fork).
crash_batch() {
  _b=
  for _k in 0 1 2 3; do
    _h="crash $1 r$((100 + $2)) s$((1000000 + $3)) k$_k slot$((10000 + $4)) "
    while [ ${#_h} -lt 63 ]; do _h="$_h."; done
    _h="$_h
"
    for _i in 1 2 3 4 5 6; do _h=$_h$_h; done
    _b=$_b$_h
  done
  printf '%s' "$_b" > "$5"
}
[ -n "${CRASH_LIB:-}" ] && return 0

R=${MINIVMM_ROUND:-1}
deva= devb=
for b in /sys/block/vd*; do
  case "$(cat $b/serial 2>/dev/null)" in
    crash-a) deva=/dev/${b##*/};;
    crash-b) devb=/dev/${b##*/};;
  esac
done
[ -b "$deva" ] && [ -b "$devb" ] || { echo "CRASH-NO-DISKS a=$deva b=$devb"; exit 1; }
echo none > /sys/block/${deva#/dev/}/queue/scheduler 2>/dev/null
echo none > /sys/block/${devb#/dev/}/queue/scheduler 2>/dev/null
echo "CRASH-DISKS a=$deva b=$devb cache=$(cat /sys/block/${deva#/dev/}/queue/write_cache) discard_max=$(cat /sys/block/${deva#/dev/}/queue/discard_max_bytes)"
if [ "${MINIVMM_MD5:-0}" = 1 ]; then
  echo "CRASH-MD5 a $(md5sum < $deva | cut -d' ' -f1)"
  echo "CRASH-MD5 b $(md5sum < $devb | cut -d' ' -f1)"
fi

writer() {
  _t=$1 _d=$2 S=0
  while :; do
    crash_slot $R $S
    crash_batch $_t $R $S $CRASH_SLOT /tmp/batch.$_t
    if ! dd if=/tmp/batch.$_t of=$_d bs=16384 seek=$CRASH_SLOT count=1 \
        oflag=direct conv=notrunc,fsync 2>/tmp/err.$_t; then
      echo "CRASH-WRITE-ERROR $_t $R $S: $(tail -1 /tmp/err.$_t)"; return 1
    fi
    echo "CRASH-FLUSHED $_t $R $S"
    S=$((S + 1))
  done
}
noise() {
  _i=0
  while :; do
    _m=$(( 48 + (_i * 5 + R * 3) % 16 ))   # a MiB of the noise area
    blkdiscard -o $((_m * 1048576)) -l 1048576 $1 2>/dev/null
    dd if=/tmp/noise of=$1 bs=65536 seek=$((_m * 16)) count=16 oflag=direct conv=notrunc 2>/dev/null
    _i=$((_i + 1))
  done
}
head -c 1048576 /dev/urandom > /tmp/noise
noise $deva & noise $devb &
writer a $deva & pa=$!
writer b $devb & pb=$!
echo "CRASH-WRITING $R"
wait $pa $pb
echo "CRASH-WRITERS-STOPPED"
exit 1
