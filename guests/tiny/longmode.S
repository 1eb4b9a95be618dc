/*
 * longmode.S — ladder rung 3: from real mode through protected mode to 64-bit long mode,
 * with page tables it builds itself. Run: minivmm run --firmware longmode.bin
 * (hello64.S is entered in long mode by minivmm's loader instead; this guest does it).
 *
 * Long mode needs paging. The tables are three 4 KiB pages of RAM at 0x1000-0x3fff (the
 * image itself is ROM, see protected.S, and the CPU sets accessed bits in the tables):
 *   PML4[0] -> PDPT; PDPT[0] and PDPT[1] -> the same PD; PD[0] = a 2 MiB page at 0.
 * So virtual 0-2 MiB maps to physical 0-2 MiB (the code keeps running after paging is
 * turned on), and virtual 1 GiB-1 GiB+2 MiB maps there too: the message is printed
 * through that second address, which only translates because paging is on.
 * Steps after protected mode (see protected.S for those before):
 *   1. CR4.PAE (bit 5): 64-bit page table entries;  2. CR3 = physical address of PML4;
 *   3. EFER.LME (MSR 0xc0000080, bit 8);  4. CR0.PG (bit 31): long mode is now active
 *      (EFER.LMA reads 1), still running 32-bit code ("compatibility mode");
 *   5. far jump to a code segment with the L bit set: 64-bit mode.
 * Writing CR0, CR3, CR4 and EFER does not leave the guest: the trace shows only COM1 and ACPI.
 */
#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000

	.code16
	.section .text, "ax"
	.globl	start
start:
	cli
	mov	%cs, %ax
	mov	%ax, %ds
	lgdtl	gdt_desc - 0xf0000
	mov	%cr0, %eax
	or	$1, %eax		/* CR0.PE */
	mov	%eax, %cr0
	ljmpl	$0x08, $pm32

	.code32
pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	/* the tables: zeroed, then one entry each (bit 0 present, bit 1 writable, bit 7 in
	 * a PD entry: a 2 MiB page) */
	mov	$PML4, %edi
	xor	%eax, %eax
	mov	$3 * 4096 / 4, %ecx
	rep stosl
	movl	$PDPT + 0x3, PML4
	movl	$PD + 0x3, PDPT		/* virtual 0 */
	movl	$PD + 0x3, PDPT + 8	/* virtual 1 GiB */
	movl	$0x0 + 0x83, PD		/* 2 MiB at physical 0 */
	mov	%cr4, %eax
	or	$1 << 5, %eax		/* 1: CR4.PAE */
	mov	%eax, %cr4
	mov	$PML4, %eax		/* 2 */
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx	/* 3: EFER.LME */
	rdmsr
	or	$1 << 8, %eax
	wrmsr
	mov	%cr0, %eax
	or	$1 << 31, %eax		/* 4: CR0.PG */
	mov	%eax, %cr0
	ljmp	$0x18, $lm64		/* 5 */

	.code64
lm64:
	mov	$0x8000, %rsp		/* a stack in RAM: the image is read-only */
	mov	$msg + (1 << 30), %rdi	/* the message through the alias at 1 GiB */
	call	puts
	mov	$0x604, %dx		/* ACPI soft-off, as lib32.S's poweroff */
	mov	$(5 << 10 | 1 << 13), %ax
	out	%ax, %dx
1:	hlt
	jmp	1b

#include "serial64.S"

msg:	.asciz	"hello from long mode: paging on, this line read at virtual 1 GiB + its address\r\n"
	.balign	8
gdt:	.quad	0			/* 0x00: null */
	.quad	0x00cf9b000000ffff	/* 0x08: 32-bit code, flat (all accessed: nothing */
	.quad	0x00cf93000000ffff	/* 0x10: data, flat            written to the ROM) */
	.quad	0x00af9b000000ffff	/* 0x18: 64-bit code (L = 1, D = 0) */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt
	.code16
	.org	0xfff0			/* the reset vector, F000:FFF0 */
	ljmp	$0xf000, $start - 0xf0000
	.org	0x10000
