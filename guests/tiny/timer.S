/*
 * timer.S — ladder rung 5: a timer interrupt. Run: minivmm run --kernel timer.bzimage
 *
 * The 8254 PIT, both 8259 PICs, the IOAPIC and the local APIC are emulated inside KVM
 * (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2): programming them and taking their interrupts
 * costs no exit to minivmm. The path of one tick:
 *   PIT channel 0 (ISA IRQ 0) -> IOAPIC pin 2 (the PC's wiring; the MADT's interrupt
 *   source override says so) -> redirection entry: vector 0x20, CPU 0 -> local APIC ->
 *   IDT entry 0x20 -> tick, which counts and writes the LAPIC's end-of-interrupt register.
 * The PIT runs in mode 2 (rate generator) at 1193182 Hz / 11932: a tick every 10 ms.
 * Between ticks the vCPU halts; with an in-kernel LAPIC, KVM handles HLT itself too (it
 * sleeps until the next interrupt). So this rung's --trace shows only the printing: the
 * ticks appear nowhere in it. That is what an in-kernel irqchip buys.
 */
#include "bzimage-header.S"
#define TICKS	10
startup_64:
	cli
	lea	stack_top(%rip), %rsp
	call	idt_init
	lea	tick(%rip), %rax
	mov	$0x20, %ecx
	call	idt_set
	call	pic_mask
	call	lapic_on
	mov	$0x20, %eax		/* IOAPIC pin 2 -> vector 0x20 */
	mov	$2, %ecx
	call	ioapic_route
	mov	$0x34, %al		/* PIT: channel 0, low then high byte, mode 2 */
	out	%al, $0x43
	mov	$(11932 & 0xff), %al
	out	%al, $0x40
	mov	$(11932 >> 8), %al
	out	%al, $0x40
	sti
1:	hlt				/* until the next interrupt */
	cmpl	$TICKS, ticks(%rip)
	jb	1b
	cli
	lea	done(%rip), %rdi
	call	puts
	jmp	poweroff

tick:
	incl	ticks(%rip)
	call	eoi
	iretq

#include "serial64.S"
#include "ladder64.S"

done:	.asciz	"timer: 10 ticks of the PIT through IOAPIC pin 2 to vector 0x20 (100 ms)\r\n"
ticks:	.long	0
	.balign	16
	.fill	1024, 1, 0
stack_top:
