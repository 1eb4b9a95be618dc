/*
 * spin-io.S — a guest that keeps exiting: one port write after another to port 0x80 (the
 * PC's POST-code port, an "absent" device in minivmm that takes the byte and does
 * nothing), each a KVM_EXIT_IO that minivmm handles. Not a ladder rung: a load for
 * `minivmm stat` (tests/unit/test_stat_native.sh) and for measuring the cost of one exit.
 *   minivmm run --kernel spin-io.bzimage                     writes until stopped (the
 *                                                            control socket's stop, a signal)
 *   minivmm run --kernel spin-io.bzimage --cmdline 1000000   writes 1000000 times, then
 *                                                            powers off (exit status 0)
 * The command line's leading decimal digits are the count; none (or 0) means forever.
 */
#include "bzimage-header.S"
startup_64:
	cli
	lea	stack_top(%rip), %rsp
	lea	msg(%rip), %rdi
	call	puts
	mov	0x228(%rsi), %eax	/* cmd_line_ptr (boot_params: %rsi, kept by puts) */
	mov	0x0c8(%rsi), %edx	/* ext_cmd_line_ptr: bits 63..32 */
	shl	$32, %rdx
	or	%rdx, %rax
	xor	%r8, %r8		/* the count */
	test	%rax, %rax
	jz	2f
	mov	$20, %ecx		/* at most 20 digits */
1:	movzbl	(%rax), %edx
	sub	$'0', %edx
	cmp	$9, %edx
	ja	2f
	imul	$10, %r8, %r8
	add	%rdx, %r8
	inc	%rax
	dec	%ecx
	jnz	1b
2:	test	%r8, %r8
	jz	forever
3:	out	%al, $0x80		/* one exit */
	dec	%r8
	jnz	3b
	lea	done(%rip), %rdi
	call	puts
	jmp	poweroff
forever:
	out	%al, $0x80
	jmp	forever

#include "serial64.S"
#include "ladder64.S"

msg:	.asciz	"spin-io: writing to port 0x80\r\n"
done:	.asciz	"spin-io: done\r\n"
	.balign	16
	.fill	1024, 1, 0
stack_top:
