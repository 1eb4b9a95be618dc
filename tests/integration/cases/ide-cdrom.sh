# ide-cdrom: the Debian generic kernel (ata_piix, sr_mod, cdrom, isofs) on
# the ATAPI CD-ROM of the emulated PIIX3 IDE controller, with an ISO 9660
# image made by xorriso (ide-cdrom.prep). Boot 1 (DMA): an IDE disk as
# primary master and --cdrom, which takes the first free position, the
# primary slave: the two share a channel. Boot 2 (PIO, libata.dma=0): the
# CD-ROM alone, as primary master. Each boot reads the whole disc and
# compares its SHA256, mounts it and checks every file, sees a write
# refused, sends refused packets through SG_IO and checks their sense
# data, and ejects and reloads the tray; boot 1 also checks the disk.
. "$TESTS/lib.sh"
A=$ASSETS/ide-cdrom
GUEST_MODULES=ata_piix,sd_mod,sr_mod,cdrom,isofs,crc32c_generic,ext4
isosum=$(cat "$A/test.sha256")
cp "$ASSETS/blk/ext4.img" "$WORK/disk.img"
for mode in dma pio; do
  log=$WORK/$mode.log
  if [ $mode = dma ]; then
    GUEST_CMDLINE="minivmm.isosum=$isosum minivmm.disk=1"
    set -- --disk "$WORK/disk.img,format=raw,readonly=on,if=ide,serial=ide-disk" --cdrom "$A/test.iso"
    want_at="ata1 1"
  else
    GUEST_CMDLINE="minivmm.isosum=$isosum libata.dma=0"
    set -- --cdrom "$A/test.iso"
    want_at="ata1 0"
  fi
  boot_linux "$log" generic ide-cdrom "$@" --memory 512M --stats; rc=$?
  tr -d '\r' < "$log" | grep -a -E 'ata[0-9](\.[0-9]+)?: |sr[0-9]|^IDE-XFER|^CD-' > "$WORK/$mode.cd"
  tr -d '\r' < "$log" | sed -n '/^minivmm: piix-ide counters/,/interrupts/p' > "$WORK/$mode.stats"
  boot_ok ide-cdrom-$mode-boot "$log" $rc || continue
  expect_line "$log" "^CD-AT sr0 $want_at\$" && ok ide-cdrom-$mode-position ||
    { not_ok ide-cdrom-$mode-position "sr0 is not at $want_at"; grep -a '^CD-AT' "$WORK/$mode.cd" | sed 's/^/    /'; }
  expect_line "$log" '^CD-MODEL MINIVMM +CD-ROM' && ok ide-cdrom-$mode-inquiry ||
    not_ok ide-cdrom-$mode-inquiry "INQUIRY's vendor and model not seen in sysfs"
  expect_line "$log" "^CD-SIZE $(stat -c %s "$A/test.iso")\$" && ok ide-cdrom-$mode-capacity ||
    not_ok ide-cdrom-$mode-capacity "/dev/sr0's size is not the image's"
  expect_line "$log" '^CD-IMAGE-SHA256 OK' && ok ide-cdrom-$mode-image-sha256 ||
    { not_ok ide-cdrom-$mode-image-sha256 "reading /dev/sr0 whole gave other bytes"; show_tail "$log"; }
  expect_line "$log" '^CD-SHA256 OK' && expect_line "$log" '^CD-HELLO OK' && ok ide-cdrom-$mode-mount-checksums ||
    { not_ok ide-cdrom-$mode-mount-checksums "mounting /dev/sr0 or sha256sum -c failed"; show_tail "$log"; }
  expect_line "$log" '^CD-WRITE-REFUSED' && ok ide-cdrom-$mode-write-refused ||
    not_ok ide-cdrom-$mode-write-refused "a write to /dev/sr0 was accepted"
  # sense data through SG_IO: block past the end (and a wrapping range),
  # unknown opcode, unsupported field; then a good read
  expect_line "$log" '^CD-SENSE lba SENSE 5 21 00$' && expect_line "$log" '^CD-SENSE lba-wrap SENSE 5 21 00$' &&
    expect_line "$log" '^CD-SENSE opcode SENSE 5 20 00$' && expect_line "$log" '^CD-SENSE field SENSE 5 24 00$' &&
    expect_line "$log" '^CD-SENSE good GOOD' && ok ide-cdrom-$mode-sense ||
    { not_ok ide-cdrom-$mode-sense "refused packets did not get the right sense data"; grep -a '^CD-SENSE' "$WORK/$mode.cd" | sed 's/^/    /'; }
  # the tray (CDROM_DRIVE_STATUS: 4 disc ok, 2 tray open)
  expect_line "$log" '^CD-STATUS closed STATUS 4$' && expect_line "$log" '^CD-STATUS open STATUS 2$' &&
    expect_line "$log" '^CD-EJECTED' && expect_line "$log" '^CD-STATUS reloaded STATUS 4$' &&
    expect_line "$log" '^CD-RELOADED' && ok ide-cdrom-$mode-tray ||
    { not_ok ide-cdrom-$mode-tray "eject and close did not take the disc away and back"; grep -a '^CD-EJ\|^CD-RE\|^CD-STATUS' "$WORK/$mode.cd" | sed 's/^/    /'; }
  if [ $mode = dma ]; then
    expect_line "$log" '^IDE-XFER dev1\.1 XFER_MW_DMA_2' && ok ide-cdrom-dma-xfermode ||
      { not_ok ide-cdrom-dma-xfermode "the CD-ROM (dev1.1) is not in XFER_MW_DMA_2"; grep -a '^IDE-XFER' "$WORK/$mode.cd" | sed 's/^/    /'; }
    expect_line "$log" '^CD-DISK-AT sd[a-z] ata1 0$' && expect_line "$log" '^CD-DISK-SHA256 OK' &&
      ok ide-cdrom-dma-disk-beside || { not_ok ide-cdrom-dma-disk-beside "the IDE disk beside the CD-ROM is missing or its files differ"; show_tail "$log"; }
  else
    expect_line "$log" '^IDE-XFER dev1\.0 XFER_PIO_4' && ok ide-cdrom-pio-xfermode ||
      { not_ok ide-cdrom-pio-xfermode "the CD-ROM (dev1.0) is not in XFER_PIO_4"; grep -a '^IDE-XFER' "$WORK/$mode.cd" | sed 's/^/    /'; }
  fi
done
[ "$(sha256sum < "$A/test.iso" | cut -d' ' -f1)" = "$isosum" ] && ok ide-cdrom-image-untouched ||
  not_ok ide-cdrom-image-untouched "the ISO image changed"
mkdir -p "$OUT"
cp "$WORK"/*.cd "$WORK"/*.stats "$OUT/" 2>/dev/null
exit 0
