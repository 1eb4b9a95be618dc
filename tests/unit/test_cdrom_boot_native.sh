#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cdrom_boot_native.sh MINIVMM ELTORITO.S - SeaBIOS boots an El Torito CD from the
# ATAPI CD-ROM (--firmware seabios --boot cdrom --cdrom) on THIS machine's /dev/kvm
# (real-mode firmware runs on PVM's too): the boot image (eltorito.S, assembled here)
# is read through IDENTIFY PACKET DEVICE, TEST UNIT READY and READ(10) in PIO, says
# ELTORITO-OK on COM1 and resets. Once with the CD-ROM alone (primary master), once
# behind an IDE disk (primary slave: the two share a channel). Exits 77 (skip) without
# a usable /dev/kvm, SeaBIOS, xorriso or binutils, or 1 then if CI=true; 1 if a check failed.
set -u
MINIVMM=$1 SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
skip() {
	if [ "${CI:-}" = true ]; then echo "not ok 1 - CI=true but $1"; exit 1; fi
	echo "1..0 # SKIP $1"; exit 77
}
for p in xorriso as ld; do command -v $p >/dev/null || skip "no $p"; done
[ -r /usr/share/seabios/bios-256k.bin ] || skip "no SeaBIOS (/usr/share/seabios/bios-256k.bin)"
mkdir -p "$T/cd"
as --32 -o "$T/boot.o" "$SRC" && ld -m elf_i386 -Ttext=0x7c00 --oformat=binary -o "$T/cd/boot.img" "$T/boot.o" ||
	{ echo "not ok 1 - assembling the boot image failed"; exit 1; }
echo "a file beside the boot image" > "$T/cd/readme.txt"
xorriso -as mkisofs -quiet -b boot.img -no-emul-boot -boot-load-size 4 -o "$T/el.iso" "$T/cd" 2>"$T/xorriso.log" ||
	{ echo "not ok 1 - xorriso failed: $(head -1 "$T/xorriso.log")"; exit 1; }
truncate -s 1M "$T/disk.img"
n=0 fail=0
boot() { # NAME minivmm options...
	local name=$1; shift
	n=$((n + 1))
	timeout 60 "$MINIVMM" run --firmware seabios --boot cdrom "$@" </dev/null >"$T/$name.log" 2>&1; rc=$?
	if [ $n = 1 ] && [ $rc != 0 ] && grep -q '/dev/kvm' "$T/$name.log"; then
		skip "no usable /dev/kvm: $(grep -m1 /dev/kvm "$T/$name.log")"
	fi
	if [ $rc = 0 ] && tr -d '\r' < "$T/$name.log" | grep -aq '^ELTORITO-OK$'; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: status $rc"; tail -5 "$T/$name.log" | sed 's/^/#   /'; fail=1
	fi
}
boot cdrom-alone --cdrom "$T/el.iso"
boot cdrom-behind-ide-disk --disk "$T/disk.img,format=raw,if=ide" --cdrom "$T/el.iso"
echo "1..$n"
exit $fail
