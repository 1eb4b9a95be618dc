/* SPDX-License-Identifier: MIT
 * eltorito.S - the boot image of test_cdrom_boot_native.sh: a "no
 * emulation" El Torito image of 2048 bytes (four 512-byte virtual
 * sectors) that the firmware loads at 0000:7C00 from the ATAPI CD-ROM.
 * It checks that its last four bytes arrived (the whole image was read),
 * says so on COM1 and resets the machine through the i8042, which ends
 * minivmm with status 0.
 */
	.code16
	.text
	.globl _start
_start:
	xorw %ax, %ax
	movw %ax, %ds
	movw $ok, %si
	cmpl $0x4d4d564d, 0x7c00 + 2044	/* "MVMM" at the image's end */
	je 1f
	movw $short, %si
1:	movw $0x3f8, %dx
2:	lodsb
	testb %al, %al
	jz 3f
	outb %al, %dx
	jmp 2b
3:	movb $0xfe, %al			/* i8042: pulse the reset line */
	outb %al, $0x64
4:	hlt
	jmp 4b
ok:	.asciz "\r\nELTORITO-OK\r\n"
short:	.asciz "\r\nELTORITO-SHORT\r\n"
	.org 2044
	.ascii "MVMM"
