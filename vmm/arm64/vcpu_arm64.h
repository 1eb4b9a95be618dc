/* SPDX-License-Identifier: MIT
 * vcpu_arm64.h - the arm64 side of a vCPU: KVM_ARM_VCPU_INIT, the boot
 * registers, and the registers shown when something goes wrong.
 */
#ifndef MINIVMM_ARM64_VCPU_H
#define MINIVMM_ARM64_VCPU_H

#include <stddef.h>
#include <stdint.h>

/* KVM_ARM_VCPU_INIT for vCPU id: the host's preferred CPU target, PSCI 0.2
 * (the guest's CPU_ON, SYSTEM_OFF and SYSTEM_RESET are handled in KVM), and
 * every vCPU but 0 powered off until the guest starts it with CPU_ON. 0 or
 * -errno with a one-line message printed. */
int arm64_vcpu_init(int vm_fd, int vcpu_fd, unsigned id);
/* The boot vCPU as Linux's arm64 booting document asks: PC = entry,
 * X0 = the device tree's guest-physical address, X1-X3 = 0, EL1h with
 * D, A, I and F masked (the MMU is off after KVM_ARM_VCPU_INIT). 0 or
 * -errno. */
int arm64_vcpu_set_boot_regs(int vcpu_fd, uint64_t entry, uint64_t dtb);
/* Print vCPU id's registers to stderr: PC, PSTATE, stack pointers, the
 * EL1 exception and MMU registers, X0-X30. */
void arm64_vcpu_dump_regs(int vcpu_fd, unsigned id);
/* The main registers as one JSON object (the control socket's "regs").
 * Length written, or -1. */
int arm64_vcpu_regs_json(int vcpu_fd, unsigned id, char *buf, size_t len);

#endif
