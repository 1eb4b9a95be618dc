/* SPDX-License-Identifier: MIT
 * cpuid.h - the CPUID table a vCPU sees and the MSR/LAPIC state it starts
 * with (x86-specific part of vCPU creation).
 */
#ifndef MINIVMM_X86_CPUID_H
#define MINIVMM_X86_CPUID_H

#include <linux/kvm.h>

/* KVM_GET_SUPPORTED_CPUID, freshly allocated (free() it). NULL on error. */
struct kvm_cpuid2 *x86_supported_cpuid(int kvm_fd);
/* Adjust a copy of the supported table for vCPU id of nr_cpus: hypervisor
 * bit, APIC ID and topology leaves (1, 4, 0xB, 0x1F, 0x80000008,
 * 0x8000001E). Every other leaf, the KVM leaves 0x40000000/0x40000001
 * included, passes through as KVM reported it. Pure: no ioctl. */
void x86_cpuid_adjust(struct kvm_cpuid2 *c, unsigned id, unsigned nr_cpus);
/* CPUID, MSRs, LAPIC LINT0/LINT1 and FPU for a new vCPU. 0 or -errno. */
int x86_vcpu_init(int kvm_fd, int vcpu_fd, const struct kvm_cpuid2 *supported,
		  unsigned id, unsigned nr_cpus);

#endif
