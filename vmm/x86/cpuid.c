/* SPDX-License-Identifier: MIT
 * cpuid.c - what a vCPU reports through CPUID, and its starting MSRs, LAPIC
 * and FPU state (Intel SDM vol. 2A "CPUID"; AMD APM vol. 3 "CPUID").
 *
 * We start from KVM_GET_SUPPORTED_CPUID (what host + KVM can virtualise)
 * and adjust per vCPU: the hypervisor bit, the initial APIC ID and the
 * topology leaves so that APIC IDs 0..N-1 match the MADT and MP table
 * (one core per vCPU, one thread per core, one package).
 */
#include "cpuid.h"
#include "vmm/log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MAX_CPUID_ENTRIES 256

/* MSR numbers (Intel SDM vol. 4). */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC 0x10

/* LAPIC register offsets and LVT delivery modes. */
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

struct kvm_cpuid2 *x86_supported_cpuid(int kvm_fd)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_CPUID_ENTRIES *
							      sizeof(c->entries[0]));

	if (!c)
		return NULL;
	c->nent = MAX_CPUID_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

static unsigned order_base_2(unsigned n)
{
	unsigned s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

void x86_cpuid_adjust(struct kvm_cpuid2 *c, unsigned id, unsigned nr_cpus)
{
	unsigned core_bits = order_base_2(nr_cpus);

	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* EBX[31:24] initial APIC ID, [23:16] logical CPUs
			 * per package; ECX[31] "running on a hypervisor";
			 * EDX[28] HTT means EBX[23:16] is valid. */
			e->ebx = (e->ebx & 0x0000ffff) | (id << 24) |
				 ((nr_cpus & 0xff) << 16);
			e->ecx |= 1u << 31;
			if (nr_cpus > 1)
				e->edx |= 1u << 28;
			else
				e->edx &= ~(1u << 28);
			break;
		case 4:
			/* Deterministic cache parameters: EAX[31:26] cores
			 * per package - 1, EAX[25:14] threads sharing - 1
			 * (private caches: 0, the shared L3: all). */
			if ((e->eax & 0x1f) == 0)
				break; /* null subleaf ends the list */
			e->eax &= 0x3fff;
			e->eax |= (nr_cpus - 1) << 26;
			if (((e->eax >> 5) & 7) == 3)
				e->eax |= (nr_cpus - 1) << 14;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: level 0 SMT (1 thread), level 1
			 * core (nr_cpus), EDX the x2APIC ID. */
			e->edx = id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 0x100; /* level 0, type SMT */
			} else if (e->index == 1) {
				e->eax = core_bits;
				e->ebx = nr_cpus;
				e->ecx = 0x201; /* level 1, type core */
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:
			/* AMD: ECX[15:12] APIC ID size, [7:0] cores - 1. */
			e->ecx = (core_bits << 12) | ((nr_cpus - 1) & 0xff);
			break;
		case 0x8000001e:
			/* AMD extended APIC ID / core ID / node ID. */
			e->eax = id;
			e->ebx = id & 0xff;
			e->ecx = 0;
			break;
		default:
			break;
		}
	}
}

static int set_msrs(int vcpu_fd)
{
	static const struct {
		uint32_t index;
		uint64_t data;
	} init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		/* fast strings, as firmware leaves it */
		{ MSR_IA32_MISC_ENABLE, 1 },
		/* MTRRs enabled, default type write-back: without this the
		 * guest would treat all of RAM as uncached */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 },
	};
	const unsigned n = sizeof(init) / sizeof(init[0]);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[sizeof(init) / sizeof(init[0])];
	} m;
	int r;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++) {
		m.e[i].index = init[i].index;
		m.e[i].data = init[i].data;
	}
	r = ioctl(vcpu_fd, KVM_SET_MSRS, &m);
	if (r < 0) {
		pr_err("KVM_SET_MSRS: %s", strerror(errno));
		return -errno;
	}
	if ((unsigned)r != n)
		pr_warn("KVM_SET_MSRS: only %d of %u MSRs accepted (first "
			"refused: 0x%x)", r, n, init[r].index);
	return 0;
}

/* Wire LINT0 to the 8259 (ExtINT) and LINT1 to NMI, as a PC's firmware does
 * (virtual wire mode), so PIC interrupts work before the IOAPIC is set up. */
static int set_lapic(int vcpu_fd)
{
	struct kvm_lapic_state l;
	uint32_t v;

	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &l) < 0) {
		pr_err("KVM_GET_LAPIC: %s", strerror(errno));
		return -errno;
	}
	memcpy(&v, &l.regs[APIC_LVT_LINT0], 4);
	v = (v & ~0x700u & ~0x10000u) | (APIC_MODE_EXTINT << 8);
	memcpy(&l.regs[APIC_LVT_LINT0], &v, 4);
	memcpy(&v, &l.regs[APIC_LVT_LINT1], 4);
	v = (v & ~0x700u & ~0x10000u) | (APIC_MODE_NMI << 8);
	memcpy(&l.regs[APIC_LVT_LINT1], &v, 4);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &l) < 0) {
		pr_err("KVM_SET_LAPIC: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int set_fpu(int vcpu_fd)
{
	struct kvm_fpu f;

	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;    /* x87 default control word */
	f.mxcsr = 0x1f80; /* SSE: all exceptions masked */
	if (ioctl(vcpu_fd, KVM_SET_FPU, &f) < 0) {
		pr_err("KVM_SET_FPU: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int x86_vcpu_init(int kvm_fd, int vcpu_fd, const struct kvm_cpuid2 *supported,
		  unsigned id, unsigned nr_cpus)
{
	size_t sz = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int ret;

	(void)kvm_fd;
	if (!c)
		return -ENOMEM;
	memcpy(c, supported, sz);
	x86_cpuid_adjust(c, id, nr_cpus);
	ret = ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	if (ret) {
		pr_err("KVM_SET_CPUID2: %s", strerror(-ret));
		return ret;
	}
	if ((ret = set_msrs(vcpu_fd)) || (ret = set_lapic(vcpu_fd)) ||
	    (ret = set_fpu(vcpu_fd)))
		return ret;
	return 0;
}
