/* SPDX-License-Identifier: MIT
 * vgic.h - finishing the in-kernel GICv3 that arch_vm_setup created
 * (vmm/arm64/vm_arm64.c).
 */
#ifndef MINIVMM_ARM64_VGIC_H
#define MINIVMM_ARM64_VGIC_H

struct vm;

/* KVM_DEV_ARM_VGIC_CTRL_INIT, once every vCPU exists and before any runs
 * (KVM sizes the redistributors by the vCPUs). 0 or -errno with a one-line
 * message printed. */
int arm64_vgic_init(struct vm *vm);

#endif
