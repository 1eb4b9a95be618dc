/* SPDX-License-Identifier: MIT
 * device.h - the one shape every device has.
 *
 * Every device model (the UART, the i8042, the RTC, ACPI PM, pvpanic,
 * virtio-blk/net/rng...) is driven through the same four steps, and the
 * machine (vmm/machine.c) keeps every device in one list that it owns
 * (struct device_list), in the order the devices were created:
 *
 *   create   <model>_create(vm, [cfg,] &handle)   set up the device's state
 *            and return a typed handle that embeds struct device; 0 or
 *            -errno, never prints (the caller prints the one error line,
 *            naming the option at fault), leaves nothing behind on failure
 *   attach   ops->attach(dev)   claim its ports, plug into the PCI bus,
 *            start its I/O threads: from here on the guest can reach it.
 *            Every range it claims comes with the names of its registers
 *            for --trace: bus_add's reg argument, or pci_bar.reg for a
 *            PCI BAR (see bus_reg_fn in vmm/bus.h). On
 *            failure it leaves the device so that stop and free still work
 *            (and never releases what another device holds)
 *   stop     ops->stop(dev)     stop every thread and timer of its own: no
 *            callback of the device runs after it returns (called with the
 *            vCPUs already stopped, before the PCI bus is torn down);
 *            optional
 *   free     ops->free(dev)     release everything, after the PCI bus is
 *            gone; the handle is invalid afterwards
 *
 * There is no reset step: a platform reset (--on-reboot=restart) rebuilds
 * the whole machine, and a device reset the guest asks for (virtio status
 * 0) is the model's own business.
 *
 * A device embeds struct device in its own state and finds itself again
 * with container_of(). Nothing but the machine's list keeps a list of
 * devices; what the machine needs from one device (the console's UART, the
 * ACPI power button) it keeps as the typed handle the constructor returned.
 */
#ifndef MINIVMM_DEVICE_H
#define MINIVMM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "vmm/log.h"

struct vm;
struct device;

struct device_ops {
	int (*attach)(struct device *dev);
	void (*stop)(struct device *dev); /* optional */
	void (*free)(struct device *dev);
};

struct device {
	const struct device_ops *ops;
	const char *kind; /* "virtio-blk", "uart16550", ... */
	struct vm *vm;
	/* instance name: "virtio-blk0", "e1000-1", "com1"... the one name of
	 * this device in bus ranges (--trace and its filters, --stats' exits
	 * by device and register), warnings, the queue counters of a
	 * virtio device and an e1000's own counters */
	char name[32];
	bool numbered;    /* named by the list when added: <kind><n> */
	struct log_budget warn; /* the warnings its guest may cause */
};

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

/* For constructors. name NULL: a device a machine may have several of,
 * named <kind><n> by the list when it is added (n counts the devices of
 * that kind before it; "-" goes between a kind that ends in a digit and
 * n: "virtio-blk0", "e1000-0"); until then its name is its kind, so that
 * names can be taken as pointers (a PCI function's, a bus range's) at
 * creation. The PC's one-of-a-kind devices give their name ("com1",
 * "i8042", "rtc"...). */
static inline void device_init(struct device *dev,
			       const struct device_ops *ops, const char *kind,
			       struct vm *vm, const char *name)
{
	dev->ops = ops;
	dev->kind = kind;
	dev->vm = vm;
	dev->warn = (struct log_budget){ 0 };
	dev->numbered = !name;
	snprintf(dev->name, sizeof(dev->name), "%s", name ? name : kind);
}

/* The machine's devices, in creation order. Zeroed is empty. */
struct device_list {
	struct device **devs;
	unsigned nr, cap;
};

/* Record dev (just created) at the end of l, then attach it. The list owns
 * dev from here whatever the result: if it cannot be recorded it is freed
 * at once; if its attach fails it stays in the list, and the caller's
 * teardown (device_list_stop, then device_list_free) ends it with the
 * others. 0 or -errno (-ENOMEM, or the attach's error). */
int device_list_add(struct device_list *l, struct device *dev);

/* Stop every device, the last created first. */
void device_list_stop(struct device_list *l);

/* Free every device, the last created first, and empty the list. Call
 * after device_list_stop and after the PCI bus is destroyed. */
void device_list_free(struct device_list *l);

#endif
