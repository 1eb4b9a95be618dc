/* SPDX-License-Identifier: MIT
 * device.h - the one shape every device has.
 *
 * Every device model (the UART, the i8042, the RTC, ACPI PM, pvpanic,
 * virtio-blk/net/rng, IDE, e1000...) is driven through the same five steps,
 * and the machine (vmm/machine.c) keeps every device in one list that it
 * owns, in the order the devices were created:
 *
 *   create   <model>_create(vm, cfg, &dev)   set up the device's state and
 *            return its handle; 0 or -errno, never prints: the caller
 *            prints the one error line, naming the option at fault
 *   attach   ops->attach(dev)   claim its ports, plug into the PCI bus,
 *            start its I/O threads: from here on the guest can reach it
 *   reset    ops->reset(dev)    back to the power-on state (a platform
 *            reset); optional
 *   stop     ops->stop(dev)     stop every thread and timer of its own: no
 *            callback of the device runs after it returns (called with the
 *            vCPUs already stopped, before the buses are torn down); optional
 *   free     ops->free(dev)     release everything, after the buses are
 *            gone; the handle is invalid afterwards
 *
 * A device embeds struct device in its own state and finds itself again
 * with container_of(). Nothing else keeps a list of devices.
 */
#ifndef MINIVMM_DEVICE_H
#define MINIVMM_DEVICE_H

#include <stddef.h>

struct vm;
struct device;

struct device_ops {
	const char *kind; /* "virtio-blk", "uart16550", ... */
	int (*attach)(struct device *dev);
	void (*reset)(struct device *dev);
	void (*stop)(struct device *dev);
	void (*free)(struct device *dev);
};

struct device {
	const struct device_ops *ops;
	struct vm *vm;
	char name[32]; /* instance name: "virtio-blk0", "com1", ... */
};

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#endif
