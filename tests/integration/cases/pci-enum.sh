# pci-enum: Linux enumerates minivmm's PCI bus (host bridge 1b36:0008, a virtio-blk and a
# virtio-rng device with their modern IDs and class codes), keeps the BARs pci_bus_add
# assigned, and gets interrupts: MSI-X without and with ACPI, INTx (pci=nomsi) with ACPI;
# finally the guest moves the rng's BAR and toggles decoding. (No virtio-net: it needs a
# tap, i.e. a network namespace; the guest script knows its IDs too.)
. "$TESTS/lib.sh"
GUEST_MODULES=virtio_pci,virtio_rng
truncate -s 1M "$WORK/pci-blk.img"
pci_boot() { # NAME CMDLINE-EXTRA EXPECTED-MODE
  _name=$1 _mode=$3
  GUEST_CMDLINE=$2
  boot_linux "$WORK/$_name.log" generic pci-enum --rng \
    --disk "$WORK/pci-blk.img,format=raw"; _rc=$?
  cp "$WORK/$_name.log" "$OUT/" 2>/dev/null
  boot_ok "$_name" "$WORK/$_name.log" $_rc
  if expect_line "$WORK/$_name.log" "PCI-HOSTBRIDGE 0x1b36 0x0008 0x060000" &&
     expect_line "$WORK/$_name.log" "PCI host bridge to bus 0000:00"; then
    ok "$_name-hostbridge"
  else
    not_ok "$_name-hostbridge" "host bridge not found"; show_tail "$WORK/$_name.log"
  fi
  # vendor 0x1af4, device 0x1040 + virtio type, class: exactly the two devices attached
  _ids=ok
  for _v in "0x1042 0x018000" "0x1044 0x00ff00"; do
    expect_line "$WORK/$_name.log" "PCI-VIRTIO [0-9a-f:.]+ 0x1af4 $_v\$" || _ids="no $_v"
  done
  [ "$(tr -d '\r' < "$WORK/$_name.log" | grep -c 'PCI-VIRTIO ')" = 2 ] || _ids="not 2 virtio functions"
  if [ "$_ids" = ok ]; then
    ok "$_name-virtio-ids"
  else
    not_ok "$_name-virtio-ids" "$_ids"
    tr -d '\r' < "$WORK/$_name.log" | grep -E 'PCI-(VIRTIO|DEV|FAIL)' | show_tail /dev/stdin 10
  fi
  if expect_line "$WORK/$_name.log" "PCI-MODE $_mode"; then
    ok "$_name-$_mode"
  else
    not_ok "$_name-$_mode" "interrupts not delivered by $_mode"
    tr -d '\r' < "$WORK/$_name.log" | grep -E 'PCI-|virtio' | show_tail /dev/stdin 20
  fi
  if expect_line "$WORK/$_name.log" "BAR .*(failed to assign|no space)|can't claim|no compatible bridge window"; then
    not_ok "$_name-bars" "BAR trouble in the log"
  else
    ok "$_name-bars"
  fi
}
pci_boot pci-enum-noacpi "acpi=off" msix
pci_boot pci-enum-acpi "" msix
pci_boot pci-enum-intx "pci=nomsi minivmm.pcimove=1" intx
# the BAR moved onto RAM: minivmm warns once and leaves it unmapped
if [ "$(tr -d '\r' < "$WORK/pci-enum-intx.log" | grep -c 'left unmapped: overlaps guest RAM')" = 1 ]; then
  ok pci-bar-warn-once
else
  not_ok pci-bar-warn-once "expected one 'left unmapped' warning"
fi
for s in MOVED DECODE HOSTILE; do
  if expect_line "$WORK/pci-enum-intx.log" "PCI-$s ok"; then ok "pci-bar-$s"
  else not_ok "pci-bar-$s" "$(tr -d '\r' < "$WORK/pci-enum-intx.log" | grep PCI-FAIL | head -1)"; fi
done
