/* SPDX-License-Identifier: MIT
 * vcpu.c - the vCPU threads and the exit dispatcher.
 *
 * Each vCPU runs KVM_RUN in a loop. Port I/O and MMIO exits go to the buses;
 * a triple fault, a failed VM entry, an emulation failure or an exit reason
 * we do not expect stops the VM with a diagnostic (fail closed). To stop,
 * another thread sets kvm_run.immediate_exit and sends vcpu_kick_signal,
 * which makes a running KVM_RUN return -EINTR.
 */
#include "vcpu.h"
#include "arch.h"
#include "log.h"
#include "sandbox.h"
#include "trace.h"
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int vcpu_kick_signal;

static void kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

void vcpu_init_signals(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	vcpu_kick_signal = SIGRTMIN;
	sigemptyset(&sa.sa_mask);
	sigaction(vcpu_kick_signal, &sa, NULL);
}

int vcpu_create(struct vm *vm, struct vcpu *c, unsigned id)
{
	struct kvm_run *run;

	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->id = id;
	c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (c->fd < 0) {
		pr_err("KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return -errno;
	}
	/* c->run is published only once mapped: a concurrent kick (a stop
	 * requested while vCPUs are being created) must never see MAP_FAILED */
	run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, c->fd, 0);
	if (run == MAP_FAILED) {
		pr_err("mmap of vCPU %u's kvm_run: %s", id, strerror(errno));
		return -errno;
	}
	__atomic_store_n(&c->run, run, __ATOMIC_RELEASE);
	return arch_vcpu_init(c);
}

/* What the exit dispatcher found, for --trace: filled only when the exit
 * is being watched (info not NULL). */
struct exit_info {
	enum trace_reason reason;
	const char *detail;
	struct trace_access access;
	bool has_access;
};

static void handle_io(struct vcpu *c, struct exit_info *info)
{
	struct kvm_run *run = c->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	if (info) {
		info->access = (struct trace_access){
			.addr = run->io.port, .data = data, .size = run->io.size,
			.count = run->io.count, .is_write = out };
		info->has_access = true;
	}
	/* A string instruction (rep outsb) arrives as count accesses. The
	 * data area lies inside the kvm_run mapping, set up by KVM. */
	for (uint32_t i = 0; i < run->io.count; i++) {
		if (!bus_access_hit(&c->vm->pio, run->io.port, data,
				    run->io.size, out,
				    info && i == 0 ? &info->access.hit : NULL))
			stat_inc(&c->vm->stats, STAT_PIO_UNHANDLED);
		data += run->io.size;
	}
}

static void handle_mmio(struct vcpu *c, struct exit_info *info)
{
	struct kvm_run *run = c->run;
	unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;

	if (info) {
		info->access = (struct trace_access){
			.addr = run->mmio.phys_addr, .data = run->mmio.data,
			.size = len, .count = 1,
			.is_write = run->mmio.is_write };
		info->has_access = true;
	}
	if (!bus_access_hit(&c->vm->mmio, run->mmio.phys_addr, run->mmio.data,
			    len, run->mmio.is_write,
			    info ? &info->access.hit : NULL))
		stat_inc(&c->vm->stats, STAT_MMIO_UNHANDLED);
}

/* Hand one exit to its handler. Returns false when the vCPU must stop.
 * info (NULL unless the exit is watched) learns what it was. */
static bool dispatch_exit(struct vcpu *c, struct exit_info *info)
{
	struct kvm_run *run = c->run;
	struct vm *vm = c->vm;
	/* unwatched, the reason goes to a scratch copy nobody reads */
	struct exit_info scratch, *w = info ? info : &scratch;

	stat_inc(&vm->stats, STAT_EXITS);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		stat_inc(&vm->stats, STAT_EXIT_IO);
		w->reason = TRACE_IO;
		handle_io(c, info);
		return true;
	case KVM_EXIT_MMIO:
		stat_inc(&vm->stats, STAT_EXIT_MMIO);
		w->reason = TRACE_MMIO;
		handle_mmio(c, info);
		return true;
	case KVM_EXIT_INTR:
		stat_inc(&vm->stats, STAT_EXIT_INTR);
		w->reason = TRACE_INTR;
		return true;
	case KVM_EXIT_HLT:
		/* With the in-kernel LAPIC, HLT waits in the kernel; a HLT
		 * exit means the guest stopped for good. */
		stat_inc(&vm->stats, STAT_EXIT_HLT);
		w->reason = TRACE_HLT;
		pr_info("vCPU %u halted", c->id);
		vm_request_stop(vm, VM_EXIT_OK);
		return false;
	case KVM_EXIT_SHUTDOWN:
		w->reason = TRACE_SHUTDOWN;
		w->detail = "(triple fault)";
		pr_err("vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", c->id);
		arch_vcpu_dump_regs(c);
		vm_request_stop(vm, VM_EXIT_TRIPLE_FAULT);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		w->reason = TRACE_ERROR;
		w->detail = "fail_entry";
		pr_err("vCPU %u: VM entry failed, hardware reason 0x%llx",
		       c->id, (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		arch_vcpu_dump_regs(c);
		vm_request_stop(vm, VM_EXIT_KVM_FAILURE);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		w->reason = TRACE_ERROR;
		w->detail = "internal_error";
		pr_err("vCPU %u: KVM internal error, suberror %u%s", c->id,
		       run->internal.suberror,
		       run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			       " (instruction emulation failed)" : "");
		arch_vcpu_dump_regs(c);
		vm_request_stop(vm, VM_EXIT_KVM_FAILURE);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		w->reason = TRACE_SYSTEM_EVENT;
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			w->detail = "shutdown";
			vm_request_stop(vm, VM_EXIT_OK);
			break;
		case KVM_SYSTEM_EVENT_RESET:
			w->detail = "reset";
			vm_request_reboot(vm);
			break;
		case KVM_SYSTEM_EVENT_CRASH:
			w->detail = "crash";
			pr_err("guest reported a crash");
			vm_request_stop(vm, VM_EXIT_GUEST_PANIC);
			break;
		default:
			pr_err("vCPU %u: unknown system event %u", c->id,
			       run->system_event.type);
			vm_request_stop(vm, VM_EXIT_KVM_FAILURE);
		}
		return false;
	default:
		stat_inc(&vm->stats, STAT_EXIT_OTHER);
		w->reason = TRACE_OTHER;
		pr_err("vCPU %u: unexpected exit reason %u", c->id,
		       run->exit_reason);
		arch_vcpu_dump_regs(c);
		vm_request_stop(vm, VM_EXIT_KVM_FAILURE);
		return false;
	}
}

/* A traced exit: dispatched, timed, and its line written. */
static bool __attribute__((noinline)) watch_exit(struct vcpu *c)
{
	struct exit_info info = { .reason = TRACE_OTHER };
	char detail[24];
	uint64_t t0 = trace_now_ns(), ns;
	unsigned reason = c->run->exit_reason;
	bool go = dispatch_exit(c, &info);

	ns = trace_now_ns() - t0;
	if (info.reason == TRACE_OTHER && !info.detail) {
		snprintf(detail, sizeof(detail), "exit_reason %u", reason);
		info.detail = detail;
	}
	trace_exit(c->id, info.reason, info.detail,
		   info.has_access ? &info.access : NULL, t0, ns);
	return go;
}

/* Returns false when the vCPU must stop. Without --trace the only cost of
 * the trace is this one branch, never taken. */
static bool handle_exit(struct vcpu *c)
{
	if (__builtin_expect(c->vm->watch_exits, 0))
		return watch_exit(c);
	return dispatch_exit(c, NULL);
}

/* Paused: wait outside KVM_RUN until resumed or stopped. */
static void park(struct vcpu *c)
{
	struct vm *vm = c->vm;

	pthread_mutex_lock(&vm->pause_lock);
	if (vm->paused && !vm_stopping(vm)) {
		vm->parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->paused && !vm_stopping(vm))
			pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
		vm->parked--;
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	sigset_t set;
	int ret;

	/* Only the kick signal reaches vCPU threads; the main thread takes
	 * SIGTERM/SIGINT through a signalfd. */
	sigemptyset(&set);
	sigaddset(&set, vcpu_kick_signal);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	stats_vcpu_started(&c->vm->stats, c->id); /* gettid: before the sandbox */
	/* the last step before the first guest instruction */
	ret = sandbox_enter(SANDBOX_VCPU);
	if (ret) {
		pr_err("vCPU %u: cannot enter the seccomp sandbox: %s", c->id,
		       strerror(-ret));
		vm_request_stop(c->vm, VM_EXIT_ERROR);
		return NULL;
	}

	while (!vm_stopping(c->vm)) {
		/* time in KVM_RUN, then in the handler (CLOCK_MONOTONIC) */
		uint64_t t0 = stats_now_ns(), t1;
		int r = ioctl(c->fd, KVM_RUN, 0), err = errno;
		bool go;

		t1 = stats_now_ns();
		stats_vcpu_time(&c->vm->stats, c->id, t1 - t0, 0, false);
		if (r < 0) {
			errno = err;
			if (errno == EINTR || errno == EAGAIN) {
				/* Kicked. Whoever kicked set its flag (stop or
				 * pause) before immediate_exit, so clearing it
				 * here cannot lose a request. */
				stat_inc(&c->vm->stats, STAT_EXIT_INTR);
				__atomic_store_n(&c->run->immediate_exit, 0,
						 __ATOMIC_SEQ_CST);
				park(c);
				continue;
			}
			pr_err("vCPU %u: KVM_RUN: %s", c->id, strerror(errno));
			vm_request_stop(c->vm, VM_EXIT_KVM_FAILURE);
			break;
		}
		go = handle_exit(c);
		t0 = stats_now_ns() - t1;
		stats_exit_time(&c->vm->stats, c->run->exit_reason, t0);
		stats_vcpu_time(&c->vm->stats, c->id, 0, t0, true);
		if (!go)
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *c)
{
	char name[16];
	int e = pthread_create(&c->thread, NULL, vcpu_thread, c);

	if (e) {
		pr_err("vCPU %u: cannot start thread: %s", c->id, strerror(e));
		return -e;
	}
	snprintf(name, sizeof(name), "vcpu%u", c->id);
	pthread_setname_np(c->thread, name);
	/* release: a kicker that sees started sees c->thread */
	__atomic_store_n(&c->started, true, __ATOMIC_RELEASE);
	return 0;
}

void vcpu_kick(struct vcpu *c)
{
	struct kvm_run *run = __atomic_load_n(&c->run, __ATOMIC_ACQUIRE);

	if (!run)
		return;
	/* immediate_exit makes the next KVM_RUN return at once, closing the
	 * window between the stop check and entering the guest. */
	__atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->started, __ATOMIC_ACQUIRE))
		pthread_kill(c->thread, vcpu_kick_signal);
}

/* The caller has requested the stop and shut the kick gate
 * (vm_close_kicks): nobody else touches c->run or c->thread now. */
void vcpu_destroy(struct vcpu *c)
{
	if (c->started) {
		vcpu_kick(c);
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	if (c->run)
		munmap(c->run, (size_t)c->vm->vcpu_mmap_size);
	if (c->fd > 0)
		close(c->fd);
	c->run = NULL;
	c->fd = -1;
}
