/* SPDX-License-Identifier: MIT
 * kvm.c - the VM, the part every KVM architecture shares: /dev/kvm and its
 * capabilities, guest RAM and its memory slots, GSI routing (the irqchip
 * pins the architecture wires, then one MSI route per vector), irqfd and
 * ioeventfd, and stop/pause. What is architecture-specific (where RAM goes,
 * the in-kernel interrupt controllers and timer, their wiring) is asked
 * through vmm/arch.h, implemented for x86 in vmm/x86/vm_x86.c (arm64:
 * vmm/arm64/vm_arm64.c).
 *
 * The KVM API: Documentation/virt/kvm/api.rst in the Linux tree.
 */
#include "vm.h"
#include "arch.h"
#include "log.h"
#include "vcpu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 1024

/* What every architecture needs; arch_vm_caps[] (vmm/arch.h) adds the rest.
 * Ended by { 0, NULL } like arch_vm_caps. */
static const struct vm_cap generic_caps[] = {
	VM_CAP(KVM_CAP_USER_MEMORY),
	VM_CAP(KVM_CAP_IRQ_ROUTING),
	VM_CAP(KVM_CAP_IRQFD),
	VM_CAP(KVM_CAP_IOEVENTFD),
	VM_CAP(KVM_CAP_IOEVENTFD_ANY_LENGTH),
	VM_CAP(KVM_CAP_SIGNAL_MSI),
	VM_CAP(KVM_CAP_IMMEDIATE_EXIT),
	{ 0, NULL },
};

bool kvm_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		pr_err("/dev/kvm: KVM is not available on this machine (load "
		       "kvm_intel or kvm_amd, or use tests/harness/kvm-run, "
		       "which runs minivmm in an emulated KVM host)");
	else if (errno == EACCES || errno == EPERM)
		pr_err("/dev/kvm: permission denied (add your user to the "
		       "'kvm' group: sudo usermod -aG kvm $USER, then log in "
		       "again)");
	else
		pr_err("/dev/kvm: %s", strerror(errno));
	return -errno;
}

static int check_caps(int kvm_fd, const struct vm_cap *caps)
{
	for (; caps->name; caps++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps->cap) <= 0) {
			pr_err("/dev/kvm: missing capability %s", caps->name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int check_kvm(int kvm_fd)
{
	int v = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	int ret;

	if (v != KVM_API_VERSION) {
		pr_err("/dev/kvm: API version %d, minivmm needs %d", v,
		       KVM_API_VERSION);
		return -ENOTSUP;
	}
	if ((ret = check_caps(kvm_fd, generic_caps)))
		return ret;
	return check_caps(kvm_fd, arch_vm_caps);
}

static int alloc_ram(struct vm *vm, uint64_t gpa, uint64_t size, bool hugetlb)
{
	void *host;
	int ret = gm_map_ram(size, hugetlb, &host);

	if (ret == -ENOMEM && hugetlb) {
		long free_pages = gm_free_huge_pages();

		pr_err("--memory: hugepages=on needs %llu free 2 MiB huge pages, "
		       "%ld are free (reserve them: echo N > "
		       "/proc/sys/vm/nr_hugepages)",
		       (unsigned long long)(size / GM_HUGE_PAGE), free_pages);
		return ret;
	}
	if (ret) {
		pr_err("--memory: cannot allocate %llu MiB of guest RAM%s: %s",
		       (unsigned long long)(size >> 20),
		       hugetlb ? " in huge pages" : "", strerror(-ret));
		return ret;
	}
	if ((ret = gm_add_region(&vm->mem, gpa, size, host)))
		gm_unmap_ram(host, size);
	return ret;
}

/* Guest RAM region i in slot i. */
static int register_ram(struct vm *vm)
{
	int ret;

	for (unsigned i = 0; i < vm->mem.nr; i++) {
		ret = vm_set_memslot(vm, i, vm->mem.r[i].gpa, vm->mem.r[i].size,
				     vm->mem.r[i].host, false);
		if (ret) {
			pr_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(-ret));
			return ret;
		}
	}
	vm->nr_memslots = vm->mem.nr;
	return 0;
}

/* ---- memory slots ---- */

int vm_memslot_alloc(struct vm *vm)
{
	/* KVM_CAP_NR_MEMSLOTS is at least 32 on every architecture */
	if (vm->nr_memslots >= 32)
		return -ENOSPC;
	return (int)vm->nr_memslots++;
}

int vm_set_memslot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
		   void *host, bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = readonly && size ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = size ? (uint64_t)(uintptr_t)host : 0,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	return 0;
}

int vm_ram_hole(struct vm *vm, uint64_t gpa, uint64_t size)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), end;
	int ret, above;

	if (!size || gpa % page || size % page ||
	    __builtin_add_overflow(gpa, size, &end))
		return -EINVAL;
	for (unsigned i = 0; i < vm->mem.nr; i++) {
		const struct gm_region *r = &vm->mem.r[i];

		if (gpa < r->gpa || end > r->gpa + r->size)
			continue;
		above = -1;
		if (end < r->gpa + r->size && (above = vm_memslot_alloc(vm)) < 0)
			return above;
		/* the slot is emptied first: KVM does not shrink a live one */
		if ((ret = vm_set_memslot(vm, i, 0, 0, NULL, false)))
			return ret;
		if (gpa > r->gpa &&
		    (ret = vm_set_memslot(vm, i, r->gpa, gpa - r->gpa, r->host,
					  false)))
			return ret;
		if (above >= 0)
			ret = vm_set_memslot(vm, (unsigned)above, end,
					     r->gpa + r->size - end,
					     r->host + (end - r->gpa), false);
		return ret;
	}
	return -EINVAL;
}

/* ---- interrupt routing ---- */

void vm_route_irqchip(struct vm *vm, unsigned gsi, unsigned chip,
		      unsigned pin)
{
	struct kvm_irq_routing_entry *e;

	if (vm->routes->nr >= MAX_ROUTES)
		return; /* cannot happen: a few dozen pins at most */
	e = &vm->routes->entries[vm->routes->nr++];
	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

static int commit_routes(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->routes) < 0) {
		int e = -errno;
		pr_err("KVM_SET_GSI_ROUTING: %s", strerror(errno));
		return e;
	}
	return 0;
}

/* The architecture wires its irqchip pins (x86: the PICs and the IOAPIC);
 * the GSIs after them are handed out for MSI by vm_msi_alloc. */
static int init_routes(struct vm *vm)
{
	vm->routes = calloc(1, sizeof(*vm->routes) +
				       MAX_ROUTES * sizeof(vm->routes->entries[0]));
	if (!vm->routes)
		return -ENOMEM;
	vm->first_msi_gsi = arch_default_routes(vm);
	vm->next_gsi = vm->first_msi_gsi;
	return commit_routes(vm);
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = arch_irq_line(gsi),
				   .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	stat_inc(&vm->stats, STAT_IRQS);
	return 0;
}

int vm_msi_alloc(struct vm *vm)
{
	int gsi = -ENOSPC;

	pthread_mutex_lock(&vm->irq_lock);
	if (vm->next_gsi < MAX_ROUTES)
		gsi = (int)vm->next_gsi++;
	pthread_mutex_unlock(&vm->irq_lock);
	return gsi;
}

int vm_msi_route(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data,
		 uint32_t devid)
{
	struct kvm_irq_routing_entry *e = NULL;
	int ret;

	if (gsi < vm->first_msi_gsi || gsi >= vm->next_gsi)
		return -EINVAL;
	pthread_mutex_lock(&vm->irq_lock);
	for (unsigned i = 0; i < vm->routes->nr; i++)
		if (vm->routes->entries[i].gsi == gsi)
			e = &vm->routes->entries[i];
	if (!e) {
		if (vm->routes->nr >= MAX_ROUTES) {
			pthread_mutex_unlock(&vm->irq_lock);
			return -ENOSPC;
		}
		e = &vm->routes->entries[vm->routes->nr++];
	}
	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)addr,
			   .address_hi = (uint32_t)(addr >> 32),
			   .data = data },
	};
	if (arch_msi_devid) {
		e->flags = KVM_MSI_VALID_DEVID;
		e->u.msi.devid = devid;
	}
	ret = commit_routes(vm);
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data, uint32_t devid)
{
	struct kvm_msi msi = { .address_lo = (uint32_t)addr,
			       .address_hi = (uint32_t)(addr >> 32),
			       .data = data };

	if (arch_msi_devid) {
		msi.flags = KVM_MSI_VALID_DEVID;
		msi.devid = devid;
	}

	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	stat_inc(&vm->stats, STAT_IRQS);
	return 0;
}

int vm_irqfd(struct vm *vm, int efd, unsigned gsi, int resamplefd, bool assign)
{
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi };

	if (!assign)
		f.flags |= KVM_IRQFD_FLAG_DEASSIGN;
	else if (resamplefd >= 0) {
		f.flags |= KVM_IRQFD_FLAG_RESAMPLE;
		f.resamplefd = (uint32_t)resamplefd;
	}
	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, unsigned len, bool pio,
		 bool assign)
{
	struct kvm_ioeventfd e = { .addr = addr, .len = len, .fd = efd };

	if (pio)
		e.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (!assign)
		e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

/* ---- lifecycle ---- */

/* Kick every vCPU out of KVM_RUN, unless teardown has shut the gate
 * (vm_close_kicks): the vCPUs are being destroyed then. Counting the kicks
 * in progress lets vm_close_kicks wait for them: either it sees this one,
 * or this one sees the gate shut (both sides are seq_cst). */
static void kick_all(struct vm *vm)
{
	__atomic_add_fetch(&vm->kicks_active, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&vm->kicks_closed, __ATOMIC_SEQ_CST) && vm->vcpus)
		for (unsigned i = 0; i < vm->nr_cpus; i++)
			vcpu_kick(&vm->vcpus[i]);
	__atomic_sub_fetch(&vm->kicks_active, 1, __ATOMIC_SEQ_CST);
}

void vm_close_kicks(struct vm *vm)
{
	__atomic_store_n(&vm->kicks_closed, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&vm->kicks_active, __ATOMIC_SEQ_CST))
		sched_yield();
}

static void request_stop(struct vm *vm, int status, bool reboot)
{
	int expected = 0;
	uint64_t one = 1;
	ssize_t r;

	/* Two steps, so that nobody sees the stop before its reason: claim
	 * (0 -> -1; the first reason to stop wins), write exit_status and
	 * reboot_requested, then publish (-1 -> 1). vm_stopping() is true
	 * only once published. */
	if (!__atomic_compare_exchange_n(&vm->stop_requested, &expected, -1,
					 false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return;
	vm->exit_status = status;
	vm->reboot_requested = reboot;
	/* release: pairs with the acquire in vm_stopping(); a thread that
	 * sees the stop (the main loop reads exit_status next) sees the
	 * reason written above */
	__atomic_store_n(&vm->stop_requested, 1, __ATOMIC_RELEASE);
	kick_all(vm);
	/* parked vCPUs wake up and see the stop */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	r = write(vm->stop_efd, &one, sizeof(one));
	(void)r;
}

void vm_request_stop(struct vm *vm, int status)
{
	request_stop(vm, status, false);
}

void vm_request_reboot(struct vm *vm)
{
	request_stop(vm, VM_EXIT_OK, vm->on_reboot == VM_REBOOT_RESTART);
}

bool vm_stopping(const struct vm *vm)
{
	/* acquire: pairs with the release in request_stop() (see there);
	 * -1 is a stop still being recorded, not yet visible */
	return __atomic_load_n(&vm->stop_requested, __ATOMIC_ACQUIRE) > 0;
}

bool vm_pause(struct vm *vm)
{
	unsigned running = 0;
	bool all;

	pthread_mutex_lock(&vm->pause_lock);
	vm->paused = 1;
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_cpus; i++)
		if (__atomic_load_n(&vm->vcpus[i].started, __ATOMIC_ACQUIRE))
			running++;
	kick_all(vm);
	/* Wait (bounded: a vCPU may be inside a device call that needs the
	 * caller's thread) until every running vCPU has parked. */
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 1;
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < running && !vm_stopping(vm))
		if (pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock,
					   &deadline))
			break;
	all = vm->parked >= running;
	pthread_mutex_unlock(&vm->pause_lock);
	return all;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused = 0;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* ---- creation ---- */

int vm_init_memory(struct vm *vm, uint64_t mem_size, bool hugetlb,
		   unsigned nr_cpus)
{
	struct arch_ram ram[ARCH_MAX_RAM];
	unsigned nr_ram;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = -1;
	pthread_mutex_init(&vm->irq_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0)
		return -errno;
	vm->nr_cpus = nr_cpus;
	vm->vcpus = calloc(nr_cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	if ((ret = arch_vm_init(vm)))
		return ret;

	/* Where guest RAM goes is the architecture's business (x86: around
	 * the 32-bit PCI hole); one anonymous mapping per piece. */
	vm->mem_size = mem_size;
	nr_ram = arch_memory_layout(vm, ram);
	for (unsigned i = 0; i < nr_ram; i++)
		if ((ret = alloc_ram(vm, ram[i].gpa, ram[i].size, hugetlb)))
			return ret;
	return 0;
}

int vm_create(struct vm *vm)
{
	int ret;

	vm->kvm_fd = open_kvm();
	if (vm->kvm_fd < 0)
		return vm->kvm_fd;
	if ((ret = check_kvm(vm->kvm_fd)))
		return ret;
	ret = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (ret <= 0)
		ret = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (ret > 0 && vm->nr_cpus > (unsigned)ret) {
		pr_err("--cpus: %u vCPUs requested, this KVM allows at most %d",
		       vm->nr_cpus, ret);
		return -EINVAL;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -errno;
	}

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	/* Guest RAM first: a memory slot added to a VM that has no in-kernel
	 * devices yet is installed at once, while one added after
	 * KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2 waited for the kernel
	 * (measured on a PVM /dev/kvm: 4-10 ms for each slot, whatever its
	 * size, against 0.06 ms). KVM asks no order of these calls. */
	if ((ret = register_ram(vm)))
		return ret;
	/* what this architecture's VM needs (x86: TSS and identity map, the
	 * in-kernel PICs, IOAPIC and PIT) */
	if ((ret = arch_vm_setup(vm)))
		return ret;
	return init_routes(vm);
}

void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nr; i++)
		gm_unmap_ram(vm->mem.r[i].host, vm->mem.r[i].size);
	vm->mem.nr = 0;
	free(vm->vcpus);
	vm->vcpus = NULL;
	free(vm->routes);
	vm->routes = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	vm->vm_fd = vm->kvm_fd = vm->stop_efd = -1;
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	pthread_mutex_destroy(&vm->irq_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
	arch_vm_destroy(vm);
	vm->arch = NULL;
}
