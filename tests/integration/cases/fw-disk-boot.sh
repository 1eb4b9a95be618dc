# fw-disk-boot: minivmm run --firmware seabios --disk DISK, with no kernel on
# the command line: SeaBIOS (Debian's) reads fw_cfg, boots the disk's MBR,
# GRUB loads the kernel and initramfs from the disk's ext4 partition, the
# guest writes a file on that partition; a second boot finds it. As a raw
# virtio-blk disk, as a qcow2 linked clone (virtio-blk), and as an IDE disk.
# The time of each boot, from minivmm's start to the guest's exit, is
# printed (FWBOOT-TIME).
. "$TESTS/lib.sh"
A=$ASSETS/fw
cp "$A/disk.img" "$WORK/raw.img"
cp "$A/disk.img" "$WORK/ide.img"
cp "$A/base.qcow2" "$WORK/base.qcow2"
if ! "$MINIVMM" img create -b base.qcow2 -F qcow2 "$WORK/clone.qcow2" > "$WORK/create.log" 2>&1; then
  not_ok fw-disk-boot-clone "minivmm img create failed: $(head -2 "$WORK/create.log")"
fi
for v in raw qcow2 ide; do
  case $v in
    raw) disk="$WORK/raw.img,format=raw" ;;
    qcow2) disk="$WORK/clone.qcow2,format=qcow2" ;;
    ide) disk="$WORK/ide.img,format=raw,if=ide" ;;
  esac
  for n in 1 2; do
    log=$WORK/$v-$n.log
    t0=$(date +%s)
    run_vmm "$log" --firmware seabios --disk "$disk" --memory 512M --debugcon "$WORK/$v-$n.debugcon"
    rc=$?
    echo "FWBOOT-TIME $v boot $n: $(( $(date +%s) - t0 )) s"
    cp "$log" "$WORK/$v-$n.debugcon" "$OUT/" 2>/dev/null
    if [ $rc != 0 ] || ! expect_line "$log" 'MINIVMM-GUEST-EXIT 0'; then
      not_ok fw-disk-boot-$v-$n "status $rc, no clean guest exit"; show_tail "$log" 25
      continue
    fi
    ok fw-disk-boot-$v-$n
    if [ $n = 1 ]; then
      expect_line "$log" 'SeaBIOS \(version' && expect_line "$log" 'GRUB: loading /boot/vmlinuz' &&
        ok fw-disk-boot-$v-console ||
        { not_ok fw-disk-boot-$v-console "SeaBIOS's or GRUB's lines missing on COM1"; show_tail "$log"; }
      grep -q 'Found QEMU fw_cfg' "$WORK/$v-1.debugcon" && grep -q 'QEMU fw_cfg DMA interface supported' "$WORK/$v-1.debugcon" &&
        ok fw-disk-boot-$v-fwcfg || not_ok fw-disk-boot-$v-fwcfg "SeaBIOS did not find fw_cfg with DMA (debugcon)"
      expect_line "$log" 'FWBOOT-FILES OK' && ok fw-disk-boot-$v-files ||
        not_ok fw-disk-boot-$v-files "the guest did not find /boot on its disk"
    fi
    expect_line "$log" "FWBOOT-COUNT $n" && ok fw-disk-boot-$v-persist-$n ||
      { not_ok fw-disk-boot-$v-persist-$n "expected FWBOOT-COUNT $n"; grep -a FWBOOT "$log" | sed 's/^/    /'; }
  done
done
