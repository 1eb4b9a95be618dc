/* SPDX-License-Identifier: MIT
 * fuzz_virtio_rng - libFuzzer target: a hostile driver (fuzz_pci.h)
 * against virtio-rng (virtio/rng.c) over the virtio-pci transport, its
 * config space and MSI-X table.
 */
#include <stdlib.h>

#include "fuzz_virtio.h"
#include "virtio/rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_dev *d;

	fz_machine_begin();
	if (virtio_rng_create(&fz_vm, &d))
		abort();
	fz_virtio_one(d, &(struct fz_dev){ .run = fz_virtio_run, .opaque = d },
		      data, size);
	return 0;
}
