/*
 * serial64.S — COM1 output for the 64-bit tiny guests (#included after their code).
 * puts: print the NUL-terminated string at %rdi (at most 4096 bytes). Clobbers rax, rcx, rdx, rdi.
 * reset: pulse the CPU reset line through the 8042 (command 0xFE to port 0x64).
 */
puts:
	mov	$4096, %ecx
1:	movzbl	(%rdi), %eax
	test	%al, %al
	jz	3f
	mov	%al, %ah
	mov	$0x3fd, %dx		/* COM1 Line Status Register */
2:	in	%dx, %al
	test	$0x20, %al		/* bit 5: transmit holding register empty */
	jz	2b
	mov	$0x3f8, %dx
	mov	%ah, %al
	out	%al, %dx
	inc	%rdi
	dec	%ecx
	jnz	1b
3:	ret

reset:
	mov	$0xfe, %al
	out	%al, $0x64
4:	hlt
	jmp	4b
