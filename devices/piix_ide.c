/* SPDX-License-Identifier: MIT
 * piix_ide.c - the IDE function of the Intel 82371SB PIIX3 (PIIX3
 * datasheet, 2.4 "PCI configuration registers - IDE interface (function
 * 1)" and 2.7 "Bus master IDE I/O registers"), with bus-master DMA as the
 * "Programming Interface for Bus Master IDE Controller" (SFF-8038i, rev 1.0)
 * gives it.
 *
 *  - PCI 8086:7010, class 01h/01h, programming interface 80h: both
 *    channels in compatibility ("legacy") mode at the fixed ISA ports --
 *    primary 1F0h-1F7h and 3F6h on ISA IRQ 14, secondary 170h-177h and
 *    376h on IRQ 15 -- and bus-master capable; BAR 0-3 are unused in that
 *    mode, BAR 4 is the 16-byte I/O block of the bus-master registers.
 *  - IDETIM (40h-43h, one word per channel) with its IDE Decode Enable bit
 *    set, as firmware leaves it, and SIDETIM (44h): writable timing
 *    registers with no other effect.
 *  - Bus-master registers per channel: command (start/stop, read/write
 *    control), status (active, error and interrupt (write 1 to clear), the
 *    two "drive DMA capable" bits, simplex 0) and the descriptor table
 *    pointer (dword aligned). A descriptor (PRD) is a 32-bit buffer address
 *    (bit 0 zero), a 16-bit byte count (bit 0 zero; 0 means 64 KiB) and EOT
 *    in bit 31 of the second dword.
 *  - The interrupt bit is set on each rising edge of the channel's
 *    interrupt line.
 *
 * A position may hold an ATAPI CD-ROM (devices/atapi.c) instead of a disk:
 * a PACKET command's data moves through the same DMA engine.
 *
 * Linux's ata_piix driver (over libata) runs it unmodified; it gives the
 * PIIX3 multiword DMA only, so a Linux guest runs the disks at MWDMA2.
 *
 * The PRD table and the buffers it points at are the guest's: every entry
 * is read with gm_read and every buffer mapped with gm_ptr over exactly
 * its length. A table that leaves RAM, points a buffer outside it, has no
 * EOT within BM_PRD_MAX entries or ends before the transfer does, or a
 * transfer while bus mastering is off, ends the command with the error bit
 * in the bus-master status and ERR/ABRT in the ATA status, with an
 * interrupt: the driver's error handling takes over.
 */
#include "piix_ide.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ata.h"
#include "devices/disk/blockdev.h"
#include "devices/pci.h"
#include "vmm/device.h"
#include "vmm/vm.h"

#define PIIX_IDETIM 0x40 /* primary 40h-41h, secondary 42h-43h */
#define PIIX_IDETIM_DECODE 0x80 /* in the high byte */
#define PIIX_SIDETIM 0x44

/* The compatibility-mode ports; their ISA IRQs (14 and 15 on a PC) come
 * from the platform's PCI host (struct pci_host legacy_ide_irq). */
static const struct {
	uint16_t cmd, ctl;
} legacy[2] = {
	{ 0x1f0, 0x3f6 },
	{ 0x170, 0x376 },
};

struct piix_state;

struct piix_chan {
	struct piix_state *s;
	unsigned idx;
	pthread_mutex_t lock; /* the channel's registers, ATA and bus master */
	struct ata_channel ata;
	uint8_t bm_cmd, bm_status;
	uint32_t bm_prd;
	struct iovec iov[BM_IOV_BATCH];
};

/* What the guest made the controller do, for --stats and the control
 * socket (relaxed atomics: several vCPUs update them). Every register
 * access is a VM exit; the data port is counted apart since one exit of a
 * string instruction moves many words. */
enum {
	CNT_REG,        /* task file, control and bus-master register accesses */
	CNT_DATA,       /* data port accesses */
	CNT_DATA_BYTES,
	CNT_COMMANDS,   /* ATA commands written */
	CNT_DMA,        /* DMA transfers run */
	CNT_DMA_BYTES,
	CNT_DMA_ERRORS, /* ended with the bus-master error bit */
	CNT_IRQS,       /* interrupts raised */
	NR_CNT
};

static const struct { const char *label, *json; } cnt_names[NR_CNT] = {
	{ "register accesses", "register_accesses" },
	{ "data port accesses", "data_accesses" },
	{ "data port bytes", "data_bytes" },
	{ "ATA commands", "commands" },
	{ "DMA transfers", "dma_transfers" },
	{ "DMA bytes", "dma_bytes" },
	{ "DMA errors", "dma_errors" },
	{ "interrupts", "interrupts" },
};

/* The device's private state around the handle it hands out. */
struct piix_state {
	struct piix_ide p;
	struct stats_source stats_src;
	bool stats_added;
	uint64_t cnt[NR_CNT];
	struct piix_chan ch[2];
	struct blockdev *disks[PIIX_IDE_MAX_DISKS];
	bool ports_added[2]; /* this channel's legacy ports are on the port bus */
	unsigned irq[2];     /* each channel's ISA IRQ, from the PCI host */
};

static void count(struct piix_state *s, unsigned id, uint64_t n)
{
	__atomic_fetch_add(&s->cnt[id], n, __ATOMIC_RELAXED);
}

/* ---- the DMA engine ---- */

uint8_t bm_run_dma(struct ata_channel *ch, const struct guest_mem *mem,
		   uint32_t prd, struct iovec *iov)
{
	bool to_memory, exhausted = false;
	uint64_t left;
	int n = 0, err = 0;
	unsigned i;

	if (!ata_dma_pending(ch, &to_memory, &left))
		return BM_ST_ACTIVE;
	for (i = 0; i < BM_PRD_MAX && left; i++) {
		uint32_t e[2];
		uint64_t len, take;
		void *p;
		bool eot;

		/* the table pointer is 32 bits; its entries follow it */
		if (gm_read(mem, (uint64_t)prd + 8ull * i, e, sizeof(e))) {
			err = -EFAULT;
			break;
		}
		e[0] = le32toh(e[0]) & ~1u;
		e[1] = le32toh(e[1]);
		eot = e[1] & 0x80000000u;
		len = e[1] & 0xfffe;
		if (!len)
			len = 0x10000;
		take = len < left ? len : left;
		p = gm_ptr(mem, e[0], take);
		if (!p) {
			err = -EFAULT;
			break;
		}
		iov[n].iov_base = p;
		iov[n].iov_len = (size_t)take;
		n++;
		left -= take;
		if (n == BM_IOV_BATCH || !left) {
			if ((err = ata_dma_rw(ch, iov, n)))
				break;
			n = 0;
		}
		if (!left)
			exhausted = take == len && eot;
		else if (eot) {
			err = -EFAULT; /* the table is shorter than the transfer */
			break;
		}
	}
	if (!err && left)
		err = -EFAULT; /* no EOT within BM_PRD_MAX entries */
	ata_dma_done(ch, err);
	if (err == -EFAULT)
		return BM_ST_ERROR;
	return exhausted || err ? 0 : BM_ST_ACTIVE;
}

/* Start the transfer if both sides are ready: a DMA command waiting in
 * the selected device and the engine started. Called when the engine
 * starts and when the device is ready (the channel's dma_ready). Channel
 * lock held. */
static void bm_kick(struct piix_chan *c)
{
	struct piix_state *s = c->s;
	bool to_memory;
	uint64_t left;
	uint8_t st;

	if (!(c->bm_cmd & BM_CMD_START) || !(c->bm_status & BM_ST_ACTIVE) ||
	    !ata_dma_pending(&c->ata, &to_memory, &left))
		return;
	if (!pci_bus_master(&s->p.pci) ||
	    to_memory != !!(c->bm_cmd & BM_CMD_TO_MEMORY)) {
		/* no bus mastering, or the engine set up the other way */
		count(s, CNT_DMA_ERRORS, 1);
		c->bm_status = (uint8_t)((c->bm_status & ~BM_ST_ACTIVE) | BM_ST_ERROR);
		ata_dma_done(&c->ata, -EFAULT);
		return;
	}
	count(s, CNT_DMA, 1);
	count(s, CNT_DMA_BYTES, left);
	st = bm_run_dma(&c->ata, &s->p.dev.vm->mem, c->bm_prd, c->iov);
	c->bm_status = (uint8_t)((c->bm_status & ~BM_ST_ACTIVE) | st);
	if (st & BM_ST_ERROR)
		count(s, CNT_DMA_ERRORS, 1);
}

static void bm_write(struct piix_chan *c, unsigned off, const uint8_t *p,
		     unsigned len)
{
	for (unsigned i = 0; i < len && off + i < 8; i++) {
		unsigned r = off + i;
		uint8_t v = p[i];

		if (r == BM_CMD) {
			uint8_t old = c->bm_cmd;

			/* the direction may not change while the engine runs */
			if (old & BM_CMD_START)
				v = (uint8_t)((v & BM_CMD_START) | (old & BM_CMD_TO_MEMORY));
			c->bm_cmd = v & (BM_CMD_START | BM_CMD_TO_MEMORY);
			if ((v & BM_CMD_START) && !(old & BM_CMD_START)) {
				c->bm_status |= BM_ST_ACTIVE;
				bm_kick(c);
			} else if (!(v & BM_CMD_START)) {
				/* stopping the engine ends what was left */
				c->bm_status &= (uint8_t)~BM_ST_ACTIVE;
			}
		} else if (r == BM_STATUS) {
			c->bm_status &= (uint8_t)~(v & (BM_ST_ERROR | BM_ST_INTR));
			c->bm_status = (uint8_t)((c->bm_status & ~(BM_ST_DMA0 | BM_ST_DMA1)) |
						 (v & (BM_ST_DMA0 | BM_ST_DMA1)));
		} else if (r >= BM_PRD) {
			unsigned sh = 8 * (r - BM_PRD);

			c->bm_prd = (c->bm_prd & ~(0xffu << sh)) | (uint32_t)v << sh;
			c->bm_prd &= ~3u; /* dword aligned */
		}
	}
}

static void bm_read(struct piix_chan *c, unsigned off, uint8_t *p, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned r = off + i;

		if (r == BM_CMD)
			p[i] = c->bm_cmd;
		else if (r == BM_STATUS)
			p[i] = c->bm_status;
		else if (r >= BM_PRD && r < 8)
			p[i] = (uint8_t)(c->bm_prd >> (8 * (r - BM_PRD)));
		else
			p[i] = 0;
	}
}

/* BAR 4: the two channels' bus-master registers. */
static void bm_io(void *opaque, uint64_t off, void *data, unsigned len,
		  bool is_write)
{
	struct piix_state *s = opaque;
	struct piix_chan *c;

	if (off >= 16 || len > 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	c = &s->ch[off / 8];
	count(s, CNT_REG, 1);
	pthread_mutex_lock(&c->lock);
	if (is_write)
		bm_write(c, (unsigned)off % 8, data, len);
	else
		bm_read(c, (unsigned)off % 8, data, len);
	pthread_mutex_unlock(&c->lock);
}

/* BAR 4's registers (PIIX datasheet: BMICx, BMISx, BMIDTPx), per
 * channel: "pri BMIC". */
static unsigned bm_name(void *opaque, uint64_t off, unsigned len,
			bool is_write, char *buf, size_t size)
{
	static const char *const regs[8] = { "BMIC", "BMIC+1", "BMIS", "BMIS+1",
					     "BMIDTP", "BMIDTP+1", "BMIDTP+2",
					     "BMIDTP+3" };

	(void)opaque;
	(void)len;
	(void)is_write;
	if (off < 16)
		snprintf(buf, size, "%s %s", off < 8 ? "pri" : "sec",
			 regs[off % 8]);
	return 0;
}

/* ---- the legacy ports ---- */

static const char *chan_name(const struct piix_chan *c)
{
	return c == &c->s->ch[0] ? "pri" : "sec";
}

static unsigned cmd_name(void *opaque, uint64_t off, unsigned len,
			 bool is_write, char *buf, size_t size)
{
	(void)len;
	snprintf(buf, size, "%s %s", chan_name(opaque),
		 ata_cmd_reg_name((unsigned)off, is_write));
	return 0;
}

static unsigned ctl_name(void *opaque, uint64_t off, unsigned len,
			 bool is_write, char *buf, size_t size)
{
	(void)off;
	(void)len;
	snprintf(buf, size, "%s %s", chan_name(opaque),
		 is_write ? "device_control" : "alt_status");
	return 0;
}

static void cmd_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	struct piix_chan *c = opaque;

	if (off == ATA_REG_DATA) {
		count(c->s, CNT_DATA, 1);
		count(c->s, CNT_DATA_BYTES, len);
	} else {
		count(c->s, CNT_REG, 1);
		if (is_write && off == ATA_REG_STATUS)
			count(c->s, CNT_COMMANDS, 1);
	}
	pthread_mutex_lock(&c->lock);
	/* a DMA command that finds the engine started runs from within
	 * (chan_dma_ready) */
	ata_cmd_io(&c->ata, (unsigned)off, data, len, is_write);
	pthread_mutex_unlock(&c->lock);
}

static void ctl_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	struct piix_chan *c = opaque;

	(void)off;
	count(c->s, CNT_REG, 1);
	pthread_mutex_lock(&c->lock);
	ata_ctl_io(&c->ata, data, len, is_write);
	pthread_mutex_unlock(&c->lock);
}

/* The channel's interrupt line (called with the channel lock held): the
 * ISA IRQ, and the bus-master interrupt bit on its rising edge. */
static void chan_irq(void *opaque, bool level)
{
	struct piix_chan *c = opaque;

	struct vm *vm = c->s->p.dev.vm;

	if (level) {
		c->bm_status |= BM_ST_INTR;
		count(c->s, CNT_IRQS, 1);
		if (vm)
			stat_inc(&vm->stats, STAT_IRQS);
	}
	if (vm && c->s->irq[c->idx])
		vm_irq_line(vm, c->s->irq[c->idx], level);
}

/* The selected device has a DMA command ready (called from ata_cmd_io,
 * channel lock held): it runs now if the engine was started first. */
static void chan_dma_ready(void *opaque)
{
	bm_kick(opaque);
}

/* ---- counters ---- */

static const struct piix_state *of_src(const struct stats_source *src)
{
	return (const struct piix_state *)((const char *)src -
					   offsetof(struct piix_state, stats_src));
}

static void stats_print_ide(const struct stats_source *src, FILE *f)
{
	const struct piix_state *s = of_src(src);

	fprintf(f, "minivmm: piix-ide counters\n");
	for (unsigned i = 0; i < NR_CNT; i++)
		fprintf(f, "  %-26s %12llu\n", cnt_names[i].label,
			(unsigned long long)__atomic_load_n(&s->cnt[i], __ATOMIC_RELAXED));
}

static int stats_json_ide(const struct stats_source *src, char *buf, size_t len)
{
	const struct piix_state *s = of_src(src);
	size_t at = 0;
	int n;

	if (len)
		buf[0] = 0;
	n = snprintf(buf, len, "\"piix-ide\":{");
	at += n > 0 ? (size_t)n : 0;
	for (unsigned i = 0; i < NR_CNT; i++) {
		n = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0,
			     "%s\"%s\":%llu", i ? "," : "", cnt_names[i].json,
			     (unsigned long long)__atomic_load_n(&s->cnt[i], __ATOMIC_RELAXED));
		at += n > 0 ? (size_t)n : 0;
	}
	n = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0, "}");
	at += n > 0 ? (size_t)n : 0;
	return (int)at;
}

/* ---- the device shape ---- */

static struct piix_state *to_state(struct device *dev)
{
	return container_of(dev, struct piix_state, p.dev);
}

static int piix_attach(struct device *dev)
{
	struct piix_state *s = to_state(dev);
	struct vm *vm = dev->vm;
	int ret;

	/* compatibility mode needs ISA IRQs: a PC's platform */
	if (!vm->pci || !vm->pci->host.legacy_ide_irq[0] ||
	    !vm->pci->host.legacy_ide_irq[1])
		return -ENODEV;
	for (unsigned i = 0; i < 2; i++) {
		struct piix_chan *c = &s->ch[i];

		s->irq[i] = vm->pci->host.legacy_ide_irq[i];
		if ((ret = bus_add(&vm->pio, legacy[i].cmd, 8, cmd_io, cmd_name,
				   c, "piix-ide")))
			return ret;
		if ((ret = bus_add(&vm->pio, legacy[i].ctl, 1, ctl_io, ctl_name,
				   c, "piix-ide"))) {
			bus_remove(&vm->pio, legacy[i].cmd);
			return ret;
		}
		s->ports_added[i] = true;
	}
	s->stats_src.print = stats_print_ide;
	s->stats_src.json = stats_json_ide;
	stats_add_source(&vm->stats, &s->stats_src);
	s->stats_added = true;
	return pci_bus_add(vm->pci, &s->p.pci);
}

/* After the PCI bus is gone (and every vCPU): the legacy ports leave the
 * port bus, then the state goes. */
static void piix_free(struct device *dev)
{
	struct piix_state *s = to_state(dev);

	if (s->stats_added)
		stats_del_source(&dev->vm->stats, &s->stats_src);
	for (unsigned i = 0; i < 2; i++) {
		if (!s->ports_added[i])
			continue;
		bus_remove(&dev->vm->pio, legacy[i].cmd);
		bus_remove(&dev->vm->pio, legacy[i].ctl);
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_mutex_destroy(&s->ch[i].lock);
	for (unsigned i = 0; i < PIIX_IDE_MAX_DISKS; i++)
		blockdev_close(s->disks[i]);
	if (!s->p.pci.bus)
		pci_dev_release(&s->p.pci);
	free(s);
}

static const struct device_ops piix_ide_ops = {
	.attach = piix_attach,
	.free = piix_free,
};

int piix_ide_create(struct vm *vm, const struct piix_ide_cfg *cfg,
		    struct piix_ide **out)
{
	struct piix_state *s = calloc(1, sizeof(*s));
	struct pci_dev *d;
	int ret;

	if (!s)
		return -ENOMEM;
	device_init(&s->p.dev, &piix_ide_ops, "piix-ide", vm, "piix-ide");
	d = &s->p.pci;
	pci_dev_init(d, "piix-ide", PIIX_IDE_VENDOR, PIIX_IDE_DEVICE,
		     PIIX_IDE_CLASS, 0, 0x1af4, 0x1100);
	d->opaque = s;
	/* IDETIM: decode enabled on both channels; timings writable */
	d->cfg[PIIX_IDETIM + 1] = PIIX_IDETIM_DECODE;
	d->cfg[PIIX_IDETIM + 3] = PIIX_IDETIM_DECODE;
	memset(d->wmask + PIIX_IDETIM, 0xff, 5);
	for (unsigned i = 0; i < 2; i++) {
		struct piix_chan *c = &s->ch[i];

		c->s = s;
		c->idx = i;
		pthread_mutex_init(&c->lock, NULL);
		ata_channel_init(&c->ata, chan_irq, c);
		ata_channel_set_dma_ready(&c->ata, chan_dma_ready);
	}
	ret = pci_dev_set_bar(d, 4, PCI_BAR_IO, 16, bm_io, s);
	d->bars[4].reg = bm_name;
	for (unsigned i = 0; !ret && i < PIIX_IDE_MAX_DISKS; i++) {
		char sn[21];
		const char *serial = cfg->serials[i];

		if (!cfg->disks[i])
			continue;
		if (!serial) {
			snprintf(sn, sizeof(sn), "minivmm-ide%u", i);
			serial = sn;
		}
		if (cfg->cdrom[i])
			ret = atapi_drive_attach(&s->ch[i / 2].ata, i % 2,
						 cfg->disks[i], serial);
		else
			ret = ata_drive_attach(&s->ch[i / 2].ata, i % 2,
					       cfg->disks[i], serial);
	}
	if (ret) {
		for (unsigned i = 0; i < 2; i++)
			pthread_mutex_destroy(&s->ch[i].lock);
		pci_dev_release(d);
		free(s);
		return ret;
	}
	for (unsigned i = 0; i < PIIX_IDE_MAX_DISKS; i++)
		s->disks[i] = cfg->disks[i];
	*out = &s->p;
	return 0;
}
