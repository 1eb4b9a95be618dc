/*
 * virtio-blk.S — ladder rung 7: one virtio request, built by hand.
 * Run: printf 'hello from sector 0' > /tmp/s0.img &&
 *      minivmm run --kernel virtio-blk.bzimage --disk /tmp/s0.img,format=raw,readonly=on
 * (a read-only raw image may end mid-sector: minivmm rounds it up with zeros)
 *
 * What Linux's virtio_pci and virtio_blk drivers do, reduced to one read (VIRTIO 1.2:
 * 4.1 virtio over PCI, 3.1.1 driver initialization, 2.7 split virtqueues, 5.2 block):
 *  1. find PCI 1af4:1042 (virtio device 2, block) and turn on Memory Space and Bus Master
 *     (the device may only touch guest memory while bus mastering is on);
 *  2. walk its vendor capabilities (ID 0x09) for where in which BAR the common
 *     configuration (type 1) and the notification area (type 2) are (minivmm puts all in
 *     BAR 0; we assume it);
 *  3. status ACKNOWLEDGE | DRIVER, accept only VIRTIO_F_VERSION_1 (feature bit 32),
 *     FEATURES_OK, set up queue 0 (size, the three ring addresses, enable), DRIVER_OK;
 *  4. three descriptors: the request header (type 0 = read, sector 0), a 512-byte buffer
 *     the device writes, the status byte it writes; put descriptor 0 in the available
 *     ring, then its index; write the queue's number to its notify address (the kick);
 *  5. poll the used ring's index until the device returns the chain; print the sector.
 * Every common-configuration access is an MMIO exit in the --trace. The kick is not: a
 * 16-bit write there is caught by an ioeventfd in KVM, which wakes minivmm's I/O thread
 * without stopping the vCPU; --stats counts it under "virtqueue notifications".
 */
#include "bzimage-header.S"
#define QSIZE	4
/* struct virtio_pci_common_cfg */
#define DFSEL	0x00		/* device_feature_select */
#define DF	0x04		/* device_feature */
#define GFSEL	0x08		/* driver_feature_select */
#define GF	0x0c		/* driver_feature */
#define STATUS	0x14		/* device_status: 1 ACKNOWLEDGE, 2 DRIVER, 8 FEATURES_OK, 4 DRIVER_OK */
#define QSEL	0x16		/* queue_select */
#define QSZ	0x18		/* queue_size */
#define QEN	0x1c		/* queue_enable */
#define QNOFF	0x1e		/* queue_notify_off */
#define QDESC	0x20		/* queue_desc, queue_driver (avail), queue_device (used): 64 bits */
#define QAVAIL	0x28
#define QUSED	0x30
startup_64:
	cli
	lea	stack_top(%rip), %rsp
	mov	$0x10421af4, %eax	/* 1 */
	call	pci_find
	test	%ebx, %ebx
	jz	fail
	mov	%ebx, %r12d
	lea	0x10(%r12), %ebx	/* BAR 0: 64-bit, below 4 GiB in minivmm */
	call	pci_read
	and	$~0xf, %eax
	mov	%eax, %r15d
	lea	0x04(%r12), %ebx
	call	pci_read
	or	$0x6, %eax		/* Memory Space, Bus Master */
	and	$0xffff, %eax
	call	pci_write
	lea	0x34(%r12), %ebx	/* 2: capabilities pointer */
	call	pci_read
	movzbl	%al, %r8d
caps:	test	%r8d, %r8d
	jz	init
	mov	%r8d, %r10d		/* this capability */
	lea	(%r12, %r10), %ebx	/* id, next, length, cfg_type */
	call	pci_read
	mov	%eax, %r9d
	movzbl	%ah, %edx
	mov	%edx, %r8d		/* next */
	cmp	$0x09, %al
	jne	caps
	lea	8(%r12, %r10), %ebx	/* offset in the BAR */
	call	pci_read
	add	%r15d, %eax
	shr	$24, %r9d
	cmp	$1, %r9d
	cmove	%eax, %r13d		/* common configuration */
	cmp	$2, %r9d
	jne	caps
	mov	%eax, %r14d		/* notification area */
	lea	16(%r12, %r10), %ebx	/* notify_off_multiplier */
	call	pci_read
	mov	%eax, %ebp
	jmp	caps

init:	movb	$0, STATUS(%r13)	/* 3: reset */
	movb	$1, STATUS(%r13)
	movb	$3, STATUS(%r13)
	movl	$1, DFSEL(%r13)		/* device features 63:32 */
	testl	$1, DF(%r13)		/* VIRTIO_F_VERSION_1 */
	jz	fail
	movl	$1, GFSEL(%r13)
	movl	$1, GF(%r13)
	movl	$0, GFSEL(%r13)
	movl	$0, GF(%r13)
	movb	$0xb, STATUS(%r13)
	testb	$8, STATUS(%r13)	/* did the device accept the features? */
	jz	fail
	movw	$0, QSEL(%r13)
	movw	$QSIZE, QSZ(%r13)
	lea	desc(%rip), %rax	/* 64-bit fields: two 32-bit writes each */
	mov	%eax, QDESC(%r13)
	movl	$0, QDESC + 4(%r13)
	lea	avail(%rip), %rax
	mov	%eax, QAVAIL(%r13)
	movl	$0, QAVAIL + 4(%r13)
	lea	used(%rip), %rax
	mov	%eax, QUSED(%r13)
	movl	$0, QUSED + 4(%r13)
	movzwl	QNOFF(%r13), %eax
	imul	%ebp, %eax
	add	%eax, %r14d		/* queue 0's notify address */
	movw	$1, QEN(%r13)
	movb	$0xf, STATUS(%r13)	/* DRIVER_OK */

	lea	desc(%rip), %rdi	/* 4: struct virtq_desc {addr, len, flags, next} */
	lea	req(%rip), %rax
	mov	%rax, 0(%rdi)
	movl	$16, 8(%rdi)
	movw	$1, 12(%rdi)		/* NEXT */
	movw	$1, 14(%rdi)
	lea	buf(%rip), %rax
	mov	%rax, 16(%rdi)
	movl	$512, 24(%rdi)
	movw	$3, 28(%rdi)		/* NEXT | WRITE (the device writes it) */
	movw	$2, 30(%rdi)
	lea	status(%rip), %rax
	mov	%rax, 32(%rdi)
	movl	$1, 40(%rdi)
	movw	$2, 44(%rdi)		/* WRITE */
	movw	$1, avail(%rip)		/* flags: no interrupt wanted, we poll */
	movw	$0, avail + 4(%rip)	/* ring[0] = chain head 0 */
	movw	$1, avail + 2(%rip)	/* idx, after the ring (x86 keeps stores in order) */
	movw	$0, (%r14)		/* the kick: queue 0 */
	mov	$10000000, %ecx		/* 5 */
1:	cmpw	$1, used + 2(%rip)	/* used idx */
	je	2f
	pause
	dec	%ecx
	jnz	1b
	jmp	fail
2:	cmpb	$0, status(%rip)	/* VIRTIO_BLK_S_OK */
	jne	fail
	lea	okmsg(%rip), %rdi
	call	puts
	mov	used + 8(%rip), %eax	/* used.ring[0].len: bytes the device wrote */
	mov	$3, %ecx
	call	puthex
	lea	datamsg(%rip), %rdi
	call	puts
	lea	buf(%rip), %rdi
	call	puts
	lea	eol(%rip), %rdi
	call	puts
	jmp	poweroff
fail:	lea	failmsg(%rip), %rdi
	call	puts
	jmp	poweroff

#include "serial64.S"
#include "ladder64.S"

okmsg:	.asciz	"virtio-blk: read sector 0, the device wrote 0x"
datamsg: .asciz	" bytes: "
eol:	.asciz	"\r\n"
failmsg: .asciz	"virtio-blk: no device, or the request failed\r\n"
req:	.long	0			/* struct virtio_blk_req: type VIRTIO_BLK_T_IN */
	.long	0			/* reserved */
	.quad	0			/* sector */
status:	.byte	0xff
	.balign	16
buf:	.fill	512, 1, 0
	.byte	0			/* a NUL after the sector, for puts */
	.balign	16
desc:	.fill	QSIZE * 16, 1, 0
avail:	.fill	4 + QSIZE * 2 + 2, 1, 0	/* flags, idx, ring[QSIZE], used_event */
	.balign	4
used:	.fill	4 + QSIZE * 8 + 2, 1, 0	/* flags, idx, ring[QSIZE] of {id, len}, avail_event */
	.balign	16
	.fill	1024, 1, 0
stack_top:
