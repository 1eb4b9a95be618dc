/* SPDX-License-Identifier: MIT
 * boot_test_util.c - fixtures for the x86 loader tests (see the header). */
#include "boot_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/x86/layout.h"

#define FILL_BYTES (4u << 20)

static uint8_t *ram(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

void fake_guest_init(struct fake_guest *g, uint64_t low, uint64_t high,
		     uint8_t fill)
{
	memset(g, 0, sizeof(*g));
	g->low_size = low;
	g->high_size = high;
	/* Anonymous mappings, not malloc: pages nobody touches cost nothing
	 * (page faults are slow on some test machines, and meson's
	 * MALLOC_PERTURB_ would make malloc touch every page). Only the first
	 * 4 MiB, where the boot structures and small test kernels go, get the
	 * fill byte. */
	g->low = ram(low);
	memset(g->low, fill, low < FILL_BYTES ? low : FILL_BYTES);
	assert_int_equal(gm_add_region(&g->gm, 0, low, g->low), 0);
	if (high) {
		g->high = ram(high);
		memset(g->high, fill, high < FILL_BYTES ? high : FILL_BYTES);
		assert_int_equal(gm_add_region(&g->gm, X86_HIGH_RAM_START,
					       high, g->high), 0);
	}
}

void fake_guest_free(struct fake_guest *g)
{
	if (g->low)
		munmap(g->low, g->low_size);
	if (g->high)
		munmap(g->high, g->high_size);
	memset(g, 0, sizeof(*g));
}

struct x86_boot_cfg fake_guest_cfg(const struct fake_guest *g)
{
	return (struct x86_boot_cfg){ .low_size = g->low_size,
				      .high_size = g->high_size };
}

static char *temp_fd(int *fd)
{
	char *path = strdup("/tmp/minivmm-boot-test-XXXXXX");

	assert_non_null(path);
	*fd = mkstemp(path);
	assert_true(*fd >= 0);
	return path;
}

char *temp_file(const void *data, size_t len)
{
	int fd;
	char *path = temp_fd(&fd);

	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

char *temp_sparse(uint64_t size)
{
	int fd;
	char *path = temp_fd(&fd);

	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
	return path;
}

void temp_remove(char *path)
{
	if (path)
		unlink(path);
	free(path);
}

uint64_t guest_le(const struct guest_mem *gm, uint64_t gpa, unsigned n)
{
	uint8_t b[8];
	uint64_t v = 0;

	assert_true(n <= 8);
	assert_int_equal(gm_read(gm, gpa, b, n), 0);
	while (n--)
		v = (v << 8) | b[n];
	return v;
}

struct bz_opts bz_default(void)
{
	return (struct bz_opts){
		.version = 0x020f,
		.xloadflags = 0x0003, /* KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
		.setup_sects = 4,
		.relocatable = 1,
		.hdr_len = 0x6a, /* as in Linux 6.1: header ends at 0x26c */
		.kernel_alignment = 0x200000,
		.pref_address = 0x1000000,
		.init_size = 0x2000000,
		.cmdline_size = 2047,
		.initrd_addr_max = 0x7fffffff,
		.kernel_bytes = 0x10000,
	};
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

uint8_t *make_bzimage(const struct bz_opts *o, size_t *len)
{
	unsigned sects = o->setup_sects ? o->setup_sects : 4;
	size_t setup = (sects + 1) * 512;
	uint8_t *b;

	*len = setup + o->kernel_bytes;
	b = calloc(1, *len);
	assert_non_null(b);
	/* Recognisable junk in the setup code around the header. */
	for (size_t i = 0x300; i < setup; i++)
		b[i] = 0xcc;
	b[0x1f1] = o->setup_sects;
	put(b + 0x1f4, o->kernel_bytes / 16, 4); /* syssize */
	put(b + 0x1fa, 0xfffd, 2);               /* vid_mode "ask" */
	put(b + 0x1fe, 0xaa55, 2);
	b[0x200] = 0xeb;
	b[0x201] = o->hdr_len;
	memcpy(b + 0x202, "HdrS", 4);
	put(b + 0x206, o->version, 2);
	put(b + 0x20e, 0x1234, 2);       /* kernel_version */
	b[0x211] = 0x01;                 /* LOADED_HIGH */
	put(b + 0x214, 0x100000, 4);     /* code32_start */
	put(b + 0x22c, o->initrd_addr_max, 4);
	put(b + 0x230, o->kernel_alignment, 4);
	b[0x234] = o->relocatable;
	b[0x235] = 21;                   /* min_alignment */
	put(b + 0x236, o->xloadflags, 2);
	put(b + 0x238, o->cmdline_size, 4);
	put(b + 0x248, 0x3a0, 4);        /* payload_offset */
	put(b + 0x258, o->pref_address, 8);
	put(b + 0x260, o->init_size, 4);
	put(b + 0x264, 0x8000, 4);       /* handover_offset */
	put(b + 0x268, 0x1000, 4);       /* kernel_info_offset */
	for (size_t i = 0; i < o->kernel_bytes; i++)
		b[setup + i] = pattern(1, i);
	return b;
}
