# fw-disk-boot-raw: the disk that boots by itself (fw-disk-boot.inc) as a raw virtio-blk disk, twice.
. "$TESTS/cases/fw-disk-boot.inc"
fw_disk_boot raw
