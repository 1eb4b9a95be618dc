/*
 * virtio-hostile.S — a hostile virtio driver in a tiny guest, for the log and reset limits
 * of docs/security.md ("Guest-facing limits"). It finds the virtio-blk device as
 * virtio-blk.S does, then CYCLES times: resets the device (status 0) and waits until the
 * status reads 0 again, negotiates VERSION_1, sets queue 0 up and breaks it, then waits
 * for DEVICE_NEEDS_RESET (0x40). Even cycles post a chain whose head is outside the queue
 * (the device finds it at DRIVER_OK or at the kick); odd cycles put the descriptor table
 * outside RAM (queue_enable refuses it). Each cycle makes the device warn twice; minivmm
 * must print at most its per-device budget of warnings, and a reset must always read back
 * as 0 (a queue thread still busy with the old ring must not set 0x40 afterwards).
 * Prints "virtio-hostile: CYCLES cycles ok" and powers off; "virtio-hostile: FAIL ..."
 * when the device never answered.
 * Run: truncate -s 1M /tmp/d.img &&
 *      minivmm run --kernel virtio-hostile.bzimage --disk /tmp/d.img,format=raw
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
#define CYCLES	10000
#define SPIN	10000000	/* status polls before giving up */
startup_64:
	cli
	lea	stack_top(%rip), %rsp
	mov	$0x10421af4, %eax	/* 1 */
	call	pci_find
	test	%ebx, %ebx
	jz	nodev
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

init:	movw	$0, QSEL(%r13)		/* queue 0's notify address */
	movzwl	QNOFF(%r13), %eax
	imul	%ebp, %eax
	add	%eax, %r14d
	mov	$CYCLES, %r11d

cycle:	movb	$0, STATUS(%r13)	/* reset, and wait until it reads 0 */
	mov	$SPIN, %ecx
1:	cmpb	$0, STATUS(%r13)
	je	2f
	pause
	dec	%ecx
	jnz	1b
	lea	stuckmsg(%rip), %rdi
	jmp	fail
2:	movb	$1, STATUS(%r13)
	movb	$3, STATUS(%r13)
	movl	$1, GFSEL(%r13)
	movl	$1, GF(%r13)		/* VIRTIO_F_VERSION_1 */
	movl	$0, GFSEL(%r13)
	movl	$0, GF(%r13)
	movb	$0xb, STATUS(%r13)
	testb	$8, STATUS(%r13)
	jz	nofeat
	movw	$0, QSEL(%r13)
	movw	$QSIZE, QSZ(%r13)
	lea	desc(%rip), %rax
	test	$1, %r11d
	jz	3f
	mov	$0xfffff000, %eax	/* odd cycles: a descriptor table outside RAM */
3:	mov	%eax, QDESC(%r13)
	movl	$0, QDESC + 4(%r13)
	lea	avail(%rip), %rax
	mov	%eax, QAVAIL(%r13)
	movl	$0, QAVAIL + 4(%r13)
	lea	used(%rip), %rax
	mov	%eax, QUSED(%r13)
	movl	$0, QUSED + 4(%r13)
	movw	$1, avail(%rip)		/* no interrupts */
	movw	$QSIZE + 1, avail + 4(%rip) /* ring[0]: a head outside the queue */
	movw	$1, avail + 2(%rip)	/* idx 1: one chain (the device starts at 0) */
	movw	$1, QEN(%r13)
	movb	$0xf, STATUS(%r13)	/* DRIVER_OK: the device looks at the ring */
	movw	$0, (%r14)		/* and a kick */
	mov	$SPIN, %ecx
4:	testb	$0x40, STATUS(%r13)	/* DEVICE_NEEDS_RESET */
	jnz	5f
	pause
	dec	%ecx
	jnz	4b
	lea	noerrmsg(%rip), %rdi
	jmp	fail
5:	dec	%r11d
	jnz	cycle
	movb	$0, STATUS(%r13)
	lea	okmsg(%rip), %rdi
	call	puts
	mov	$CYCLES, %eax
	mov	$4, %ecx
	call	puthex
	lea	okmsg2(%rip), %rdi
	call	puts
	jmp	poweroff
nodev:	lea	noerrmsg(%rip), %rdi
	jmp	fail
nofeat:	lea	featmsg(%rip), %rdi
fail:	push	%rdi
	lea	failmsg(%rip), %rdi
	call	puts
	pop	%rdi
	call	puts
	jmp	poweroff

#include "serial64.S"
#include "ladder64.S"

okmsg:	.asciz	"virtio-hostile: 0x"
okmsg2:	.asciz	" cycles ok\r\n"
failmsg: .asciz	"virtio-hostile: FAIL "
stuckmsg: .asciz "the status did not read 0 after a reset\r\n"
noerrmsg: .asciz "no DEVICE_NEEDS_RESET for a broken queue (or no device)\r\n"
featmsg: .asciz	"FEATURES_OK refused\r\n"
	.balign	16
desc:	.fill	QSIZE * 16, 1, 0
avail:	.fill	4 + QSIZE * 2 + 2, 1, 0	/* flags, idx, ring[QSIZE], used_event */
	.balign	4
used:	.fill	4 + QSIZE * 8 + 2, 1, 0	/* flags, idx, ring[QSIZE] of {id, len}, avail_event */
	.balign	16
	.fill	1024, 1, 0
stack_top:
