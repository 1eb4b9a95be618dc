/*
 * protected.S — ladder rung 2: from real mode to 32-bit protected mode.
 * Run: minivmm run --firmware protected.bin (the image ends at 1 MiB; the vCPU starts in
 * real mode at F000:FFF0 like a PC after reset, as in hello16.S).
 *
 * Real mode addresses memory as segment * 16 + offset with 16-bit offsets. To leave it:
 *   1. lgdt: load the Global Descriptor Table: code and data segments with base 0 and a
 *      4 GiB limit ("flat"), so a 32-bit offset is the physical address;
 *   2. set CR0.PE (bit 0): the CPU is now in protected mode, but CS still holds its
 *      real-mode contents;
 *   3. far jump: loads CS with selector 0x08 (GDT entry 1, a 32-bit code segment) and
 *      continues at a 32-bit offset;
 *   4. load the data segment registers with selector 0x10 (GDT entry 2).
 * Then print CR0 and power off through ACPI. None of this leaves the guest: the trace shows
 * only the COM1 and ACPI port accesses.
 *
 * The image is ROM, as a PC's BIOS is at reset (the chipset's PAM registers point the BIOS
 * area at the flash): the stack lives in RAM below it, and the GDT's descriptors come with
 * their accessed bit already set, so that loading a segment writes nothing to the ROM.
 */
	.code16
	.section .text, "ax"
	.globl	start
start:					/* F000:0000 = physical 0xf0000 */
	cli
	mov	%cs, %ax
	mov	%ax, %ds		/* DS base 0xf0000: offsets are link address - 0xf0000 */
	lgdtl	gdt_desc - 0xf0000	/* 1 */
	mov	%cr0, %eax
	or	$1, %eax		/* 2: CR0.PE */
	mov	%eax, %cr0
	ljmpl	$0x08, $pm32		/* 3: 32-bit offset, code selector */

	.code32
pm32:
	mov	$0x10, %ax		/* 4 */
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x8000, %esp		/* a stack in RAM: the image is read-only */
	mov	$msg, %esi
	call	puts
	mov	%cr0, %eax
	call	puthex
	mov	$eol, %esi
	call	puts
	jmp	poweroff

#include "lib32.S"

msg:	.asciz	"hello from protected mode: cr0="
eol:	.asciz	"\r\n"
	.balign	8
gdt:	.quad	0			/* 0x00: the null descriptor */
	.quad	0x00cf9b000000ffff	/* 0x08: code, base 0, limit 4 GiB, 32-bit, exec/read, accessed */
	.quad	0x00cf93000000ffff	/* 0x10: data, base 0, limit 4 GiB, read/write, accessed */
gdt_desc:
	.word	gdt_desc - gdt - 1	/* limit */
	.long	gdt			/* base (physical) */

	/* the reset vector: the last 16 bytes of the image, F000:FFF0 */
	.code16
	.org	0xfff0
	ljmp	$0xf000, $start - 0xf0000
	.org	0x10000			/* pad the image to exactly 64 KiB */
