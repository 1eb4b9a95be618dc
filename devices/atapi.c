/* SPDX-License-Identifier: MIT
 * atapi.c - an ATAPI CD-ROM drive (a PACKET device) on a parallel ATA
 * channel (devices/ata.c), with a read-only ISO 9660 image as its disc.
 *
 * Models:
 *  - the PACKET feature set of ATA/ATAPI-8 ACS: the signature a PACKET
 *    device leaves after a reset, DEVICE RESET and EXECUTE DEVICE
 *    DIAGNOSTIC (Count 01h, LBA Low 01h, LBA Mid 14h, LBA High EBh, DRDY
 *    clear; ACS 4.1.3, table 4); IDENTIFY PACKET DEVICE (ACS 7.17: a
 *    removable CD-ROM, 12-byte packets, DRQ within 50 us of the PACKET
 *    command so no interrupt before the packet, PIO 0-4, MWDMA 0-2, UDMA
 *    0-5); IDENTIFY DEVICE and the other ATA commands aborted, IDENTIFY
 *    DEVICE leaving the signature (ACS 7.16.2);
 *  - the PACKET command (ACS 7.18, ATA8-APT 11.8 / 11.9): the command
 *    packet by PIO data-out (Interrupt Reason C/D=1 I/O=0), then the
 *    data by PIO data-in blocks no larger than the byte count limit the
 *    host put in LBA Mid/High (each block offered with an interrupt,
 *    Interrupt Reason I/O=1 and its size in LBA Mid/High; blocks before
 *    the last are even; a limit of 0 or FFFFh means FFFEh, an odd one
 *    is used one less) or, with Features bit 0 (DMA), through the bus
 *    master's PRD table; then the status (C/D=1 I/O=1) with an
 *    interrupt. A refused command ends with CHECK CONDITION: ERR in
 *    Status, the sense key in Error bits 7:4 (and ABRT for ILLEGAL
 *    REQUEST), the sense data for REQUEST SENSE;
 *  - the packet commands of SPC-3 and MMC-5 that PC firmware booting a
 *    CD (El Torito) and Linux's sr driver send: TEST UNIT READY, REQUEST
 *    SENSE (fixed format), INQUIRY (standard data, VPD pages 00h and
 *    80h), START STOP UNIT (eject and load), PREVENT ALLOW MEDIUM
 *    REMOVAL, READ CAPACITY, READ(10), READ(12), SEEK(10), READ TOC/PMA/
 *    ATIP formats 0 (TOC, LBA or MSF) and 1 (session information), GET
 *    CONFIGURATION (profile list: CD-ROM; core, removable medium and
 *    random readable features), GET EVENT STATUS NOTIFICATION (polled,
 *    media class), MODE SENSE(6)/(10) (pages 01h and 2Ah, all pages),
 *    MECHANISM STATUS, SET CD SPEED. The disc is one data track in one
 *    session. Anything else is ILLEGAL REQUEST / INVALID COMMAND
 *    OPERATION CODE (ASC 20h); a bad field in a known command INVALID
 *    FIELD IN CDB (24h); blocks past the end of the disc LOGICAL BLOCK
 *    ADDRESS OUT OF RANGE (21h); any access to the disc while the tray
 *    is open NOT READY / MEDIUM NOT PRESENT - TRAY OPEN (3Ah/02h).
 *
 * Every byte of the packet and of the registers is the guest's: block
 * addresses and counts are checked against the disc before any read,
 * allocation lengths only ever shorten what the device has to say, the
 * byte count limit only shortens the DRQ blocks. Data is read from the
 * image 8 KiB at a time into the drive's buffer (PIO) or straight into
 * the PRD buffers (DMA), synchronously on the vCPU thread.
 */
#include <errno.h>
#include <string.h>

#include "devices/ata.h"
#include "devices/ata_priv.h"
#include "devices/disk/blockdev.h"
#include "vmm/iov.h"

/* ATAPI status: a PACKET device has no DSC; DRDY once a command ran. */
#define ST_READY ATA_DRDY

/* Packet command operation codes (SPC-3, MMC-5). */
enum {
	OP_TEST_UNIT_READY = 0x00,
	OP_REQUEST_SENSE = 0x03,
	OP_INQUIRY = 0x12,
	OP_MODE_SENSE_6 = 0x1a,
	OP_START_STOP_UNIT = 0x1b,
	OP_PREVENT_ALLOW = 0x1e,
	OP_READ_CAPACITY = 0x25,
	OP_READ_10 = 0x28,
	OP_SEEK_10 = 0x2b,
	OP_READ_TOC = 0x43,
	OP_GET_CONFIGURATION = 0x46,
	OP_GET_EVENT_STATUS = 0x4a,
	OP_MODE_SENSE_10 = 0x5a,
	OP_READ_12 = 0xa8,
	OP_SET_CD_SPEED = 0xbb,
	OP_MECHANISM_STATUS = 0xbd,
};

/* Sense keys (SPC-3 4.5.6) and the additional sense codes used. */
enum {
	SK_NO_SENSE = 0x0,
	SK_NOT_READY = 0x2,
	SK_MEDIUM_ERROR = 0x3,
	SK_ILLEGAL_REQUEST = 0x5,
	SK_ABORTED_COMMAND = 0xb,
};
#define ASC_READ_ERROR 0x11          /* UNRECOVERED READ ERROR */
#define ASC_INVALID_OPCODE 0x20      /* INVALID COMMAND OPERATION CODE */
#define ASC_LBA_OUT_OF_RANGE 0x21    /* LOGICAL BLOCK ADDRESS OUT OF RANGE */
#define ASC_INVALID_FIELD 0x24       /* INVALID FIELD IN CDB */
#define ASC_SAVING_UNSUPPORTED 0x39  /* SAVING PARAMETERS NOT SUPPORTED */
#define ASC_NO_MEDIUM 0x3a           /* MEDIUM NOT PRESENT (02h: TRAY OPEN) */
#define ASC_REMOVAL_PREVENTED 0x53   /* 02h: MEDIUM REMOVAL PREVENTED */

/* GET EVENT STATUS NOTIFICATION media event codes (MMC-5 6.6). */
#define MEDIA_EV_NONE 0
#define MEDIA_EV_NEW 2
#define MEDIA_EV_REMOVAL 3

#define PROFILE_CD_ROM 0x0008

static struct atapi_state *st(struct ata_drive *d)
{
	return &d->atapi_st;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- IDENTIFY PACKET DEVICE (ACS 7.17) ---- */

void atapi_identify(const struct ata_drive *d, uint16_t id[256])
{
	memset(id, 0, 256 * sizeof(id[0]));
	/* 10b: ATAPI; 05h: CD-ROM; removable; DRQ within 50 us (10b);
	 * 12-byte command packets (00b) */
	id[0] = 0x8000 | 0x0500 | 0x0080 | 0x0040;
	ata_id_string(&id[10], d->serial, 20);
	ata_id_string(&id[23], "1.0", 8);
	ata_id_string(&id[27], "MINIVMM CD-ROM", 40);
	id[49] = (1 << 11) | (1 << 9) | (1 << 8); /* IORDY, LBA, DMA */
	id[53] = 0x0006;           /* words 64-70 and 88 valid */
	ata_id_modes(d, id);
	id[82] = (1 << 9) | (1 << 4); /* DEVICE RESET, PACKET */
	id[83] = 0x4000;
	id[84] = 0x4000;
	id[85] = id[82];
	id[87] = 0x4000;
	/* word 255: signature and checksum (optional for PACKET devices,
	 * given as an ATA device gives it) */
	ata_id_checksum(id);
}

/* ---- command completion ---- */

/* The status phase: C/D and I/O set, an interrupt. */
static void complete(struct ata_channel *ch, struct ata_drive *d, uint8_t status,
		     uint8_t error)
{
	d->xfer = ATA_XFER_NONE;
	d->pos = d->len = 0;
	st(d)->packet = false;
	d->tf.nsect = ATAPI_IREASON_CD | ATAPI_IREASON_IO;
	d->status = status;
	d->error = error;
	ata_raise_irq(ch, d);
}

static void good(struct ata_channel *ch, struct ata_drive *d)
{
	complete(ch, d, ST_READY, 0);
}

/* CHECK CONDITION with this sense. */
static void check(struct ata_channel *ch, struct ata_drive *d, uint8_t key,
		  uint8_t asc, uint8_t ascq)
{
	struct atapi_state *a = st(d);

	a->sense_key = key;
	a->asc = asc;
	a->ascq = ascq;
	complete(ch, d, ST_READY | ATA_ERR,
		 (uint8_t)(key << 4 | (key == SK_ILLEGAL_REQUEST ? ATA_ABRT : 0)));
}

static void invalid_field(struct ata_channel *ch, struct ata_drive *d)
{
	check(ch, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

/* ---- the data-in phase ---- */

/* Offer the next PIO block: no more than the byte count limit, the data
 * left, and what the buffer holds (refilled from the disc at its end). */
static void next_block(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	uint64_t n;

	if (a->done >= a->chunk_end) {
		/* only disc data outgrows the buffer; its chunks start on
		 * block boundaries since the buffer holds whole blocks */
		uint64_t len = a->total - a->done;
		struct iovec iov;

		if (len > sizeof(d->buf))
			len = sizeof(d->buf);
		iov.iov_base = d->buf;
		iov.iov_len = (size_t)len;
		if (!a->from_medium ||
		    blockdev_preadv(d->bd, &iov, 1, a->lba * ATAPI_SECTOR + a->done)) {
			check(ch, d, SK_MEDIUM_ERROR, ASC_READ_ERROR, 0);
			return;
		}
		a->chunk_start = a->done;
		a->chunk_end = a->done + len;
	}
	n = a->chunk_end - a->done;
	if (n > a->limit)
		n = a->limit;
	a->blk = (uint32_t)n;
	d->pos = (uint32_t)(a->done - a->chunk_start);
	d->len = d->pos + a->blk;
	d->xfer = ATA_XFER_PIO_IN;
	d->tf.nsect = ATAPI_IREASON_IO;
	d->tf.lbam = (uint8_t)n;
	d->tf.lbah = (uint8_t)(n >> 8);
	d->status = ST_READY | ATA_DRQ;
	ata_raise_irq(ch, d);
}

/* Start moving total bytes to the host: from d->buf (a reply built
 * there) or from the disc at block lba. */
static void data_in(struct ata_channel *ch, struct ata_drive *d,
		    bool from_medium, uint64_t lba, uint64_t total)
{
	struct atapi_state *a = st(d);

	a->from_medium = from_medium;
	a->lba = lba;
	a->total = total;
	a->done = 0;
	/* a reply is in the buffer already; disc data is read on demand */
	a->chunk_start = 0;
	a->chunk_end = from_medium ? 0 : total;
	if (!total) {
		good(ch, d);
		return;
	}
	if (a->dma) {
		/* the DMA engine moves it (ata_dma_*), then the status */
		d->xfer = ATA_XFER_DMA_IN;
		d->tf.nsect = ATAPI_IREASON_IO;
		d->status = ST_READY | ATA_DRQ;
		ata_dma_ready(ch);
		return;
	}
	next_block(ch, d);
}

/* A reply of len bytes built in d->buf, cut to the allocation length. */
static void reply(struct ata_channel *ch, struct ata_drive *d, size_t len,
		  uint32_t alloc)
{
	data_in(ch, d, false, 0, len < alloc ? len : alloc);
}

void atapi_block_read(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);

	a->done += a->blk;
	d->pos = d->len = 0;
	if (a->done >= a->total)
		good(ch, d);
	else
		next_block(ch, d);
}

bool atapi_dma_pending(const struct ata_drive *d, uint64_t *bytes_left)
{
	const struct atapi_state *a = &d->atapi_st;

	if (d->xfer != ATA_XFER_DMA_IN)
		return false;
	*bytes_left = a->total - a->done;
	return true;
}

int atapi_dma_rw(struct ata_drive *d, const struct iovec *iov, int iovcnt)
{
	struct atapi_state *a = st(d);
	size_t len = iov_size(iov, (unsigned)iovcnt);
	int ret;

	if (d->xfer != ATA_XFER_DMA_IN || len > a->total - a->done)
		return -EINVAL;
	if (!len)
		return 0;
	if (a->from_medium) {
		ret = blockdev_preadv(d->bd, iov, iovcnt,
				      a->lba * ATAPI_SECTOR + a->done);
		if (ret)
			return ret;
	} else {
		/* a reply: total is no more than the buffer */
		iov_from_buf(iov, (unsigned)iovcnt, 0, d->buf + a->done, len);
	}
	a->done += len;
	return 0;
}

void atapi_dma_done(struct ata_channel *ch, struct ata_drive *d, int err)
{
	struct atapi_state *a = st(d);

	if (!err && a->done != a->total)
		err = -EFAULT;
	if (!err)
		good(ch, d);
	else if (err == -EIO)
		check(ch, d, SK_MEDIUM_ERROR, ASC_READ_ERROR, 0);
	else /* the DMA engine failed (a bad PRD table) */
		check(ch, d, SK_ABORTED_COMMAND, 0, 0);
}

/* ---- the packet commands ---- */

static bool medium_ready(struct ata_channel *ch, struct ata_drive *d)
{
	if (st(d)->tray_open) {
		check(ch, d, SK_NOT_READY, ASC_NO_MEDIUM, 0x02);
		return false;
	}
	return true;
}

static void cmd_request_sense(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	uint8_t *b = d->buf;

	memset(b, 0, 18);
	b[0] = 0x70;           /* current error, fixed format */
	b[2] = a->sense_key;
	b[7] = 10;             /* additional sense length */
	b[12] = a->asc;
	b[13] = a->ascq;
	a->sense_key = a->asc = a->ascq = 0;
	reply(ch, d, 18, a->cdb[4]);
}

static void cmd_inquiry(struct ata_channel *ch, struct ata_drive *d)
{
	const uint8_t *c = st(d)->cdb;
	uint32_t alloc = be16(&c[3]);
	uint8_t *b = d->buf;
	size_t n;

	if (c[1] & 0x01) { /* EVPD: the vital product data pages */
		memset(b, 0, 4);
		b[0] = 0x05;
		b[1] = c[2];
		if (c[2] == 0x00) {        /* supported pages */
			b[3] = 2;
			b[4] = 0x00;
			b[5] = 0x80;
		} else if (c[2] == 0x80) { /* unit serial number */
			n = strlen(d->serial);
			b[3] = (uint8_t)n;
			memcpy(&b[4], d->serial, n);
		} else {
			invalid_field(ch, d);
			return;
		}
		reply(ch, d, 4u + b[3], alloc);
		return;
	}
	if (c[2]) { /* a page code without EVPD */
		invalid_field(ch, d);
		return;
	}
	memset(b, 0, 36);
	b[0] = 0x05;           /* CD/DVD device */
	b[1] = 0x80;           /* removable medium */
	b[2] = 0x05;           /* SPC-3 */
	b[3] = 0x02;           /* response data format 2 */
	b[4] = 36 - 5;         /* additional length */
	memcpy(&b[8], "MINIVMM ", 8);
	memcpy(&b[16], "CD-ROM          ", 16);
	memcpy(&b[32], "1.0 ", 4);
	reply(ch, d, 36, alloc);
}

static void cmd_start_stop(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	uint8_t f = a->cdb[4];

	if ((f >> 4) != 0) { /* power conditions: none supported */
		invalid_field(ch, d);
		return;
	}
	if (f & 0x02) { /* LoEj: load (Start) or eject */
		if (f & 0x01) {
			if (a->tray_open) {
				a->tray_open = false;
				a->media_event = MEDIA_EV_NEW;
			}
		} else if (a->locked) {
			check(ch, d, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
			return;
		} else if (!a->tray_open) {
			a->tray_open = true;
			a->media_event = MEDIA_EV_REMOVAL;
		}
	}
	good(ch, d);
}

static void cmd_read_capacity(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	uint64_t last = a->nsectors - 1;

	if (!medium_ready(ch, d))
		return;
	put32(&d->buf[0], last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
	put32(&d->buf[4], ATAPI_SECTOR);
	reply(ch, d, 8, 8);
}

static void cmd_read(struct ata_channel *ch, struct ata_drive *d, bool twelve)
{
	struct atapi_state *a = st(d);
	const uint8_t *c = a->cdb;
	uint64_t lba = be32(&c[2]);
	uint64_t count = twelve ? be32(&c[6]) : be16(&c[7]);

	if (!medium_ready(ch, d))
		return;
	if (lba > a->nsectors || count > a->nsectors - lba) {
		check(ch, d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		return;
	}
	data_in(ch, d, true, lba, count * ATAPI_SECTOR);
}

/* An address of the TOC: a block address, or minutes/seconds/frames
 * with the 2-second lead-in (150 frames) of MMC's MSF form. */
static void put_addr(uint8_t *p, uint64_t lba, bool msf)
{
	if (!msf) {
		put32(p, lba > 0xffffffffu ? 0xffffffffu : (uint32_t)lba);
		return;
	}
	lba += 150;
	p[0] = 0;
	p[1] = lba / (60 * 75) > 255 ? 255 : (uint8_t)(lba / (60 * 75));
	p[2] = (uint8_t)(lba / 75 % 60);
	p[3] = (uint8_t)(lba % 75);
}

static void cmd_read_toc(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	const uint8_t *c = a->cdb;
	bool msf = c[1] & 0x02;
	unsigned format = c[2] & 0x0f, track = c[6];
	uint8_t *b = d->buf;
	size_t n = 4;

	if (!format) /* the older place of the format (SFF-8020) */
		format = c[9] >> 6;
	if (!medium_ready(ch, d))
		return;
	memset(b, 0, 32);
	b[2] = 1; /* first track (format 0) or session (format 1) */
	b[3] = 1; /* last */
	switch (format) {
	case 0: /* TOC: track 1 (data), then the lead-out */
		if (track > 1 && track != 0xaa) {
			invalid_field(ch, d);
			return;
		}
		if (track <= 1) {
			b[n + 1] = 0x14;   /* ADR 1, data track */
			b[n + 2] = 1;
			put_addr(&b[n + 4], 0, msf);
			n += 8;
		}
		b[n + 1] = 0x14;
		b[n + 2] = 0xaa;
		put_addr(&b[n + 4], a->nsectors, msf);
		n += 8;
		break;
	case 1: /* session information: the first track of the last session */
		b[n + 1] = 0x14;
		b[n + 2] = 1;
		put_addr(&b[n + 4], 0, msf);
		n += 8;
		break;
	default:
		invalid_field(ch, d);
		return;
	}
	put16(b, (uint16_t)(n - 2));
	reply(ch, d, n, be16(&c[7]));
}

/* One feature descriptor of GET CONFIGURATION: its code, whether it is
 * current, and its additional bytes. */
static size_t feature(uint8_t *p, uint16_t code, bool current,
		      const uint8_t *body, uint8_t len)
{
	put16(p, code);
	p[2] = (uint8_t)(0x02 | (current ? 0x01 : 0)); /* persistent */
	p[3] = len;
	memcpy(p + 4, body, len);
	return 4u + len;
}

static void cmd_get_configuration(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	const uint8_t *c = a->cdb;
	unsigned rt = c[1] & 0x03;
	uint16_t start = be16(&c[2]);
	bool present = !a->tray_open;
	/* profile list: CD-ROM (current with a disc) */
	const uint8_t profiles[4] = { PROFILE_CD_ROM >> 8, PROFILE_CD_ROM & 0xff,
				      present ? 0x01 : 0x00, 0 };
	/* core: the ATAPI physical interface */
	const uint8_t core[8] = { 0, 0, 0, 0x02, 0, 0, 0, 0 };
	/* removable medium: tray, ejectable, lockable, lock state */
	const uint8_t removable[4] = {
		(uint8_t)(0x20 | 0x08 | (a->locked ? 0x04 : 0) | 0x01), 0, 0, 0 };
	/* random readable: 2048-byte blocks, one block per unit */
	const uint8_t random[8] = { 0, 0, ATAPI_SECTOR >> 8, 0, 0, 1, 0, 0 };
	const struct {
		uint16_t code;
		bool current;
		const uint8_t *body;
		uint8_t len;
	} feats[] = {
		{ 0x0000, true, profiles, sizeof(profiles) },
		{ 0x0001, true, core, sizeof(core) },
		{ 0x0003, true, removable, sizeof(removable) },
		{ 0x0010, present, random, sizeof(random) },
	};
	uint8_t *b = d->buf;
	size_t n = 8;

	if (rt == 3) {
		invalid_field(ch, d);
		return;
	}
	memset(b, 0, 8);
	put16(&b[6], present ? PROFILE_CD_ROM : 0);
	for (unsigned i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
		if (feats[i].code < start || (rt == 1 && !feats[i].current) ||
		    (rt == 2 && feats[i].code != start))
			continue;
		n += feature(b + n, feats[i].code, feats[i].current,
			     feats[i].body, feats[i].len);
	}
	put32(b, (uint32_t)(n - 4));
	reply(ch, d, n, be16(&c[7]));
}

static void cmd_get_event_status(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	const uint8_t *c = a->cdb;
	uint8_t *b = d->buf;
	size_t n = 4;

	if (!(c[1] & 0x01)) { /* asynchronous operation: not supported */
		invalid_field(ch, d);
		return;
	}
	memset(b, 0, 8);
	b[3] = 0x10; /* supported event classes: media */
	if (c[4] & 0x10) {
		b[2] = 0x04; /* media class */
		b[4] = a->media_event;
		b[5] = a->tray_open ? 0x01 : 0x02; /* tray open / media present */
		a->media_event = MEDIA_EV_NONE;
		n += 4;
	} else {
		b[2] = 0x80; /* NEA: no event of the classes asked for */
	}
	put16(b, (uint16_t)(n - 4)); /* event descriptor length */
	reply(ch, d, n, be16(&c[7]));
}

/* The mode pages, at p: 01h (read error recovery) and 2Ah (CD
 * capabilities and mechanical status); changeable: all zero. */
static size_t mode_page(struct ata_drive *d, uint8_t *p, unsigned page,
			bool changeable)
{
	struct atapi_state *a = st(d);

	if (page == 0x01) {
		memset(p, 0, 8);
		p[0] = 0x01;
		p[1] = 6;
		return 8;
	}
	memset(p, 0, 22);
	p[0] = 0x2a;
	p[1] = 20;
	if (changeable)
		return 22;
	p[4] = 0x70;                  /* multisession, mode 2 form 1 and 2 */
	/* tray, eject, lock, lock state */
	p[6] = (uint8_t)(0x20 | 0x08 | 0x01 | (a->locked ? 0x02 : 0));
	put16(&p[8], 706);            /* maximum read speed, kB/s */
	put16(&p[12], 512);           /* buffer size, KiB */
	put16(&p[14], 706);           /* current read speed */
	return 22;
}

static void cmd_mode_sense(struct ata_channel *ch, struct ata_drive *d,
			   bool ten)
{
	const uint8_t *c = st(d)->cdb;
	unsigned pc = c[2] >> 6, page = c[2] & 0x3f, hdr = ten ? 8 : 4;
	uint8_t *b = d->buf;
	size_t n = hdr;

	if (pc == 3) {
		check(ch, d, SK_ILLEGAL_REQUEST, ASC_SAVING_UNSUPPORTED, 0);
		return;
	}
	if (c[3] || (page != 0x01 && page != 0x2a && page != 0x3f)) {
		invalid_field(ch, d);
		return;
	}
	memset(b, 0, hdr);
	if (page == 0x01 || page == 0x3f)
		n += mode_page(d, b + n, 0x01, pc == 1);
	if (page == 0x2a || page == 0x3f)
		n += mode_page(d, b + n, 0x2a, pc == 1);
	if (ten) {
		put16(b, (uint16_t)(n - 2)); /* mode data length */
		reply(ch, d, n, be16(&c[7]));
	} else {
		b[0] = (uint8_t)(n - 1);
		reply(ch, d, n, c[4]);
	}
}

static void cmd_mechanism_status(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);

	memset(d->buf, 0, 8);
	d->buf[1] = a->tray_open ? 0x10 : 0; /* door open; mechanism idle */
	reply(ch, d, 8, be16(&a->cdb[8]));
}

static void run_packet(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	const uint8_t *c = a->cdb;

	/* sense data describes the last command; REQUEST SENSE reads it */
	if (c[0] != OP_REQUEST_SENSE)
		a->sense_key = a->asc = a->ascq = 0;
	switch (c[0]) {
	case OP_TEST_UNIT_READY:
		if (medium_ready(ch, d))
			good(ch, d);
		break;
	case OP_REQUEST_SENSE:
		cmd_request_sense(ch, d);
		break;
	case OP_INQUIRY:
		cmd_inquiry(ch, d);
		break;
	case OP_START_STOP_UNIT:
		cmd_start_stop(ch, d);
		break;
	case OP_PREVENT_ALLOW:
		if (c[4] & 0x02) { /* persistent prevent: not supported */
			invalid_field(ch, d);
			break;
		}
		a->locked = c[4] & 0x01;
		good(ch, d);
		break;
	case OP_READ_CAPACITY:
		cmd_read_capacity(ch, d);
		break;
	case OP_READ_10:
		cmd_read(ch, d, false);
		break;
	case OP_READ_12:
		cmd_read(ch, d, true);
		break;
	case OP_SEEK_10:
		if (!medium_ready(ch, d))
			break;
		if (be32(&c[2]) >= a->nsectors)
			check(ch, d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		else
			good(ch, d);
		break;
	case OP_READ_TOC:
		cmd_read_toc(ch, d);
		break;
	case OP_GET_CONFIGURATION:
		cmd_get_configuration(ch, d);
		break;
	case OP_GET_EVENT_STATUS:
		cmd_get_event_status(ch, d);
		break;
	case OP_MODE_SENSE_6:
		cmd_mode_sense(ch, d, false);
		break;
	case OP_MODE_SENSE_10:
		cmd_mode_sense(ch, d, true);
		break;
	case OP_MECHANISM_STATUS:
		cmd_mechanism_status(ch, d);
		break;
	case OP_SET_CD_SPEED:
		good(ch, d); /* the image reads as fast as it reads */
		break;
	default:
		check(ch, d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		break;
	}
}

void atapi_packet_written(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);

	if (!a->packet) /* no data-out commands: nothing else is taken */
		return;
	a->packet = false;
	memcpy(a->cdb, d->buf, ATAPI_CDB_LEN);
	d->xfer = ATA_XFER_NONE;
	d->pos = d->len = 0;
	run_packet(ch, d);
}

/* ---- ATA commands to the PACKET device ---- */

static void cmd_packet(struct ata_channel *ch, struct ata_drive *d)
{
	struct atapi_state *a = st(d);
	unsigned limit = (unsigned)d->tf.lbah << 8 | d->tf.lbam;

	if (d->tf.feature & ATAPI_FEAT_OVL) { /* overlap: not supported */
		ata_cmd_abort(ch, d, ATA_ABRT);
		return;
	}
	a->dma = d->tf.feature & ATAPI_FEAT_DMA;
	/* 0 and FFFFh mean FFFEh; blocks before the last are even */
	if (!limit || limit == 0xffff)
		limit = 0xfffe;
	else if (limit == 1)
		limit = 2;
	else
		limit &= ~1u;
	a->limit = (uint16_t)limit;
	a->packet = true;
	/* ready for the packet at once: no interrupt (DRQ type 50 us) */
	d->xfer = ATA_XFER_PIO_OUT;
	d->pos = 0;
	d->len = ATAPI_CDB_LEN;
	d->tf.nsect = ATAPI_IREASON_CD;
	d->status = ST_READY | ATA_DRQ;
}

void atapi_command(struct ata_channel *ch, struct ata_drive *d, uint8_t cmd)
{
	uint16_t id[256];

	st(d)->packet = false;
	switch (cmd) {
	case ATA_CMD_PACKET:
		cmd_packet(ch, d);
		break;
	case ATA_CMD_IDENTIFY_PACKET:
		atapi_identify(d, id);
		ata_offer_identify(ch, d, id);
		d->status = ST_READY | ATA_DRQ;
		break;
	case ATA_CMD_DEVICE_RESET:
		/* this device only, no interrupt: the signature, DRDY clear */
		ata_drive_signature(d);
		break;
	case ATA_CMD_IDENTIFY:
		/* aborted, with the signature that tells the host why */
		ata_drive_signature(d);
		ata_cmd_abort(ch, d, ATA_ABRT);
		d->status = ST_READY | ATA_ERR;
		break;
	default:
		ata_cmd_abort(ch, d, ATA_ABRT);
		d->status = ST_READY | ATA_ERR;
		break;
	}
}

/* ---- setup ---- */

void atapi_reset(struct ata_drive *d)
{
	struct atapi_state *a = st(d);

	a->tray_open = false;
	a->locked = false;
	a->media_event = MEDIA_EV_NONE;
	a->sense_key = a->asc = a->ascq = 0;
	a->packet = false;
}

int atapi_drive_attach(struct ata_channel *ch, unsigned pos,
		       struct blockdev *bd, const char *serial)
{
	struct ata_drive *d;

	if (pos > 1 || !bd || !serial || !bd->readonly ||
	    bd->size < ATAPI_SECTOR)
		return -EINVAL;
	d = &ch->drive[pos];
	d->bd = bd;
	d->atapi = true;
	d->nsectors = 0;
	d->atapi_st.nsectors = bd->size / ATAPI_SECTOR;
	strncpy(d->serial, serial, sizeof(d->serial) - 1);
	d->serial[sizeof(d->serial) - 1] = '\0';
	ata_channel_reset(ch);
	return 0;
}
