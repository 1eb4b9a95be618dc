/* SPDX-License-Identifier: MIT
 * pvh.c - booting an uncompressed ELF kernel (vmlinux) through its Xen PVH
 * entry point, as Firecracker, Cloud Hypervisor and QEMU (-kernel vmlinux)
 * do without Xen. References: the ELF specification (System V gABI: file
 * header, program headers, notes) and Xen's public header
 * arch-x86/hvm/start_info.h (the start-of-day structure and the PVH entry
 * state), plus xen/include/public/elfnote.h (XEN_ELFNOTE_PHYS32_ENTRY = 18).
 *
 *  1. Parse the ELF header (32- or 64-bit, little-endian x86) and its program
 *     headers; every offset and size comes from an untrusted file and is
 *     checked against the file size and guest RAM before it is used.
 *  2. Find the note named "Xen" of type 18 (PT_NOTE segments first, then
 *     SHT_NOTE sections): its descriptor is the 32-bit physical entry point.
 *  3. Load each PT_LOAD segment at p_paddr (zero-filling p_memsz - p_filesz).
 *  4. Write hvm_start_info (version 1, with the e820-style memory map, the
 *     command line and the initrd as module 0) at X86_PVH_START_INFO.
 *  5. Enter in 32-bit protected mode, paging off, %ebx = &start_info.
 */
#include "boot/x86/boot_priv.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/x86/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define XEN_HVM_START_MAGIC 0x336ec578u
#define MAX_PHDRS 512
#define MAX_SHDRS 65535
#define MAX_NOTE_BYTES (1u << 20)

/* Xen's struct hvm_start_info, version 1 (all little-endian). */
struct hvm_start_info {
	uint32_t magic;          /* XEN_HVM_START_MAGIC */
	uint32_t version;        /* 1: has the memory map fields */
	uint32_t flags;          /* SIF_xxx, 0 */
	uint32_t nr_modules;     /* entries at modlist_paddr */
	uint64_t modlist_paddr;  /* struct hvm_modlist_entry[] */
	uint64_t cmdline_paddr;  /* NUL-terminated command line */
	uint64_t rsdp_paddr;     /* ACPI RSDP, or 0 */
	uint64_t memmap_paddr;   /* struct hvm_memmap_table_entry[] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* e820 types: 1 RAM, 2 reserved, 3 ACPI, ... */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(__builtin_offsetof(struct hvm_start_info, memmap_paddr) == 40,
	       "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap layout");
_Static_assert(X86_PVH_MEMMAP + X86_PVH_MEMMAP_MAX *
	       sizeof(struct hvm_memmap_table_entry) <= X86_PVH_MODLIST,
	       "PVH memory map overlaps the module list");

/* The parts of an ELF32/ELF64 header and program/section header we use. */
struct elf_info {
	int is64;
	uint64_t phoff, shoff;
	unsigned phentsize, phnum, shentsize, shnum;
};

struct seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static int parse_ehdr(const uint8_t *b, uint64_t fsize, struct elf_info *ei)
{
	if (fsize < EI_NIDENT || memcmp(b, ELFMAG, SELFMAG) ||
	    b[EI_DATA] != ELFDATA2LSB)
		return -1;
	if (b[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr h;
		if (fsize < sizeof(h))
			return -1;
		memcpy(&h, b, sizeof(h));
		if (h.e_machine != EM_X86_64 && h.e_machine != EM_386)
			return -1;
		*ei = (struct elf_info){ 1, h.e_phoff, h.e_shoff,
					 h.e_phentsize, h.e_phnum,
					 h.e_shentsize, h.e_shnum };
		if (ei->phentsize < sizeof(Elf64_Phdr))
			ei->phnum = 0;
		if (ei->shentsize < sizeof(Elf64_Shdr))
			ei->shnum = 0;
	} else if (b[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;
		if (fsize < sizeof(h))
			return -1;
		memcpy(&h, b, sizeof(h));
		if (h.e_machine != EM_386 && h.e_machine != EM_X86_64)
			return -1;
		*ei = (struct elf_info){ 0, h.e_phoff, h.e_shoff,
					 h.e_phentsize, h.e_phnum,
					 h.e_shentsize, h.e_shnum };
		if (ei->phentsize < sizeof(Elf32_Phdr))
			ei->phnum = 0;
		if (ei->shentsize < sizeof(Elf32_Shdr))
			ei->shnum = 0;
	} else {
		return -1;
	}
	return 0;
}

/* Is [off, off + len) inside a file of fsize bytes? */
static int in_file(uint64_t off, uint64_t len, uint64_t fsize)
{
	uint64_t end;

	return !__builtin_add_overflow(off, len, &end) && end <= fsize;
}

/* Read a table of n entries of entsize bytes at off; NULL on a bad range or
 * I/O error. */
static uint8_t *read_table(int fd, uint64_t fsize, uint64_t off,
			   unsigned n, unsigned entsize)
{
	uint64_t len = (uint64_t)n * entsize;
	uint8_t *t;

	if (!n || !in_file(off, len, fsize))
		return NULL;
	t = malloc(len);
	if (t && boot_pread(fd, t, len, off) < 0) {
		free(t);
		t = NULL;
	}
	return t;
}

static struct seg get_phdr(const struct elf_info *ei, const uint8_t *p)
{
	if (ei->is64) {
		Elf64_Phdr h;
		memcpy(&h, p, sizeof(h));
		return (struct seg){ h.p_type, h.p_offset, h.p_paddr,
				     h.p_filesz, h.p_memsz };
	} else {
		Elf32_Phdr h;
		memcpy(&h, p, sizeof(h));
		return (struct seg){ h.p_type, h.p_offset, h.p_paddr,
				     h.p_filesz, h.p_memsz };
	}
}

/* Section headers as segments (type = sh_type, paddr unused). */
static struct seg get_shdr(const struct elf_info *ei, const uint8_t *p)
{
	if (ei->is64) {
		Elf64_Shdr h;
		memcpy(&h, p, sizeof(h));
		return (struct seg){ h.sh_type, h.sh_offset, 0, h.sh_size,
				     h.sh_size };
	} else {
		Elf32_Shdr h;
		memcpy(&h, p, sizeof(h));
		return (struct seg){ h.sh_type, h.sh_offset, 0, h.sh_size,
				     h.sh_size };
	}
}

/* Scan a block of ELF notes (4-byte aligned name and descriptor, the same
 * layout in ELF32 and ELF64) for Xen's PHYS32_ENTRY. 1 and *entry if found,
 * 0 if not, -1 if the note exists but its descriptor is malformed. */
static int find_pvh_note(const uint8_t *n, uint64_t len, uint64_t *entry)
{
	uint64_t pos = 0;

	while (len - pos >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t name, desc, next;

		memcpy(&namesz, n + pos, 4);
		memcpy(&descsz, n + pos + 4, 4);
		memcpy(&type, n + pos + 8, 4);
		name = pos + 12;
		desc = name + (((uint64_t)namesz + 3) & ~3ULL);
		next = desc + (((uint64_t)descsz + 3) & ~3ULL);
		if (desc > len || desc + descsz > len)
			return 0; /* truncated note: stop scanning */
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !memcmp(n + name, "Xen", 4)) {
			uint64_t v = 0;
			if (descsz != 4 && descsz != 8)
				return -1;
			memcpy(&v, n + desc, descsz); /* little-endian host */
			if (v >= X86_PCI_HOLE_END)
				return -1;
			*entry = v;
			return 1;
		}
		if (next > len)
			return 0;
		pos = next;
	}
	return 0;
}

/* Look through the PT_NOTE segments (or, with sections, the SHT_NOTE
 * sections) of a header table of n entries. */
static int scan_notes(int fd, uint64_t fsize, const struct elf_info *ei,
		      const uint8_t *tab, unsigned n, unsigned entsize,
		      int sections, uint64_t *entry)
{
	for (unsigned i = 0; i < n; i++) {
		struct seg s = sections ? get_shdr(ei, tab + i * entsize)
					: get_phdr(ei, tab + i * entsize);
		uint8_t *buf;
		int r;

		if (s.type != (sections ? SHT_NOTE : PT_NOTE) || !s.filesz ||
		    s.filesz > MAX_NOTE_BYTES ||
		    !in_file(s.offset, s.filesz, fsize))
			continue;
		buf = malloc(s.filesz);
		if (!buf)
			return -ENOMEM;
		r = boot_pread(fd, buf, s.filesz, s.offset);
		if (r == 0)
			r = find_pvh_note(buf, s.filesz, entry);
		free(buf);
		if (r != 0)
			return r < 0 ? -EINVAL : 1;
	}
	return 0;
}

/* hvm_start_info, its memory map and module list. */
static int put_start_info(struct guest_mem *gm,
			  const struct x86_boot_cfg *cfg, uint64_t rd_addr,
			  uint64_t rd_size)
{
	struct x86_e820_entry map[X86_PVH_MEMMAP_MAX];
	struct hvm_memmap_table_entry mm[X86_PVH_MEMMAP_MAX];
	struct hvm_modlist_entry mod = { rd_addr, rd_size, 0, 0 };
	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC,
		.version = 1,
		.nr_modules = rd_size ? 1 : 0,
		.modlist_paddr = rd_size ? X86_PVH_MODLIST : 0,
		.cmdline_paddr = X86_CMDLINE,
		.rsdp_paddr = cfg->acpi_rsdp,
		.memmap_paddr = X86_PVH_MEMMAP,
	};
	int n = x86_e820_build(cfg->low_size, cfg->high_size, map,
			       X86_PVH_MEMMAP_MAX);

	if (n < 0)
		return n;
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < n; i++) {
		mm[i].addr = map[i].addr;
		mm[i].size = map[i].size;
		mm[i].type = map[i].type;
	}
	si.memmap_entries = (uint32_t)n;
	if (gm_write(gm, X86_PVH_MEMMAP, mm, n * sizeof(mm[0])) < 0 ||
	    gm_write(gm, X86_PVH_MODLIST, &mod, sizeof(mod)) < 0 ||
	    gm_write(gm, X86_PVH_START_INFO, &si, sizeof(si)) < 0)
		return -EFAULT;
	return 0;
}

/* An open vmlinux being loaded: its ELF header, program headers and, once
 * found, the PVH entry and the end of its highest segment. */
struct pvh_image {
	const char *path;
	int fd;
	uint64_t fsize;
	struct elf_info ei;
	uint8_t *ph;
	uint64_t entry;
	uint64_t kernel_end;
};

/* The ELF header and the program header table. */
static int pvh_read_headers(struct pvh_image *im, char *err, size_t errlen)
{
	uint8_t ehdr[sizeof(Elf64_Ehdr)] = { 0 };
	const struct elf_info *ei = &im->ei;
	int ret;

	ret = boot_pread(im->fd, ehdr,
			 im->fsize < sizeof(ehdr) ? im->fsize : sizeof(ehdr), 0);
	if (ret < 0) {
		boot_err(err, errlen, "%s: %s", im->path, strerror(-ret));
		return ret;
	}
	if (parse_ehdr(ehdr, im->fsize, &im->ei) < 0) {
		boot_err(err, errlen,
			 "%s: not a little-endian x86 ELF file", im->path);
		return -ENOEXEC;
	}
	if (ei->phnum > MAX_PHDRS ||
	    !(im->ph = read_table(im->fd, im->fsize, ei->phoff, ei->phnum,
				  ei->phentsize))) {
		boot_err(err, errlen,
			 "%s: bad ELF program header table (%u entries of %u bytes at 0x%llx)",
			 im->path, ei->phnum, ei->phentsize,
			 (unsigned long long)ei->phoff);
		return -ENOEXEC;
	}
	return 0;
}

/* The entry note (XEN_ELFNOTE_PHYS32_ENTRY): program headers first,
 * section headers second. */
static int pvh_find_entry(struct pvh_image *im, char *err, size_t errlen)
{
	const struct elf_info *ei = &im->ei;
	uint8_t *sh;
	int found;

	found = scan_notes(im->fd, im->fsize, ei, im->ph, ei->phnum,
			   ei->phentsize, 0, &im->entry);
	if (found == 0 && ei->shnum && ei->shnum <= MAX_SHDRS) {
		sh = read_table(im->fd, im->fsize, ei->shoff, ei->shnum,
				ei->shentsize);
		if (sh)
			found = scan_notes(im->fd, im->fsize, ei, sh, ei->shnum,
					   ei->shentsize, 1, &im->entry);
		free(sh);
	}
	if (found < 0) {
		boot_err(err, errlen,
			 "%s: malformed PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)",
			 im->path);
		return found;
	}
	if (!found) {
		boot_err(err, errlen,
			 "%s: ELF file has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)",
			 im->path);
		return -ENOEXEC;
	}
	return 0;
}

/* One PT_LOAD: inside the file, p_filesz <= p_memsz, and all of it in
 * guest RAM between 1 MiB and the end of low memory. *end is its end. */
static int pvh_check_segment(const struct pvh_image *im, struct guest_mem *gm,
			     const struct x86_boot_cfg *cfg, unsigned i,
			     const struct seg *s, uint64_t *end, char *err,
			     size_t errlen)
{
	if (!in_file(s->offset, s->filesz, im->fsize)) {
		boot_err(err, errlen,
			 "%s: segment %u (0x%llx bytes at file offset 0x%llx) goes past the end of the file (%llu bytes)",
			 im->path, i, (unsigned long long)s->filesz,
			 (unsigned long long)s->offset,
			 (unsigned long long)im->fsize);
		return -ENOEXEC;
	}
	if (s->filesz > s->memsz) {
		boot_err(err, errlen,
			 "%s: segment %u has p_filesz 0x%llx > p_memsz 0x%llx",
			 im->path, i, (unsigned long long)s->filesz,
			 (unsigned long long)s->memsz);
		return -ENOEXEC;
	}
	if (s->paddr < X86_HIMEM_START ||
	    __builtin_add_overflow(s->paddr, s->memsz, end) ||
	    *end > cfg->low_size || !gm_valid(gm, s->paddr, s->memsz)) {
		boot_err(err, errlen,
			 "%s: segment %u at [0x%llx, +0x%llx) is outside guest RAM from 1 MiB to 0x%llx",
			 im->path, i, (unsigned long long)s->paddr,
			 (unsigned long long)s->memsz,
			 (unsigned long long)cfg->low_size);
		return -ENOMEM;
	}
	return 0;
}

/* Every PT_LOAD is checked before anything is written to the guest; the
 * entry must be inside one of them. */
static int pvh_check_segments(struct pvh_image *im, struct guest_mem *gm,
			      const struct x86_boot_cfg *cfg, char *err,
			      size_t errlen)
{
	int entry_inside = 0, nload = 0, ret;

	for (unsigned i = 0; i < im->ei.phnum; i++) {
		struct seg s = get_phdr(&im->ei, im->ph + i * im->ei.phentsize);
		uint64_t end;

		if (s.type != PT_LOAD)
			continue;
		ret = pvh_check_segment(im, gm, cfg, i, &s, &end, err, errlen);
		if (ret < 0)
			return ret;
		if (end > im->kernel_end)
			im->kernel_end = end;
		if (im->entry >= s.paddr && im->entry < end)
			entry_inside = 1;
		nload++;
	}
	if (!nload || !entry_inside) {
		boot_err(err, errlen,
			 "%s: PVH entry 0x%llx is not inside a loadable segment",
			 im->path, (unsigned long long)im->entry);
		return -ENOEXEC;
	}
	return 0;
}

/* Copy each PT_LOAD's file bytes and zero the rest of its memory. */
static int pvh_load_segments(const struct pvh_image *im, struct guest_mem *gm,
			     char *err, size_t errlen)
{
	for (unsigned i = 0; i < im->ei.phnum; i++) {
		struct seg s = get_phdr(&im->ei, im->ph + i * im->ei.phentsize);
		uint8_t *bss;
		int ret;

		if (s.type != PT_LOAD)
			continue;
		ret = boot_read_to_guest(gm, im->fd, s.offset, s.filesz, s.paddr);
		if (ret < 0) {
			boot_err(err, errlen, "%s: cannot load segment %u: %s",
				 im->path, i, strerror(-ret));
			return ret;
		}
		/* checked by pvh_check_segments: [paddr, paddr + memsz) is RAM */
		bss = gm_ptr(gm, s.paddr + s.filesz, s.memsz - s.filesz);
		memset(bss, 0, s.memsz - s.filesz);
	}
	return 0;
}

/* The initrd above the kernel, below the PVH limit, then the start info
 * that tells the kernel where it and the command line are. */
static int pvh_put_initrd_and_info(const struct pvh_image *im,
				   struct guest_mem *gm,
				   const struct x86_boot_cfg *cfg, char *err,
				   size_t errlen)
{
	uint64_t rd_addr, rd_size, initrd_top;
	int ret;

	initrd_top = X86_INITRD_PVH_MAX + 1 < cfg->low_size
			     ? X86_INITRD_PVH_MAX + 1 : cfg->low_size;
	ret = boot_load_initrd(gm, cfg->initrd, im->kernel_end, initrd_top,
			       &rd_addr, &rd_size, err, errlen);
	if (ret < 0)
		return ret;
	ret = put_start_info(gm, cfg, rd_addr, rd_size);
	if (ret < 0)
		boot_err(err, errlen, "cannot write the PVH start info: %s",
			 strerror(-ret));
	return ret;
}

int x86_pvh_load(struct guest_mem *gm, const struct x86_boot_cfg *cfg,
		 struct x86_boot_entry *entry, char *err, size_t errlen)
{
	struct pvh_image im = { .path = cfg->kernel };
	int ret;

	ret = boot_open(im.path, &im.fd, &im.fsize, err, errlen);
	if (ret < 0)
		return ret;
	ret = pvh_read_headers(&im, err, errlen);
	if (!ret)
		ret = pvh_find_entry(&im, err, errlen);
	if (!ret)
		ret = pvh_check_segments(&im, gm, cfg, err, errlen);
	if (!ret)
		ret = boot_put_cmdline(gm, cfg->cmdline, X86_CMDLINE_MAX - 1,
				       im.path, err, errlen);
	if (!ret)
		ret = pvh_load_segments(&im, gm, err, errlen);
	if (!ret)
		ret = pvh_put_initrd_and_info(&im, gm, cfg, err, errlen);
	if (!ret) {
		entry->mode = X86_ENTRY_PVH32;
		entry->rip = im.entry;
		entry->rsi = 0;
		entry->rbx = X86_PVH_START_INFO;
		entry->kernel_end = im.kernel_end;
	}
	free(im.ph);
	close(im.fd);
	return ret;
}
