/* SPDX-License-Identifier: MIT
 * fuzz_qcow2 - libFuzzer target for the qcow2 backend: the input is a
 * whole image file (kept in a memfd). It is opened read-only and read,
 * then opened read-write, written, discarded, zeroed and flushed, then
 * checked with qcow2_check, repairing leaks (as `img check -r leaks`) after
 * the writes. Any crash, sanitizer report or hang is a bug; errors are the
 * expected outcome for most inputs.
 * Build and run: tests/fuzz/run-fuzz.sh [SECONDS] qcow2.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/disk/disk_int.h"
#include "vmm/log.h"

static void exercise(struct blockdev *bd, const uint8_t *data, size_t size)
{
	static uint8_t buf[256 * 1024];
	struct iovec v = { buf, 0 };
	/* reads: the start, and offsets taken from the input's tail */
	uint64_t vs = bd->size;
	for (int i = 0; i < 6 && vs; i++) {
		uint64_t off = 0, len = sizeof(buf);
		if (i && size >= 8 * (size_t)i) {
			memcpy(&off, data + size - 8 * (size_t)i, 8);
			off = (off % vs) & ~511ull;
		}
		if (len > vs - off)
			len = vs - off;
		v.iov_len = (size_t)len;
		blockdev_preadv(bd, &v, 1, off);
	}
	if (bd->readonly || !vs)
		return;
	memset(buf, 0xa5, sizeof(buf));
	for (int i = 0; i < 4; i++) {
		uint64_t off = ((uint64_t)i * 0x9e3779b97f4a7c15ull % vs) & ~511ull;
		uint64_t len = 4096 * (uint64_t)(i + 1) + 512;
		if (len > vs - off)
			len = vs - off;
		v.iov_len = (size_t)len;
		blockdev_pwritev(bd, &v, 1, off);
	}
	blockdev_write_zeroes(bd, 0, vs < 131072 ? vs : 131072, true);
	blockdev_discard(bd, vs / 2 & ~511ull, vs - (vs / 2 & ~511ull) < 65536
						     ? vs - (vs / 2 & ~511ull)
						     : 65536);
	blockdev_flush(bd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	struct blockdev *bd;
	log_quiet = true;

	int fd = memfd_create("fuzz.qcow2", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (int rw = 0; rw < 2; rw++) {
		struct blockdev_opts o = { .path = path, .format = "qcow2",
					   .readonly = !rw };
		if (blockdev_open(&o, &bd, err, sizeof(err)) == 0) {
			exercise(bd, data, size);
			struct qcow2_check_result r;
			struct stat st;
			/* writes may have grown a sparse file far out: the
			 * check's per-cluster table would be large and slow */
			if (!fstat(fd, &st) && st.st_size < (64 << 20))
				qcow2_check(bd, rw, &r, NULL, NULL);
			blockdev_close(bd);
		}
	}
	close(fd);
	return 0;
}
