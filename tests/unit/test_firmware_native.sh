#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_firmware_native.sh MINIVMM HELLO64 - `minivmm run --firmware seabios` on THIS
# machine's /dev/kvm (PVM's runs SeaBIOS too) with a disk whose MBR is a tiny boot sector:
# it prints MBR-OK through the BIOS's int 10h (SeaBIOS's serial console puts it on COM1)
# and resets the machine through the i8042 (minivmm exits 0). As a virtio-blk disk and as
# an IDE disk. SeaBIOS's debug log (--debugcon) must say it found fw_cfg with DMA, took
# the boot order and minivmm's ACPI tables (the FADT through the XSDT), and never that it
# found no bridge to unlock or lock its shadow RAM with (the i440FX's PAM registers). The
# boot sector first flips the byte at 0xF0000: SeaBIOS left that segment read-only, so
# the write must not stick (MBR-OK; else it prints F-SEGMENT-WRITABLE). Exits 77 (skip)
# without a usable /dev/kvm or without Debian's SeaBIOS, or 1 then if CI=true.
set -u
MINIVMM=$1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
skip() {
	if [ "${CI:-}" = true ]; then echo "not ok 1 - CI=true but $1"; exit 1; fi
	echo "1..0 # SKIP $1"; exit 77
}
[ -r /usr/share/seabios/bios-256k.bin ] || skip "no /usr/share/seabios/bios-256k.bin (package seabios)"
"$MINIVMM" run --kernel "$2" </dev/null >"$T/probe" 2>&1
[ $? != 0 ] && grep -q '/dev/kvm' "$T/probe" && skip "no usable /dev/kvm: $(head -1 "$T/probe")"

# xor ax,ax; out 0xf0,al; out 0xf1,al (the math coprocessor's ports, which Linux's
# real-mode setup writes: accepted without a warning); mov ds,ax; mov ax,0xf000; mov es,ax;
# mov si,msg_rw; mov al,[es:0]; not al; mov [es:0],al; cmp al,[es:0]; je print; mov si,msg;
# print: lodsb; test al,al; jz done; mov ah,0x0e; mov bx,7; int 0x10; jmp print; done: sti;
# mov cx,10; wait: hlt; loop wait (ten timer ticks: SeaBIOS's serial console sends the last
# characters from its timer handler); mov al,0xfe; out 0x64,al; hlt; jmp $-1;
# msg: "MBR-OK\r\n"; msg_rw: "F-SEGMENT-WRITABLE\r\n"
truncate -s 1M "$T/disk.img"
printf '\x31\xc0\xe6\xf0\xe6\xf1\x8e\xd8\xb8\x00\xf0\x8e\xc0\xbe\x49\x7c\x26\xa0\x00\x00\xf6\xd0\x26\xa2\x00\x00\x26\x3a\x06\x00\x00\x74\x03\xbe\x40\x7c\xac\x84\xc0\x74\x09\xb4\x0e\xbb\x07\x00\xcd\x10\xeb\xf2\xfb\xb9\x0a\x00\xf4\xe2\xfd\xb0\xfe\xe6\x64\xf4\xeb\xfdMBR-OK\r\n\x00F-SEGMENT-WRITABLE\r\n\x00' |
	dd of="$T/disk.img" conv=notrunc status=none
printf '\x55\xaa' | dd of="$T/disk.img" bs=1 seek=510 conv=notrunc status=none
fail=0 n=0
for kind in virtio ide; do
	opt=$T/disk.img,format=raw; [ $kind = ide ] && opt=$opt,if=ide
	n=$((n + 1))
	timeout 120 "$MINIVMM" run --firmware seabios --disk "$opt" --debugcon "$T/$kind.dc" \
		</dev/null >"$T/$kind.out" 2>&1
	rc=$?
	why=
	[ $rc = 0 ] || why="exit status $rc"
	tr -d '\r' < "$T/$kind.out" | grep -aq '^MBR-OK$' ||
		why="$why, no MBR-OK on COM1$(grep -aq F-SEGMENT-WRITABLE "$T/$kind.out" &&
			echo ' (0xF0000 took a write after POST)')"
	grep -aq 'Unable to .* ram' "$T/$kind.dc" &&
		why="$why, debugcon: $(grep -a -m1 'Unable to .* ram' "$T/$kind.dc")"
	for l in 'Found QEMU fw_cfg' 'QEMU fw_cfg DMA interface supported' 'boot order:' \
		 'table(50434146)=.*via xsdt' 'Booting from Hard Disk'; do
		grep -aq "$l" "$T/$kind.dc" || why="$why, debugcon lacks '$l'"
	done
	grep -aq 'warning' "$T/$kind.out" && why="$why, a warning: $(grep -a -m1 warning "$T/$kind.out")"
	if [ -z "$why" ]; then
		echo "ok $n - $kind: SeaBIOS booted the MBR"
	else
		echo "not ok $n - $kind: ${why#, }"; sed 's/^/    | /' "$T/$kind.out" | tail -8; fail=1
	fi
done
exit $fail
