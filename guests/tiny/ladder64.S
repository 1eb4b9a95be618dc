/*
 * ladder64.S — helpers for the 64-bit ladder guests (#included after serial64.S). The
 * loader enters them in long mode with the first 4 GiB identity-mapped (virtual address =
 * physical address), the state longmode.S builds by hand, so device addresses are usable
 * as they are. An address above 2 GiB goes through a register: an absolute 32-bit operand
 * would be sign-extended.
 *   puthex:   print the low %ecx (1-8) hex digits of %eax            clobbers rax-rdx, rsi
 *   poweroff: ACPI soft-off: SLP_TYP 5 (the DSDT's \_S5) | SLP_EN to PM1a_CNT (port 0x604);
 *             minivmm stops with exit status 0
 *   pci_read / pci_write: PCI configuration mechanism #1: %ebx = 1 << 31 | bus << 16 |
 *             device << 11 | register goes to CONFIG_ADDRESS (port 0xcf8), then the dword
 *             %eax is read from / written to CONFIG_DATA (0xcfc)          clobber rdx
 *   pci_find: %eax = device << 16 | vendor: %ebx = CONFIG_ADDRESS of the first bus-0
 *             device with that ID, or 0                              clobbers rax, rcx, rdx
 *   idt_init: all 256 vectors -> `unexpected` (an exception or stray interrupt prints a
 *             line and powers off rather than triple-faulting), then lidt
 *   idt_set:  handler %rax at vector %ecx (64-bit interrupt gate: IF cleared on entry,
 *             iretq restores it)                                             clobbers rdx
 *   pic_mask: mask both 8259 PICs, so only the IOAPIC delivers interrupts
 *   lapic_on: software-enable the local APIC (a disabled one accepts no interrupts):
 *             spurious vector register = bit 8 | vector 0xff
 *   ioapic_route: IOAPIC pin %ecx -> vector %eax, CPU with APIC ID 0, fixed delivery,
 *             edge triggered, active high, unmasked (redirection entry: registers
 *             0x10 + 2 * pin, low dword, and 0x11 + 2 * pin, destination)  clobbers rdx
 *   eoi:      write the LAPIC's end-of-interrupt register
 * The LAPIC (0xfee00000), IOAPIC (0xfec00000) and PICs are emulated inside KVM: these
 * accesses never reach minivmm and never show in its --trace.
 */
#define LAPIC_EOI	0xfee000b0	/* end of interrupt: write 0 */
#define LAPIC_SVR	0xfee000f0	/* spurious interrupt vector */
#define IOAPIC_SEL	0xfec00000	/* register select */
#define IOAPIC_WIN	0xfec00010	/* register window */

puthex:
	mov	%eax, %esi
	mov	%ecx, %edx
	neg	%ecx
	lea	32(, %rcx, 4), %ecx	/* 32 - 4 * digits: shift the first digit to the top */
	shl	%cl, %esi
	mov	%edx, %ecx
1:	rol	$4, %esi
	mov	%esi, %eax
	and	$0xf, %eax
	add	$'0', %al
	cmp	$'9', %al
	jbe	2f
	add	$'a' - '9' - 1, %al
2:	mov	%al, %ah
	mov	$0x3fd, %dx
3:	in	%dx, %al
	test	$0x20, %al
	jz	3b
	mov	$0x3f8, %dx
	mov	%ah, %al
	out	%al, %dx
	loop	1b
	ret

poweroff:
	mov	$0x604, %dx
	mov	$(5 << 10 | 1 << 13), %ax
	out	%ax, %dx
4:	hlt				/* not reached: minivmm stops the vCPU */
	jmp	4b

pci_read:
	mov	%ebx, %eax
	mov	$0xcf8, %dx
	out	%eax, %dx
	mov	$0xcfc, %dx
	in	%dx, %eax
	ret

pci_write:
	push	%rax
	mov	%ebx, %eax
	mov	$0xcf8, %dx
	out	%eax, %dx
	pop	%rax
	mov	$0xcfc, %dx
	out	%eax, %dx
	ret

pci_find:
	mov	%eax, %ecx
	mov	$0x80000000, %ebx	/* enable, bus 0, device 0, register 0 */
5:	call	pci_read
	cmp	%ecx, %eax
	je	6f
	add	$1 << 11, %ebx		/* the next device */
	cmp	$0x80000000 + (32 << 11), %ebx
	jb	5b
	xor	%ebx, %ebx
6:	ret

idt_init:
	lea	unexpected(%rip), %rax
	xor	%ecx, %ecx
7:	call	idt_set
	inc	%ecx
	cmp	$256, %ecx
	jb	7b
	lea	idt(%rip), %rax
	mov	%rax, idt_desc + 2(%rip)
	lidt	idt_desc(%rip)
	ret

idt_set:
	push	%rdi
	lea	idt(%rip), %rdi
	shl	$4, %ecx		/* 16 bytes per gate */
	add	%rcx, %rdi
	shr	$4, %ecx
	mov	%ax, (%rdi)		/* offset 15:0 */
	movw	$0x10, 2(%rdi)		/* selector: the loader's 64-bit code segment */
	movw	$0x8e00, 4(%rdi)	/* present, DPL 0, 64-bit interrupt gate */
	mov	%rax, %rdx
	shr	$16, %rdx
	mov	%dx, 6(%rdi)		/* offset 31:16 */
	shr	$16, %rdx
	mov	%edx, 8(%rdi)		/* offset 63:32 */
	movl	$0, 12(%rdi)
	pop	%rdi
	ret

pic_mask:
	mov	$0xff, %al
	out	%al, $0x21		/* master PIC interrupt mask register */
	out	%al, $0xa1		/* slave PIC */
	ret

lapic_on:
	mov	$LAPIC_SVR, %edx
	movl	$0x1ff, (%rdx)
	ret

ioapic_route:
	push	%rbx
	mov	$IOAPIC_SEL, %ebx
	lea	0x10(%rcx, %rcx), %edx	/* the redirection entry's low dword */
	mov	%edx, (%rbx)
	mov	%eax, 0x10(%rbx)	/* vector; bits 8-16 zero: fixed, physical, edge, unmasked */
	inc	%edx
	mov	%edx, (%rbx)
	movl	$0, 0x10(%rbx)		/* destination: APIC ID 0 (bits 63:56) */
	pop	%rbx
	ret

eoi:
	push	%rdx
	mov	$LAPIC_EOI, %edx
	movl	$0, (%rdx)
	pop	%rdx
	ret

unexpected:
	lea	unexpected_msg(%rip), %rdi
	call	puts
	jmp	poweroff

unexpected_msg:
	.asciz	"unexpected interrupt or exception\r\n"
	.balign	16
idt:	.fill	512, 8, 0		/* 256 gates of 16 bytes */
idt_desc:
	.word	256 * 16 - 1
	.quad	0			/* idt's address, filled in by idt_init */
