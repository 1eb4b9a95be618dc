# fw-disk-boot-ide: the disk that boots by itself (fw-disk-boot.inc) as a raw IDE disk, twice.
. "$TESTS/cases/fw-disk-boot.inc"
fw_disk_boot ide
