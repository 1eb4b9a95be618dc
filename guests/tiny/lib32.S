/*
 * lib32.S — helpers for the 32-bit ladder guests (#included after their code; flat
 * segments, so addresses are physical).
 *   puts:    print the NUL-terminated string at %esi to COM1 (at most 256 bytes)
 *   puthex:  print %eax as 8 hex digits
 *   poweroff: ACPI soft-off: SLP_TYP = 5 (the DSDT's \_S5) | SLP_EN written to
 *            PM1a_CNT (port 0x604), which minivmm turns into exit status 0
 * puts and puthex clobber eax, ecx, edx, esi.
 */
puts:
	mov	$256, %ecx
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc
	loop	1b
2:	ret

/* putc: print %al, waiting for LSR bit 5 "transmit holding register empty" */
putc:
	push	%eax
	mov	$0x3fd, %dx		/* COM1 Line Status Register */
3:	in	%dx, %al
	test	$0x20, %al
	jz	3b
	pop	%eax
	mov	$0x3f8, %dx		/* COM1 Transmit Holding Register */
	out	%al, %dx
	ret

puthex:
	mov	%eax, %esi
	mov	$8, %ecx
4:	rol	$4, %esi
	mov	%esi, %eax
	and	$0xf, %eax
	add	$'0', %al
	cmp	$'9', %al
	jbe	5f
	add	$'a' - '9' - 1, %al
5:	push	%ecx
	call	putc
	pop	%ecx
	loop	4b
	ret

poweroff:
	mov	$0x604, %dx
	mov	$(5 << 10 | 1 << 13), %ax
	out	%ax, %dx
6:	hlt				/* not reached: the VMM stops the vCPU */
	jmp	6b

