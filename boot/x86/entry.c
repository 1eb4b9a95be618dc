/* SPDX-License-Identifier: MIT
 * entry.c - the boot vCPU's register state for each kind of image, computed
 * without touching KVM (boot.c applies it with KVM_SET_SREGS/KVM_SET_REGS),
 * so it can be unit-tested. References: Intel SDM vol. 3A ch. 3 (segment
 * descriptors), ch. 4.5 (4-level paging, 2 MiB pages), ch. 9.8 (entering
 * IA-32e mode); Linux boot.rst "64-bit Boot Protocol"; Xen's
 * arch-x86/hvm/start_info.h (PVH entry state); ch. 9.1 (reset state).
 *
 *  LINUX64: long mode, CS = 0x10 (64-bit code), DS/ES/SS/FS/GS = 0x18,
 *           the first 4 GiB identity-mapped with 2 MiB pages (PML4 ->
 *           PDPT -> 4 PDs), %rsi = boot_params, interrupts off.
 *  PVH32:   32-bit protected mode, paging off, flat CS = 0x10 and data =
 *           0x18, %ebx = hvm_start_info.
 *  REAL16:  the reset state, except that CS's base is 0xf0000 (RAM holding
 *           the firmware image) rather than 0xffff0000.
 */
#include "boot/x86/boot_priv.h"

#include <errno.h>
#include <string.h>

#include "vmm/x86/layout.h"

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL /* in a PD entry: a 2 MiB page */
#define PAGE 4096

/* Segment types (descriptor bits 40-43). */
#define SEG_CODE_XR 0xb /* execute/read, accessed */
#define SEG_DATA_RW 0x3 /* read/write, accessed */
#define SEG_TSS_BUSY 0xb
#define SEG_LDT 0x2

/* The 8-byte GDT descriptor for a segment as KVM describes it. */
static uint64_t gdt_entry(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;

	return (limit & 0xffff) | (s->base & 0xffffff) << 16 |
	       (uint64_t)(s->type & 0xf) << 40 | (uint64_t)s->s << 44 |
	       (uint64_t)(s->dpl & 3) << 45 | (uint64_t)s->present << 47 |
	       ((limit >> 16) & 0xf) << 48 | (uint64_t)s->avl << 52 |
	       (uint64_t)s->l << 53 | (uint64_t)s->db << 54 |
	       (uint64_t)s->g << 55 | ((s->base >> 24) & 0xff) << 56;
}

static struct kvm_segment flat(uint16_t sel, uint8_t type, int code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = type, .present = 1, .dpl = 0, .s = 1, .g = 1,
		.l = code64 ? 1 : 0,
		.db = code64 ? 0 : 1, /* D must be 0 when L is 1 */
	};
}

/* GDT: null, unused, code (0x10), data (0x18), TSS (0x20; 16 bytes in long
 * mode, so entry 5 is its zero upper half). */
static int write_gdt(struct guest_mem *gm, struct kvm_sregs *sr)
{
	uint64_t gdt[6] = { 0 };

	gdt[X86_BOOT_CS / 8] = gdt_entry(&sr->cs);
	gdt[X86_BOOT_DS / 8] = gdt_entry(&sr->ds);
	gdt[X86_BOOT_TSS / 8] = gdt_entry(&sr->tr);
	if (gm_write(gm, X86_BOOT_GDT, gdt, sizeof(gdt)) < 0)
		return -EFAULT;
	sr->gdt.base = X86_BOOT_GDT;
	sr->gdt.limit = sizeof(gdt) - 1;
	return 0;
}

/* Identity map [0, 4 GiB) with 2 MiB pages. */
static int write_page_tables(struct guest_mem *gm)
{
	uint64_t *pml4 = gm_ptr(gm, X86_PML4, PAGE);
	uint64_t *pdpt = gm_ptr(gm, X86_PDPT, PAGE);
	uint64_t *pd = gm_ptr(gm, X86_PD, 4 * PAGE);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, PAGE);
	memset(pdpt, 0, PAGE);
	pml4[0] = X86_PDPT | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (X86_PD + i * PAGE) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

static void set_data_segments(struct kvm_sregs *sr, struct kvm_segment d)
{
	sr->ds = sr->es = sr->fs = sr->gs = sr->ss = d;
}

static void set_tr_ldt(struct kvm_sregs *sr, uint16_t tr_sel,
		       uint32_t tr_limit)
{
	sr->tr = (struct kvm_segment){ .selector = tr_sel, .limit = tr_limit,
				       .type = SEG_TSS_BUSY, .present = 1 };
	sr->ldt = (struct kvm_segment){ .limit = 0xffff, .type = SEG_LDT,
					.present = 1 };
}

int x86_boot_entry_state(struct guest_mem *gm,
			 const struct x86_boot_entry *entry,
			 struct kvm_sregs *sr, struct kvm_regs *regs)
{
	int ret;

	memset(regs, 0, sizeof(*regs));
	regs->rflags = 0x2; /* bit 1 is always set; IF = 0 */
	regs->rip = entry->rip;

	switch (entry->mode) {
	case X86_ENTRY_LINUX64:
		sr->cs = flat(X86_BOOT_CS, SEG_CODE_XR, 1);
		set_data_segments(sr, flat(X86_BOOT_DS, SEG_DATA_RW, 0));
		set_tr_ldt(sr, X86_BOOT_TSS, 0x67);
		ret = write_gdt(gm, sr);
		if (ret == 0)
			ret = write_page_tables(gm);
		if (ret < 0)
			return ret;
		sr->idt.base = 0;
		sr->idt.limit = 0; /* any exception ends in a triple fault */
		sr->cr3 = X86_PML4;
		sr->cr4 = X86_CR4_PAE;
		sr->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
		sr->efer = X86_EFER_LME | X86_EFER_LMA;
		regs->rsi = entry->rsi;
		regs->rsp = X86_BOOT_STACK;
		return 0;
	case X86_ENTRY_PVH32:
		sr->cs = flat(X86_BOOT_CS, SEG_CODE_XR, 0);
		set_data_segments(sr, flat(X86_BOOT_DS, SEG_DATA_RW, 0));
		set_tr_ldt(sr, X86_BOOT_TSS, 0x67);
		ret = write_gdt(gm, sr);
		if (ret < 0)
			return ret;
		sr->idt.base = 0;
		sr->idt.limit = 0;
		sr->cr3 = 0;
		sr->cr4 = 0;
		sr->cr0 = X86_CR0_PE | X86_CR0_ET;
		sr->efer = 0;
		regs->rbx = entry->rbx;
		regs->rsp = X86_BOOT_STACK;
		return 0;
	case X86_ENTRY_REAL16: {
		struct kvm_segment d = { .limit = 0xffff, .type = SEG_DATA_RW,
					 .present = 1, .s = 1 };
		sr->cs = (struct kvm_segment){ .selector = 0xf000,
					       .base = 0xf0000,
					       .limit = 0xffff,
					       .type = SEG_CODE_XR,
					       .present = 1, .s = 1 };
		set_data_segments(sr, d);
		set_tr_ldt(sr, 0, 0xffff);
		sr->gdt.base = 0;
		sr->gdt.limit = 0xffff;
		sr->idt.base = 0;
		sr->idt.limit = 0xffff;
		sr->cr3 = 0;
		sr->cr4 = 0;
		sr->cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET; /* 0x60000010 */
		sr->efer = 0;
		return 0;
	}
	}
	return -EINVAL;
}
