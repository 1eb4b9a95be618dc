/*
 * hello-pvh.S — a tiny ELF guest for the PVH boot path (Xen's "PVH" direct boot, which
 * Linux also supports with CONFIG_PVH). The loader finds the 32-bit entry point in an ELF
 * note (name "Xen", type 18 = XEN_ELFNOTE_PHYS32_ENTRY), loads the PT_LOAD segment at its
 * physical address, and enters it in 32-bit protected mode, paging off, with flat 4 GiB
 * segments and %ebx = physical address of struct hvm_start_info (magic 0x336ec578 first;
 * cmdline_paddr, a u64 at offset 24). We print "hello from pvh", the command line, and
 * reset through the 8042 so the VMM exits 0. A wrong magic prints "bad hvm_start_info".
 */
	.section .note.Xen, "a"
	.balign	4
	.long	4			/* namesz: "Xen\0" */
	.long	8			/* descsz: a 64-bit address, as Linux's vmlinux has it */
	.long	18			/* type: XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.balign	4
	.quad	pvh_start		/* desc: physical entry address */
	.balign	4

	.code32
	.section .text, "ax"
	.globl	pvh_start
pvh_start:
	cli
	mov	$stack_top, %esp
	cmpl	$0x336ec578, (%ebx)	/* hvm_start_info.magic */
	jne	bad
	mov	$msg, %esi
	call	puts
	mov	24(%ebx), %esi		/* cmdline_paddr (low half; the image is below 4 GiB) */
	test	%esi, %esi
	jz	1f
	push	%esi
	mov	$cmdmsg, %esi
	call	puts
	pop	%esi
	call	puts
1:	mov	$eol, %esi
	call	puts
	jmp	reset
bad:	mov	$badmsg, %esi
	call	puts
	jmp	reset

/* puts: print the NUL-terminated string at %esi to COM1, polling LSR bit 5 */
puts:
	lodsb
	test	%al, %al
	jz	3f
	mov	%al, %ah
	mov	$0x3fd, %dx
2:	in	%dx, %al
	test	$0x20, %al
	jz	2b
	mov	$0x3f8, %dx
	mov	%ah, %al
	out	%al, %dx
	jmp	puts
3:	ret

reset:	mov	$0xfe, %al		/* 8042: pulse the reset line */
	out	%al, $0x64
4:	hlt
	jmp	4b

msg:	.asciz	"hello from pvh\r\n"
cmdmsg:	.asciz	"cmdline: "
eol:	.asciz	"\r\n"
badmsg:	.asciz	"hello-pvh: bad hvm_start_info magic\r\n"
	.balign	16
	.fill	512, 1, 0
stack_top:
