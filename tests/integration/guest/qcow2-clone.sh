# qcow2-clone (guest): /dev/vda is a linked clone of a base image holding
# "BASE-MARKER" in sector 0 and 1 MiB of 'B' at 8 MiB.
# minivmm.mode=write: check the base data, write a marker at sector 100 and
# 4 MiB of random data at 16 MiB (read back after dropping caches).
# minivmm.mode=verify: the marker and the data are still there.
dev=/dev/vda
[ -b $dev ] || { echo "QCOW2-NO-DISK"; exit 1; }
m=$(dd if=$dev bs=512 count=1 2>/dev/null | head -c 11)
[ "$m" = "BASE-MARKER" ] && echo BASE-MARKER-OK || { echo "BASE-MARKER-BAD '$m'"; exit 1; }
b=$(dd if=$dev bs=1M skip=8 count=1 2>/dev/null | tr -d 'B' | wc -c)
[ "$b" = 0 ] || { echo "BASE-DATA-BAD $b"; exit 1; }
if [ "${MINIVMM_MODE:-write}" = write ]; then
  printf 'CLONE-WRITE-12345' | dd of=$dev bs=512 seek=100 conv=notrunc,fsync 2>/dev/null || exit 1
  dd if=/dev/urandom of=/tmp/r bs=1M count=4 2>/dev/null
  dd if=/tmp/r of=$dev bs=1M seek=16 conv=notrunc,fsync 2>/dev/null || exit 1
  sync
  echo 3 > /proc/sys/vm/drop_caches
fi
s=$(dd if=$dev bs=512 skip=100 count=1 2>/dev/null | head -c 17)
[ "$s" = "CLONE-WRITE-12345" ] || { echo "CLONE-MARKER-BAD '$s'"; exit 1; }
echo "PATTERN-MD5 $(dd if=$dev bs=1M skip=16 count=4 2>/dev/null | md5sum | cut -d' ' -f1)"
if [ "${MINIVMM_MODE:-write}" = write ]; then
  [ "$(md5sum < /tmp/r | cut -d' ' -f1)" = "$(dd if=$dev bs=1M skip=16 count=4 2>/dev/null | md5sum | cut -d' ' -f1)" ] || { echo "READBACK-BAD"; exit 1; }
fi
exit 0
