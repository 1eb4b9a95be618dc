/* SPDX-License-Identifier: MIT
 * fuzz_disk.c - disks for the hostile-driver targets (fuzz_pci.h): raw
 * images in memfds, zeroed for every input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/disk/blockdev.h"
#include "fuzz_pci.h"

#define FZ_DISKS 3

struct blockdev *fz_raw_disk(unsigned i, uint64_t size)
{
	static int fd[FZ_DISKS] = { -1, -1, -1 };
	char path[64], err[256];
	struct blockdev_opts o = { .path = path, .format = "raw" };
	struct blockdev *bd;

	if (i >= FZ_DISKS)
		abort();
	if (fd[i] < 0)
		fd[i] = memfd_create("fuzz-disk", MFD_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd[i]);
	if (fd[i] < 0 || ftruncate(fd[i], 0) || ftruncate(fd[i], (off_t)size) ||
	    blockdev_open(&o, &bd, err, sizeof(err)))
		abort();
	return bd;
}
