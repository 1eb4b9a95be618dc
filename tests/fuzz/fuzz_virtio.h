/* SPDX-License-Identifier: MIT
 * fuzz_virtio.h - the virtio-pci side of the hostile driver (fuzz_pci.h).
 */
#ifndef MINIVMM_FUZZ_VIRTIO_H
#define MINIVMM_FUZZ_VIRTIO_H

#include "fuzz_pci.h"
#include "virtio/virtio_pci.h"

/* Serve the kicked queues of the virtio_dev opaque (an fz_dev run hook). */
void fz_virtio_run(void *opaque);
/* Plug d (made by the target after fz_machine_begin) into the PCI bus, run
 * the program with how's hooks, free d and the machine's buses. */
void fz_virtio_one(struct virtio_dev *d, const struct fz_dev *how,
		   const uint8_t *data, size_t size);

#endif
