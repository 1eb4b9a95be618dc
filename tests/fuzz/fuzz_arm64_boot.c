/* SPDX-License-Identifier: MIT
 * fuzz_arm64_boot - libFuzzer target for the arm64 boot path: the input is
 * a kernel Image or Image.gz (kept in a memfd), loaded by
 * boot/arm64/image.c with a small initrd into 64 MiB of guest RAM at the
 * arm64 RAM base; when it loads, the device tree (boot/arm64/fdt.c) is
 * built for the ranges the loader chose and placed where it said
 * (arm64_fdt_place).
 * Errors are the expected outcome for most inputs; a crash, a sanitizer
 * report, or a tree outside its place is a bug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libfdt.h>

#include "boot/arm64/fdt.h"
#include "boot/arm64/image.h"

#define RAM_SIZE (64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static uint8_t *ram;
	static char initrd[64];
	static int fd = -1;
	struct arm64_boot_info info;
	struct arm64_boot_cfg cfg;
	struct arm64_fdt_cfg fcfg;
	char path[64], err[256];

	if (!ram) {
		static const uint8_t cpio[4096] = { '0', '7', '0', '7', '0', '1' };
		int rfd = memfd_create("fuzz-initrd", MFD_CLOEXEC);

		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		fd = memfd_create("fuzz-kernel", MFD_CLOEXEC);
		if (ram == MAP_FAILED || fd < 0 || rfd < 0 ||
		    write(rfd, cpio, sizeof(cpio)) != sizeof(cpio) ||
		    gm_add_region(&gm, ARM64_RAM_BASE, RAM_SIZE, ram))
			abort();
		snprintf(initrd, sizeof(initrd), "/proc/self/fd/%d", rfd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cfg = (struct arm64_boot_cfg){ .kernel = path, .initrd = initrd,
				       .ram_base = ARM64_RAM_BASE,
				       .ram_size = RAM_SIZE };
	if (arm64_boot_load(&gm, &cfg, &info, err, sizeof(err)))
		return 0;
	if (info.kernel_start < ARM64_RAM_BASE ||
	    info.kernel_end > info.initrd_start ||
	    info.initrd_end > info.fdt_addr ||
	    info.fdt_addr + info.fdt_max > ARM64_RAM_BASE + RAM_SIZE)
		abort();
	arm64_fdt_default_cfg(&fcfg, RAM_SIZE, 2);
	if (arm64_fdt_place(&gm, &fcfg, "console=ttyS0", &info, NULL, err,
			    sizeof(err)) ||
	    fdt_check_header(gm_ptr(&gm, info.fdt_addr, 64)))
		abort();
	return 0;
}
