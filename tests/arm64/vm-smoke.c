/* SPDX-License-Identifier: MIT
 * vm-smoke.c - run an arm64 tiny guest on the arm64 VM and vCPU code alone
 * (vmm/kvm.c with vmm/arm64/), without the devices and the machine around
 * them: a first check on an arm64 /dev/kvm.
 *
 *   vm-smoke IMAGE [NR_CPUS]
 *
 * IMAGE (guests/tiny/arm64/hello.S) is copied to the start of guest RAM and
 * entered on vCPU 0 with x0 = RAM + 64 MiB - 2 MiB, where a device tree
 * could be; the other vCPUs start powered off (PSCI CPU_ON starts them).
 * Bytes the guest writes to the UART's THR go to stdout; any other MMIO
 * access is an error. The guest's PSCI SYSTEM_OFF ends it with status 0,
 * SYSTEM_RESET with 3; a failure prints the vCPU's registers, status 1.
 */
#include "vmm/arm64/layout.h"
#include "vmm/arm64/vcpu_arm64.h"
#include "vmm/arm64/vgic.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE (64ULL << 20)
#define DTB_ADDR (ARM64_RAM_BASE + RAM_SIZE - (2ULL << 20))

/* kvm.c kicks vCPUs on vm_request_stop, which this tool never calls */
void vcpu_kick(struct vcpu *c)
{
	(void)c;
}

struct smoke {
	struct vm vm;
	int status;  /* what the first vCPU to stop decided; -1 none yet */
	pthread_mutex_t out_lock;
};

static void on_kick(int sig)
{
	(void)sig; /* interrupts KVM_RUN */
}

/* End the run with status (the first one wins) and kick every vCPU. */
static void stop_all(struct smoke *s, int status)
{
	int none = -1;

	if (!__atomic_compare_exchange_n(&s->status, &none, status, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	for (unsigned i = 0; i < s->vm.nr_cpus; i++) {
		struct vcpu *c = &s->vm.vcpus[i];

		__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (c->started)
			pthread_kill(c->thread, SIGUSR1);
	}
}

/* One exit; false when the vCPU stops. */
static bool handle(struct smoke *s, struct vcpu *c)
{
	struct kvm_run *run = c->run;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		if (run->mmio.is_write && run->mmio.phys_addr == ARM64_UART &&
		    run->mmio.len == 1) {
			pthread_mutex_lock(&s->out_lock);
			fputc(run->mmio.data[0], stdout);
			fflush(stdout);
			pthread_mutex_unlock(&s->out_lock);
			return true;
		}
		pr_err("vCPU %u: unexpected MMIO %s at 0x%llx, %u bytes", c->id,
		       run->mmio.is_write ? "write" : "read",
		       (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
			pr_info("vCPU %u: system event shutdown", c->id);
			stop_all(s, 0);
			return false;
		}
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
			pr_info("vCPU %u: system event reset", c->id);
			stop_all(s, 3);
			return false;
		}
		pr_err("vCPU %u: system event %u", c->id, run->system_event.type);
		break;
	default:
		pr_err("vCPU %u: unexpected exit reason %u", c->id,
		       run->exit_reason);
	}
	arm64_vcpu_dump_regs(c->fd, c->id);
	stop_all(s, 1);
	return false;
}

static struct smoke *smoke_of(struct vcpu *c)
{
	return (struct smoke *)((char *)c->vm - offsetof(struct smoke, vm));
}

static void *vcpu_loop(void *arg)
{
	struct vcpu *c = arg;
	struct smoke *s = smoke_of(c);

	while (__atomic_load_n(&s->status, __ATOMIC_SEQ_CST) < 0) {
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_err("vCPU %u: KVM_RUN: %s", c->id, strerror(errno));
			arm64_vcpu_dump_regs(c->fd, c->id);
			stop_all(s, 1);
			break;
		}
		if (!handle(s, c))
			break;
	}
	return NULL;
}

static int load_image(struct vm *vm, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *dst = gm_ptr(&vm->mem, ARM64_RAM_BASE, 1 << 20);
	ssize_t n;

	if (fd < 0 || !dst) {
		pr_err("%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, dst, 1 << 20);
	close(fd);
	if (n <= 0) {
		pr_err("%s: cannot read the image", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct smoke s = { .status = -1 };
	struct sigaction sa = { .sa_handler = on_kick };
	unsigned nr = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
	struct vm *vm = &s.vm;

	if (argc < 2 || nr < 1 || nr > 8) {
		fprintf(stderr, "usage: vm-smoke IMAGE [NR_CPUS 1-8]\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_mutex_init(&s.out_lock, NULL);
	if (vm_init_memory(vm, RAM_SIZE, false, nr) || load_image(vm, argv[1]) ||
	    vm_create(vm))
		return 1;
	for (unsigned i = 0; i < nr; i++) {
		struct vcpu *c = &vm->vcpus[i];

		c->vm = vm;
		c->id = i;
		c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (c->fd < 0) {
			pr_err("KVM_CREATE_VCPU %u: %s", i, strerror(errno));
			return 1;
		}
		c->run = mmap(NULL, (size_t)vm->vcpu_mmap_size,
			      PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			pr_err("mmap of kvm_run: %s", strerror(errno));
			return 1;
		}
		if (arm64_vcpu_init(vm->vm_fd, c->fd, i))
			return 1;
	}
	if (arm64_vgic_init(vm))
		return 1;
	if (arm64_vcpu_set_boot_regs(vm->vcpus[0].fd, ARM64_RAM_BASE, DTB_ADDR)) {
		pr_err("cannot set the boot registers: %s", strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < nr; i++) {
		if (pthread_create(&vm->vcpus[i].thread, NULL, vcpu_loop,
				   &vm->vcpus[i]))
			return 1;
		__atomic_store_n(&vm->vcpus[i].started, true, __ATOMIC_SEQ_CST);
	}
	/* a vCPU created before the stop may have missed its kick */
	while (__atomic_load_n(&s.status, __ATOMIC_SEQ_CST) < 0)
		usleep(10000);
	for (unsigned i = 0; i < nr; i++)
		pthread_kill(vm->vcpus[i].thread, SIGUSR1);
	for (unsigned i = 0; i < nr; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	return s.status;
}
