/* SPDX-License-Identifier: MIT
 * vcpu_x86.c - the x86 side of a vCPU (the vCPU hooks of vmm/arch.h): its
 * CPUID, MSRs, LAPIC and FPU when created (vmm/x86/cpuid.c), and its
 * registers read back for a register dump and the control socket.
 */
#include "vmm/arch.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "cpuid.h"
#include "x86.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int arch_vcpu_init(struct vcpu *c)
{
	return x86_vcpu_init(c->vm->kvm_fd, c->fd, c->vm->arch->supported,
			     c->id, c->vm->nr_cpus);
}

void arch_vcpu_dump_regs(struct vcpu *c)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(c->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(c->fd, KVM_GET_SREGS, &s) < 0) {
		pr_err("vCPU %u: cannot read registers: %s", c->id,
		       strerror(errno));
		return;
	}
	fprintf(stderr,
		"minivmm: vCPU %u registers:\n"
		"  rip %016llx  rflags %016llx\n"
		"  rax %016llx  rbx %016llx  rcx %016llx  rdx %016llx\n"
		"  rsi %016llx  rdi %016llx  rsp %016llx  rbp %016llx\n"
		"  r8  %016llx  r9  %016llx  r10 %016llx  r11 %016llx\n"
		"  r12 %016llx  r13 %016llx  r14 %016llx  r15 %016llx\n"
		"  cs %04x base %llx  ss %04x  ds %04x  es %04x\n"
		"  cr0 %llx  cr2 %llx  cr3 %llx  cr4 %llx  efer %llx\n"
		"  gdt %llx/%x  idt %llx/%x\n",
		c->id, r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi,
		r.rdi, r.rsp, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
		r.r14, r.r15, s.cs.selector, s.cs.base, s.ss.selector,
		s.ds.selector, s.es.selector, s.cr0, s.cr2, s.cr3, s.cr4,
		s.efer, s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

int arch_vcpu_regs_json(struct vcpu *c, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	int n;

	if (ioctl(c->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -1;
	/* CPL is the DPL of SS (CS.DPL differs for conforming segments) */
	n = snprintf(buf, len,
		     "{\"id\":%u,\"rip\":\"0x%llx\",\"rsp\":\"0x%llx\","
		     "\"rflags\":\"0x%llx\",\"cs\":\"0x%x\",\"cpl\":%u,"
		     "\"cr0\":\"0x%llx\",\"cr3\":\"0x%llx\",\"cr4\":\"0x%llx\","
		     "\"efer\":\"0x%llx\"}",
		     c->id, r.rip, r.rsp, r.rflags, s.cs.selector, s.ss.dpl,
		     s.cr0, s.cr3, s.cr4, s.efer);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
