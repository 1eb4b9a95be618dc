/* SPDX-License-Identifier: MIT
 * fuzz_virtio.c - the part of the hostile driver (fuzz_pci.h) common to
 * the virtio-pci devices: what their I/O threads do, done here.
 */
#include "fuzz_virtio.h"

#include <unistd.h>

/* As the queue threads would: every queue kicked (its eventfd written by a
 * notify-region write, or by the device itself to resume) is served if the
 * device may run, until no kick is left (bounded: a device that keeps
 * kicking itself is a finding of its own, a hang). */
void fz_virtio_run(void *opaque)
{
	struct virtio_dev *d = opaque;

	for (unsigned round = 0; round < 64; round++) {
		bool kicked = false;

		for (unsigned i = 0; i < d->desc.nr_queues; i++) {
			uint64_t cnt;

			if (read(d->q[i].efd, &cnt, sizeof(cnt)) != sizeof(cnt))
				continue;
			kicked = true;
			if (virtio_pci_running(d) && d->vqs[i].ready)
				d->desc.ops->queue_notify(d, i);
		}
		if (!kicked)
			return;
	}
}

void fz_virtio_one(struct virtio_dev *d, const struct fz_dev *how,
		   const uint8_t *data, size_t size)
{
	struct fz_dev dev = *how;

	dev.pci = &d->pci;
	if (pci_bus_add(fz_vm.pci, &d->pci) == 0)
		fz_run_program(&dev, data, size);
	fz_pci_bus_end();
	d->dev.ops->free(&d->dev);
	fz_buses_end();
}
