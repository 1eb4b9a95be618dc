# guest side of blk-rng
echo "RNG-CURRENT $(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
dd if=/dev/hwrng of=/tmp/r bs=512 count=8 2>/dev/null
n=$(wc -c < /tmp/r)
# random data: many distinct byte values, and two reads differ
d=$(od -An -v -tu1 /tmp/r | tr -s ' ' '\n' | sort -u | wc -l)
dd if=/dev/hwrng of=/tmp/r2 bs=512 count=1 2>/dev/null
v=distinct-bad
[ "$d" -gt 200 ] && ! head -c 512 /tmp/r | cmp -s - /tmp/r2 && v=distinct-ok
echo "RNG-BYTES $n $v"
exit 0
