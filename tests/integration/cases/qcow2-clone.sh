# qcow2-clone: a linked clone made with `minivmm img create -b base.qcow2`
# is the guest's disk: the guest sees the base's data, its writes land in
# the clone only (the base's bytes are unchanged), they persist across a
# second boot, and qemu-img check finds the clone clean afterwards.
. "$TESTS/lib.sh"
A=$ASSETS/qcow2-clone
cp "$A/base.qcow2" "$WORK/base.qcow2"
if ! "$MINIVMM" img create -b base.qcow2 -F qcow2 "$WORK/clone.qcow2" > "$WORK/create.log" 2>&1; then
  not_ok qcow2-clone-create "minivmm img create failed: $(head -2 "$WORK/create.log")"
  exit 0
fi
ok qcow2-clone-create
GUEST_CMDLINE="minivmm.mode=write"
boot_linux "$WORK/boot1.log" cloud qcow2-clone --disk "$WORK/clone.qcow2,format=qcow2"; rc=$?
boot_ok qcow2-clone-write "$WORK/boot1.log" $rc &&
  { expect_line "$WORK/boot1.log" '^BASE-MARKER-OK' && ok qcow2-clone-sees-base || not_ok qcow2-clone-sees-base "no BASE-MARKER-OK"; }
GUEST_CMDLINE="minivmm.mode=verify"
boot_linux "$WORK/boot2.log" cloud qcow2-clone --disk "$WORK/clone.qcow2,format=qcow2"; rc=$?
boot_ok qcow2-clone-persist "$WORK/boot2.log" $rc
m1=$(tr -d '\r' < "$WORK/boot1.log" | sed -n 's/^PATTERN-MD5 //p')
m2=$(tr -d '\r' < "$WORK/boot2.log" | sed -n 's/^PATTERN-MD5 //p')
[ -n "$m1" ] && [ "$m1" = "$m2" ] && ok qcow2-clone-data-persists || not_ok qcow2-clone-data-persists "md5 '$m1' vs '$m2'"
if qemu-img check "$WORK/clone.qcow2" > "$WORK/check.log" 2>&1; then
  ok qcow2-clone-check-clean
else
  not_ok qcow2-clone-check-clean "$(head -3 "$WORK/check.log" | tr '\n' ' ')"
fi
[ "$(md5sum < "$WORK/base.qcow2" | cut -d' ' -f1)" = "$(cat "$A/base.md5")" ] &&
  ok qcow2-clone-base-untouched || not_ok qcow2-clone-base-untouched "base.qcow2 changed"
# the written data is in the clone, not in the base
qemu-img convert -O raw "$WORK/clone.qcow2" "$WORK/clone.raw" 2>/dev/null
s=$(dd if="$WORK/clone.raw" bs=512 skip=100 count=1 2>/dev/null | head -c 17)
[ "$s" = "CLONE-WRITE-12345" ] && ok qcow2-clone-write-in-clone || not_ok qcow2-clone-write-in-clone "sector 100 holds '$s'"
rm -f "$WORK/clone.raw"
