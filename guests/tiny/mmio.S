/*
 * mmio.S — ladder rung 4: a memory-mapped device. Run: minivmm run --kernel mmio.bzimage
 *
 * Port I/O has its own instructions (in, out); MMIO is an ordinary load or store to an
 * address where there is no RAM. KVM cannot complete such an access itself, so the vCPU
 * exits to the VMM with KVM_EXIT_MMIO (address, size, data), and minivmm's MMIO bus hands
 * it to the device that owns the address (vmm/bus.c).
 *
 * The device is pvpanic (PCI 1b36:0011, devices/pvpanic.c), which every minivmm machine
 * has: a guest kernel writes to it when it panics. Its register sits in memory BAR 0,
 * wherever the PCI configuration says. So: find the device by scanning bus 0 through
 * ports 0xcf8/0xcfc, read BAR 0 (register 0x10), turn on Memory Space decoding (command
 * register, bit 1; minivmm, like firmware, has already), and load the byte at the BAR's
 * address: the events the device supports (bit 0 panicked, bit 1 crash kernel loaded).
 */
#include "bzimage-header.S"
startup_64:
	cli
	lea	stack_top(%rip), %rsp
	mov	$0x00111b36, %eax	/* device 0x0011, vendor 0x1b36 */
	call	pci_find
	test	%ebx, %ebx
	jz	notfound
	mov	%ebx, %r12d		/* the device's CONFIG_ADDRESS */
	lea	found(%rip), %rdi
	call	puts
	lea	0x10(%r12), %ebx	/* BAR 0 */
	call	pci_read
	and	$~0xf, %eax		/* a memory BAR: the low 4 bits are type bits */
	mov	%eax, %r13d
	mov	$8, %ecx
	call	puthex
	lea	0x04(%r12), %ebx	/* command (low 16 bits) and status (high 16) */
	call	pci_read
	or	$0x2, %eax		/* Memory Space enable */
	and	$0xffff, %eax		/* status bits are write-1-to-clear: write 0s there */
	call	pci_write
	lea	events(%rip), %rdi
	call	puts
	movzbl	(%r13), %eax		/* the load from the device: a KVM_EXIT_MMIO */
	mov	$2, %ecx
	call	puthex
	lea	eol(%rip), %rdi
	call	puts
	jmp	poweroff
notfound:
	lea	nodev(%rip), %rdi
	call	puts
	jmp	poweroff

#include "serial64.S"
#include "ladder64.S"

found:	.asciz	"mmio: pvpanic found, BAR0 at 0x"
events:	.asciz	"\r\nmmio: pvpanic events register: 0x"
eol:	.asciz	"\r\n"
nodev:	.asciz	"mmio: no pvpanic device on PCI bus 0\r\n"
	.balign	16
	.fill	1024, 1, 0
stack_top:
