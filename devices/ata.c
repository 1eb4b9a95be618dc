/* SPDX-License-Identifier: MIT
 * ata.c - an ATA hard disk on a parallel ATA channel.
 *
 * Models:
 *  - the command block registers (Data, Error/Features, Count, LBA Low/
 *    Mid/High, Device, Status/Command) and the control block (Alternate
 *    Status / Device Control) of ATA8-APT, with the 48-bit registers'
 *    "previous content" read back through Device Control HOB;
 *  - two device positions on one channel: register writes reach both
 *    devices, reads and commands are answered by the selected one; when
 *    device 1 is absent, device 0 answers reads for it with zeroes (so a
 *    host's presence check sees no device there) and ignores its commands;
 *  - the protocols of ATA8-APT: PIO data-in (an interrupt before each DRQ
 *    data block), PIO data-out (an interrupt after each block but the
 *    first is taken), non-data, DMA (the host's DMA engine moves the data,
 *    then the device interrupts); software reset (SRST) with the ATA
 *    signature (Count 01h, LBA 01h/00h/00h, Error 01h);
 *  - the commands of ATA/ATAPI-8 ACS a Linux libata host sends: IDENTIFY
 *    DEVICE (7.16; LBA48, MWDMA/UDMA modes, FLUSH CACHE (EXT), the write
 *    cache, the real size, serial and model, the word 255 checksum), READ/
 *    WRITE SECTORS (EXT), READ/WRITE MULTIPLE (EXT), READ/WRITE DMA (EXT),
 *    READ VERIFY SECTORS (EXT), FLUSH CACHE (EXT), SET FEATURES (transfer
 *    mode, write cache, read look-ahead), SET MULTIPLE MODE, INITIALIZE
 *    DEVICE PARAMETERS, READ NATIVE MAX ADDRESS (EXT), EXECUTE DEVICE
 *    DIAGNOSTIC, the power commands (IDLE, STANDBY, SLEEP, CHECK POWER
 *    MODE), RECALIBRATE and SEEK. Anything else, and the packet commands an
 *    ATA device does not implement, ends with ERR and ABRT in Error; an
 *    address range past the end of the medium with ERR and IDNF.
 *
 * Everything in the registers is the guest's: counts and addresses are
 * checked against the disk's size before any I/O is issued. I/O runs
 * synchronously on the calling (vCPU) thread, so BSY is never seen.
 */
#include "ata.h"

#include <errno.h>
#include <string.h>

#include "devices/ata_priv.h"
#include "devices/disk/blockdev.h"
#include "vmm/iov.h"

static struct ata_drive *selected(struct ata_channel *ch)
{
	return &ch->drive[(ch->device & ATA_DEV_DEV) ? 1 : 0];
}

bool ata_channel_empty(const struct ata_channel *ch)
{
	return !ch->drive[0].bd && !ch->drive[1].bd;
}

/* ---- the interrupt line ---- */

/* INTRQ is driven by the selected device while nIEN is clear. */
static void update_irq(struct ata_channel *ch)
{
	struct ata_drive *d = selected(ch);
	bool level = d->bd && d->intrq && !(ch->ctl & ATA_CTL_NIEN);

	if (level != ch->irq_level) {
		ch->irq_level = level;
		if (ch->irq)
			ch->irq(ch->opaque, level);
	}
}

/* A new interrupt: ISA IRQs 14/15 are edge-triggered, so a line still
 * high from an earlier event is dropped first to make a fresh edge. */
void ata_raise_irq(struct ata_channel *ch, struct ata_drive *d)
{
	if (d->intrq && ch->irq_level && d == selected(ch)) {
		ch->irq_level = false;
		if (ch->irq)
			ch->irq(ch->opaque, false);
	}
	d->intrq = true;
	update_irq(ch);
}

static void raise_irq(struct ata_channel *ch, struct ata_drive *d)
{
	ata_raise_irq(ch, d);
}

static void clear_irq(struct ata_channel *ch, struct ata_drive *d)
{
	d->intrq = false;
	update_irq(ch);
}

/* ---- command completion ---- */

static void cmd_ok(struct ata_channel *ch, struct ata_drive *d)
{
	d->status = ATA_ST_OK;
	d->xfer = ATA_XFER_NONE;
	d->identify = false;
	raise_irq(ch, d);
}

void ata_cmd_abort(struct ata_channel *ch, struct ata_drive *d, uint8_t err)
{
	d->status = ATA_ST_OK | ATA_ERR;
	d->error = err;
	d->xfer = ATA_XFER_NONE;
	d->identify = false;
	d->pos = d->len = 0;
	raise_irq(ch, d);
}

static void cmd_abort(struct ata_channel *ch, struct ata_drive *d, uint8_t err)
{
	ata_cmd_abort(ch, d, err);
}

/* The signature a device leaves in its registers after a reset or
 * EXECUTE DEVICE DIAGNOSTIC (ATA8-ACS 4.1.3, table 4): Count 01h, LBA Low
 * 01h, LBA Mid/High 00h/00h for an ATA device, 14h/EBh for a PACKET one. */
void ata_drive_signature(struct ata_drive *d)
{
	memset(&d->tf, 0, sizeof(d->tf));
	d->tf.nsect = d->tf.lbal = 1;
	if (d->atapi) {
		d->tf.lbam = 0x14;
		d->tf.lbah = 0xeb;
	}
	d->xfer = ATA_XFER_NONE;
	d->identify = false;
	d->pos = d->len = 0;
	d->intrq = false;
	d->atapi_st.packet = false;
	/* 01h: passed (device 0: and device 1 passed or absent) */
	d->error = 0x01;
	/* a PACKET device comes up with DRDY clear (ACS 4.1.3) */
	d->status = d->bd && !d->atapi ? ATA_ST_OK : 0;
}

static void set_signature(struct ata_channel *ch)
{
	ch->device = 0;
	for (unsigned i = 0; i < 2; i++)
		ata_drive_signature(&ch->drive[i]);
}

/* ---- IDENTIFY DEVICE (ACS 7.16) ---- */

void ata_id_string(uint16_t *w, const char *s, unsigned chars)
{
	size_t n = strlen(s);

	for (unsigned i = 0; i < chars; i += 2) {
		uint8_t hi = i < n ? (uint8_t)s[i] : ' ';
		uint8_t lo = i + 1 < n ? (uint8_t)s[i + 1] : ' ';
		w[i / 2] = (uint16_t)(hi << 8 | lo);
	}
}

static void default_chs(uint64_t nsectors, unsigned heads, unsigned spt,
			unsigned *cyls)
{
	uint64_t c = nsectors / ((uint64_t)heads * spt);
	*cyls = c > 16383 ? 16383 : (unsigned)c;
}

void ata_id_modes(const struct ata_drive *d, uint16_t id[256])
{
	id[63] = 0x0007;           /* MWDMA 0-2 supported */
	if ((d->xfer_mode & 0xf8) == 0x20)
		id[63] |= (uint16_t)(0x0100 << (d->xfer_mode & 7));
	id[64] = 0x0003;           /* PIO 3 and 4 */
	id[65] = id[66] = id[67] = id[68] = 120; /* cycle times, ns */
	id[80] = 0x01f0;           /* ATA/ATAPI-4 to ATA8-ACS */
	id[88] = 0x003f;           /* UDMA 0-5 supported */
	if ((d->xfer_mode & 0xf8) == 0x40)
		id[88] |= (uint16_t)(0x0100 << (d->xfer_mode & 7));
	id[93] = 0x4000 | 0x2000 | 0x0009; /* reset result: passed, 80-wire */
}

void ata_id_checksum(uint16_t id[256])
{
	uint8_t sum = 0;

	/* Word 255: signature A5h, then the checksum that makes the 512
	 * bytes sum to zero (mod 256). */
	id[255] = 0x00a5;
	for (unsigned i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	id[255] |= (uint16_t)((uint8_t)-sum) << 8;
}

void ata_identify(const struct ata_drive *d, uint16_t id[256])
{
	uint64_t n = d->nsectors;
	uint32_t n28 = n > 0x0fffffff ? 0x0fffffff : (uint32_t)n;
	unsigned cyls, ccyls;
	uint64_t cur;

	memset(id, 0, 256 * sizeof(id[0]));
	default_chs(n, 16, 63, &cyls);
	id[0] = 0x0040;            /* ATA device, fixed (not removable) */
	id[1] = (uint16_t)cyls;    /* default CHS geometry (obsolete words) */
	id[3] = 16;
	id[6] = 63;
	ata_id_string(&id[10], d->serial, 20);
	ata_id_string(&id[23], "1.0", 8);
	ata_id_string(&id[27], "MINIVMM HARDDISK", 40);
	id[47] = 0x8000 | ATA_MAX_MULTIPLE;
	id[49] = (1 << 11) | (1 << 9) | (1 << 8); /* IORDY, LBA, DMA */
	id[50] = 0x4000;
	id[51] = 0x0200;           /* PIO timing (obsolete): mode 2 */
	id[53] = 0x0007;           /* words 54-58, 64-70 and 88 valid */
	default_chs(n, d->heads, d->spt, &ccyls);
	id[54] = (uint16_t)ccyls;  /* current logical CHS geometry */
	id[55] = (uint16_t)d->heads;
	id[56] = (uint16_t)d->spt;
	cur = (uint64_t)ccyls * d->heads * d->spt;
	id[57] = (uint16_t)cur;
	id[58] = (uint16_t)(cur >> 16);
	id[59] = (uint16_t)(d->multiple ? 0x0100 | d->multiple : 0);
	id[60] = (uint16_t)n28;    /* sectors addressable with 28 bits */
	id[61] = (uint16_t)(n28 >> 16);
	ata_id_modes(d, id);
	id[82] = (1 << 6) | (1 << 5); /* look-ahead, write cache */
	id[83] = 0x4000 | (1 << 13) | (1 << 12) | (1 << 10); /* FLUSH EXT, FLUSH, LBA48 */
	id[84] = 0x4000;
	id[85] = (uint16_t)((1 << 6) | (d->wcache ? 1 << 5 : 0));
	id[86] = (1 << 13) | (1 << 12) | (1 << 10);
	id[87] = 0x4000;
	for (unsigned i = 0; i < 4; i++)   /* sectors addressable with 48 bits */
		id[100 + i] = (uint16_t)(n >> (16 * i));
	id[106] = 0x4000;          /* one 512-byte logical sector per physical */
	id[217] = 0x0001;          /* non-rotating medium */
	ata_id_checksum(id);
}

/* ---- addressing ---- */

/* The address and count of a read/write/verify command, checked against
 * the medium: 0, or the error bits (IDNF) to abort with. */
static uint8_t get_range(struct ata_channel *ch, struct ata_drive *d,
			 bool ext, uint64_t *lba, uint32_t *count)
{
	if (ext) {
		*lba = (uint64_t)d->tf.hob_lbah << 40 | (uint64_t)d->tf.hob_lbam << 32 |
		       (uint64_t)d->tf.hob_lbal << 24 | (uint64_t)d->tf.lbah << 16 |
		       (uint64_t)d->tf.lbam << 8 | d->tf.lbal;
		*count = (uint32_t)d->tf.hob_nsect << 8 | d->tf.nsect;
		if (!*count)
			*count = 65536;
	} else {
		*count = d->tf.nsect ? d->tf.nsect : 256;
		if (ch->device & ATA_DEV_LBA) {
			*lba = (uint64_t)(ch->device & 0x0f) << 24 |
			       (uint64_t)d->tf.lbah << 16 | (uint64_t)d->tf.lbam << 8 |
			       d->tf.lbal;
		} else {
			/* CHS through the current logical geometry */
			unsigned cyl = (unsigned)d->tf.lbah << 8 | d->tf.lbam;
			unsigned head = ch->device & 0x0f, sect = d->tf.lbal;

			if (!d->heads || !d->spt || !sect || sect > d->spt ||
			    head >= d->heads)
				return ATA_IDNF;
			*lba = ((uint64_t)cyl * d->heads + head) * d->spt + sect - 1;
		}
	}
	if (*lba > d->nsectors || *count > d->nsectors - *lba)
		return ATA_IDNF;
	return 0;
}

/* ---- PIO ---- */

static int disk_io(struct ata_drive *d, void *buf, size_t len, uint64_t lba,
		   bool write)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return write ? blockdev_pwritev(d->bd, &iov, 1, lba * ATA_SECTOR)
		     : blockdev_preadv(d->bd, &iov, 1, lba * ATA_SECTOR);
}

/* Read the next block of a PIO data-in command and offer it (DRQ, an
 * interrupt). */
static void pio_in_block(struct ata_channel *ch, struct ata_drive *d)
{
	unsigned n = d->remaining < d->block ? d->remaining : d->block;

	if (disk_io(d, d->buf, (size_t)n * ATA_SECTOR, d->lba, false)) {
		cmd_abort(ch, d, ATA_UNC);
		return;
	}
	d->pos = 0;
	d->len = n * ATA_SECTOR;
	d->status = ATA_ST_OK | ATA_DRQ;
	raise_irq(ch, d);
}

/* Ask for the next block of a PIO data-out command (DRQ). */
static void pio_out_block(struct ata_drive *d)
{
	unsigned n = d->remaining < d->block ? d->remaining : d->block;

	d->pos = 0;
	d->len = n * ATA_SECTOR;
	d->status = ATA_ST_OK | ATA_DRQ;
}

/* The host has read the whole block. */
static void pio_in_consumed(struct ata_channel *ch, struct ata_drive *d)
{
	unsigned n = d->len / ATA_SECTOR;

	d->pos = d->len = 0;
	if (d->identify) {
		d->identify = false;
		d->xfer = ATA_XFER_NONE;
		d->status = ATA_ST_OK;
		return;
	}
	d->lba += n;
	d->remaining -= n;
	if (d->remaining) {
		pio_in_block(ch, d);
	} else {
		/* the last block: no interrupt after it (ATA8-APT PIO data-in) */
		d->xfer = ATA_XFER_NONE;
		d->status = ATA_ST_OK;
	}
}

/* The host has written the whole block: commit it. */
static void pio_out_filled(struct ata_channel *ch, struct ata_drive *d)
{
	unsigned n = d->len / ATA_SECTOR;

	if (disk_io(d, d->buf, d->len, d->lba, true)) {
		cmd_abort(ch, d, ATA_ABRT);
		return;
	}
	d->lba += n;
	d->remaining -= n;
	if (d->remaining) {
		pio_out_block(d);
		raise_irq(ch, d);
	} else {
		cmd_ok(ch, d);
	}
}

static void data_read(struct ata_channel *ch, uint8_t *p, unsigned len)
{
	struct ata_drive *d = selected(ch);
	unsigned n = 0;

	if (d->bd && d->xfer == ATA_XFER_PIO_IN && d->pos < d->len) {
		n = d->len - d->pos < len ? d->len - d->pos : len;
		memcpy(p, d->buf + d->pos, n);
		d->pos += n;
	}
	memset(p + n, 0xff, len - n);
	if (n && d->pos == d->len) {
		if (d->atapi && !d->identify)
			atapi_block_read(ch, d);
		else
			pio_in_consumed(ch, d);
	}
}

static void data_write(struct ata_channel *ch, const uint8_t *p, unsigned len)
{
	struct ata_drive *d = selected(ch);
	unsigned n;

	if (!d->bd || d->xfer != ATA_XFER_PIO_OUT || d->pos >= d->len)
		return;
	n = d->len - d->pos < len ? d->len - d->pos : len;
	memcpy(d->buf + d->pos, p, n);
	d->pos += n;
	if (d->pos == d->len) {
		if (d->atapi)
			atapi_packet_written(ch, d);
		else
			pio_out_filled(ch, d);
	}
}

/* ---- commands ---- */

static void start_rw(struct ata_channel *ch, struct ata_drive *d, bool ext,
		     bool write, enum ata_xfer xfer, unsigned block)
{
	uint64_t lba;
	uint32_t count;
	uint8_t err;

	if (write && d->bd->readonly) {
		cmd_abort(ch, d, ATA_ABRT);
		return;
	}
	if ((err = get_range(ch, d, ext, &lba, &count))) {
		cmd_abort(ch, d, err);
		return;
	}
	d->lba = lba;
	d->remaining = count;
	d->block = block;
	d->xfer = xfer;
	d->dma_done = 0;
	switch (xfer) {
	case ATA_XFER_PIO_IN:
		pio_in_block(ch, d);
		break;
	case ATA_XFER_PIO_OUT:
		pio_out_block(d); /* no interrupt before the first block */
		break;
	default: /* DMA: ready; the DMA engine moves the data */
		d->status = ATA_ST_OK | ATA_DRQ;
		ata_dma_ready(ch);
		break;
	}
}

void ata_offer_identify(struct ata_channel *ch, struct ata_drive *d,
			const uint16_t id[256])
{
	for (unsigned i = 0; i < 256; i++) {
		d->buf[2 * i] = (uint8_t)id[i];
		d->buf[2 * i + 1] = (uint8_t)(id[i] >> 8);
	}
	d->xfer = ATA_XFER_PIO_IN;
	d->identify = true;
	d->pos = 0;
	d->len = ATA_SECTOR;
	d->status = ATA_ST_OK | ATA_DRQ;
	raise_irq(ch, d);
}

static void cmd_identify(struct ata_channel *ch, struct ata_drive *d)
{
	uint16_t id[256];

	ata_identify(d, id);
	ata_offer_identify(ch, d, id);
}

static void cmd_set_features(struct ata_channel *ch, struct ata_drive *d)
{
	uint8_t mode = d->tf.nsect;

	switch (d->tf.feature) {
	case ATA_SF_XFER_MODE:
		/* PIO default (00h/01h) or PIO flow control 0-4, multiword
		 * DMA 0-2, Ultra DMA 0-5: what IDENTIFY says is supported */
		if (mode <= 0x01 || (mode >= 0x08 && mode <= 0x0c)) {
			/* PIO: the DMA mode selected stays */
		} else if ((mode >= 0x20 && mode <= 0x22) ||
			   (mode >= 0x40 && mode <= 0x45)) {
			d->xfer_mode = mode;
		} else {
			cmd_abort(ch, d, ATA_ABRT);
			return;
		}
		break;
	case ATA_SF_WCACHE_ON:
		d->wcache = true;
		break;
	case ATA_SF_WCACHE_OFF:
		/* Every write already reaches the backend before the command
		 * completes; FLUSH CACHE makes it durable. */
		d->wcache = false;
		break;
	case ATA_SF_LOOKAHEAD_ON:
	case ATA_SF_LOOKAHEAD_OFF:
	case ATA_SF_REVERT_ON:
	case ATA_SF_REVERT_OFF:
		break;
	default:
		cmd_abort(ch, d, ATA_ABRT);
		return;
	}
	cmd_ok(ch, d);
}

static void cmd_native_max(struct ata_channel *ch, struct ata_drive *d,
			   bool ext)
{
	uint64_t max = d->nsectors ? d->nsectors - 1 : 0;

	if (!ext && max > 0x0fffffff)
		max = 0x0fffffff;
	d->tf.lbal = (uint8_t)max;
	d->tf.lbam = (uint8_t)(max >> 8);
	d->tf.lbah = (uint8_t)(max >> 16);
	if (ext) {
		d->tf.hob_lbal = (uint8_t)(max >> 24);
		d->tf.hob_lbam = (uint8_t)(max >> 32);
		d->tf.hob_lbah = (uint8_t)(max >> 40);
	} else {
		ch->device = (uint8_t)((ch->device & 0xf0) | ((max >> 24) & 0x0f));
	}
	cmd_ok(ch, d);
}

static void exec_command(struct ata_channel *ch, uint8_t cmd)
{
	struct ata_drive *d = selected(ch);
	unsigned mult = d->multiple;

	/* A device 1 that is absent does not take commands; device 0 does
	 * not run them for it. An empty channel has nobody to answer. */
	if (!d->bd)
		return;
	/* A new command ends whatever transfer was in progress and takes the
	 * pending interrupt down (ATA8-APT: writing Command clears INTRQ). */
	d->xfer = ATA_XFER_NONE;
	d->identify = false;
	d->pos = d->len = 0;
	d->error = 0;
	clear_irq(ch, d);

	/* A PACKET device runs its own command set; the power, SET
	 * FEATURES and diagnostic commands are the same for both kinds. */
	if (d->atapi) {
		switch (cmd) {
		case ATA_CMD_SET_FEATURES:
		case ATA_CMD_CHECK_POWER:
		case ATA_CMD_IDLE:
		case ATA_CMD_IDLE_IMMEDIATE:
		case ATA_CMD_STANDBY:
		case ATA_CMD_STANDBY_IMMEDIATE:
		case ATA_CMD_SLEEP:
		case ATA_CMD_EXEC_DIAGNOSTIC:
			break;
		default:
			atapi_command(ch, d, cmd);
			return;
		}
	}

	switch (cmd) {
	case ATA_CMD_IDENTIFY:
		cmd_identify(ch, d);
		break;
	case ATA_CMD_READ:
	case ATA_CMD_READ_NORETRY:
		start_rw(ch, d, false, false, ATA_XFER_PIO_IN, 1);
		break;
	case ATA_CMD_READ_EXT:
		start_rw(ch, d, true, false, ATA_XFER_PIO_IN, 1);
		break;
	case ATA_CMD_WRITE:
	case ATA_CMD_WRITE_NORETRY:
		start_rw(ch, d, false, true, ATA_XFER_PIO_OUT, 1);
		break;
	case ATA_CMD_WRITE_EXT:
		start_rw(ch, d, true, true, ATA_XFER_PIO_OUT, 1);
		break;
	case ATA_CMD_READ_MULTI:
	case ATA_CMD_READ_MULTI_EXT:
	case ATA_CMD_WRITE_MULTI:
	case ATA_CMD_WRITE_MULTI_EXT: {
		bool write = cmd == ATA_CMD_WRITE_MULTI || cmd == ATA_CMD_WRITE_MULTI_EXT;
		bool ext = cmd == ATA_CMD_READ_MULTI_EXT || cmd == ATA_CMD_WRITE_MULTI_EXT;

		if (!mult) { /* multiple mode not enabled (ACS 7.26.2) */
			cmd_abort(ch, d, ATA_ABRT);
			break;
		}
		start_rw(ch, d, ext, write,
			 write ? ATA_XFER_PIO_OUT : ATA_XFER_PIO_IN, mult);
		break;
	}
	case ATA_CMD_READ_DMA:
	case ATA_CMD_READ_DMA_NORETRY:
		start_rw(ch, d, false, false, ATA_XFER_DMA_IN, 0);
		break;
	case ATA_CMD_READ_DMA_EXT:
		start_rw(ch, d, true, false, ATA_XFER_DMA_IN, 0);
		break;
	case ATA_CMD_WRITE_DMA:
	case ATA_CMD_WRITE_DMA_NORETRY:
		start_rw(ch, d, false, true, ATA_XFER_DMA_OUT, 0);
		break;
	case ATA_CMD_WRITE_DMA_EXT:
		start_rw(ch, d, true, true, ATA_XFER_DMA_OUT, 0);
		break;
	case ATA_CMD_VERIFY:
	case ATA_CMD_VERIFY_NORETRY:
	case ATA_CMD_VERIFY_EXT: {
		uint64_t lba;
		uint32_t count;
		uint8_t err = get_range(ch, d, cmd == ATA_CMD_VERIFY_EXT, &lba, &count);

		if (err)
			cmd_abort(ch, d, err);
		else
			cmd_ok(ch, d);
		break;
	}
	case ATA_CMD_FLUSH:
	case ATA_CMD_FLUSH_EXT:
		if (blockdev_flush(d->bd))
			cmd_abort(ch, d, ATA_ABRT);
		else
			cmd_ok(ch, d);
		break;
	case ATA_CMD_SET_FEATURES:
		cmd_set_features(ch, d);
		break;
	case ATA_CMD_SET_MULTIPLE:
		/* 0 disables multiple mode; else a power of two up to the
		 * maximum in IDENTIFY word 47 */
		if (d->tf.nsect > ATA_MAX_MULTIPLE || (d->tf.nsect & (d->tf.nsect - 1))) {
			cmd_abort(ch, d, ATA_ABRT);
		} else {
			d->multiple = d->tf.nsect;
			cmd_ok(ch, d);
		}
		break;
	case ATA_CMD_INIT_DEV_PARAMS:
		if (!d->tf.nsect) {
			cmd_abort(ch, d, ATA_ABRT);
		} else {
			d->spt = d->tf.nsect;
			d->heads = (ch->device & 0x0f) + 1u;
			cmd_ok(ch, d);
		}
		break;
	case ATA_CMD_READ_NATIVE_MAX:
	case ATA_CMD_READ_NATIVE_MAX_EXT:
		cmd_native_max(ch, d, cmd == ATA_CMD_READ_NATIVE_MAX_EXT);
		break;
	case ATA_CMD_CHECK_POWER:
		d->tf.nsect = 0xff; /* active or idle */
		cmd_ok(ch, d);
		break;
	case ATA_CMD_IDLE:
	case ATA_CMD_IDLE_IMMEDIATE:
	case ATA_CMD_STANDBY:
	case ATA_CMD_STANDBY_IMMEDIATE:
	case ATA_CMD_SLEEP:
	case ATA_CMD_SEEK:
		cmd_ok(ch, d);
		break;
	case ATA_CMD_EXEC_DIAGNOSTIC:
		/* both devices run their diagnostics; the signature follows,
		 * and device 0 interrupts */
		set_signature(ch);
		raise_irq(ch, ch->drive[0].bd ? &ch->drive[0] : d);
		break;
	default:
		if ((cmd & 0xf0) == ATA_CMD_RECALIBRATE) {
			cmd_ok(ch, d);
			break;
		}
		/* unknown, or a packet command: aborted (ACS 6.2.1) */
		cmd_abort(ch, d, ATA_ABRT);
		break;
	}
}

/* ---- the registers ---- */

const char *ata_cmd_reg_name(unsigned off, bool is_write)
{
	static const char *const rd[8] = { "data", "error", "nsect", "lbal",
					   "lbam", "lbah", "device", "status" };
	static const char *const wr[8] = { "data", "features", "nsect", "lbal",
					   "lbam", "lbah", "device", "command" };

	return off < 8 ? (is_write ? wr : rd)[off] : "?";
}

static void tf_write(struct ata_tf *t, unsigned off, uint8_t v)
{
	switch (off) {
	case ATA_REG_ERROR:
		t->hob_feature = t->feature;
		t->feature = v;
		break;
	case ATA_REG_NSECT:
		t->hob_nsect = t->nsect;
		t->nsect = v;
		break;
	case ATA_REG_LBAL:
		t->hob_lbal = t->lbal;
		t->lbal = v;
		break;
	case ATA_REG_LBAM:
		t->hob_lbam = t->lbam;
		t->lbam = v;
		break;
	case ATA_REG_LBAH:
		t->hob_lbah = t->lbah;
		t->lbah = v;
		break;
	}
}

void ata_cmd_io(struct ata_channel *ch, unsigned off, void *data,
		unsigned len, bool is_write)
{
	struct ata_drive *d = selected(ch);
	uint8_t *p = data;
	bool hob = ch->ctl & ATA_CTL_HOB;
	uint8_t v = 0;

	if (!len)
		return;
	if (off == ATA_REG_DATA) {
		if (is_write)
			data_write(ch, p, len);
		else if (ata_channel_empty(ch))
			memset(p, 0xff, len);
		else
			data_read(ch, p, len);
		return;
	}
	if (is_write) {
		v = p[0];
		/* a write to the command block clears HOB (ATA8-APT 6.2) */
		ch->ctl &= (uint8_t)~ATA_CTL_HOB;
		switch (off) {
		case ATA_REG_ERROR:
		case ATA_REG_NSECT:
		case ATA_REG_LBAL:
		case ATA_REG_LBAM:
		case ATA_REG_LBAH:
			/* both devices take the write; the 48-bit registers
			 * keep the previous value as the HOB byte */
			for (unsigned i = 0; i < 2; i++)
				tf_write(&ch->drive[i].tf, off, v);
			break;
		case ATA_REG_DEVICE:
			ch->device = v;
			update_irq(ch); /* INTRQ follows the selected device */
			break;
		case ATA_REG_STATUS:
			exec_command(ch, v);
			break;
		}
		return;
	}
	memset(p, 0, len);
	if (ata_channel_empty(ch)) {
		/* nothing drives the bus */
		memset(p, 0xff, len);
		return;
	}
	if (!d->bd) {
		/* device 1 absent: device 0 answers for it with zeroes */
		return;
	}
	switch (off) {
	case ATA_REG_ERROR:
		v = d->error;
		break;
	case ATA_REG_NSECT:
		v = hob ? d->tf.hob_nsect : d->tf.nsect;
		break;
	case ATA_REG_LBAL:
		v = hob ? d->tf.hob_lbal : d->tf.lbal;
		break;
	case ATA_REG_LBAM:
		v = hob ? d->tf.hob_lbam : d->tf.lbam;
		break;
	case ATA_REG_LBAH:
		v = hob ? d->tf.hob_lbah : d->tf.lbah;
		break;
	case ATA_REG_DEVICE:
		v = ch->device;
		break;
	case ATA_REG_STATUS:
		v = d->status;
		/* reading Status acknowledges the interrupt */
		clear_irq(ch, d);
		break;
	}
	p[0] = v;
}

void ata_ctl_io(struct ata_channel *ch, void *data, unsigned len,
		bool is_write)
{
	uint8_t *p = data;
	struct ata_drive *d = selected(ch);

	if (!len)
		return;
	if (!is_write) {
		/* Alternate Status: Status without acknowledging anything */
		memset(p, 0, len);
		if (ata_channel_empty(ch))
			memset(p, 0xff, len);
		else if (d->bd)
			p[0] = d->status;
		return;
	}
	if ((p[0] & ATA_CTL_SRST) && !(ch->ctl & ATA_CTL_SRST)) {
		/* software reset asserted: both devices busy, commands
		 * ended, interrupts withdrawn */
		for (unsigned i = 0; i < 2; i++) {
			ch->drive[i].xfer = ATA_XFER_NONE;
			ch->drive[i].identify = false;
			ch->drive[i].intrq = false;
			ch->drive[i].status = ch->drive[i].bd ? ATA_BSY : 0;
		}
	} else if (!(p[0] & ATA_CTL_SRST) && (ch->ctl & ATA_CTL_SRST)) {
		/* released: the devices come up with the signature */
		set_signature(ch);
	}
	ch->ctl = p[0];
	update_irq(ch);
}

/* ---- DMA ---- */

void ata_channel_set_dma_ready(struct ata_channel *ch,
			       void (*dma_ready)(void *opaque))
{
	ch->dma_ready = dma_ready;
}

void ata_dma_ready(struct ata_channel *ch)
{
	if (ch->dma_ready)
		ch->dma_ready(ch->opaque);
}

bool ata_dma_pending(const struct ata_channel *ch, bool *to_memory,
		     uint64_t *bytes_left)
{
	const struct ata_drive *d = &ch->drive[(ch->device & ATA_DEV_DEV) ? 1 : 0];

	if (!d->bd || (d->xfer != ATA_XFER_DMA_IN && d->xfer != ATA_XFER_DMA_OUT))
		return false;
	*to_memory = d->xfer == ATA_XFER_DMA_IN;
	if (d->atapi)
		return atapi_dma_pending(d, bytes_left);
	*bytes_left = (uint64_t)d->remaining * ATA_SECTOR - d->dma_done;
	return true;
}

int ata_dma_rw(struct ata_channel *ch, const struct iovec *iov, int iovcnt)
{
	struct ata_drive *d = selected(ch);
	uint64_t total = (uint64_t)d->remaining * ATA_SECTOR;
	size_t len;
	int ret;

	if (!d->bd || iovcnt < 0 ||
	    (d->xfer != ATA_XFER_DMA_IN && d->xfer != ATA_XFER_DMA_OUT))
		return -EINVAL;
	if (d->atapi)
		return atapi_dma_rw(d, iov, iovcnt);
	len = iov_size(iov, (unsigned)iovcnt);
	if (len > total - d->dma_done)
		return -EINVAL;
	if (!len)
		return 0;
	if (d->xfer == ATA_XFER_DMA_IN)
		ret = blockdev_preadv(d->bd, iov, iovcnt, d->lba * ATA_SECTOR + d->dma_done);
	else
		ret = blockdev_pwritev(d->bd, iov, iovcnt, d->lba * ATA_SECTOR + d->dma_done);
	if (ret)
		return ret;
	d->dma_done += len;
	return 0;
}

void ata_dma_done(struct ata_channel *ch, int err)
{
	struct ata_drive *d = selected(ch);
	bool reading = d->xfer == ATA_XFER_DMA_IN;

	if (!d->bd || (d->xfer != ATA_XFER_DMA_IN && d->xfer != ATA_XFER_DMA_OUT))
		return;
	if (d->atapi) {
		atapi_dma_done(ch, d, err);
		return;
	}
	if (!err && d->dma_done != (uint64_t)d->remaining * ATA_SECTOR)
		err = -EFAULT;
	if (!err) {
		d->lba += d->remaining;
		d->remaining = 0;
		cmd_ok(ch, d);
	} else {
		cmd_abort(ch, d, err == -EIO && reading ? ATA_UNC : ATA_ABRT);
	}
}

/* ---- setup ---- */

void ata_channel_init(struct ata_channel *ch,
		      void (*irq)(void *opaque, bool level), void *opaque)
{
	memset(ch, 0, sizeof(*ch));
	ch->irq = irq;
	ch->opaque = opaque;
	ata_channel_reset(ch);
}

void ata_channel_reset(struct ata_channel *ch)
{
	for (unsigned i = 0; i < 2; i++) {
		struct ata_drive *d = &ch->drive[i];

		/* multiple mode on at its maximum and multiword DMA 2 selected,
		 * as PC firmware leaves a disk it has set up */
		d->multiple = ATA_MAX_MULTIPLE;
		d->heads = 16;
		d->spt = 63;
		d->xfer_mode = 0x22;
		d->wcache = true;
		if (d->atapi)
			atapi_reset(d);
	}
	ch->ctl = 0;
	set_signature(ch);
	update_irq(ch);
}

int ata_drive_attach(struct ata_channel *ch, unsigned pos,
		     struct blockdev *bd, const char *serial)
{
	struct ata_drive *d;

	if (pos > 1 || !bd || !serial || bd->size < ATA_SECTOR)
		return -EINVAL;
	d = &ch->drive[pos];
	d->bd = bd;
	d->nsectors = bd->size / ATA_SECTOR;
	strncpy(d->serial, serial, sizeof(d->serial) - 1);
	d->serial[sizeof(d->serial) - 1] = '\0';
	ata_channel_reset(ch);
	return 0;
}
