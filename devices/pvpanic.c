/* SPDX-License-Identifier: MIT
 * pvpanic.c - PCI pvpanic device (QEMU docs/specs/pvpanic.txt: "pvpanic
 * device" and its PCI form 1b36:0011, BAR 0 memory).
 *
 * Reading byte 0 of BAR 0 returns the supported events; the guest writes
 * an event there: bit 0 PANICKED (the kernel panicked: stop the VM with
 * exit status 4), bit 1 CRASH_LOADED (a kdump kernel took over: logged
 * once, so a guest cannot flood stderr; the VM keeps running). Other bytes
 * read 0 and ignore writes.
 */
#include "pvpanic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/vm.h"

/* The device's private state around the public struct pvpanic. */
struct pvpanic_state {
	struct pvpanic p;
	bool crash_logged;
};

void pvpanic_bar_io(void *opaque, uint64_t offset, void *data, unsigned len,
		    bool is_write)
{
	struct pvpanic *p = opaque;
	uint8_t *d = data;

	if (!is_write) {
		memset(d, 0, len);
		if (offset == 0 && len > 0)
			d[0] = PVPANIC_EVENTS;
		return;
	}
	if (offset != 0 || len == 0)
		return;
	if (d[0] & PVPANIC_PANICKED) {
		pr_err("guest kernel panicked");
		vm_request_stop(p->vm, VM_EXIT_GUEST_PANIC);
	} else if (d[0] & PVPANIC_CRASH_LOADED) {
		struct pvpanic_state *st = (struct pvpanic_state *)p;

		if (!__atomic_exchange_n(&st->crash_logged, true, __ATOMIC_RELAXED))
			pr_info("guest crash kernel loaded");
	}
}

/* one register: the events the guest reports (read: those supported) */
static unsigned pvpanic_reg_name(void *opaque, uint64_t off, unsigned len,
				 bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)len;
	(void)is_write;
	snprintf(buf, size, off ? "+0x%x" : "events", (unsigned)off);
	return 0;
}

static int pvpanic_attach(struct device *dev)
{
	struct pvpanic *p = container_of(dev, struct pvpanic, dev);

	if (!p->vm->pci)
		return -ENODEV;
	return pci_bus_add(p->vm->pci, &p->pci);
}

static void pvpanic_free(struct device *dev)
{
	free(container_of(dev, struct pvpanic_state, p.dev));
}

static const struct device_ops pvpanic_ops = {
	.attach = pvpanic_attach,
	.free = pvpanic_free,
};

int pvpanic_create(struct vm *vm, struct pvpanic **out)
{
	struct pvpanic_state *st = calloc(1, sizeof(*st));
	struct pvpanic *p;
	int r;

	if (!st)
		return -ENOMEM;
	p = &st->p;
	device_init(&p->dev, &pvpanic_ops, "pvpanic", vm, "pvpanic");
	p->vm = vm;
	pci_dev_init(&p->pci, "pvpanic", PVPANIC_VENDOR, PVPANIC_DEVICE,
		     PVPANIC_CLASS, 1, 0x1af4, 0x1100);
	p->pci.opaque = p;
	r = pci_dev_set_bar(&p->pci, 0, PCI_BAR_MEM32, PVPANIC_BAR_SIZE,
			    pvpanic_bar_io, p);
	if (r) {
		free(st);
		return r;
	}
	p->pci.bars[0].reg = pvpanic_reg_name;
	*out = p;
	return 0;
}
