/* SPDX-License-Identifier: MIT
 * pci.c - the PCI root bus (PCI Local Bus Spec 3.0), with the BAR windows
 * and INTx wiring of the architecture's struct pci_host.
 *
 *  - Host bridge at 00:00.0 (vendor 0x1b36 device 0x0008, class 0x060000),
 *    so Linux's pci_sanity_check finds a host bridge on bus 0.
 *  - Configuration mechanism #1 (3.2.2.3.2; the PC's, pci_cf8_attach):
 *    CONFIG_ADDRESS at port 0xCF8
 *    (dword only; bit 31 enable, bits 23:16 bus, 15:11 device, 10:8
 *    function, 7:2 register) and CONFIG_DATA at 0xCFC-0xCFF, where a byte
 *    or word access at 0xCFC+n reaches register + n. Only bus 0, function
 *    0 exists; everything else reads as all ones (a master abort).
 *  - Type-0 configuration header (6.1, 6.2) with a write mask and a
 *    write-1-to-clear mask per byte: identification, class, header type,
 *    capabilities pointer and interrupt pin are read-only; the command
 *    register has IO, MEM, bus master, parity, SERR and INTx-disable
 *    writable (6.2.2; Bus Master Enable is left to device models, which
 *    ask pci_bus_master() before touching guest memory or sending MSI-X);
 *    the status error bits are write-1-to-clear; status bit 3 shows the
 *    INTx level and bit 4 the capability list.
 *  - BARs (6.2.5.1): the write mask makes the sizing protocol fall out
 *    (write all ones, read ~(size-1) | type bits). pci_bus_add assigns
 *    addresses as firmware would and turns decoding on; afterwards a BAR
 *    sits on vm->pio / vm->mmio exactly while its decode bit is set and its
 *    address is usable (non-zero, not the sizing pattern, not wrapping,
 *    not on guest RAM, not overlapping another range).
 *  - Capability lists (6.7) and INTx; MSI-X lives in msix.c.
 *
 * Locking: one recursive mutex per bus (bus->lock) serialises every
 * configuration access, the CONFIG_ADDRESS latch and BAR (un)mapping; the
 * cfg_written and bar_moved hooks run under it. INTx (d->intx_lock) and
 * MSI-X (d->msix.lock) have their own locks so that I/O threads raising
 * interrupts never wait for a configuration cycle or its hooks (a device
 * hook may take the device's own locks, which the device may hold while
 * raising an interrupt). Order: bus lock, then intx_lock, then msix.lock.
 */
#include "pci.h"
#include "pci_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#define CF8_ENABLE 0x80000000u

/* ---- little-endian helpers for the config byte arrays ---- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t all_ones(unsigned len)
{
	return len == 1 ? 0xffu : len == 2 ? 0xffffu : 0xffffffffu;
}

/* Naturally aligned 1/2/4-byte access inside the 256-byte space. */
static bool cfg_access_ok(unsigned off, unsigned len)
{
	return (len == 1 || len == 2 || len == 4) && off % len == 0 &&
	       off <= PCI_CFG_SIZE - len;
}

/* Does [off, off+len) touch [reg, reg+rlen)? */
static bool touches(unsigned off, unsigned len, unsigned reg, unsigned rlen)
{
	return off < reg + rlen && reg < off + len;
}

static void dev_lock(struct pci_dev *d)
{
	if (d->bus)
		pthread_mutex_lock(&d->bus->lock);
}

static void dev_unlock(struct pci_dev *d)
{
	if (d->bus)
		pthread_mutex_unlock(&d->bus->lock);
}

/* ---- building a device ---- */

void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor,
		  uint16_t device, uint32_t class_code, uint8_t revision,
		  uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	wr16(d->cfg + PCI_CFG_VENDOR_ID, vendor);
	wr16(d->cfg + PCI_CFG_DEVICE_ID, device);
	d->cfg[PCI_CFG_REVISION] = revision;
	d->cfg[PCI_CFG_CLASS_PROG] = (uint8_t)class_code;
	d->cfg[PCI_CFG_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	d->cfg[PCI_CFG_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	d->cfg[PCI_CFG_HEADER_TYPE] = 0x00; /* type 0, single function */
	wr16(d->cfg + PCI_CFG_SUBSYS_VENDOR, subsys_vendor);
	wr16(d->cfg + PCI_CFG_SUBSYS_ID, subsys_id);
	d->cfg[PCI_CFG_INT_PIN] = 1; /* INTA# */

	wr16(d->wmask + PCI_CFG_COMMAND,
	     PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_PARITY |
		     PCI_CMD_SERR | PCI_CMD_INTX_DISABLE);
	wr16(d->w1cmask + PCI_CFG_STATUS, PCI_STS_W1C);
	d->wmask[PCI_CFG_CACHE_LINE] = 0xff;
	d->wmask[PCI_CFG_LATENCY] = 0xff;
	d->wmask[PCI_CFG_INT_LINE] = 0xff;
	/* Expansion ROM BAR (0x30) stays read-only zero: no ROM. */

	d->next_cap_off = PCI_CFG_FIRST_CAP;
	d->msix.bar = -1;
	pthread_mutex_init(&d->msix.lock, NULL);
	pthread_mutex_init(&d->intx_lock, NULL);
}

static uint32_t bar_type_bits(const struct pci_bar *b)
{
	switch (b->type) {
	case PCI_BAR_IO:
		return 0x1;
	case PCI_BAR_MEM32:
		return b->prefetch ? 0x8 : 0x0;
	case PCI_BAR_MEM64:
		return 0x4 | (b->prefetch ? 0x8 : 0x0);
	default:
		return 0;
	}
}

/* Write BAR n's register(s): address addr plus type bits, and the write
 * mask that implements sizing: only the address bits at or above the size
 * are writable, so writing all ones reads back ~(size-1) | type. */
static void bar_render(struct pci_dev *d, int n, uint64_t addr)
{
	struct pci_bar *b = &d->bars[n];
	unsigned off = PCI_CFG_BAR0 + 4 * (unsigned)n;
	uint64_t amask = ~(b->size - 1);
	uint32_t low = b->type == PCI_BAR_IO ? ~3u : ~0xfu;

	wr32(d->cfg + off, ((uint32_t)addr & (uint32_t)amask & low) |
				   bar_type_bits(b));
	wr32(d->wmask + off, (uint32_t)amask & low);
	if (b->type == PCI_BAR_MEM64) {
		wr32(d->cfg + off + 4, (uint32_t)((addr & amask) >> 32));
		wr32(d->wmask + off + 4, (uint32_t)(amask >> 32));
	}
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

int pci_dev_set_bar(struct pci_dev *d, int n, enum pci_bar_type type,
		    uint64_t size, bus_io_fn fn, void *opaque)
{
	if (n < 0 || n >= PCI_NUM_BARS || !fn || !is_pow2(size))
		return -EINVAL;
	if (d->bars[n].type != PCI_BAR_NONE ||
	    (n > 0 && d->bars[n - 1].type == PCI_BAR_MEM64))
		return -EINVAL; /* taken, or the upper half of a 64-bit BAR */
	switch (type) {
	case PCI_BAR_IO:
		if (size < 4 || size > 256)
			return -EINVAL;
		break;
	case PCI_BAR_MEM32:
		if (size < 16 || size > (1ULL << 31))
			return -EINVAL;
		break;
	case PCI_BAR_MEM64:
		if (size < 16 || size > (1ULL << 62) || n + 1 >= PCI_NUM_BARS ||
		    d->bars[n + 1].type != PCI_BAR_NONE)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	d->bars[n] = (struct pci_bar){ .type = type, .size = size, .fn = fn,
				       .opaque = opaque };
	bar_render(d, n, 0);
	return 0;
}

int pci_dev_add_cap(struct pci_dev *d, const void *body, unsigned len)
{
	unsigned off = d->next_cap_off, end;

	if (!body || len < 2)
		return -EINVAL;
	if (off < PCI_CFG_FIRST_CAP)
		off = PCI_CFG_FIRST_CAP;
	off = (off + 3) & ~3u; /* capabilities are dword aligned */
	if (off > PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return -ENOSPC;
	memcpy(d->cfg + off, body, len);
	d->cfg[off + 1] = 0; /* end of list */
	memset(d->wmask + off, 0, len);
	memset(d->w1cmask + off, 0, len);

	if (!d->cfg[PCI_CFG_CAP_PTR]) {
		d->cfg[PCI_CFG_CAP_PTR] = (uint8_t)off;
	} else {
		/* Walk to the last capability (the list is ours, so it is
		 * finite; bound it anyway). */
		unsigned p = d->cfg[PCI_CFG_CAP_PTR];
		for (int guard = 0; d->cfg[p + 1] && guard < 64; guard++)
			p = d->cfg[p + 1];
		d->cfg[p + 1] = (uint8_t)off;
	}
	wr16(d->cfg + PCI_CFG_STATUS,
	     rd16(d->cfg + PCI_CFG_STATUS) | PCI_STS_CAP_LIST);

	end = (off + len + 3) & ~3u;
	/* 0xff means "full": the next call rounds it to 0x100 -> -ENOSPC */
	d->next_cap_off = end >= PCI_CFG_SIZE ? 0xff : (uint8_t)end;
	return (int)off;
}

/* ---- INTx ---- */

/* intx_lock held. Drive the irqchip input when the effective level
 * changes. The pin is quiet while the command register's INTx Disable is
 * set or MSI-X is enabled (6.8.2: a function using MSI-X must not use
 * INTx#). Status bit 3 shows intx_level itself (pci_cfg_read adds it). */
static void intx_update(struct pci_dev *d)
{
	bool drive = d->intx_level && !d->intx_disabled && !pci_msix_enabled(d);

	if (d->bus && d->bus->vm && drive != d->intx_driven) {
		vm_irq_line(d->bus->vm, d->intx_gsi, drive);
		d->intx_driven = drive;
	}
}

void pci_intx_set(struct pci_dev *d, bool level)
{
	pthread_mutex_lock(&d->intx_lock);
	/* atomic: pci_cfg_read shows it in status without intx_lock */
	__atomic_store_n(&d->intx_level, level, __ATOMIC_RELAXED);
	intx_update(d);
	pthread_mutex_unlock(&d->intx_lock);
}

/* ---- BAR mapping ---- */

/* The address BAR n's register(s) hold. */
static uint64_t bar_addr(const struct pci_dev *d, int n)
{
	unsigned off = PCI_CFG_BAR0 + 4 * (unsigned)n;
	uint32_t lo = rd32(d->cfg + off);

	switch (d->bars[n].type) {
	case PCI_BAR_IO:
		return lo & ~3u;
	case PCI_BAR_MEM32:
		return lo & ~0xfu;
	case PCI_BAR_MEM64:
		return (lo & ~0xfull) | (uint64_t)rd32(d->cfg + off + 4) << 32;
	default:
		return 0;
	}
}

/* The register holds what sizing leaves there: every writable address
 * bit set. For a 64-bit BAR that is the high dword's pattern, or the low
 * dword's with a zero high dword (sizing the low half first); an all-ones
 * low dword under a real high dword is an ordinary address. */
static bool bar_is_sizing_pattern(const struct pci_dev *d, int n)
{
	unsigned off = PCI_CFG_BAR0 + 4 * (unsigned)n;
	uint32_t wlo = rd32(d->wmask + off);
	bool lo = wlo && (rd32(d->cfg + off) & wlo) == wlo;

	if (d->bars[n].type == PCI_BAR_MEM64) {
		uint32_t whi = rd32(d->wmask + off + 4);
		uint32_t hi = rd32(d->cfg + off + 4);
		if (whi && (hi & whi) == whi)
			return true;
		return lo && hi == 0;
	}
	return lo;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Is [base, base+len) free on bus? Checked before bus_add so that a guest
 * moving BARs onto each other is not an error message per config write.
 * Only pci.c adds ranges after machine setup, under the PCI bus lock. */
static bool bus_range_free(struct bus *bus, uint64_t base, uint64_t len)
{
	bool free_ = true;

	pthread_rwlock_rdlock(&bus->lock);
	for (unsigned i = 0; i < bus->nr && free_; i++)
		if (overlaps(base, len, bus->r[i].base, bus->r[i].len))
			free_ = false;
	pthread_rwlock_unlock(&bus->lock);
	return free_;
}

/* The bus BAR b of bus pb is mapped on at register value addr, and where
 * on it: I/O BARs on the port bus, or in the host's I/O window on MMIO. */
static struct bus *bar_bus(struct pci_bus *pb, const struct pci_bar *b,
			   uint64_t addr, uint64_t *where)
{
	bool io = b->type == PCI_BAR_IO;

	*where = addr;
	if (!io)
		return &pb->vm->mmio;
	if (!pb->host.io_mmio_base)
		return &pb->vm->pio;
	*where = pb->host.io_mmio_base + addr;
	return &pb->vm->mmio;
}

/* NULL if BAR n can be mapped at addr, else why not. *quiet is set for
 * the normal states of an unassigned or being-sized BAR. */
static const char *bar_unusable(struct pci_dev *d, int n, uint64_t addr,
				bool *quiet)
{
	const struct pci_bar *b = &d->bars[n];
	struct vm *vm = d->bus->vm;
	bool io = b->type == PCI_BAR_IO;
	uint64_t end, where;
	struct bus *on;

	*quiet = true;
	if (!(rd16(d->cfg + PCI_CFG_COMMAND) & (io ? PCI_CMD_IO : PCI_CMD_MEM)))
		return "decode off";
	if (addr == 0)
		return "unassigned";
	if (bar_is_sizing_pattern(d, n))
		return "being sized";
	*quiet = false;
	if (__builtin_add_overflow(addr, b->size, &end))
		return "wraps around";
	if (io && end > 0x10000)
		return "beyond the 64 KiB port space";
	if (!io)
		for (unsigned i = 0; i < vm->mem.nr; i++)
			if (overlaps(addr, b->size, vm->mem.r[i].gpa,
				     vm->mem.r[i].size))
				return "overlaps guest RAM";
	on = bar_bus(d->bus, b, addr, &where);
	if (!bus_range_free(on, where, b->size))
		return "overlaps another device";
	return NULL;
}

/* Where a BAR was before bus_sync_bars. */
struct bar_state {
	bool mapped;
	uint64_t addr;
};

/* A mapped BAR stays while its address and decode bit are unchanged (its
 * own range is no overlap); otherwise it comes off its bus. */
static void unmap_stale_bar(struct pci_dev *d, int n)
{
	struct pci_bar *b = &d->bars[n];
	uint16_t dec = b->type == PCI_BAR_IO ? PCI_CMD_IO : PCI_CMD_MEM;

	if (b->type == PCI_BAR_NONE || !b->mapped)
		return;
	uint64_t where;
	struct bus *on;

	if (bar_addr(d, n) == b->addr && (rd16(d->cfg + PCI_CFG_COMMAND) & dec))
		return;
	on = bar_bus(d->bus, b, b->addr, &where);
	bus_remove(on, where);
	b->mapped = false;
}

/* Map an unmapped BAR at its register's address if it may be; say once
 * why not when that is worth a warning. */
static void map_bar(unsigned slot, struct pci_dev *d, int n)
{
	struct pci_bar *b = &d->bars[n];
	bool quiet;
	const char *why;
	uint64_t addr;
	int ret;

	if (b->type == PCI_BAR_NONE || b->mapped)
		return;
	addr = bar_addr(d, n);
	b->addr = addr;
	why = bar_unusable(d, n, addr, &quiet);
	if (!why) {
		uint64_t where;
		struct bus *on = bar_bus(d->bus, b, addr, &where);

		ret = bus_add(on, where, b->size, b->fn, b->reg, b->opaque,
			      d->name);
		if (!ret)
			b->mapped = true;
		else
			why = strerror(-ret);
	}
	if (why && !quiet && !b->warned) {
		b->warned = true;
		pr_warn("pci 00:%02x.0 %s: BAR%d at 0x%" PRIx64
			" (0x%" PRIx64 " bytes) left unmapped: %s",
			slot, d->name, n, addr, b->size, why);
	}
}

/* Tell the device when its BAR was mapped, unmapped or moved. */
static void report_bar_change(unsigned slot, struct pci_dev *d, int n,
			      const struct bar_state *old)
{
	struct pci_bar *b = &d->bars[n];

	if (b->type == PCI_BAR_NONE)
		return;
	if (b->mapped == old->mapped && (!b->mapped || b->addr == old->addr))
		return;
	pr_trace("pci 00:%02x.0 %s: BAR%d %s 0x%" PRIx64, slot, d->name, n,
		 b->mapped ? "mapped at" : "unmapped", b->addr);
	if (d->bar_moved)
		d->bar_moved(d, n, old->addr, b->addr, b->mapped);
}

/* Bus lock held. Bring every BAR of every device on the bus in line with
 * its registers: first unmap what moved or lost decoding (which may free
 * room another BAR wanted), then map what should be mapped, then tell the
 * devices whose BARs changed. */
static void bus_sync_bars(struct pci_bus *pb)
{
	struct bar_state old[PCI_MAX_SLOTS][PCI_NUM_BARS];
	struct pci_dev *d;

	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
		d = pb->slots[s];
		for (int n = 0; d && n < PCI_NUM_BARS; n++) {
			old[s][n].mapped = d->bars[n].mapped;
			old[s][n].addr = d->bars[n].addr;
			unmap_stale_bar(d, n);
		}
	}
	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
		d = pb->slots[s];
		for (int n = 0; d && n < PCI_NUM_BARS; n++)
			map_bar(s, d, n);
	}
	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
		d = pb->slots[s];
		for (int n = 0; d && n < PCI_NUM_BARS; n++)
			report_bar_change(s, d, n, &old[s][n]);
	}
}

/* ---- configuration space ---- */

uint32_t pci_cfg_read(struct pci_dev *d, unsigned off, unsigned len)
{
	uint32_t v = 0;

	if (!cfg_access_ok(off, len))
		return all_ones(len);
	dev_lock(d);
	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	dev_unlock(d);
	/* Status bit 3, Interrupt Status, is live (the cfg byte stays 0). */
	if (off <= PCI_CFG_STATUS && PCI_CFG_STATUS < off + len &&
	    __atomic_load_n(&d->intx_level, __ATOMIC_RELAXED))
		v |= (uint32_t)PCI_STS_INTX << (8 * (PCI_CFG_STATUS - off));
	return v;
}

void pci_cfg_write(struct pci_dev *d, unsigned off, unsigned len,
		   uint32_t val)
{
	uint16_t old_cmd;
	bool msix_ctrl;

	if (!cfg_access_ok(off, len))
		return;
	dev_lock(d);
	old_cmd = rd16(d->cfg + PCI_CFG_COMMAND);
	for (unsigned i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t wm = d->wmask[off + i], w1c = d->w1cmask[off + i];

		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~wm) | (b & wm));
		d->cfg[off + i] &= (uint8_t)~(b & w1c);
	}

	/* seq_cst (config writes are rare): the store is ordered before
	 * whatever the cfg_written hook reads next */
	if (touches(off, len, PCI_CFG_COMMAND, 2))
		__atomic_store_n(&d->bus_master,
				 rd16(d->cfg + PCI_CFG_COMMAND) & PCI_CMD_MASTER,
				 __ATOMIC_SEQ_CST);
	if (d->bus && d->bus->vm &&
	    (touches(off, len, PCI_CFG_COMMAND, 2) ||
	     touches(off, len, PCI_CFG_BAR0, 4 * PCI_NUM_BARS)))
		bus_sync_bars(d->bus);
	msix_ctrl = d->msix.nvec &&
		    touches(off, len, d->msix.cap + PCI_MSIX_CTRL, 2);
	if (msix_ctrl)
		msix_ctrl_written(d);
	if (msix_ctrl || ((old_cmd ^ rd16(d->cfg + PCI_CFG_COMMAND)) &
			  PCI_CMD_INTX_DISABLE)) {
		pthread_mutex_lock(&d->intx_lock);
		d->intx_disabled = rd16(d->cfg + PCI_CFG_COMMAND) &
				   PCI_CMD_INTX_DISABLE;
		intx_update(d);
		pthread_mutex_unlock(&d->intx_lock);
	}
	if (d->cfg_written)
		d->cfg_written(d, off, len);
	dev_unlock(d);
}

bool pci_bus_master(struct pci_dev *d)
{
	return __atomic_load_n(&d->bus_master, __ATOMIC_SEQ_CST);
}

/* ---- configuration mechanism #1 ---- */

/* 0xCF8: CONFIG_ADDRESS, dword accesses only. Bits 1:0 read as zero
 * (3.2.2.3.2); everything else reads back as written. Byte/word accesses
 * (Linux's pci_check_type1 writes a byte to 0xCFB) are ignored and read as
 * all ones. 0xCF9 is not ours: it is the ACPI reset register. */
static void cf8_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	struct pci_bus *bus = opaque;
	uint32_t v;

	if (off != 0 || len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (is_write) {
		memcpy(&v, data, 4); /* x86 host: little-endian like the port */
		bus->cf8 = v & ~3u;
	} else {
		memcpy(data, &bus->cf8, 4);
	}
	pthread_mutex_unlock(&bus->lock);
}

/* 0xCFA-0xCFB: the upper half of CONFIG_ADDRESS; narrow accesses there
 * are ignored like those at 0xCF8. */
static void cfa_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	(void)opaque;
	(void)off;
	if (!is_write)
		memset(data, 0xff, len);
}

/* ---- register names for --trace ---- */

/* The type-0 header (PCI 3.0, 6.1), one row per register. */
static const struct { uint8_t off, len; const char *name; } hdr_regs[] = {
	{ 0x00, 2, "vendor_id" },  { 0x02, 2, "device_id" },
	{ 0x04, 2, "command" },    { 0x06, 2, "status" },
	{ 0x08, 1, "revision" },   { 0x09, 3, "class_code" },
	{ 0x0c, 1, "cache_line" }, { 0x0d, 1, "latency" },
	{ 0x0e, 1, "header_type" }, { 0x0f, 1, "bist" },
	{ 0x10, 4, "BAR0" },       { 0x14, 4, "BAR1" },
	{ 0x18, 4, "BAR2" },       { 0x1c, 4, "BAR3" },
	{ 0x20, 4, "BAR4" },       { 0x24, 4, "BAR5" },
	{ 0x28, 4, "cardbus_cis" }, { 0x2c, 2, "subsystem_vendor_id" },
	{ 0x2e, 2, "subsystem_id" }, { 0x30, 4, "rom_bar" },
	{ 0x34, 1, "cap_ptr" },    { 0x35, 7, "reserved" },
	{ 0x3c, 1, "interrupt_line" }, { 0x3d, 1, "interrupt_pin" },
	{ 0x3e, 1, "min_gnt" },    { 0x3f, 1, "max_lat" },
};

static const char *cap_name(uint8_t id)
{
	switch (id) {
	case 0x01: return "PM";
	case 0x05: return "MSI";
	case 0x09: return "vendor";
	case 0x10: return "PCIe";
	case PCI_CAP_ID_MSIX: return "MSI-X";
	default: return "?";
	}
}

void pci_cfg_reg_name(const struct pci_dev *d, unsigned off, unsigned len,
		      char *buf, size_t size)
{
	size_t at = 0;
	unsigned cap, best = 0;

	buf[0] = '\0';
	if (off < PCI_CFG_FIRST_CAP) {
		/* every register the access touches: "vendor_id/device_id" */
		for (unsigned i = 0; i < sizeof(hdr_regs) / sizeof(hdr_regs[0]); i++) {
			unsigned r = hdr_regs[i].off, e = r + hdr_regs[i].len;

			if (e <= off || r >= off + len || at >= size)
				continue;
			if (r < off)
				at += (size_t)snprintf(buf + at, size - at, "%s%s+%u",
						       at ? "/" : "", hdr_regs[i].name,
						       off - r);
			else
				at += (size_t)snprintf(buf + at, size - at, "%s%s",
						       at ? "/" : "", hdr_regs[i].name);
		}
		return;
	}
	/* the capability that holds off: the nearest one at or below it
	 * (the list is read-only to the guest; 48 links at most) */
	cap = d->cfg[PCI_CFG_CAP_PTR] & 0xfc;
	for (unsigned n = 0; cap >= PCI_CFG_FIRST_CAP && n < 48; n++) {
		if (cap <= off && cap > best)
			best = cap;
		cap = d->cfg[cap + 1] & 0xfc;
	}
	if (best)
		snprintf(buf, size, off > best ? "cap 0x%02x %s+%u" : "cap 0x%02x %s",
			 best, cap_name(d->cfg[best]), off - best);
	else
		snprintf(buf, size, "0x%02x", off);
}

/* The function CONFIG_ADDRESS selects, or NULL (bus lock held). */
static struct pci_dev *selected(struct pci_bus *bus, uint32_t cf8)
{
	/* Bits 27:24 would be an extended register number (>= 256) on
	 * chipsets that have them: nothing there, like other buses and
	 * functions. */
	if ((cf8 & CF8_ENABLE) && !(cf8 & 0x0f000000u) &&
	    ((cf8 >> 16) & 0xff) == 0 && ((cf8 >> 8) & 7) == 0)
		return bus->slots[(cf8 >> 11) & 0x1f];
	return NULL;
}

/* 0xCF8 (and the upper half at 0xCFA) is CONFIG_ADDRESS; 0xCFC-0xCFF name
 * the register CONFIG_ADDRESS selects: "00:03.0 cfg BAR4". */
static unsigned cf8_name(void *opaque, uint64_t off, unsigned len,
			 bool is_write, char *buf, size_t size)
{
	struct pci_bus *bus = opaque;
	uint32_t cf8;

	(void)is_write;
	if (off || len != 4) {
		snprintf(buf, size, "CONFIG_ADDRESS+%u", (unsigned)off);
		return 0;
	}
	pthread_mutex_lock(&bus->lock);
	cf8 = bus->cf8;
	pthread_mutex_unlock(&bus->lock);
	/* what the latch now selects: bus:device.function and register */
	if (cf8 & CF8_ENABLE)
		snprintf(buf, size, "CONFIG_ADDRESS(%02x:%02x.%u 0x%02x)",
			 (cf8 >> 16) & 0xff, (cf8 >> 11) & 0x1f, (cf8 >> 8) & 7,
			 cf8 & 0xfc);
	else
		snprintf(buf, size, "CONFIG_ADDRESS");
	return 0;
}

static unsigned cfa_name(void *opaque, uint64_t off, unsigned len,
			 bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)len;
	(void)is_write;
	snprintf(buf, size, "CONFIG_ADDRESS+%u", (unsigned)off + 2);
	return 0;
}

static unsigned cfc_name(void *opaque, uint64_t off, unsigned len,
			 bool is_write, char *buf, size_t size)
{
	struct pci_bus *bus = opaque;
	struct pci_dev *d;
	uint32_t cf8;
	char reg[64];

	(void)is_write;
	pthread_mutex_lock(&bus->lock);
	cf8 = bus->cf8;
	d = selected(bus, cf8);
	if (d && off < 4 && len <= 4)
		pci_cfg_reg_name(d, (cf8 & 0xfc) + (unsigned)off, len, reg,
				 sizeof(reg));
	pthread_mutex_unlock(&bus->lock);
	if (!(cf8 & CF8_ENABLE))
		snprintf(buf, size, "CONFIG_DATA (disabled)");
	else if (!d)
		snprintf(buf, size, "%02x:%02x.%u cfg (no device)",
			 (cf8 >> 16) & 0xff, (cf8 >> 11) & 0x1f, (cf8 >> 8) & 7);
	else if (off < 4 && len <= 4)
		snprintf(buf, size, "00:%02x.0 cfg %s", (cf8 >> 11) & 0x1f, reg);
	return 0;
}

/* 0xCFC-0xCFF: CONFIG_DATA for the function CONFIG_ADDRESS selects. */
static void cfc_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	struct pci_bus *bus = opaque;
	struct pci_dev *d = NULL;
	uint32_t cf8, v = 0;
	unsigned reg;

	if (len > 4 || off > 3) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	cf8 = bus->cf8;
	d = selected(bus, cf8);
	reg = (cf8 & 0xfc) + (unsigned)off;
	if (is_write) {
		memcpy(&v, data, len);
		if (d)
			pci_cfg_write(d, reg, len, v);
	} else {
		v = d ? pci_cfg_read(d, reg, len) : all_ones(len);
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&bus->lock);
}

/* ---- the bus ---- */

int pci_bus_init(struct pci_bus *bus, struct vm *vm,
		 const struct pci_host *host)
{
	pthread_mutexattr_t attr;
	int ret;

	if (!vm || !host || !host->intx_count)
		return -EINVAL;
	memset(bus, 0, sizeof(*bus));
	bus->vm = vm;
	bus->host = *host;
	bus->next_mmio = host->mmio_start;
	bus->next_io = host->io_start;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	ret = pthread_mutex_init(&bus->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (ret)
		return -ret;

	pci_dev_init(&bus->host_bridge, "host-bridge", 0x1b36, 0x0008,
		     0x060000, 0, 0x1b36, 0x0008);
	bus->host_bridge.cfg[PCI_CFG_INT_PIN] = 0; /* no interrupt */
	bus->host_bridge.wmask[PCI_CFG_INT_LINE] = 0;
	bus->host_bridge.bus = bus;
	bus->slots[0] = &bus->host_bridge;
	vm->pci = bus;
	return 0;
}

void pci_bus_set_host_bridge(struct pci_bus *bus, struct pci_dev *d)
{
	pthread_mutex_lock(&bus->lock);
	d->cfg[PCI_CFG_INT_PIN] = 0; /* no interrupt */
	d->wmask[PCI_CFG_INT_LINE] = 0;
	d->cfg[PCI_CFG_INT_LINE] = 0;
	d->slot = 0;
	d->bus = bus;
	bus->slots[0] = d;
	pthread_mutex_unlock(&bus->lock);
}

int pci_cf8_attach(struct pci_bus *bus)
{
	struct vm *vm = bus->vm;
	int ret;

	/* CONFIG_ADDRESS is 0xCF8-0xCFB minus 0xCF9 (the reset register):
	 * a dword access at 0xCF8 lands in the one-byte range at 0xCF8. */
	ret = bus_add(&vm->pio, 0xcf8, 1, cf8_io, cf8_name, bus, "pci");
	if (!ret) {
		ret = bus_add(&vm->pio, 0xcfa, 2, cfa_io, cfa_name, bus, "pci");
		if (ret)
			bus_remove(&vm->pio, 0xcf8);
	}
	if (!ret) {
		ret = bus_add(&vm->pio, 0xcfc, 4, cfc_io, cfc_name, bus, "pci");
		if (ret) {
			bus_remove(&vm->pio, 0xcf8);
			bus_remove(&vm->pio, 0xcfa);
		}
	}
	if (ret) {
		pr_err("pci: cannot claim ports 0xcf8-0xcff: %s",
		       strerror(-ret));
		return ret;
	}
	bus->cf8_attached = true;
	return 0;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

int pci_bus_add(struct pci_bus *bus, struct pci_dev *d)
{
	uint64_t addr[PCI_NUM_BARS] = { 0 };
	uint64_t mmio, io;
	unsigned slot = d->slot;
	uint16_t cmd = 0;
	int ret = 0;

	pthread_mutex_lock(&bus->lock);
	if (d->bus) {
		ret = -EBUSY;
		goto out;
	}
	if (slot) {
		if (slot >= PCI_MAX_SLOTS || bus->slots[slot])
			ret = slot >= PCI_MAX_SLOTS ? -EINVAL : -EBUSY;
	} else {
		for (slot = 1; slot < PCI_MAX_SLOTS && bus->slots[slot]; slot++)
			;
		if (slot == PCI_MAX_SLOTS)
			ret = -ENOSPC;
	}
	if (ret) {
		pr_err("pci: no slot for %s", d->name);
		goto out;
	}

	/* Assign like firmware: each BAR naturally aligned (memory BARs to
	 * at least a page so no two devices share one) in the windows the
	 * ACPI _CRS / e820 describe. Nothing is committed on failure. */
	mmio = bus->next_mmio;
	io = bus->next_io;
	for (int n = 0; n < PCI_NUM_BARS; n++) {
		struct pci_bar *b = &d->bars[n];
		uint64_t a;

		if (b->type == PCI_BAR_NONE)
			continue;
		if (b->type == PCI_BAR_IO) {
			a = align_up(io, b->size);
			if (a + b->size > bus->host.io_end)
				ret = -ENOSPC;
			io = a + b->size;
			cmd |= PCI_CMD_IO;
		} else {
			a = align_up(mmio, b->size < 4096 ? 4096 : b->size);
			if (b->size > bus->host.mmio_end ||
			    a > bus->host.mmio_end - b->size)
				ret = -ENOSPC;
			mmio = a + b->size;
			cmd |= PCI_CMD_MEM;
		}
		if (ret) {
			pr_err("pci: no room for %s BAR%d (0x%" PRIx64
			       " bytes)", d->name, n, b->size);
			goto out;
		}
		addr[n] = a;
	}
	bus->next_mmio = mmio;
	bus->next_io = io;
	for (int n = 0; n < PCI_NUM_BARS; n++) {
		if (d->bars[n].type != PCI_BAR_NONE) {
			bar_render(d, n, addr[n]);
			d->bars[n].addr = 0;
			d->bars[n].mapped = false;
		}
	}
	wr16(d->cfg + PCI_CFG_COMMAND, rd16(d->cfg + PCI_CFG_COMMAND) | cmd);
	d->slot = slot;
	d->intx_gsi = pci_slot_intx_gsi(&bus->host, slot);
	d->cfg[PCI_CFG_INT_LINE] = (uint8_t)d->intx_gsi;
	d->bus = bus;
	bus->slots[slot] = d;
	msix_attach(d);
	bus_sync_bars(bus);
	pr_trace("pci 00:%02x.0 %s: INTA# -> GSI %u", slot, d->name,
		 d->intx_gsi);
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void pci_dev_release(struct pci_dev *d)
{
	msix_release(d);
}

void pci_bus_destroy(struct pci_bus *bus)
{
	struct vm *vm = bus->vm;

	if (!vm)
		return;
	pthread_mutex_lock(&bus->lock);
	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
		struct pci_dev *d = bus->slots[s];
		if (!d)
			continue;
		for (int n = 0; n < PCI_NUM_BARS; n++) {
			struct pci_bar *b = &d->bars[n];
			if (b->mapped) {
				uint64_t where;
				struct bus *on = bar_bus(bus, b, b->addr, &where);

				bus_remove(on, where);
			}
			b->mapped = false;
		}
		msix_release(d);
		d->bus = NULL;
		bus->slots[s] = NULL;
	}
	if (bus->cf8_attached) {
		bus_remove(&vm->pio, 0xcf8);
		bus_remove(&vm->pio, 0xcfa);
		bus_remove(&vm->pio, 0xcfc);
		bus->cf8_attached = false;
	}
	if (vm->pci == bus)
		vm->pci = NULL;
	pthread_mutex_unlock(&bus->lock);
	pthread_mutex_destroy(&bus->lock);
	bus->vm = NULL;
}
