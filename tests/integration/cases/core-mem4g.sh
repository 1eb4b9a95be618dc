# core-mem4g: with --memory 4G the guest's MemTotal is between 3.75 GiB and 4 GiB (the
# kernel keeps some for itself; RAM beyond the PCI hole below 4 GiB must not be lost).
. "$TESTS/lib.sh"
boot_linux "$WORK/boot.log" cloud core-meminfo --memory 4G; rc=$?
cp "$WORK/boot.log" "$OUT/"
if boot_ok core-mem4g-boot "$WORK/boot.log" $rc; then
  kb=$(tr -d '\r' < "$WORK/boot.log" | sed -n 's/^GUEST-MEMTOTAL-KB \([0-9]*\).*/\1/p' | tail -1)
  if [ -n "$kb" ] && [ "$kb" -ge 3932160 ] && [ "$kb" -le 4194304 ]; then
    ok core-mem4g-memtotal "MemTotal $kb kB"
  else
    not_ok core-mem4g-memtotal "MemTotal ${kb:-?} kB, want 3932160..4194304"
  fi
else
  not_ok core-mem4g-memtotal "the guest did not boot"
fi
