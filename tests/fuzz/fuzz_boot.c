/* SPDX-License-Identifier: MIT
 * fuzz_boot - libFuzzer target for the x86 kernel loaders: the input is a
 * kernel image (kept in a memfd), loaded by the bzImage loader
 * (boot/x86/bzimage.c) and by the PVH ELF loader (boot/x86/pvh.c), each
 * with a command line and a small initrd, into 64 MiB of low RAM and 16 MiB
 * above 4 GiB (the fake guest of tests/unit/boot_test_util.c). Errors are
 * the expected outcome for most inputs; a crash or sanitizer report is a
 * bug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/x86/boot_priv.h"
#include "boot_test_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_guest g;
	static char *initrd;
	static int fd = -1;
	char path[64], err[256];
	struct x86_boot_entry entry;
	struct x86_boot_cfg cfg;

	if (!initrd) {
		static const uint8_t cpio[4096] = { '0', '7', '0', '7', '0', '1' };

		fake_guest_init(&g, 64 << 20, 16 << 20, 0xcc);
		initrd = temp_file(cpio, sizeof(cpio));
		fd = memfd_create("fuzz-kernel", MFD_CLOEXEC);
	}
	if (fd < 0 || ftruncate(fd, 0) ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cfg = fake_guest_cfg(&g);
	cfg.kernel = path;
	cfg.initrd = initrd;
	cfg.cmdline = "console=ttyS0 root=/dev/vda";
	x86_bzimage_load(&g.gm, &cfg, &entry, err, sizeof(err));
	x86_pvh_load(&g.gm, &cfg, &entry, err, sizeof(err));
	return 0;
}
