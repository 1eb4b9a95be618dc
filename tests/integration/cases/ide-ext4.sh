# ide-ext4: the Debian guest (ata_piix + sd_mod) on the emulated PIIX3 IDE
# controller: a raw image (primary master), a qcow2 linked clone of the
# same filesystem (primary slave) and, in boot 1 only, a read-only raw
# image (secondary master, with no slave; in boot 2 the secondary channel
# is empty). Boot 1 with DMA, boot 2 in PIO mode (libata.dma=0): each
# checks every file's sha256, writes a file per read-write disk and reads
# it back after dropping the caches; boot 2 also finds boot 1's files; a
# write to the read-only disk is refused. ide-ext4.post reads the files
# back from the images on the build host.
. "$TESTS/lib.sh"
A=$ASSETS/ide
GUEST_MODULES=ata_piix,sd_mod,crc32c_generic,ext4
cp "$ASSETS/blk/ext4.img" "$WORK/raw.img"
cp "$ASSETS/blk/ext4.img" "$WORK/ro.img"
cp "$A/base.qcow2" "$WORK/base.qcow2"
if ! "$MINIVMM" img create -b base.qcow2 -F qcow2 "$WORK/clone.qcow2" > "$WORK/create.log" 2>&1; then
  not_ok ide-ext4-clone "minivmm img create failed: $(head -2 "$WORK/create.log")"
  exit 0
fi
for mode in dma pio; do
  log=$WORK/$mode.log
  DISKS="--disk $WORK/raw.img,format=raw,if=ide,serial=ide-raw
         --disk $WORK/clone.qcow2,format=qcow2,if=ide,serial=ide-clone"
  GUEST_CMDLINE="minivmm.mode=$mode"
  if [ $mode = pio ]; then
    GUEST_CMDLINE="$GUEST_CMDLINE libata.dma=0"
    roles="raw clone"
  else
    DISKS="$DISKS --disk $WORK/ro.img,format=raw,readonly=on,if=ide,serial=ide-ro"
    roles="raw clone ro"
  fi
  # shellcheck disable=SC2086
  boot_linux "$log" cloud ide-ext4 $DISKS --memory 512M --stats; rc=$?
  tr -d '\r' < "$log" | grep -a -E 'ata[0-9](\.[0-9]+)?: |^IDE-(XFER|AT|NO)' > "$WORK/$mode.ata"
  # minivmm's exit counters and the controller's, for the record
  tr -d '\r' < "$log" | sed -n '/^minivmm: statistics/,$p' > "$WORK/$mode.stats"
  boot_ok ide-ext4-$mode-boot "$log" $rc || continue
  # libata's transport class says which mode it set up on ata1.00
  want=XFER_MW_DMA_2; [ $mode = pio ] && want=XFER_PIO_4
  expect_line "$log" "^IDE-XFER dev1\.0 $want" && ok ide-ext4-$mode-xfermode ||
    { not_ok ide-ext4-$mode-xfermode "dev1.0 is not in $want"; grep -a '^IDE-XFER' "$WORK/$mode.ata" | sed 's/^/    /'; }
  # the disks in the order given: primary master, primary slave, secondary master
  expect_line "$log" '^IDE-AT raw sd[a-z] ata1 0$' &&
    expect_line "$log" '^IDE-AT clone sd[a-z] ata1 1$' &&
    { [ $mode = pio ] || expect_line "$log" '^IDE-AT ro sd[a-z] ata2 0$'; } &&
    ok ide-ext4-$mode-positions ||
    { not_ok ide-ext4-$mode-positions "disks not where the command line put them"; grep -a '^IDE-AT' "$WORK/$mode.ata" | sed 's/^/    /'; }
  for r in $roles; do
    expect_line "$log" "^IDE-SHA256 $r OK" && ok ide-ext4-$mode-$r-checksums ||
      { not_ok ide-ext4-$mode-$r-checksums "sha256sum -c failed on the $r disk"; show_tail "$log"; }
  done
  for r in raw clone; do
    expect_line "$log" "^IDE-WRITE $r OK" && ok ide-ext4-$mode-$r-write ||
      not_ok ide-ext4-$mode-$r-write "writing or reading back failed on the $r disk"
  done
  if [ $mode = pio ]; then
    for r in raw clone; do
      expect_line "$log" "^IDE-PREV $r OK" && ok ide-ext4-pio-$r-sees-dma-file ||
        not_ok ide-ext4-pio-$r-sees-dma-file "the file boot 1 wrote is missing or different"
    done
    expect_line "$log" '^IDE-NO-THIRD-DISK' && ok ide-ext4-pio-empty-channel ||
      not_ok ide-ext4-pio-empty-channel "a disk appeared on the empty secondary channel"
  else
    expect_line "$log" '^IDE-RO-WRITE-REFUSED' && ok ide-ext4-dma-readonly ||
      not_ok ide-ext4-dma-readonly "a write to the read-only disk was not refused"
  fi
done
# the dmesg lines of libata, kept for the report
mkdir -p "$OUT"
cp "$WORK"/*.ata "$WORK"/*.stats "$OUT/" 2>/dev/null
if qemu-img check "$WORK/clone.qcow2" > "$WORK/check.log" 2>&1; then
  ok ide-ext4-qcow2-check-clean
else
  not_ok ide-ext4-qcow2-check-clean "$(head -3 "$WORK/check.log" | tr '\n' ' ')"
fi
[ "$(md5sum < "$WORK/base.qcow2" | cut -d' ' -f1)" = "$(cat "$A/base.md5")" ] &&
  ok ide-ext4-base-untouched || not_ok ide-ext4-base-untouched "base.qcow2 changed"
cmp -s "$WORK/ro.img" "$ASSETS/blk/ext4.img" && ok ide-ext4-ro-untouched ||
  not_ok ide-ext4-ro-untouched "the read-only image changed"
cp "$WORK/raw.img" "$OUT/raw.img"
qemu-img convert -f qcow2 -O raw "$WORK/clone.qcow2" "$OUT/clone.img"
