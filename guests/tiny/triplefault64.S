/*
 * triplefault64.S — a bzImage-format guest that triple-faults on purpose.
 * It loads an IDT with limit 0, so no vector can be delivered, then executes ud2: the #UD
 * cannot be delivered (-> #GP), neither can the #GP (-> #DF), nor the #DF: a triple fault,
 * which on real hardware resets the CPU (KVM reports KVM_EXIT_SHUTDOWN). minivmm must
 * treat it as an error: print the registers and exit with status 3.
 */
#include "bzimage-header.S"
startup_64:
	cli
	lea	stack_top(%rip), %rsp
	lea	msg(%rip), %rdi
	call	puts
	lidt	null_idt(%rip)
	ud2
	jmp	reset			/* never reached */

#include "serial64.S"

msg:	.asciz	"triplefault64: executing ud2 with an empty IDT\r\n"
	.balign	16
null_idt:
	.word	0			/* limit 0: every vector is out of bounds */
	.quad	0			/* base */
	.balign	16
	.fill	512, 1, 0
stack_top:
