# pci-enum: what Linux made of minivmm's PCI bus (run with --rng and a --disk). Prints
# PCI-* facts for the case script and exits non-zero on the first thing that is wrong.
# minivmm.pcimove=1: afterwards move the virtio device's BAR0 around through sysfs config
# writes (driver unbound) and check with devmem where the device answers.
fail() { echo "PCI-FAIL $*"; exit 1; }
hb=/sys/bus/pci/devices/0000:00:00.0
[ -d $hb ] || fail "no 00:00.0"
echo "PCI-HOSTBRIDGE $(cat $hb/vendor) $(cat $hb/device) $(cat $hb/class)"
# the class code that goes with each modern virtio device ID (VIRTIO 4.1.2: 0x1040 + the
# device type, net 1, blk 2, rng 4); nothing else may carry vendor 0x1af4
virtio_class() {
  case $1 in
    0x1041) echo 0x020000;;  # network controller, Ethernet
    0x1042) echo 0x018000;;  # mass storage controller, other
    0x1044) echo 0x00ff00;;  # unclassified, as QEMU's virtio-rng
  esac
}
rng=
for d in /sys/bus/pci/devices/*; do
  n=${d##*/}
  echo "PCI-DEV $n $(cat $d/vendor) $(cat $d/device) $(cat $d/class) irq=$(cat $d/irq)"
  # every memory BAR inside the 32-bit window, as pci_bus_add assigned it
  i=0
  while read start end flags; do
    if [ $i -lt 6 ] && [ $((flags & 0x200)) != 0 ]; then
      echo "PCI-BAR $n $i $start-$end"
      [ $((start)) -ge $((0xc0000000)) ] && [ $((end)) -lt $((0xfc000000)) ] ||
        fail "$n BAR$i $start outside the PCI window"
    fi
    i=$((i + 1))
  done < $d/resource
  if [ "$(cat $d/vendor)" = 0x1af4 ]; then
    id=$(cat $d/device) cls=$(cat $d/class) want=$(virtio_class $(cat $d/device))
    [ -n "$want" ] || fail "$n: device ID $id is not a modern virtio net/blk/rng ID"
    [ "$cls" = "$want" ] || fail "$n: device $id has class $cls, expected $want"
    [ $(($(cat $d/revision))) -ge 1 ] || fail "$n: revision $(cat $d/revision), modern needs >= 1"
    echo "PCI-VIRTIO $n $(cat $d/vendor) $id $cls"
    [ "$id" = 0x1044 ] && rng=$d
  fi
done
[ -n "$rng" ] || fail "no virtio-rng device"
[ -L $rng/driver ] || fail "virtio device has no driver"
echo "PCI-DRIVER $(basename "$(readlink $rng/driver)")"
[ -e /dev/hwrng ] || fail "no /dev/hwrng"
dd if=/dev/hwrng of=/tmp/rnd bs=64 count=2 2>/dev/null
[ "$(wc -c < /tmp/rnd)" -eq 128 ] || fail "hwrng gave $(wc -c < /tmp/rnd) bytes"
grep virtio /proc/interrupts | sed 's/^/PCI-IRQ /'
if grep -q 'PCI-MSI.*virtio.*-input' /proc/interrupts; then
  echo "PCI-MODE msix"
elif grep -q 'IO-APIC.*virtio' /proc/interrupts; then
  echo "PCI-MODE intx"
else
  fail "no virtio interrupt line in /proc/interrupts"
fi

[ "$MINIVMM_PCIMOVE" = 1 ] || exit 0
n=${rng##*/}
cfg32() { od -A n -t x4 -j $1 -N 4 $rng/config | tr -d ' '; }
# a mapped virtio BAR reads its common config (never all ones), an unmapped one 0xFFFFFFFF
rd() { devmem $1 32; }
old=$(sed -n 1p $rng/resource | cut -d' ' -f1)
echo "PCI-MOVE from $old cmd $(cfg32 4)"
echo $n > $rng/driver/unbind
[ "$(rd $old)" != 0xFFFFFFFF ] || fail "BAR not mapped at $old"
# BAR0 low dword := 0xc0100000 (64-bit BAR, upper dword stays 0), decode on
printf '\000\000\020\300' | dd of=$rng/config bs=4 seek=4 conv=notrunc 2>/dev/null
[ "$(cfg32 16)" = c010000c ] || [ "$(cfg32 16)" = c0100004 ] || fail "BAR0 reads $(cfg32 16)"
[ "$(rd $old)" = 0xFFFFFFFF ] || fail "old address still decodes"
[ "$(rd 0xc0100000)" != 0xFFFFFFFF ] || fail "new address does not decode"
echo "PCI-MOVED ok"
printf '\000\000' | dd of=$rng/config bs=2 seek=2 conv=notrunc 2>/dev/null  # command := 0
[ "$(rd 0xc0100000)" = 0xFFFFFFFF ] || fail "decode off but still mapped"
printf '\002\000' | dd of=$rng/config bs=2 seek=2 conv=notrunc 2>/dev/null  # MEM on
[ "$(rd 0xc0100000)" != 0xFFFFFFFF ] || fail "decode on but not mapped"
echo "PCI-DECODE ok"
printf '\000\000\020\000' | dd of=$rng/config bs=4 seek=4 conv=notrunc 2>/dev/null  # onto RAM
[ "$(rd 0xc0100000)" = 0xFFFFFFFF ] || fail "still mapped after moving onto RAM"
printf '\000\000\020\300' | dd of=$rng/config bs=4 seek=4 conv=notrunc 2>/dev/null
[ "$(rd 0xc0100000)" != 0xFFFFFFFF ] || fail "not mapped again after RAM"
echo "PCI-HOSTILE ok"
exit 0
