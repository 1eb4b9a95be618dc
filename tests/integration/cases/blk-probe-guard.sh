# blk-probe-guard: no image reaches a host file it was not given.
# (b) A qcow2 image naming a host file by absolute path, a ".." escape or a
#     symlink as its backing file: minivmm refuses to start, naming the file.
# (a) A raw disk given with no format= (detected raw) under
#     --on-reboot=restart: the guest copies a qcow2 image naming the host file
#     over its sector 0 (guest/blk-probe-guard.sh). The write is refused with
#     an I/O error and one warning, ordinary data in sector 0 is accepted;
#     after the restart (which reopens the disk) the disk is still raw and the
#     guest reads nothing of the host file. One boot, restarted once.
. "$TESTS/lib.sh"
secret="HOST-SECRET-$$-$(date +%s)"
mkdir -p "$WORK/vm" "$WORK/host"
printf '%s\n' "$secret" > "$WORK/host/secret"
KARGS="--kernel $ASSETS/cloud/vmlinuz --initrd $ASSETS/cloud/initramfs.cpio.gz"

# (b) no guest: each crafted image is refused before KVM is touched
qemu-img create -q -f qcow2 -o cluster_size=4096 -b "$WORK/host/secret" -F raw "$WORK/vm/abs.qcow2" 1M
qemu-img create -q -f qcow2 -o cluster_size=4096 -b ../host/secret -F raw "$WORK/vm/dotdot.qcow2" 1M
ln -s ../host/secret "$WORK/vm/link.raw"
qemu-img create -q -f qcow2 -o cluster_size=4096 -b link.raw -F raw "$WORK/vm/link.qcow2" 1M
for k in abs dotdot link; do
  # (bounded: a minivmm that accepted the image would boot the guest)
  with_timeout 60 "$MINIVMM" run $KARGS --disk "$WORK/vm/$k.qcow2,format=qcow2" > "$WORK/$k.log" 2>&1; rc=$?
  if [ $rc = 1 ] && grep -q "$k.qcow2: backing file .*outside the allowed directories" "$WORK/$k.log" &&
     [ "$(wc -l < "$WORK/$k.log")" = 1 ]; then
    ok blk-probe-guard-refuse-$k "$(cat "$WORK/$k.log")"
  else
    not_ok blk-probe-guard-refuse-$k "exit $rc: $(head -3 "$WORK/$k.log" | tr '\n' ' ')"
  fi
done

# (a) the guest-written header on a detected raw disk
disk=$WORK/vm/guard.raw
dd if=/dev/zero of="$disk" bs=1M count=4 2>/dev/null
dd if="$WORK/vm/abs.qcow2" of="$disk" bs=4096 seek=256 conv=notrunc 2>/dev/null
log=$WORK/guard.log
boot_linux "$log" cloud blk-probe-guard --disk "$disk" --on-reboot=restart; rc=$?
cp "$log" "$OUT/" 2>/dev/null
ready=$(tr -d '\r' < "$log" | grep -c 'MINIVMM-GUEST-READY')
if [ $rc = 0 ] && [ "$ready" = 2 ] && expect_line "$log" '^GUARD-BOOT2-SECTOR0 ' &&
   ! expect_line "$log" 'GUARD-(UNEXPECTED|MARK-FAILED|STILL-RUNNING|NO-DISK)'; then
  ok blk-probe-guard-restart "two boots, exit 0"
else
  not_ok blk-probe-guard-restart "exit $rc, $ready boots"; show_tail "$log" 20
fi
expect_line "$log" '^GUARD-PLAIN-OK' && ok blk-probe-guard-plain-write ||
  not_ok blk-probe-guard-plain-write "ordinary data in sector 0 was not written"
if expect_line "$log" '^GUARD-WRITE-REFUSED' && expect_line "$log" 'guard.raw: the guest wrote a qcow2 header to sector 0 .* refused'; then
  ok blk-probe-guard-header-refused "$(tr -d '\r' < "$log" | grep -m1 'the guest wrote a qcow2 header')"
else
  not_ok blk-probe-guard-header-refused "the write was not refused (or no warning)"; show_tail "$log" 20
fi
n=$(tr -d '\r' < "$log" | grep -c 'the guest wrote a qcow2 header')
[ "$n" = 1 ] && ok blk-probe-guard-one-warning || not_ok blk-probe-guard-one-warning "$n warning lines"
if ! grep -q "$secret" "$log" && ! expect_line "$log" '^GUARD-SECRET-SEEN' &&
   [ "$(tr -d '\r' < "$log" | grep -c '^GUARD-SECRET-NOT-SEEN')" = 2 ]; then
  ok blk-probe-guard-no-host-data "the guest read nothing of the host file in either boot"
else
  not_ok blk-probe-guard-no-host-data "the host file's text reached the guest"; show_tail "$log" 20
fi
m=$(head -c 4 "$disk" | od -A n -t x1 | tr -d ' \n')
f=$("$MINIVMM" img info "$disk" 2>/dev/null | sed -n 's/^file format: //p')
[ "$m" != 514649fb ] && [ "$f" = raw ] && ok blk-probe-guard-still-raw "sector 0 starts $m, img info: $f" ||
  not_ok blk-probe-guard-still-raw "sector 0 starts $m, img info: $f"
