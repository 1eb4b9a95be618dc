/* SPDX-License-Identifier: MIT
 * fake_vm.c - a recording stand-in for the KVM side of struct vm, so device
 * models (PCI, MSI-X, virtio-pci) can be unit-tested without /dev/kvm.
 * Tests inspect the fake_* globals to see what a device asked KVM to do.
 */
#include "fake_vm.h"

#include <errno.h>
#include <string.h>

struct fake_vm_log fake;

void fake_vm_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.next_gsi = 24;
}

int fake_vm_init(struct vm *vm)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	fake_vm_reset();
	if ((ret = bus_init(&vm->pio, "pio")))
		return ret;
	if ((ret = bus_init(&vm->mmio, "mmio")))
		bus_destroy(&vm->pio);
	return ret;
}

void fake_vm_destroy(struct vm *vm)
{
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	(void)vm;
	if (gsi < FAKE_MAX_GSI)
		fake.irq_level[gsi] = level;
	fake.irq_line_calls++;
	return 0;
}

int vm_msi_alloc(struct vm *vm)
{
	(void)vm;
	if (fake.next_gsi >= FAKE_MAX_GSI)
		return -ENOSPC;
	return (int)fake.next_gsi++;
}

int vm_msi_route(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data,
		 uint32_t devid)
{
	(void)vm;
	fake.last_devid = devid;
	if (gsi >= FAKE_MAX_GSI)
		return -EINVAL;
	fake.route_addr[gsi] = addr;
	fake.route_data[gsi] = data;
	fake.route_calls++;
	return 0;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data, uint32_t devid)
{
	(void)vm;
	fake.last_devid = devid;
	fake.last_msi_addr = addr;
	fake.last_msi_data = data;
	fake.signal_msi_calls++;
	return 0;
}

int vm_irqfd(struct vm *vm, int efd, unsigned gsi, int resamplefd,
	     bool assign)
{
	(void)vm;
	(void)resamplefd;
	if (gsi >= FAKE_MAX_GSI)
		return -EINVAL;
	fake.irqfd[gsi] = assign ? efd : -1;
	fake.irqfd_calls++;
	return 0;
}

int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, unsigned len,
		 bool pio, bool assign)
{
	(void)vm;
	(void)len;
	(void)pio;
	if (fake.nr_ioeventfd < FAKE_MAX_IOEVENTFD && assign) {
		fake.ioeventfd_addr[fake.nr_ioeventfd] = addr;
		fake.ioeventfd_fd[fake.nr_ioeventfd++] = efd;
	}
	if (!assign)
		fake.ioeventfd_deassigned++;
	return 0;
}

void vm_request_stop(struct vm *vm, int status)
{
	(void)vm;
	fake.stop_calls++;
	fake.stop_status = status;
}

void vm_request_reboot(struct vm *vm)
{
	(void)vm;
	fake.reboot_calls++;
}

bool vm_stopping(const struct vm *vm)
{
	(void)vm;
	return fake.stop_calls > 0;
}

int vm_memslot_alloc(struct vm *vm)
{
	return vm->nr_memslots < 32 ? (int)vm->nr_memslots++ : -ENOSPC;
}

static void fake_memslot_record(unsigned slot, uint64_t gpa, uint64_t size,
				void *host, bool readonly)
{
	if (fake.nr_memslot_calls < FAKE_MAX_MEMSLOT_CALLS)
		fake.memslot[fake.nr_memslot_calls++] =
			(struct fake_memslot_call){ slot, gpa, size, host, readonly };
}

int vm_set_memslot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
		   void *host, bool readonly)
{
	(void)vm;
	if (fake.memslot_error)
		return fake.memslot_error;
	fake_memslot_record(slot, gpa, size, host, readonly);
	return 0;
}

int vm_ram_hole(struct vm *vm, uint64_t gpa, uint64_t size)
{
	(void)vm;
	fake_memslot_record(~0u, gpa, size, NULL, false);
	return 0;
}
