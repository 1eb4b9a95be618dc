/* SPDX-License-Identifier: MIT
 * fuzz_virtio_blk - libFuzzer target: a hostile driver (fuzz_pci.h)
 * against virtio-blk (virtio/blk.c) with two request queues, over the
 * virtio-pci transport, its config space and MSI-X table. The disk is a
 * 1 MiB raw image in a memfd, zeroed for every input.
 */
#include <stdlib.h>

#include "fuzz_virtio.h"
#include "virtio/blk.h"

#define DISK_SIZE (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_blk_cfg bc = { .bd = fz_raw_disk(0, DISK_SIZE),
				     .serial = "fuzz", .nr_queues = 2 };
	struct virtio_dev *d;

	fz_machine_begin();
	if (virtio_blk_create(&fz_vm, &bc, &d))
		abort();
	fz_virtio_one(d, &(struct fz_dev){ .run = fz_virtio_run, .opaque = d },
		      data, size);
	return 0;
}
