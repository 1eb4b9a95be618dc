/*
 * uart-rx.S — ladder rung 6: a device interrupt from a VMM-emulated device.
 * Run: printf x | minivmm run --kernel uart-rx.bzimage     (or run it and press a key)
 *
 * COM1 is a 16550 UART emulated by minivmm itself (devices/uart16550.c), not by KVM.
 * The guest asks for an interrupt when a byte arrives: Interrupt Enable Register (port
 * 0x3f9) bit 0, and MCR bit 3 (OUT2), which on a PC gates the UART's interrupt onto ISA
 * IRQ 4. A byte on minivmm's stdin (vmm/term.c) enters the UART's receiver; the UART
 * raises its interrupt line and minivmm calls KVM_IRQ_LINE for GSI 4. From there it is
 * KVM's: IOAPIC pin 4 -> vector 0x24 (the redirection entry set here) -> local APIC ->
 * IDT -> rx, which reads the Interrupt Identification Register (0x3fa; 0x4 = received
 * data available) and the byte (0x3f8, which lowers the line), and writes the EOI.
 * The interrupt is enabled only after the message is printed, with IF still clear, so
 * the exit sequence is the same whenever the byte arrives.
 */
#include "bzimage-header.S"
startup_64:
	cli
	lea	stack_top(%rip), %rsp
	call	idt_init
	lea	rx(%rip), %rax
	mov	$0x24, %ecx
	call	idt_set
	call	pic_mask
	call	lapic_on
	mov	$0x24, %eax		/* IOAPIC pin 4 -> vector 0x24 */
	mov	$4, %ecx
	call	ioapic_route
	lea	waiting(%rip), %rdi
	call	puts
	mov	$0x0b, %al		/* MCR: DTR, RTS, OUT2 (the IRQ gate) */
	mov	$0x3fc, %dx
	out	%al, %dx
	mov	$0x01, %al		/* IER: received data available */
	mov	$0x3f9, %dx
	out	%al, %dx
	sti
1:	hlt				/* until the interrupt */
	cmpb	$0, got(%rip)
	je	1b
	cli
	lea	gotmsg(%rip), %rdi
	call	puts
	movzbl	iir(%rip), %eax
	mov	$2, %ecx
	call	puthex
	lea	bytemsg(%rip), %rdi
	call	puts
	jmp	poweroff

rx:
	push	%rax
	push	%rdx
	mov	$0x3fa, %dx		/* IIR */
	in	%dx, %al
	mov	%al, iir(%rip)
	mov	$0x3f8, %dx		/* RBR: the byte; the line goes low */
	in	%dx, %al
	mov	%al, byte(%rip)		/* into bytemsg */
	movb	$1, got(%rip)
	call	eoi
	pop	%rdx
	pop	%rax
	iretq

#include "serial64.S"
#include "ladder64.S"

waiting: .asciz	"uart-rx: waiting for a byte on COM1 (IRQ 4 -> IOAPIC pin 4 -> vector 0x24)\r\n"
gotmsg:	.asciz	"uart-rx: interrupt 0x24, IIR 0x"
bytemsg: .ascii	", received '"
byte:	.asciz	"?'\r\n"
got:	.byte	0
iir:	.byte	0
	.balign	16
	.fill	1024, 1, 0
stack_top:
