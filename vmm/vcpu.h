/* SPDX-License-Identifier: MIT
 * vcpu.h - one thread per vCPU, each in a KVM_RUN loop that hands port I/O
 * and MMIO exits to the buses and turns everything else into a VM stop.
 */
#ifndef MINIVMM_VCPU_H
#define MINIVMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run; /* mmap'd shared page(s) */
	pthread_t thread;
	bool started;
};

/* Create vCPU id: KVM_CREATE_VCPU, map kvm_run, then the architecture's
 * set-up (arch_vcpu_init, vmm/arch.h: x86 CPUID, MSRs, LAPIC and FPU
 * state). 0 or -errno (message printed). */
int vcpu_create(struct vm *vm, struct vcpu *c, unsigned id);
/* Start the thread. 0 or -errno. */
int vcpu_start(struct vcpu *c);
/* Force the vCPU out of KVM_RUN (immediate_exit + signal). Any thread. */
void vcpu_kick(struct vcpu *c);
/* Join the thread and release the vCPU. */
void vcpu_destroy(struct vcpu *c);
/* Install the (empty) kick signal handler; call once before vCPUs start. */
void vcpu_init_signals(void);
extern int vcpu_kick_signal;

#endif
