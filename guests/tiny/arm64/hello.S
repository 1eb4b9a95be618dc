/* hello.S - the smallest arm64 guest, a first check of the arm64 VM and vCPUs.
 *
 * It starts with an arm64 Linux Image header (Documentation/arm64/booting.rst:
 * code0/code1, text_offset, image_size, flags, magic "ARM\x64" at 0x38), so a
 * Linux Image loader takes it like a kernel. Entered at its first byte in EL1
 * with the MMU off, it:
 *   1. writes "hello from arm64, x0=<hex>" to the 16550 UART's THR at
 *      0x0900_0000 (x0 at entry: the device tree's address), one byte at a
 *      time (strb: every store is one MMIO exit);
 *   2. asks PSCI CPU_ON (hvc, SMC calling convention) to start the vCPU
 *      whose MPIDR is 1 at `secondary`: with a second vCPU that one writes
 *      "cpu1 up" and raises a flag vCPU 0 waits for; without one, CPU_ON
 *      fails and nothing more is written;
 *   3. writes "bye" and calls PSCI SYSTEM_OFF: KVM_EXIT_SYSTEM_EVENT
 *      (shutdown), the VMM exits 0.
 * Position independent: any load address works.
 */
#define UART_THR 0x09000000
#define PSCI_CPU_ON_64 0xc4000003
#define PSCI_SYSTEM_OFF 0x84000008

	.text
	.globl _start
_start:
	b	entry			/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	image_end - _start	/* image_size */
	.quad	0xa			/* flags: little endian, 4K pages, anywhere */
	.quad	0, 0, 0			/* res2-res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

entry:
	mov	x19, x0			/* the DTB address, printed below */
	ldr	x20, =UART_THR
	adr	x1, msg_hello
	bl	puts
	mov	x0, x19
	bl	puthex
	mov	w0, #'\n'
	strb	w0, [x20]

	/* start the vCPU with MPIDR 1 at `secondary` */
	ldr	x0, =PSCI_CPU_ON_64
	mov	x1, #1
	adr	x2, secondary
	mov	x3, #0
	hvc	#0
	cbnz	x0, 2f			/* no such vCPU: carry on alone */
	adr	x1, flag
1:	ldr	w0, [x1]		/* MMU off: device memory, no caching */
	cbz	w0, 1b
2:	adr	x1, msg_bye
	bl	puts
	ldr	x0, =PSCI_SYSTEM_OFF
	hvc	#0
	b	.			/* not reached */

secondary:
	ldr	x20, =UART_THR
	adr	x1, msg_cpu1
	bl	puts
	adr	x1, flag
	mov	w0, #1
	str	w0, [x1]
	b	.			/* vCPU 0 powers the machine off */

/* puts: the NUL-terminated string at x1 to the THR at x20. Clobbers w0, x1. */
puts:
	ldrb	w0, [x1], #1
	cbz	w0, 1f
	strb	w0, [x20]
	b	puts
1:	ret

/* puthex: x0 as 16 hex digits to the THR at x20. Clobbers x0-x3. */
puthex:
	mov	x1, x0
	mov	x2, #60
1:	lsr	x3, x1, x2
	and	x3, x3, #0xf
	cmp	x3, #10
	add	x0, x3, #'0'
	add	x3, x3, #('a' - 10)
	csel	x0, x3, x0, hs
	strb	w0, [x20]
	subs	x2, x2, #4
	b.pl	1b
	ret

	.ltorg
msg_hello:
	.asciz	"hello from arm64, x0="
msg_cpu1:
	.asciz	"cpu1 up\n"
msg_bye:
	.asciz	"bye\n"
	.balign	4
flag:
	.long	0
	.balign	8
image_end:
