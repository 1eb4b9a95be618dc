#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_hostile_native.sh MINIVMM VIRTIO-HOSTILE - guests/tiny/virtio-hostile.S on THIS
# machine's /dev/kvm: 10000 cycles of reset, a broken queue, DEVICE_NEEDS_RESET against a
# virtio-blk disk. minivmm must keep answering (every reset reads back 0, every broken queue
# gets DEVICE_NEEDS_RESET), end with status 0 at the guest's power-off, and print at most
# the device's warning budget (32 lines and one "further warnings suppressed") on stderr.
# Exits 77 (skip) without a usable /dev/kvm, or 1 then if CI=true; 1 if a check failed.
set -u
MINIVMM=$1 GUEST=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
truncate -s 1M "$T/disk.img"
start=$(date +%s)
timeout 300 "$MINIVMM" run --kernel "$GUEST" --disk "$T/disk.img,format=raw" \
	</dev/null >"$T/out" 2>"$T/err"; rc=$?
if [ $rc != 0 ] && grep -q '/dev/kvm' "$T/err"; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - CI=true but no usable /dev/kvm: $(head -1 "$T/err")"; exit 1
	fi
	echo "1..0 # SKIP no usable /dev/kvm: $(head -1 "$T/err")"; exit 77
fi
fail=0
lines=$(wc -l < "$T/err")
echo "1..3"
if [ $rc = 0 ]; then echo "ok 1 - minivmm exits 0 ($(( $(date +%s) - start )) s)"
else echo "not ok 1 - minivmm exit status $rc"; fail=1; fi
if grep -q '^virtio-hostile: 0x2710 cycles ok' "$T/out"; then
	echo "ok 2 - 10000 cycles: every reset read 0, every broken queue NEEDS_RESET"
else
	echo "not ok 2 - the guest says: $(tr -d '\r' < "$T/out" | grep virtio-hostile | head -1)"
	fail=1
fi
if [ "$lines" -le 40 ] && grep -q 'further warnings suppressed' "$T/err"; then
	echo "ok 3 - $lines lines on stderr"
else
	echo "not ok 3 - $lines lines on stderr (at most 40, with the suppressed line)"
	head -5 "$T/err"; fail=1
fi
exit $fail
