/* SPDX-License-Identifier: MIT
 * Unit tests: the PVH ELF loader (program headers, the Xen PHYS32_ENTRY
 * note, hvm_start_info), the firmware loader, and the 32-bit protected mode
 * and real-mode entry states. Crafted ELF files in temporary files, loaded
 * into a fake guest RAM; no /dev/kvm needed.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/x86/boot_priv.h"
#include "boot_test_util.h"
#include "vmm/log.h"
#include "vmm/x86/layout.h"

#define MiB (1ULL << 20)
#define SI X86_PVH_START_INFO

/* Layout of the crafted file. */
#define F_PHDRS 0x40
#define F_SEG0 0x1000 /* 0x3000 bytes -> paddr 1 MiB, memsz 0x5000 */
#define F_SEG1 0x4000 /* 0x1000 bytes -> paddr 2 MiB */
#define F_NOTES 0x5000
#define F_SHDRS 0x6000
#define F_SIZE 0x7000

struct elf_opts {
	int is64;
	int desc8;        /* 8-byte entry descriptor (as Linux 6.1 emits) */
	int pt_note;      /* the notes have a PT_NOTE program header */
	int shdr_note;    /* ... and/or an SHT_NOTE section */
	int xen_note;     /* the PHYS32_ENTRY note is present */
	uint32_t entry_desc_size; /* overrides the descriptor size if set */
	uint64_t entry;
	uint64_t seg0_off, seg0_filesz, seg0_memsz, seg0_paddr;
	uint16_t phnum;   /* overrides if set */
	uint64_t phoff;   /* overrides if set */
};

static struct elf_opts elf_default(void)
{
	return (struct elf_opts){ .is64 = 1, .desc8 = 1, .pt_note = 1,
				  .shdr_note = 1, .xen_note = 1,
				  .entry = 0x100100, .seg0_off = F_SEG0,
				  .seg0_filesz = 0x3000, .seg0_memsz = 0x5000,
				  .seg0_paddr = MiB };
}

static size_t note(uint8_t *p, const char *name, uint32_t type,
		   const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t n = 12;

	memcpy(p, &namesz, 4);
	memcpy(p + 4, &descsz, 4);
	memcpy(p + 8, &type, 4);
	memcpy(p + n, name, namesz);
	n += (namesz + 3) & ~3u;
	memcpy(p + n, desc, descsz);
	n += (descsz + 3) & ~3u;
	return n;
}

static uint8_t *make_elf(const struct elf_opts *o)
{
	uint8_t *f = calloc(1, F_SIZE);
	uint8_t gnu[20], *n = f + F_NOTES;
	size_t notes = 0;
	uint32_t dsz = o->entry_desc_size ? o->entry_desc_size
					  : (o->desc8 ? 8 : 4);
	uint64_t entry = o->entry;
	struct { uint32_t type; uint64_t off, paddr, filesz, memsz; } ph[3];
	unsigned nph = 0, nsh = o->shdr_note ? 2 : 0;

	assert_non_null(f);
	memset(gnu, 0xab, sizeof(gnu));
	notes += note(n + notes, "GNU", NT_GNU_BUILD_ID, gnu, sizeof(gnu));
	notes += note(n + notes, "Xen", 6, "linux", 6);
	notes += note(n + notes, "Xen", 18 + 1, &entry, 8); /* wrong type */
	if (o->xen_note)
		notes += note(n + notes, "Xen", 18, &entry, dsz);
	for (size_t i = 0; i < 0x3000; i++)
		f[F_SEG0 + i] = pattern(3, i);
	for (size_t i = 0; i < 0x1000; i++)
		f[F_SEG1 + i] = pattern(4, i);

	ph[nph++] = (typeof(ph[0])){ PT_LOAD, o->seg0_off, o->seg0_paddr,
				     o->seg0_filesz, o->seg0_memsz };
	ph[nph++] = (typeof(ph[0])){ PT_LOAD, F_SEG1, 2 * MiB, 0x1000,
				     0x1000 };
	if (o->pt_note)
		ph[nph++] = (typeof(ph[0])){ PT_NOTE, F_NOTES, 0, notes,
					     notes };

	if (o->is64) {
		Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64,
				  .e_version = EV_CURRENT,
				  .e_entry = 0xffffffff81000000ULL,
				  .e_phoff = o->phoff ? o->phoff : F_PHDRS,
				  .e_shoff = nsh ? F_SHDRS : 0,
				  .e_ehsize = sizeof(Elf64_Ehdr),
				  .e_phentsize = sizeof(Elf64_Phdr),
				  .e_phnum = o->phnum ? o->phnum : nph,
				  .e_shentsize = sizeof(Elf64_Shdr),
				  .e_shnum = nsh };
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(f, &eh, sizeof(eh));
		for (unsigned i = 0; i < nph; i++) {
			Elf64_Phdr p = { .p_type = ph[i].type,
					 .p_offset = ph[i].off,
					 .p_vaddr = ph[i].paddr +
						    0xffffffff80000000ULL,
					 .p_paddr = ph[i].paddr,
					 .p_filesz = ph[i].filesz,
					 .p_memsz = ph[i].memsz,
					 .p_align = 4096 };
			memcpy(f + F_PHDRS + i * sizeof(p), &p, sizeof(p));
		}
		if (nsh) {
			Elf64_Shdr s = { .sh_type = SHT_NOTE,
					 .sh_offset = F_NOTES,
					 .sh_size = notes, .sh_addralign = 4 };
			memcpy(f + F_SHDRS + sizeof(s), &s, sizeof(s));
		}
	} else {
		Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386,
				  .e_version = EV_CURRENT,
				  .e_entry = 0xc1000000,
				  .e_phoff = (uint32_t)(o->phoff ? o->phoff
								 : F_PHDRS),
				  .e_shoff = nsh ? F_SHDRS : 0,
				  .e_ehsize = sizeof(Elf32_Ehdr),
				  .e_phentsize = sizeof(Elf32_Phdr),
				  .e_phnum = o->phnum ? o->phnum : nph,
				  .e_shentsize = sizeof(Elf32_Shdr),
				  .e_shnum = nsh };
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS32;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(f, &eh, sizeof(eh));
		for (unsigned i = 0; i < nph; i++) {
			Elf32_Phdr p = { .p_type = ph[i].type,
					 .p_offset = (uint32_t)ph[i].off,
					 .p_vaddr = (uint32_t)ph[i].paddr +
						    0xc0000000u,
					 .p_paddr = (uint32_t)ph[i].paddr,
					 .p_filesz = (uint32_t)ph[i].filesz,
					 .p_memsz = (uint32_t)ph[i].memsz,
					 .p_align = 4096 };
			memcpy(f + F_PHDRS + i * sizeof(p), &p, sizeof(p));
		}
		if (nsh) {
			Elf32_Shdr s = { .sh_type = SHT_NOTE,
					 .sh_offset = F_NOTES,
					 .sh_size = (uint32_t)notes,
					 .sh_addralign = 4 };
			memcpy(f + F_SHDRS + sizeof(s), &s, sizeof(s));
		}
	}
	return f;
}

struct pvh_case {
	struct fake_guest g;
	struct x86_boot_cfg cfg;
	struct x86_boot_entry entry;
	char err[256];
	char *kernel, *initrd;
};

static int pvh_run(struct pvh_case *c, const struct elf_opts *o,
		   uint64_t ram)
{
	uint8_t *f = make_elf(o);

	memset(c, 0, sizeof(*c));
	fake_guest_init(&c->g, ram, 0, 0xaa);
	c->cfg = fake_guest_cfg(&c->g);
	c->kernel = temp_file(f, F_SIZE);
	free(f);
	c->cfg.kernel = c->kernel;
	return x86_boot_load(&c->g.gm, &c->cfg, &c->entry, c->err,
			     sizeof(c->err));
}

static void pvh_done(struct pvh_case *c)
{
	temp_remove(c->kernel);
	temp_remove(c->initrd);
	fake_guest_free(&c->g);
}

static void check_loaded(struct pvh_case *c, uint64_t entry)
{
	assert_int_equal(c->entry.mode, X86_ENTRY_PVH32);
	assert_int_equal(c->entry.rip, entry);
	assert_int_equal(c->entry.rbx, SI);
	assert_int_equal(c->entry.kernel_end, 2 * MiB + 0x1000);
	for (size_t i = 0; i < 0x3000; i++)
		assert_int_equal(c->g.low[MiB + i], pattern(3, i));
	for (size_t i = 0x3000; i < 0x5000; i++) /* bss zeroed */
		assert_int_equal(c->g.low[MiB + i], 0);
	assert_int_equal(c->g.low[MiB + 0x5000], 0xaa); /* past memsz */
	for (size_t i = 0; i < 0x1000; i++)
		assert_int_equal(c->g.low[2 * MiB + i], pattern(4, i));
	assert_int_equal(guest_le(&c->g.gm, SI, 4), 0x336ec578);
	assert_int_equal(guest_le(&c->g.gm, SI + 4, 4), 1);
}

static void test_valid(void **state)
{
	(void)state;
	struct elf_opts o = elf_default();
	struct pvh_case c;
	uint8_t rd[5000];
	char line[32];
	uint64_t mm, mod, rd_addr;

	/* run once to create the case, then again with cmdline and initrd */
	assert_int_equal(pvh_run(&c, &o, 64 * MiB), 0);
	check_loaded(&c, 0x100100);
	assert_int_equal(guest_le(&c.g.gm, SI + 12, 4), 0); /* nr_modules */
	assert_int_equal(guest_le(&c.g.gm, SI + 16, 8), 0); /* modlist */
	assert_int_equal(guest_le(&c.g.gm, SI + 32, 8), 0); /* rsdp */
	assert_int_equal(c.g.low[X86_CMDLINE], 0);

	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = pattern(5, i);
	c.initrd = temp_file(rd, sizeof(rd));
	c.cfg.initrd = c.initrd;
	c.cfg.cmdline = "console=hvc0 quiet";
	c.cfg.acpi_rsdp = 0xe0000;
	assert_int_equal(x86_boot_load(&c.g.gm, &c.cfg, &c.entry, c.err,
				       sizeof(c.err)), 0);
	check_loaded(&c, 0x100100);
	assert_int_equal(guest_le(&c.g.gm, SI + 8, 4), 0);  /* flags */
	assert_int_equal(guest_le(&c.g.gm, SI + 24, 8), X86_CMDLINE);
	assert_int_equal(gm_read(&c.g.gm, X86_CMDLINE, line, 19), 0);
	assert_string_equal(line, "console=hvc0 quiet");
	assert_int_equal(guest_le(&c.g.gm, SI + 32, 8), 0xe0000);
	/* one module: the initrd, high in RAM, page-aligned */
	assert_int_equal(guest_le(&c.g.gm, SI + 12, 4), 1);
	mod = guest_le(&c.g.gm, SI + 16, 8);
	assert_true(mod > SI && mod + 32 <= SI + 0x1000);
	rd_addr = guest_le(&c.g.gm, mod, 8);
	assert_int_equal(guest_le(&c.g.gm, mod + 8, 8), sizeof(rd));
	assert_int_equal(guest_le(&c.g.gm, mod + 16, 8), 0);
	assert_int_equal(rd_addr % 4096, 0);
	assert_true(rd_addr >= c.entry.kernel_end);
	assert_true(rd_addr + sizeof(rd) <= 64 * MiB);
	assert_true(rd_addr + sizeof(rd) + 4096 > 64 * MiB);
	assert_memory_equal(c.g.low + rd_addr, rd, sizeof(rd));
	/* memory map = the e820 map */
	mm = guest_le(&c.g.gm, SI + 40, 8);
	assert_true(mm > SI && mm < SI + 0x1000);
	assert_int_equal(guest_le(&c.g.gm, SI + 48, 4), 3);
	assert_int_equal(guest_le(&c.g.gm, SI + 52, 4), 0);
	assert_int_equal(guest_le(&c.g.gm, mm + 0, 8), 0);
	assert_int_equal(guest_le(&c.g.gm, mm + 8, 8), X86_EBDA_START);
	assert_int_equal(guest_le(&c.g.gm, mm + 16, 4), 1);
	assert_int_equal(guest_le(&c.g.gm, mm + 24 + 16, 4), 2);
	assert_int_equal(guest_le(&c.g.gm, mm + 48, 8), MiB);
	assert_int_equal(guest_le(&c.g.gm, mm + 56, 8), 63 * MiB);
	assert_int_equal(guest_le(&c.g.gm, mm + 64, 4), 1);
	pvh_done(&c);
}

static void test_variants(void **state)
{
	(void)state;
	struct elf_opts o = elf_default();
	struct pvh_case c;

	/* 4-byte descriptor */
	o.desc8 = 0;
	assert_int_equal(pvh_run(&c, &o, 64 * MiB), 0);
	check_loaded(&c, 0x100100);
	pvh_done(&c);
	/* ELF32 */
	o.is64 = 0;
	o.entry = 0x200010;
	assert_int_equal(pvh_run(&c, &o, 64 * MiB), 0);
	check_loaded(&c, 0x200010);
	pvh_done(&c);
	/* the note only in a section, no PT_NOTE */
	o = elf_default();
	o.pt_note = 0;
	assert_int_equal(pvh_run(&c, &o, 64 * MiB), 0);
	check_loaded(&c, 0x100100);
	pvh_done(&c);
}

static void expect_error(const struct elf_opts *o, int err, const char *msg)
{
	struct pvh_case c;

	int r = pvh_run(&c, o, 64 * MiB);
	if (r != err)
		fail_msg("got %d (%s), want %d", r, c.err, err);
	assert_non_null(strstr(c.err, c.kernel));
	if (!strstr(c.err, msg))
		fail_msg("error \"%s\" lacks \"%s\"", c.err, msg);
	/* nothing loaded on a header error */
	assert_int_equal(c.g.low[MiB], 0xaa);
	assert_int_equal(c.g.low[SI], 0xaa);
	pvh_done(&c);
}

static void test_no_note(void **state)
{
	(void)state;
	struct elf_opts o = elf_default();
	struct pvh_case c;

	o.xen_note = 0;
	assert_int_equal(pvh_run(&c, &o, 64 * MiB), -ENOEXEC);
	char want[300];
	snprintf(want, sizeof(want),
		 "%s: ELF file has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)",
		 c.kernel);
	assert_string_equal(c.err, want);
	pvh_done(&c);
	/* no notes anywhere */
	o = elf_default();
	o.pt_note = o.shdr_note = 0;
	expect_error(&o, -ENOEXEC, "no PVH entry note");
	/* a descriptor of the wrong size */
	o = elf_default();
	o.entry_desc_size = 2;
	expect_error(&o, -EINVAL, "malformed PVH entry note");
	/* an entry above 4 GiB */
	o = elf_default();
	o.entry = 0x100000000ULL;
	expect_error(&o, -EINVAL, "malformed PVH entry note");
	/* an entry outside every segment */
	o = elf_default();
	o.entry = 0x300000;
	expect_error(&o, -ENOEXEC, "not inside a loadable segment");
}

static void test_bad_segments(void **state)
{
	(void)state;
	struct elf_opts o = elf_default();

	o.seg0_off = F_SIZE - 0x100; /* past EOF */
	expect_error(&o, -ENOEXEC, "past the end of the file");
	o = elf_default();
	o.seg0_off = UINT64_MAX - 0x100; /* offset + size wraps */
	expect_error(&o, -ENOEXEC, "past the end of the file");
	o = elf_default();
	o.seg0_filesz = 0x6000; /* > memsz 0x5000 */
	expect_error(&o, -ENOEXEC, "p_filesz 0x6000 > p_memsz 0x5000");
	o = elf_default();
	o.seg0_paddr = 64 * MiB - 0x4000; /* + 0x5000 ends past 64 MiB */
	expect_error(&o, -ENOMEM, "outside guest RAM");
	o = elf_default();
	o.seg0_paddr = 0x3000000000ULL;
	expect_error(&o, -ENOMEM, "outside guest RAM");
	o = elf_default();
	o.seg0_paddr = 0x8000; /* over the boot structures */
	expect_error(&o, -ENOMEM, "outside guest RAM");
	o = elf_default();
	o.seg0_paddr = UINT64_MAX - 0x1000; /* paddr + memsz wraps */
	expect_error(&o, -ENOMEM, "outside guest RAM");
	o = elf_default();
	o.seg0_memsz = UINT64_MAX;
	expect_error(&o, -ENOMEM, "outside guest RAM");
	o = elf_default();
	o.phoff = F_SIZE - 8; /* program headers past EOF */
	expect_error(&o, -ENOEXEC, "bad ELF program header table");
	o = elf_default();
	o.phnum = 0xffff;
	expect_error(&o, -ENOEXEC, "bad ELF program header table");
}

static void test_bad_files(void **state)
{
	(void)state;
	struct fake_guest g;
	struct x86_boot_cfg cfg;
	struct x86_boot_entry e;
	char err[256];
	uint8_t *f = make_elf(&(struct elf_opts){ .is64 = 1 });
	char *p;

	fake_guest_init(&g, 16 * MiB, 0, 0);
	cfg = fake_guest_cfg(&g);
	/* ELF magic but cut inside the header */
	p = temp_file(f, 20);
	cfg.kernel = p;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -ENOEXEC);
	assert_non_null(strstr(err, "not a little-endian x86 ELF file"));
	temp_remove(p);
	/* big-endian */
	f[EI_DATA] = ELFDATA2MSB;
	p = temp_file(f, F_SIZE);
	cfg.kernel = p;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -ENOEXEC);
	temp_remove(p);
	/* another machine */
	f[EI_DATA] = ELFDATA2LSB;
	f[18] = EM_AARCH64;
	p = temp_file(f, F_SIZE);
	cfg.kernel = p;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -ENOEXEC);
	temp_remove(p);
	free(f);
	fake_guest_free(&g);
}

/* Random byte changes in the headers, notes and tables: never a crash. */
static void test_mutations(void **state)
{
	(void)state;
	struct elf_opts o = elf_default();
	uint8_t *f = make_elf(&o);
	struct fake_guest g;
	struct x86_boot_cfg cfg;
	struct x86_boot_entry e;
	char err[256];
	uint32_t rnd = 777;
	const size_t areas[][2] = { { 0, 0x40 + 3 * 56 },
				    { F_NOTES, 0x80 },
				    { F_SHDRS, 0x80 } };

	fake_guest_init(&g, 16 * MiB, 0, 0);
	cfg = fake_guest_cfg(&g);
	for (int it = 0; it < 1500; it++) {
		uint8_t *m = malloc(F_SIZE);
		char *p;
		int r;

		memcpy(m, f, F_SIZE);
		for (int k = 0; k < 3; k++) {
			rnd = rnd * 1103515245 + 12345;
			const size_t *a = areas[(rnd >> 4) % 3];
			rnd = rnd * 1103515245 + 12345;
			size_t off = a[0] + (rnd >> 8) % a[1];
			rnd = rnd * 1103515245 + 12345;
			m[off] = (uint8_t)(rnd >> 16);
		}
		p = temp_file(m, F_SIZE);
		cfg.kernel = p;
		err[0] = 0;
		r = x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err));
		assert_true(r == 0 || (r < 0 && err[0]));
		temp_remove(p);
		free(m);
	}
	free(f);
	fake_guest_free(&g);
}

static void test_firmware(void **state)
{
	(void)state;
	struct fake_guest g;
	struct x86_boot_cfg cfg;
	struct x86_boot_entry e;
	char err[256];
	uint8_t *img = malloc(X86_FIRMWARE_MAX + 1);
	char *p;

	for (size_t i = 0; i < X86_FIRMWARE_MAX + 1; i++)
		img[i] = pattern(6, i);
	fake_guest_init(&g, 16 * MiB, 0, 0x11);
	cfg = fake_guest_cfg(&g);

	/* 64 KiB: at 0xf0000..0xfffff, entered at F000:FFF0 */
	p = temp_file(img, 0x10000);
	cfg.firmware = p;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)), 0);
	assert_int_equal(e.mode, X86_ENTRY_REAL16);
	assert_int_equal(e.rip, 0xfff0);
	assert_memory_equal(g.low + 0xf0000, img, 0x10000);
	assert_int_equal(g.low[0xeffff], 0x11);
	assert_int_equal(g.low[0x100000], 0x11);
	/* and a kernel as well: refused */
	cfg.kernel = "/boot/vmlinuz";
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -EINVAL);
	cfg.kernel = NULL;
	temp_remove(p);

	/* 256 KiB: from 0xc0000 */
	p = temp_file(img, X86_FIRMWARE_MAX);
	cfg.firmware = p;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)), 0);
	assert_memory_equal(g.low + 0xc0000, img, X86_FIRMWARE_MAX);
	temp_remove(p);

	/* 256 KiB + 1, empty, 15 bytes: refused with the size in the message */
	p = temp_file(img, X86_FIRMWARE_MAX + 1);
	cfg.firmware = p;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "262145 bytes"));
	assert_non_null(strstr(err, p));
	temp_remove(p);
	p = temp_file(img, 0);
	cfg.firmware = p;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -EINVAL);
	temp_remove(p);
	p = temp_file(img, 15);
	cfg.firmware = p;
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -EINVAL);
	temp_remove(p);
	cfg.firmware = "/nonexistent/bios.bin";
	assert_int_equal(x86_boot_load(&g.gm, &cfg, &e, err, sizeof(err)),
			 -ENOENT);
	free(img);
	fake_guest_free(&g);
}

static void test_pvh_state(void **state)
{
	(void)state;
	struct fake_guest g;
	struct x86_boot_entry e = { .mode = X86_ENTRY_PVH32,
				    .rip = 0x1000850, .rbx = SI };
	struct kvm_sregs sr;
	struct kvm_regs regs;

	fake_guest_init(&g, 16 * MiB, 0, 0xee);
	memset(&sr, 0, sizeof(sr));
	sr.cr3 = 0x1234000; /* stale values get cleared */
	sr.efer = 0x500;
	assert_int_equal(x86_boot_entry_state(&g.gm, &e, &sr, &regs), 0);
	assert_int_equal(regs.rip, 0x1000850);
	assert_int_equal(regs.rbx, SI);
	assert_int_equal(regs.rsi, 0);
	assert_int_equal(regs.rflags, 2);
	assert_int_equal(sr.cr0 & (X86_CR0_PE | X86_CR0_PG), X86_CR0_PE);
	assert_int_equal(sr.cr4, 0);
	assert_int_equal(sr.efer, 0);
	assert_int_equal(sr.cr3, 0);
	assert_int_equal(sr.cs.selector, 0x10);
	assert_int_equal(sr.cs.db, 1);
	assert_int_equal(sr.cs.l, 0);
	assert_int_equal(sr.cs.limit, 0xffffffff);
	assert_int_equal(sr.cs.g, 1);
	assert_int_equal(sr.cs.base, 0);
	assert_int_equal(sr.ss.selector, 0x18);
	assert_int_equal(sr.ds.db, 1);
	assert_int_equal(sr.tr.limit, 0x67);
	assert_int_equal(sr.gdt.base, X86_BOOT_GDT);
	assert_int_equal(guest_le(&g.gm, X86_BOOT_GDT + 0x10, 8),
			 0x00cf9b000000ffffULL);
	assert_int_equal(guest_le(&g.gm, X86_BOOT_GDT + 0x18, 8),
			 0x00cf93000000ffffULL);
	/* no page tables are written in this mode */
	assert_int_equal(g.low[X86_PML4], 0xee);
	fake_guest_free(&g);
}

static void test_real_mode_state(void **state)
{
	(void)state;
	struct fake_guest g;
	struct x86_boot_entry e = { .mode = X86_ENTRY_REAL16, .rip = 0xfff0 };
	struct kvm_sregs sr;
	struct kvm_regs regs;

	fake_guest_init(&g, 16 * MiB, 0, 0xee);
	memset(&sr, 0, sizeof(sr));
	assert_int_equal(x86_boot_entry_state(&g.gm, &e, &sr, &regs), 0);
	assert_int_equal(sr.cs.selector, 0xf000);
	assert_int_equal(sr.cs.base, 0xf0000);
	assert_int_equal(sr.cs.limit, 0xffff);
	assert_int_equal(sr.cs.base + regs.rip, 0xffff0);
	assert_int_equal(sr.ds.base, 0);
	assert_int_equal(sr.ss.limit, 0xffff);
	assert_int_equal(sr.cr0, 0x60000010);
	assert_int_equal(sr.efer, 0);
	assert_int_equal(sr.idt.limit, 0xffff);
	assert_int_equal(regs.rflags, 2);
	/* an unknown mode is an error */
	e.mode = (enum x86_entry_mode)42;
	assert_int_equal(x86_boot_entry_state(&g.gm, &e, &sr, &regs),
			 -EINVAL);
	fake_guest_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_no_note),
		cmocka_unit_test(test_bad_segments),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_firmware),
		cmocka_unit_test(test_pvh_state),
		cmocka_unit_test(test_real_mode_state),
	};
	log_quiet = true;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
