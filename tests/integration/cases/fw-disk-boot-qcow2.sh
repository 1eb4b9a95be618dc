# fw-disk-boot-qcow2: the disk that boots by itself (fw-disk-boot.inc) as a qcow2 linked clone on virtio-blk, twice.
. "$TESTS/cases/fw-disk-boot.inc"
fw_disk_boot qcow2
