# arm64-blk: Debian's arm64 kernel reads and writes a virtio-blk disk (virtio-pci on the
# ECAM host, MSI-X through the ITS): a raw image, then a linked qcow2 clone made with
# `minivmm img create -b`. The guest (guest/qcow2-clone.sh) checks the base's data and
# writes a marker and 4 MiB it reads back; here the raw image must hold the marker, and
# arm64-blk.post checks the clone with qemu-img on the build host.
. "$TESTS/lib.sh"
A=$ASSETS/qcow2-clone
cp "$A/base.raw" "$WORK/disk.raw"
GUEST_CMDLINE="minivmm.mode=write"
boot_linux "$WORK/raw.log" arm64 qcow2-clone --memory 512M --disk "$WORK/disk.raw,format=raw"; rc=$?
cp "$WORK/raw.log" "$OUT/"
boot_ok arm64-blk-raw "$WORK/raw.log" $rc
s=$(dd if="$WORK/disk.raw" bs=512 skip=100 count=1 2>/dev/null | head -c 17)
[ "$s" = "CLONE-WRITE-12345" ] && ok arm64-blk-raw-host-sees-write ||
  not_ok arm64-blk-raw-host-sees-write "sector 100 of the raw image holds '$s'"
cp "$A/base.qcow2" "$WORK/base.qcow2"
if ! "$MINIVMM" img create -b base.qcow2 -F qcow2 "$WORK/clone.qcow2" > "$WORK/create.log" 2>&1; then
  not_ok arm64-blk-clone "minivmm img create failed: $(head -2 "$WORK/create.log")"
  exit 0
fi
boot_linux "$WORK/clone.log" arm64 qcow2-clone --memory 512M --disk "$WORK/clone.qcow2,format=qcow2"; rc=$?
cp "$WORK/clone.log" "$OUT/"
boot_ok arm64-blk-clone "$WORK/clone.log" $rc
cp "$WORK/base.qcow2" "$WORK/clone.qcow2" "$OUT/"
