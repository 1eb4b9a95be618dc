/* SPDX-License-Identifier: MIT
 * fw_cfg_x86.c - the fw_cfg items and files of the x86 machine, as SeaBIOS
 * reads them (its src/fw/paravirt.c and romfile_loader.c; QEMU's
 * docs/specs/fw_cfg.rst for the interface):
 *
 *   FW_CFG_RAM_SIZE, FW_CFG_NB_CPUS, FW_CFG_MAX_CPUS   legacy numbered items
 *   etc/e820          the RAM ranges, 20-byte entries (address, length,
 *                     type; little-endian): the firmware sizes memory from
 *                     it and reserves its own areas
 *   bootorder         OpenFirmware device paths, one a line, first boots
 *   etc/sercon-port   16-bit port of the UART the firmware mirrors its text
 *                     console (and a bootloader's int 10h output) to
 *   etc/show-boot-menu  0: no "Press ESC for boot menu" wait
 *   etc/boot-fail-wait  ms to wait before rebooting when nothing boots
 *   etc/acpi/rsdp, etc/acpi/tables, etc/table-loader
 *                     minivmm's ACPI tables (boot/x86/acpi.c) as two blobs
 *                     the firmware places itself (the RSDP in the F segment,
 *                     the rest in high memory), linked by loader commands:
 *                     ALLOCATE each blob, ADD_POINTER for every pointer
 *                     (which holds an offset into the tables blob until the
 *                     firmware adds the blob's address), ADD_CHECKSUM for
 *                     every checksum (recomputed after the pointers moved)
 *
 * The tables are built with acpi_build() into a scratch copy of the BIOS
 * area, then walked from the RSDP (XSDT, and the FADT's FACS and DSDT) to
 * find every pointer and checksum: acpi.c keeps one layout for both boots.
 */
#include "fw_cfg_x86.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/x86/acpi.h"
#include "vmm/x86/layout.h"

#define RSDP_FILE "etc/acpi/rsdp"
#define TABLES_FILE "etc/acpi/tables"
#define LOADER_FILE "etc/table-loader"
#define BOOT_FAIL_WAIT_MS 5000
#define E820_ENTRY 20
#define MAX_TABLES 16 /* in the XSDT, with the DSDT and FACS beside */

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t getn(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void putn(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- the loader's commands ---- */

struct loader {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

static uint8_t *loader_entry(struct loader *l, uint32_t cmd)
{
	uint8_t *e;

	if (l->err)
		return NULL;
	if (l->len + FW_LOADER_ENTRY > l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32 * FW_LOADER_ENTRY;
		uint8_t *n = realloc(l->buf, cap);

		if (!n) {
			l->err = -ENOMEM;
			return NULL;
		}
		l->buf = n;
		l->cap = cap;
	}
	e = l->buf + l->len;
	memset(e, 0, FW_LOADER_ENTRY);
	putn(e, cmd, 4);
	l->len += FW_LOADER_ENTRY;
	return e;
}

/* File names are at most 55 bytes here (fw_cfg's limit), NUL-padded. */
static void loader_alloc(struct loader *l, const char *file, uint32_t align,
			 uint8_t zone)
{
	uint8_t *e = loader_entry(l, FW_LOADER_ALLOCATE);

	if (!e)
		return;
	memcpy(e + 4, file, strlen(file));
	putn(e + 60, align, 4);
	e[64] = zone;
}

static void loader_pointer(struct loader *l, const char *dst_file,
			   const char *src_file, uint32_t offset, uint8_t size)
{
	uint8_t *e = loader_entry(l, FW_LOADER_ADD_POINTER);

	if (!e)
		return;
	memcpy(e + 4, dst_file, strlen(dst_file));
	memcpy(e + 60, src_file, strlen(src_file));
	putn(e + 116, offset, 4);
	e[120] = size;
}

static void loader_checksum(struct loader *l, const char *file,
			    uint32_t offset, uint32_t start, uint32_t length)
{
	uint8_t *e = loader_entry(l, FW_LOADER_ADD_CHECKSUM);

	if (!e)
		return;
	memcpy(e + 4, file, strlen(file));
	putn(e + 60, offset, 4);
	putn(e + 64, start, 4);
	putn(e + 68, length, 4);
}

/* ---- the tables as blobs ---- */

struct walk {
	uint8_t *area;      /* scratch copy of [X86_ACPI_START, ACPI_TABLES_END) */
	uint64_t base, end; /* the tables blob: [base, end) guest-physical */
	struct loader l;
	uint64_t tables[MAX_TABLES]; /* those with a header and checksum */
	unsigned nr_tables;
};

/* The table at gpa: its length, if it lies wholly in the area; else 0. */
static uint32_t table_len(const struct walk *w, uint64_t gpa)
{
	uint32_t len;

	if (gpa < X86_ACPI_START || gpa + 8 > ACPI_TABLES_END)
		return 0;
	len = get32(w->area + (gpa - X86_ACPI_START) + 4);
	if (len < 8 || len > ACPI_TABLES_END - gpa)
		return 0;
	return len;
}

/* The n-byte pointer at field (inside the blob `file` based at file_base):
 * rewritten as an offset into the tables blob and linked. Returns the
 * address it held, or 0 (null, or outside the tables: then left as is and
 * -EINVAL recorded). */
static uint64_t link_pointer(struct walk *w, const char *file,
			     uint64_t file_base, uint64_t field, unsigned n)
{
	uint8_t *p = w->area + (field - X86_ACPI_START);
	uint64_t v = getn(p, n);

	if (!v)
		return 0;
	if (v < w->base || v >= w->end) {
		w->l.err = w->l.err ? w->l.err : -EINVAL;
		return 0;
	}
	putn(p, v - w->base, n);
	loader_pointer(&w->l, file, TABLES_FILE, (uint32_t)(field - file_base),
		       (uint8_t)n);
	return v;
}

static void note_table(struct walk *w, uint64_t gpa)
{
	if (!gpa)
		return;
	for (unsigned i = 0; i < w->nr_tables; i++)
		if (w->tables[i] == gpa)
			return;
	if (w->nr_tables == MAX_TABLES) {
		w->l.err = w->l.err ? w->l.err : -ENOSPC;
		return;
	}
	w->tables[w->nr_tables++] = gpa;
}

/* The blob's end: past the last byte of any table reachable from the
 * RSDP (acpi_build places them one after another from base). */
static int find_end(struct walk *w, uint64_t xsdt)
{
	uint32_t len = table_len(w, xsdt), n;
	uint64_t end = xsdt + len;

	if (!len)
		return -EINVAL;
	n = (len - 36) / 8;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t = getn(w->area + (xsdt - X86_ACPI_START) + 36 + 8 * i, 8);
		uint32_t tl = table_len(w, t);

		if (!tl)
			return -EINVAL;
		if (t + tl > end)
			end = t + tl;
		if (!memcmp(w->area + (t - X86_ACPI_START), "FACP", 4) &&
		    tl >= 148) {
			const uint8_t *f = w->area + (t - X86_ACPI_START);
			uint64_t sub[2] = { get32(f + 36), getn(f + 140, 8) };

			for (int k = 0; k < 2; k++) {
				uint32_t sl = table_len(w, sub[k]);

				if (sub[k] && !sl)
					return -EINVAL;
				if (sub[k] + sl > end)
					end = sub[k] + sl;
			}
		}
	}
	w->end = end;
	return 0;
}

void x86_acpi_blobs_free(struct x86_acpi_blobs *b)
{
	free(b->rsdp);
	free(b->tables);
	free(b->loader);
	memset(b, 0, sizeof(*b));
}

int x86_acpi_blobs(unsigned nr_cpus, struct x86_acpi_blobs *out)
{
	const uint64_t area_len = ACPI_TABLES_END - X86_ACPI_START;
	struct acpi_cfg cfg = { .nr_cpus = nr_cpus };
	struct walk w = { .base = X86_ACPI_START + 64 };
	struct guest_mem gm = { 0 };
	uint64_t rsdp, xsdt;
	uint8_t *r;
	int ret;

	memset(out, 0, sizeof(*out));
	w.area = calloc(1, area_len);
	if (!w.area)
		return -ENOMEM;
	if ((ret = gm_add_region(&gm, X86_ACPI_START, area_len, w.area)) ||
	    (ret = acpi_build(&gm, &cfg, &rsdp)))
		goto out;
	ret = -EINVAL;
	if (rsdp != X86_ACPI_START)
		goto out;
	r = w.area;
	xsdt = getn(r + 24, 8);
	if (xsdt < w.base || (ret = find_end(&w, xsdt)))
		goto out;

	loader_alloc(&w.l, RSDP_FILE, 16, FW_LOADER_ZONE_FSEG);
	loader_alloc(&w.l, TABLES_FILE, 64, FW_LOADER_ZONE_HIGH);
	/* the pointers: RSDP -> XSDT -> tables; FADT -> FACS, DSDT */
	note_table(&w, link_pointer(&w, RSDP_FILE, X86_ACPI_START,
				    X86_ACPI_START + 24, 8));
	for (uint32_t i = 0; i < (table_len(&w, xsdt) - 36) / 8; i++) {
		uint64_t t = link_pointer(&w, TABLES_FILE, w.base,
					  xsdt + 36 + 8 * i, 8);
		const uint8_t *f;

		note_table(&w, t);
		if (!t)
			continue;
		f = w.area + (t - X86_ACPI_START);
		if (memcmp(f, "FACP", 4))
			continue;
		/* the FACS has no checksum: linked, not noted */
		link_pointer(&w, TABLES_FILE, w.base, t + 36, 4);
		note_table(&w, link_pointer(&w, TABLES_FILE, w.base, t + 40, 4));
		link_pointer(&w, TABLES_FILE, w.base, t + 132, 8);
		note_table(&w, link_pointer(&w, TABLES_FILE, w.base, t + 140, 8));
	}
	/* the checksums, once every pointer is final */
	for (unsigned i = 0; i < w.nr_tables; i++)
		loader_checksum(&w.l, TABLES_FILE,
				(uint32_t)(w.tables[i] - w.base + 9),
				(uint32_t)(w.tables[i] - w.base),
				table_len(&w, w.tables[i]));
	loader_checksum(&w.l, RSDP_FILE, 8, 0, 20);
	loader_checksum(&w.l, RSDP_FILE, 32, 0, 36);
	if ((ret = w.l.err))
		goto out;

	ret = -ENOMEM;
	out->rsdp_len = 36;
	out->tables_len = w.end - w.base;
	out->rsdp = malloc(out->rsdp_len);
	out->tables = malloc(out->tables_len);
	if (!out->rsdp || !out->tables)
		goto out;
	memcpy(out->rsdp, w.area, out->rsdp_len);
	memcpy(out->tables, w.area + (w.base - X86_ACPI_START), out->tables_len);
	out->loader = w.l.buf;
	out->loader_len = w.l.len;
	w.l.buf = NULL;
	ret = 0;
out:
	free(w.l.buf);
	free(w.area);
	if (ret)
		x86_acpi_blobs_free(out);
	return ret;
}

/* ---- CMOS ---- */

void x86_cmos_memory(uint8_t cmos[128], uint64_t low_size, uint64_t high_size,
		     unsigned nr_cpus)
{
	uint64_t ext = low_size > (1ULL << 20) ? (low_size - (1ULL << 20)) >> 10 : 0;
	uint64_t above16 = low_size > (16ULL << 20) ?
				   (low_size - (16ULL << 20)) >> 16 : 0;
	uint64_t above4g = high_size >> 16;

	if (ext > 0xffff)
		ext = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	if (above4g > 0xffffff)
		above4g = 0xffffff;
	cmos[0x15] = 640 & 0xff; /* base memory: 640 KiB */
	cmos[0x16] = 640 >> 8;
	cmos[0x17] = cmos[0x30] = (uint8_t)ext;
	cmos[0x18] = cmos[0x31] = (uint8_t)(ext >> 8);
	cmos[0x34] = (uint8_t)above16;
	cmos[0x35] = (uint8_t)(above16 >> 8);
	cmos[0x5b] = (uint8_t)above4g;
	cmos[0x5c] = (uint8_t)(above4g >> 8);
	cmos[0x5d] = (uint8_t)(above4g >> 16);
	cmos[0x5f] = (uint8_t)(nr_cpus ? nr_cpus - 1 : 0);
}

/* ---- everything else ---- */

static int add_e820(struct fw_cfg *f, uint64_t low, uint64_t high)
{
	uint8_t map[2 * E820_ENTRY] = { 0 };
	size_t n = 1;

	putn(map, 0, 8);
	putn(map + 8, low, 8);
	putn(map + 16, 1, 4); /* RAM */
	if (high) {
		putn(map + E820_ENTRY, X86_HIGH_RAM_START, 8);
		putn(map + E820_ENTRY + 8, high, 8);
		putn(map + E820_ENTRY + 16, 1, 4);
		n = 2;
	}
	return fw_cfg_add_file(f, "etc/e820", map, n * E820_ENTRY);
}

int x86_fw_cfg_fill(struct fw_cfg *f, const struct x86_fw_cfg_cfg *c)
{
	struct x86_acpi_blobs b;
	uint8_t ram[8], cpus[2], port[2], wait[4], menu[2] = { 0, 0 };
	int ret;

	putn(ram, c->low_size + c->high_size, 8);
	putn(cpus, c->nr_cpus, 2);
	putn(port, c->sercon_port, 2);
	putn(wait, BOOT_FAIL_WAIT_MS, 4);
	if ((ret = fw_cfg_add_item(f, FW_CFG_RAM_SIZE, ram, sizeof(ram))) ||
	    (ret = fw_cfg_add_item(f, FW_CFG_NB_CPUS, cpus, sizeof(cpus))) ||
	    (ret = fw_cfg_add_item(f, FW_CFG_MAX_CPUS, cpus, sizeof(cpus))) ||
	    (ret = add_e820(f, c->low_size, c->high_size)) ||
	    (ret = fw_cfg_add_file(f, "etc/show-boot-menu", menu, sizeof(menu))) ||
	    (ret = fw_cfg_add_file(f, "etc/boot-fail-wait", wait, sizeof(wait))))
		return ret;
	if (c->sercon_port &&
	    (ret = fw_cfg_add_file(f, "etc/sercon-port", port, sizeof(port))))
		return ret;
	if (c->bootorder && c->bootorder[0] &&
	    (ret = fw_cfg_add_file(f, "bootorder", c->bootorder,
				   strlen(c->bootorder) + 1)))
		return ret;
	if ((ret = x86_acpi_blobs(c->nr_cpus, &b)))
		return ret;
	if (!(ret = fw_cfg_add_file(f, RSDP_FILE, b.rsdp, b.rsdp_len)) &&
	    !(ret = fw_cfg_add_file(f, TABLES_FILE, b.tables, b.tables_len)))
		ret = fw_cfg_add_file(f, LOADER_FILE, b.loader, b.loader_len);
	x86_acpi_blobs_free(&b);
	return ret;
}
