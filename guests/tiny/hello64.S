/*
 * hello64.S — a minimal Linux-bzImage-format guest for minivmm's 64-bit boot path.
 * The loader enters startup_64 (protected-mode part + 0x200) in long mode with %rsi =
 * boot_params (the "zero page"), identity-mapped. We print "hello from long mode" and the
 * command line the loader stored (boot_params.hdr.cmd_line_ptr at 0x228, high half in
 * ext_cmd_line_ptr at 0x0c8), then reset through the 8042 so the VMM exits 0.
 * If the command line starts with "halt" it instead stops with interrupts off (cli; hlt),
 * so the VMM stays up with a quiet vCPU: tests/bench/boot.sh measures its memory then.
 * The code is position independent (RIP-relative) because the image is relocatable.
 */
#include "bzimage-header.S"
startup_64:
	cli
	lea	stack_top(%rip), %rsp	/* the protocol gives no stack: use our own */
	mov	%rsi, %rbx		/* keep boot_params */
	lea	msg(%rip), %rdi
	call	puts
	mov	0x228(%rbx), %eax	/* cmd_line_ptr (zero-extends into rax) */
	mov	0x0c8(%rbx), %edx	/* ext_cmd_line_ptr: bits 63..32 */
	shl	$32, %rdx
	or	%rdx, %rax
	jz	1f
	mov	%rax, %r12
	lea	cmdmsg(%rip), %rdi
	call	puts
	mov	%r12, %rdi
	call	puts
	lea	eol(%rip), %rdi
	call	puts
	cmpl	$0x746c6168, (%r12)	/* "halt" (little-endian) at the start? */
	jne	reset
	lea	haltmsg(%rip), %rdi
	call	puts
2:	cli
	hlt
	jmp	2b
1:	lea	eol(%rip), %rdi
	call	puts
	jmp	reset

#include "serial64.S"

msg:	.asciz	"hello from long mode\r\n"
cmdmsg:	.asciz	"cmdline: "
eol:	.asciz	"\r\n"
haltmsg: .asciz	"halted\r\n"
	.balign	16
	.fill	1024, 1, 0		/* stack (inside the file, so no .bss is needed) */
stack_top:
