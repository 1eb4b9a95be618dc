/*
 * hello16.S — a firmware image for `minivmm run --firmware hello16.bin`.
 *
 * The image is 64 KiB and is mapped so that it ends at 1 MiB (0xF0000-0xFFFFF). An x86
 * CPU leaves reset in real mode at CS:IP = F000:FFF0, i.e. the image's last 16 bytes
 * (the "reset vector"); we jump from there to the start of the image. The code writes
 * "hello from real mode" to the COM1 16550 UART (port 0x3f8), waiting for the Line Status
 * Register (0x3fd) bit 5, "transmitter holding register empty", before each byte, and
 * then asks the 8042 keyboard controller to pulse the CPU reset line (command 0xFE
 * written to port 0x64), which a VMM treats as "the guest rebooted": minivmm exits 0.
 */
	.code16
	.section .text, "ax"
	.globl start
start:				/* F000:0000 */
	cli
	mov	%cs, %ax		/* DS = CS = F000, so msg's offset is usable */
	mov	%ax, %ds
	lea	msg, %si
next:
	lodsb				/* AL = DS:[SI++] */
	test	%al, %al
	jz	reset
	mov	%al, %bl
	mov	$0x3fd, %dx		/* COM1 Line Status Register */
wait:
	in	%dx, %al
	test	$0x20, %al		/* THR empty? */
	jz	wait
	mov	$0x3f8, %dx		/* COM1 transmit holding register */
	mov	%bl, %al
	out	%al, %dx
	jmp	next
reset:
	mov	$0xfe, %al		/* 8042 command 0xFE: pulse the reset line */
	out	%al, $0x64
halt:
	hlt				/* not reached if the reset works */
	jmp	halt

msg:	.asciz	"hello from real mode\r\n"

	/* the reset vector: the last 16 bytes of the image, F000:FFF0 */
	.org	0xfff0
	ljmp	$0xf000, $start
	.org	0x10000			/* pad the image to exactly 64 KiB */
