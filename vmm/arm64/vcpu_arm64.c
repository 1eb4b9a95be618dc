/* SPDX-License-Identifier: MIT
 * vcpu_arm64.c - an arm64 vCPU: KVM_ARM_VCPU_INIT (target, PSCI 0.2,
 * secondaries powered off), the registers a Linux Image is entered with,
 * and the register dump of a failure.
 *
 * Registers are read and written one at a time with KVM_GET_ONE_REG /
 * KVM_SET_ONE_REG: core registers by their offset in struct kvm_regs,
 * system registers by their (op0, op1, CRn, CRm, op2) encoding. The boot
 * state: Documentation/arm64/booting.rst; the KVM API:
 * Documentation/virt/kvm/api.rst (KVM_ARM_VCPU_INIT, KVM_SET_ONE_REG).
 */
#include "vcpu_arm64.h"
#include "vmm/arch.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define CORE_REG(r) \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
	 KVM_REG_ARM_CORE_REG(r))
#define REG_PC CORE_REG(regs.pc)
#define REG_PSTATE CORE_REG(regs.pstate)
#define REG_SP_EL0 CORE_REG(regs.sp)
#define REG_SP_EL1 CORE_REG(sp_el1)
#define REG_ELR_EL1 CORE_REG(elr_el1)
#define REG_X(n) CORE_REG(regs.regs[n])

/* EL1 system registers (Arm ARM, "AArch64 System register encoding") */
#define REG_MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)
#define REG_SCTLR_EL1 ARM64_SYS_REG(3, 0, 1, 0, 0)
#define REG_TTBR0_EL1 ARM64_SYS_REG(3, 0, 2, 0, 0)
#define REG_TTBR1_EL1 ARM64_SYS_REG(3, 0, 2, 0, 1)
#define REG_TCR_EL1 ARM64_SYS_REG(3, 0, 2, 0, 2)
#define REG_ESR_EL1 ARM64_SYS_REG(3, 0, 5, 2, 0)
#define REG_FAR_EL1 ARM64_SYS_REG(3, 0, 6, 0, 0)
#define REG_VBAR_EL1 ARM64_SYS_REG(3, 0, 12, 0, 0)

static int get_reg(int fd, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_GET_ONE_REG, &r) < 0 ? -errno : 0;
}

static int set_reg(int fd, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(fd, KVM_SET_ONE_REG, &r) < 0 ? -errno : 0;
}

int arm64_vcpu_init(int vm_fd, int vcpu_fd, unsigned id)
{
	struct kvm_vcpu_init init;

	/* the CPU model KVM emulates best on this host (its own) */
	memset(&init, 0, sizeof(init));
	if (ioctl(vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		pr_err("KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
		return -errno;
	}
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (id)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(vcpu_fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		pr_err("vCPU %u: KVM_ARM_VCPU_INIT (target %u): %s", id,
		       init.target, strerror(errno));
		return -errno;
	}
	return 0;
}

int arm64_vcpu_set_boot_regs(int vcpu_fd, uint64_t entry, uint64_t dtb)
{
	const uint64_t pstate = PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT |
				PSR_I_BIT | PSR_F_BIT;
	int ret;

	if ((ret = set_reg(vcpu_fd, REG_PSTATE, pstate)) ||
	    (ret = set_reg(vcpu_fd, REG_X(0), dtb)) ||
	    (ret = set_reg(vcpu_fd, REG_X(1), 0)) ||
	    (ret = set_reg(vcpu_fd, REG_X(2), 0)) ||
	    (ret = set_reg(vcpu_fd, REG_X(3), 0)))
		return ret;
	return set_reg(vcpu_fd, REG_PC, entry);
}

/* The exception level and stack of a PSTATE value, as "EL1h". */
static const char *pstate_mode(uint64_t pstate)
{
	switch (pstate & PSR_MODE_MASK) {
	case PSR_MODE_EL0t: return "EL0t";
	case PSR_MODE_EL1t: return "EL1t";
	case PSR_MODE_EL1h: return "EL1h";
	case PSR_MODE_EL2t: return "EL2t";
	case PSR_MODE_EL2h: return "EL2h";
	default: return pstate & PSR_MODE32_BIT ? "AArch32" : "?";
	}
}

struct arm64_regs {
	uint64_t pc, pstate, sp_el0, sp_el1, elr, esr, far, sctlr, ttbr0,
		ttbr1, tcr, vbar, mpidr, x[31];
};

static int read_regs(int fd, struct arm64_regs *r)
{
	const struct { uint64_t id, *val; } list[] = {
		{ REG_PC, &r->pc }, { REG_PSTATE, &r->pstate },
		{ REG_SP_EL0, &r->sp_el0 }, { REG_SP_EL1, &r->sp_el1 },
		{ REG_ELR_EL1, &r->elr }, { REG_ESR_EL1, &r->esr },
		{ REG_FAR_EL1, &r->far }, { REG_SCTLR_EL1, &r->sctlr },
		{ REG_TTBR0_EL1, &r->ttbr0 }, { REG_TTBR1_EL1, &r->ttbr1 },
		{ REG_TCR_EL1, &r->tcr }, { REG_VBAR_EL1, &r->vbar },
		{ REG_MPIDR_EL1, &r->mpidr },
	};
	int ret;

	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		if ((ret = get_reg(fd, list[i].id, list[i].val)))
			return ret;
	for (unsigned i = 0; i < 31; i++)
		if ((ret = get_reg(fd, REG_X(i), &r->x[i])))
			return ret;
	return 0;
}

void arm64_vcpu_dump_regs(int vcpu_fd, unsigned id)
{
	struct arm64_regs r;
	int ret = read_regs(vcpu_fd, &r);

	if (ret) {
		pr_err("vCPU %u: cannot read registers: %s", id, strerror(-ret));
		return;
	}
	fprintf(stderr,
		"minivmm: vCPU %u registers:\n"
		"  pc %016llx  pstate %08llx (%s)  mpidr %llx\n"
		"  sp_el0 %016llx  sp_el1 %016llx  elr_el1 %016llx\n"
		"  esr_el1 %08llx  far_el1 %016llx  vbar_el1 %016llx\n"
		"  sctlr_el1 %08llx  tcr_el1 %016llx\n"
		"  ttbr0_el1 %016llx  ttbr1_el1 %016llx\n",
		id, (unsigned long long)r.pc, (unsigned long long)r.pstate,
		pstate_mode(r.pstate), (unsigned long long)r.mpidr,
		(unsigned long long)r.sp_el0, (unsigned long long)r.sp_el1,
		(unsigned long long)r.elr, (unsigned long long)r.esr,
		(unsigned long long)r.far, (unsigned long long)r.vbar,
		(unsigned long long)r.sctlr, (unsigned long long)r.tcr,
		(unsigned long long)r.ttbr0, (unsigned long long)r.ttbr1);
	for (unsigned i = 0; i < 31; i += 4) {
		fprintf(stderr, " ");
		for (unsigned j = i; j < i + 4 && j < 31; j++)
			fprintf(stderr, " x%-2u %016llx", j,
				(unsigned long long)r.x[j]);
		fprintf(stderr, "\n");
	}
}

int arm64_vcpu_regs_json(int vcpu_fd, unsigned id, char *buf, size_t len)
{
	struct arm64_regs r;
	int n;

	if (read_regs(vcpu_fd, &r))
		return -1;
	n = snprintf(buf, len,
		     "{\"id\":%u,\"pc\":\"0x%llx\",\"sp_el1\":\"0x%llx\","
		     "\"pstate\":\"0x%llx\",\"mode\":\"%s\","
		     "\"sctlr_el1\":\"0x%llx\",\"ttbr0_el1\":\"0x%llx\","
		     "\"ttbr1_el1\":\"0x%llx\",\"vbar_el1\":\"0x%llx\"}",
		     id, (unsigned long long)r.pc, (unsigned long long)r.sp_el1,
		     (unsigned long long)r.pstate, pstate_mode(r.pstate),
		     (unsigned long long)r.sctlr, (unsigned long long)r.ttbr0,
		     (unsigned long long)r.ttbr1, (unsigned long long)r.vbar);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* ---- the vCPU hooks of vmm/arch.h ---- */

int arch_vcpu_init(struct vcpu *c)
{
	return arm64_vcpu_init(c->vm->vm_fd, c->fd, c->id);
}

void arch_vcpu_dump_regs(struct vcpu *c)
{
	arm64_vcpu_dump_regs(c->fd, c->id);
}

int arch_vcpu_regs_json(struct vcpu *c, char *buf, size_t len)
{
	return arm64_vcpu_regs_json(c->fd, c->id, buf, len);
}
