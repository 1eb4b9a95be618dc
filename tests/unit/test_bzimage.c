/* SPDX-License-Identifier: MIT
 * Unit tests: the bzImage loader (Linux 64-bit boot protocol), kernel kind
 * detection, and the long-mode entry state (GDT, page tables, registers).
 * Crafted bzImage files are written to temporary files and loaded into a
 * fake guest RAM; nothing here needs /dev/kvm.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/x86/boot_priv.h"
#include "boot_test_util.h"
#include "vmm/log.h"
#include "vmm/x86/layout.h"

#define MiB (1ULL << 20)
#define ZP X86_ZERO_PAGE

struct bz_case {
	struct fake_guest g;
	struct x86_boot_cfg cfg;
	struct x86_boot_entry entry;
	char err[256];
	char *kernel, *initrd;
	uint8_t *image;
	size_t image_len;
};

static void bz_setup(struct bz_case *c, const struct bz_opts *o,
		     uint64_t ram)
{
	memset(c, 0, sizeof(*c));
	fake_guest_init(&c->g, ram, 0, 0x5a);
	c->cfg = fake_guest_cfg(&c->g);
	c->image = make_bzimage(o, &c->image_len);
	c->kernel = temp_file(c->image, c->image_len);
	c->cfg.kernel = c->kernel;
}

static void bz_teardown(struct bz_case *c)
{
	temp_remove(c->kernel);
	temp_remove(c->initrd);
	free(c->image);
	fake_guest_free(&c->g);
}

static int bz_load(struct bz_case *c)
{
	return x86_boot_load(&c->g.gm, &c->cfg, &c->entry, c->err,
			     sizeof(c->err));
}

/* A full load: header copy, loader fields, cmdline, initrd, e820. */
static void test_valid(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;
	uint8_t rd[100000];
	const char *cmd = "console=ttyS0 root=/dev/vda rw";
	char line[64];
	uint64_t rd_addr, rd_size, setup = 5 * 512;

	bz_setup(&c, &o, 128 * MiB);
	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = pattern(2, i);
	c.initrd = temp_file(rd, sizeof(rd));
	c.cfg.initrd = c.initrd;
	c.cfg.cmdline = cmd;
	c.cfg.acpi_rsdp = 0xe0000;
	assert_int_equal(bz_load(&c), 0);
	assert_string_equal(c.err, "");

	/* relocatable, pref 16 MiB fits: loaded there, entered at +0x200 */
	assert_int_equal(c.entry.mode, X86_ENTRY_LINUX64);
	assert_int_equal(c.entry.rip, 0x1000000 + 0x200);
	assert_int_equal(c.entry.rsi, ZP);
	assert_int_equal(c.entry.kernel_end, 0x1000000 + o.init_size);
	assert_memory_equal(c.g.low + 0x1000000, c.image + setup,
			    o.kernel_bytes);

	/* the setup header is copied at its own offset ... */
	assert_memory_equal(c.g.low + ZP + 0x1f1, c.image + 0x1f1, 9);
	assert_memory_equal(c.g.low + ZP + 0x1fc, c.image + 0x1fc, 0x14);
	assert_memory_equal(c.g.low + ZP + 0x22c, c.image + 0x22c,
			    0x26c - 0x22c);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x206, 2), 0x020f);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x260, 4), o.init_size);
	/* ... and nothing past the header's end or before 0x1f1 */
	for (unsigned i = 0x26c; i < 0x290; i++)
		assert_int_equal(c.g.low[ZP + i], 0);
	assert_int_equal(c.g.low[ZP + 0x1ef], 0); /* sentinel */
	assert_int_equal(guest_le(&c.g.gm, ZP, 8), 0);

	/* loader fields */
	assert_int_equal(c.g.low[ZP + 0x210], 0xff);
	assert_int_equal(c.g.low[ZP + 0x211], 0x81); /* LOADED_HIGH|HEAP */
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x224, 2), 0xde00);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x1fa, 2), 0xffff);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x214, 4), 0x1000000);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x070, 8), 0xe0000);

	/* command line: placed and NUL-terminated */
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x228, 4), X86_CMDLINE);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x0c8, 4), 0);
	assert_int_equal(gm_read(&c.g.gm, X86_CMDLINE, line, strlen(cmd) + 1),
			 0);
	assert_string_equal(line, cmd);

	/* initrd: as high as possible, page-aligned, above the kernel */
	rd_addr = guest_le(&c.g.gm, ZP + 0x218, 4) |
		  guest_le(&c.g.gm, ZP + 0x0c0, 4) << 32;
	rd_size = guest_le(&c.g.gm, ZP + 0x21c, 4) |
		  guest_le(&c.g.gm, ZP + 0x0c4, 4) << 32;
	assert_int_equal(rd_size, sizeof(rd));
	assert_int_equal(rd_addr % 4096, 0);
	assert_true(rd_addr >= c.entry.kernel_end);
	assert_true(rd_addr + rd_size <= 128 * MiB);
	assert_true(rd_addr + rd_size + 4096 > 128 * MiB);
	assert_memory_equal(c.g.low + rd_addr, rd, sizeof(rd));

	/* e820: 3 entries for a 128 MiB guest */
	assert_int_equal(c.g.low[ZP + 0x1e8], 3);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x2d0, 8), 0);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x2d8, 8), X86_EBDA_START);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x2e0, 4), 1);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x2e4, 8), X86_EBDA_START);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x2f4, 4), 2);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x2f8, 8), MiB);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x300, 8), 127 * MiB);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x308, 4), 1);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x30c, 8), 0);
	bz_teardown(&c);
}

/* setup_sects == 0 means 4; an empty command line is a lone NUL; no initrd
 * leaves the ramdisk fields zero; no RSDP leaves its field zero. */
static void test_setup_sects_zero(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;

	o.setup_sects = 0;
	bz_setup(&c, &o, 128 * MiB);
	assert_int_equal(bz_load(&c), 0);
	assert_memory_equal(c.g.low + 0x1000000, c.image + 5 * 512,
			    o.kernel_bytes);
	assert_int_equal(c.g.low[X86_CMDLINE], 0);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x218, 4), 0);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x21c, 4), 0);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x070, 8), 0);
	bz_teardown(&c);
}

/* The initrd stays below initrd_addr_max (the highest byte it may use). */
static void test_initrd_addr_max(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;
	uint64_t a, s;

	o.initrd_addr_max = 64 * MiB - 1;
	bz_setup(&c, &o, 128 * MiB);
	c.initrd = temp_sparse(3 * MiB + 123);
	c.cfg.initrd = c.initrd;
	assert_int_equal(bz_load(&c), 0);
	a = guest_le(&c.g.gm, ZP + 0x218, 4);
	s = guest_le(&c.g.gm, ZP + 0x21c, 4);
	assert_int_equal(s, 3 * MiB + 123);
	assert_int_equal(a % 4096, 0);
	assert_true(a + s <= 64 * MiB);
	assert_true(a + s + 4096 > 64 * MiB);
	assert_true(a >= c.entry.kernel_end);
	bz_teardown(&c);
}

/* A relocatable kernel whose preferred address does not fit goes to the
 * lowest kernel_alignment boundary above 1 MiB. */
static void test_reloc_fallback(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;

	o.init_size = 20 * MiB;
	bz_setup(&c, &o, 32 * MiB);
	assert_int_equal(bz_load(&c), 0);
	assert_int_equal(c.entry.rip, 2 * MiB + 0x200);
	assert_int_equal(c.entry.kernel_end, 22 * MiB);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x214, 4), 2 * MiB);
	assert_memory_equal(c.g.low + 2 * MiB, c.image + 5 * 512,
			    o.kernel_bytes);
	bz_teardown(&c);
}

/* A non-relocatable kernel is loaded at 1 MiB and needs init_size from its
 * pref_address. */
static void test_not_relocatable(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;

	o.relocatable = 0;
	bz_setup(&c, &o, 128 * MiB);
	assert_int_equal(bz_load(&c), 0);
	assert_int_equal(c.entry.rip, MiB + 0x200);
	assert_int_equal(c.entry.kernel_end, 0x1000000 + o.init_size);
	assert_memory_equal(c.g.low + MiB, c.image + 5 * 512, o.kernel_bytes);
	bz_teardown(&c);

	o.init_size = 120 * MiB; /* 16 MiB + 120 MiB > 128 MiB */
	bz_setup(&c, &o, 128 * MiB);
	assert_int_equal(bz_load(&c), -ENOMEM);
	bz_teardown(&c);
}

static void expect_error(const struct bz_opts *o, uint64_t ram, int err,
			 const char *msg)
{
	struct bz_case c;

	bz_setup(&c, o, ram);
	assert_int_equal(bz_load(&c), err);
	assert_non_null(strstr(c.err, c.kernel));
	if (!strstr(c.err, msg))
		fail_msg("error \"%s\" lacks \"%s\"", c.err, msg);
	assert_null(strchr(c.err, '\n'));
	bz_teardown(&c);
}

static void test_protocol_too_old(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();

	o.version = 0x0204;
	expect_error(&o, 128 * MiB, -ENOEXEC,
		     ": boot protocol 2.04 is too old (need 2.06)");
}

static void test_not_64bit(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();

	o.xloadflags = 0x0002;
	expect_error(&o, 128 * MiB, -ENOEXEC, "not a 64-bit kernel");
	/* before 2.12 there is no xloadflags field, whatever its bytes say */
	o = bz_default();
	o.version = 0x020a;
	expect_error(&o, 128 * MiB, -ENOEXEC, "not a 64-bit kernel");
}

static void test_bad_magic(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;

	bz_setup(&c, &o, 128 * MiB);
	c.image[0x203] = 'X';
	temp_remove(c.kernel);
	c.kernel = temp_file(c.image, c.image_len);
	c.cfg.kernel = c.kernel;
	/* through the dispatcher: not a kernel at all */
	assert_int_equal(bz_load(&c), -ENOEXEC);
	assert_non_null(strstr(c.err, "not a kernel"));
	/* the bzImage loader itself checks the magic too */
	assert_int_equal(x86_bzimage_load(&c.g.gm, &c.cfg, &c.entry, c.err,
					  sizeof(c.err)), -ENOEXEC);
	assert_non_null(strstr(c.err, "no 'HdrS' magic"));
	bz_teardown(&c);
}

static void test_truncated(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;
	const size_t cuts[] = { 0x100, 0x204, 0x250, 0x300, 5 * 512,
				5 * 512 + 100, 5 * 512 + 0x10000 - 16 };

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		bz_setup(&c, &o, 128 * MiB);
		temp_remove(c.kernel);
		c.kernel = temp_file(c.image, cuts[i]);
		c.cfg.kernel = c.kernel;
		assert_int_equal(x86_bzimage_load(&c.g.gm, &c.cfg, &c.entry,
						  c.err, sizeof(c.err)),
				 -ENOEXEC);
		assert_non_null(strstr(c.err, c.kernel));
		if (cuts[i] >= 0x206)
			assert_non_null(strstr(c.err, "truncated"));
		bz_teardown(&c);
	}
	/* the real header length byte must cover the fields we read */
	o.hdr_len = 0x40;
	expect_error(&o, 128 * MiB, -ENOEXEC, "setup header ends at 0x242");
}

static void test_cmdline_too_long(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;
	char line[17];

	o.cmdline_size = 16;
	memset(line, 'a', 16);
	line[16] = 0;
	bz_setup(&c, &o, 128 * MiB);
	c.cfg.cmdline = line; /* exactly cmdline_size characters: fine */
	assert_int_equal(bz_load(&c), 0);
	assert_int_equal(c.g.low[X86_CMDLINE + 16], 0);
	bz_teardown(&c);

	bz_setup(&c, &o, 128 * MiB);
	c.cfg.cmdline = "aaaaaaaaaaaaaaaaa"; /* 17 */
	assert_int_equal(bz_load(&c), -E2BIG);
	assert_non_null(strstr(c.err, "command line is 17 bytes"));
	assert_non_null(strstr(c.err, "at most 16"));
	bz_teardown(&c);
}

static void test_initrd_too_large(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;

	bz_setup(&c, &o, 128 * MiB);
	/* kernel ends at 48 MiB: 81 MiB cannot fit below 128 MiB */
	c.initrd = temp_sparse(81 * MiB);
	c.cfg.initrd = c.initrd;
	assert_int_equal(bz_load(&c), -ENOMEM);
	assert_non_null(strstr(c.err, c.initrd));
	assert_non_null(strstr(c.err, "initrd"));
	bz_teardown(&c);

	/* 80 MiB exactly fits */
	bz_setup(&c, &o, 128 * MiB);
	c.initrd = temp_sparse(80 * MiB);
	c.cfg.initrd = c.initrd;
	assert_int_equal(bz_load(&c), 0);
	assert_int_equal(guest_le(&c.g.gm, ZP + 0x218, 4), 48 * MiB);
	bz_teardown(&c);

	/* missing initrd */
	bz_setup(&c, &o, 128 * MiB);
	c.cfg.initrd = "/nonexistent/initrd.img";
	assert_int_equal(bz_load(&c), -ENOENT);
	assert_non_null(strstr(c.err, "/nonexistent/initrd.img"));
	bz_teardown(&c);
}

static void test_kernel_too_large(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();

	o.init_size = 200 * MiB;
	expect_error(&o, 128 * MiB, -ENOMEM, "kernel needs 200 MiB");
	o = bz_default();
	o.kernel_alignment = 3 * MiB;
	expect_error(&o, 128 * MiB, -ENOEXEC, "bad kernel_alignment");
	/* a preferred address near 2^64 must not wrap */
	o = bz_default();
	o.pref_address = UINT64_MAX - 0x1000;
	{
		struct bz_case c;
		bz_setup(&c, &o, 128 * MiB);
		assert_int_equal(bz_load(&c), 0);
		assert_int_equal(c.entry.rip, 2 * MiB + 0x200);
		bz_teardown(&c);
	}
}

static void test_missing_and_layout(void **state)
{
	(void)state;
	struct fake_guest g;
	struct x86_boot_cfg cfg;
	struct x86_boot_entry e;
	char err[256];

	fake_guest_init(&g, 16 * MiB, 0, 0);
	cfg = fake_guest_cfg(&g);
	cfg.kernel = "/nonexistent/vmlinuz";
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err,
			    "/nonexistent/vmlinuz: No such file or directory");
	/* RAM sizes the guest memory does not have */
	cfg.low_size = 32 * MiB;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -EINVAL);
	cfg.low_size = 16 * MiB;
	cfg.high_size = MiB;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -EINVAL);
	cfg.high_size = 0;
	cfg.kernel = NULL;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -EINVAL);
	fake_guest_free(&g);
}

static void test_kernel_kind(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	size_t len;
	uint8_t *img = make_bzimage(&o, &len);
	static const uint8_t elf[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	char junk[4096];
	char *p;

	p = temp_file(img, len);
	assert_int_equal(x86_kernel_kind(p), 0);
	temp_remove(p);
	p = temp_file(elf, sizeof(elf));
	assert_int_equal(x86_kernel_kind(p), 1);
	temp_remove(p);
	memset(junk, 'x', sizeof(junk));
	p = temp_file(junk, sizeof(junk));
	assert_int_equal(x86_kernel_kind(p), -ENOEXEC);
	temp_remove(p);
	p = temp_file(img, 0x204); /* "HdrS" cut short */
	assert_int_equal(x86_kernel_kind(p), -ENOEXEC);
	temp_remove(p);
	p = temp_file("", 0);
	assert_int_equal(x86_kernel_kind(p), -ENOEXEC);
	temp_remove(p);
	assert_int_equal(x86_kernel_kind("/nonexistent/kernel"), -ENOENT);
	free(img);
}

/* Walk the guest's 4-level page tables (2 MiB pages) for va. */
static uint64_t translate(const struct guest_mem *gm, uint64_t cr3,
			  uint64_t va)
{
	uint64_t pml4e = guest_le(gm, (cr3 & ~0xfffULL) + 8 * ((va >> 39) & 511), 8);
	uint64_t pdpte, pde;

	assert_true(pml4e & 1);
	pdpte = guest_le(gm, (pml4e & 0xffffffffff000ULL) +
				     8 * ((va >> 30) & 511), 8);
	assert_true(pdpte & 1);
	assert_false(pdpte & 0x80);
	pde = guest_le(gm, (pdpte & 0xffffffffff000ULL) +
				   8 * ((va >> 21) & 511), 8);
	assert_true(pde & 1);
	assert_true(pde & 2);
	assert_true(pde & 0x80);
	return (pde & 0xfffffffe00000ULL) | (va & 0x1fffff);
}

static void test_long_mode_state(void **state)
{
	(void)state;
	struct fake_guest g;
	struct x86_boot_entry e = { .mode = X86_ENTRY_LINUX64,
				    .rip = 0x1000200, .rsi = ZP };
	struct kvm_sregs sr;
	struct kvm_regs regs;
	const uint64_t vas[] = { 0, 0x1000200, 0x7fffffff, 0xc0000000,
				 0xfee00000, 0xffffffff };

	fake_guest_init(&g, 64 * MiB, 0, 0xee);
	memset(&sr, 0, sizeof(sr));
	sr.apic_base = 0xfee00900;
	memset(&regs, 0x77, sizeof(regs));
	assert_int_equal(x86_boot_entry_state(&g.gm, &e, &sr, &regs), 0);

	assert_int_equal(regs.rip, 0x1000200);
	assert_int_equal(regs.rsi, ZP);
	assert_int_equal(regs.rsp, X86_BOOT_STACK);
	assert_int_equal(regs.rflags, 2);
	assert_int_equal(regs.rax | regs.rbx | regs.rcx | regs.rdx |
				 regs.rdi | regs.rbp | regs.r8 | regs.r15,
			 0);
	assert_int_equal(sr.cs.selector, 0x10);
	assert_int_equal(sr.cs.l, 1);
	assert_int_equal(sr.cs.db, 0);
	assert_int_equal(sr.cs.type, 0xb);
	assert_int_equal(sr.cs.present, 1);
	assert_int_equal(sr.cs.s, 1);
	assert_int_equal(sr.ds.selector, 0x18);
	assert_int_equal(sr.ss.selector, 0x18);
	assert_int_equal(sr.es.selector, 0x18);
	assert_int_equal(sr.ds.type, 0x3);
	assert_int_equal(sr.ds.limit, 0xffffffff);
	assert_int_equal(sr.cr0, 0x80000031);
	assert_int_equal(sr.cr4, 0x20);
	assert_int_equal(sr.efer, 0x500);
	assert_int_equal(sr.cr3, X86_PML4);
	assert_int_equal(sr.apic_base, 0xfee00900); /* untouched */
	assert_int_equal(sr.gdt.base, X86_BOOT_GDT);
	assert_int_equal(sr.gdt.limit, 6 * 8 - 1);
	assert_int_equal(sr.tr.selector, 0x20);
	assert_int_equal(sr.tr.type, 0xb);

	/* GDT: flat 64-bit code at 0x10, flat data at 0x18 */
	assert_int_equal(guest_le(&g.gm, X86_BOOT_GDT, 8), 0);
	assert_int_equal(guest_le(&g.gm, X86_BOOT_GDT + 0x10, 8),
			 0x00af9b000000ffffULL);
	assert_int_equal(guest_le(&g.gm, X86_BOOT_GDT + 0x18, 8),
			 0x00cf93000000ffffULL);
	assert_int_equal(guest_le(&g.gm, X86_BOOT_GDT + 0x20, 8),
			 0x00008b0000000067ULL);

	/* identity map of 4 GiB, nothing above */
	for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++)
		assert_int_equal(translate(&g.gm, sr.cr3, vas[i]), vas[i]);
	assert_int_equal(guest_le(&g.gm, X86_PDPT + 8 * 4, 8), 0);
	assert_int_equal(guest_le(&g.gm, X86_PML4 + 8, 8), 0);
	fake_guest_free(&g);

	/* page tables outside RAM: an error, not a crash */
	fake_guest_init(&g, 0x9800, 0, 0);
	memset(&sr, 0, sizeof(sr));
	assert_int_equal(x86_boot_entry_state(&g.gm, &e, &sr, &regs),
			 -EFAULT);
	fake_guest_free(&g);
}

/* Mutated headers: every outcome is 0 or an error with a message. */
static void test_mutations(void **state)
{
	(void)state;
	struct bz_opts o = bz_default();
	struct bz_case c;
	uint32_t rnd = 12345;

	o.kernel_bytes = 0x1000;
	bz_setup(&c, &o, 64 * MiB);
	for (int it = 0; it < 1500; it++) {
		uint8_t *m = malloc(c.image_len);
		char *p;
		int r;

		memcpy(m, c.image, c.image_len);
		for (int k = 0; k < 4; k++) {
			rnd = rnd * 1103515245 + 12345;
			size_t off = 0x1f1 + (rnd >> 8) % (0x270 - 0x1f1);
			rnd = rnd * 1103515245 + 12345;
			m[off] = (uint8_t)(rnd >> 16);
		}
		p = temp_file(m, c.image_len);
		c.cfg.kernel = p;
		r = bz_load(&c);
		assert_true(r == 0 || (r < 0 && c.err[0]));
		temp_remove(p);
		free(m);
	}
	c.cfg.kernel = c.kernel;
	bz_teardown(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_setup_sects_zero),
		cmocka_unit_test(test_initrd_addr_max),
		cmocka_unit_test(test_reloc_fallback),
		cmocka_unit_test(test_not_relocatable),
		cmocka_unit_test(test_protocol_too_old),
		cmocka_unit_test(test_not_64bit),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_cmdline_too_long),
		cmocka_unit_test(test_initrd_too_large),
		cmocka_unit_test(test_kernel_too_large),
		cmocka_unit_test(test_missing_and_layout),
		cmocka_unit_test(test_kernel_kind),
		cmocka_unit_test(test_long_mode_state),
		cmocka_unit_test(test_mutations),
	};
	log_quiet = true;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
