/* SPDX-License-Identifier: MIT
 * ata.h - an ATA hard disk (or an ATAPI CD-ROM, devices/atapi.c) and the
 * parallel ATA channel it sits on: the command block and control block
 * registers, the two device positions (device 0 / device 1) sharing them,
 * each with its own copy of the task file, and the command state machine
 * (ATA/ATAPI-8 ACS for the commands; ATA8-APT for the register protocol:
 * PIO data-in, PIO data-out, non-data, DMA; software reset).
 *
 * The channel knows nothing of PCI: the host controller (devices/piix_ide.c)
 * maps the registers, drives the interrupt line and runs the DMA engine.
 * Every call here takes no lock: the controller serializes the calls of
 * one channel.
 */
#ifndef MINIVMM_ATA_H
#define MINIVMM_ATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct blockdev;

#define ATA_SECTOR 512
/* Sectors per DRQ data block of READ/WRITE MULTIPLE (IDENTIFY word 47). */
#define ATA_MAX_MULTIPLE 16

/* Command block register offsets from the base (0x1F0 / 0x170). */
enum {
	ATA_REG_DATA = 0,
	ATA_REG_ERROR = 1,   /* read; write: FEATURES */
	ATA_REG_NSECT = 2,
	ATA_REG_LBAL = 3,
	ATA_REG_LBAM = 4,
	ATA_REG_LBAH = 5,
	ATA_REG_DEVICE = 6,
	ATA_REG_STATUS = 7,  /* read; write: COMMAND */
};

/* Status register bits. */
#define ATA_BSY 0x80
#define ATA_DRDY 0x40
#define ATA_DF 0x20
#define ATA_DSC 0x10
#define ATA_DRQ 0x08
#define ATA_ERR 0x01
/* Error register bits. */
#define ATA_UNC 0x40
#define ATA_IDNF 0x10
#define ATA_ABRT 0x04
/* Device register bits. */
#define ATA_DEV_LBA 0x40
#define ATA_DEV_DEV 0x10
/* Device Control register bits. */
#define ATA_CTL_HOB 0x80
#define ATA_CTL_SRST 0x04
#define ATA_CTL_NIEN 0x02

/* Commands (ATA/ATAPI-8 ACS). */
enum {
	ATA_CMD_NOP = 0x00,
	ATA_CMD_DEVICE_RESET = 0x08,
	ATA_CMD_RECALIBRATE = 0x10, /* 0x10-0x1f */
	ATA_CMD_READ = 0x20,
	ATA_CMD_READ_NORETRY = 0x21,
	ATA_CMD_READ_EXT = 0x24,
	ATA_CMD_READ_DMA_EXT = 0x25,
	ATA_CMD_READ_NATIVE_MAX_EXT = 0x27,
	ATA_CMD_READ_MULTI_EXT = 0x29,
	ATA_CMD_WRITE = 0x30,
	ATA_CMD_WRITE_NORETRY = 0x31,
	ATA_CMD_WRITE_EXT = 0x34,
	ATA_CMD_WRITE_DMA_EXT = 0x35,
	ATA_CMD_WRITE_MULTI_EXT = 0x39,
	ATA_CMD_VERIFY = 0x40,
	ATA_CMD_VERIFY_NORETRY = 0x41,
	ATA_CMD_VERIFY_EXT = 0x42,
	ATA_CMD_SEEK = 0x70,
	ATA_CMD_EXEC_DIAGNOSTIC = 0x90,
	ATA_CMD_INIT_DEV_PARAMS = 0x91,
	ATA_CMD_PACKET = 0xa0,
	ATA_CMD_IDENTIFY_PACKET = 0xa1,
	ATA_CMD_READ_MULTI = 0xc4,
	ATA_CMD_WRITE_MULTI = 0xc5,
	ATA_CMD_SET_MULTIPLE = 0xc6,
	ATA_CMD_READ_DMA = 0xc8,
	ATA_CMD_READ_DMA_NORETRY = 0xc9,
	ATA_CMD_WRITE_DMA = 0xca,
	ATA_CMD_WRITE_DMA_NORETRY = 0xcb,
	ATA_CMD_STANDBY_IMMEDIATE = 0xe0,
	ATA_CMD_IDLE_IMMEDIATE = 0xe1,
	ATA_CMD_STANDBY = 0xe2,
	ATA_CMD_IDLE = 0xe3,
	ATA_CMD_CHECK_POWER = 0xe5,
	ATA_CMD_SLEEP = 0xe6,
	ATA_CMD_FLUSH = 0xe7,
	ATA_CMD_FLUSH_EXT = 0xea,
	ATA_CMD_IDENTIFY = 0xec,
	ATA_CMD_SET_FEATURES = 0xef,
	ATA_CMD_READ_NATIVE_MAX = 0xf8,
};

/* SET FEATURES subcommands (FEATURES register). */
#define ATA_SF_WCACHE_ON 0x02
#define ATA_SF_XFER_MODE 0x03
#define ATA_SF_LOOKAHEAD_OFF 0x55
#define ATA_SF_REVERT_OFF 0x66
#define ATA_SF_WCACHE_OFF 0x82
#define ATA_SF_LOOKAHEAD_ON 0xaa
#define ATA_SF_REVERT_ON 0xcc

/* ---- the PACKET (ATAPI) device, devices/atapi.c ---- */
#define ATAPI_CDB_LEN 12      /* command packet bytes (IDENTIFY PACKET word 0) */
#define ATAPI_SECTOR 2048     /* a CD-ROM's logical block */
/* Interrupt Reason (the Count register of a PACKET device). */
#define ATAPI_IREASON_CD 0x01 /* C/D: 1 = the command packet or the status */
#define ATAPI_IREASON_IO 0x02 /* I/O: 1 = to the host */
/* Features of the PACKET command. */
#define ATAPI_FEAT_DMA 0x01
#define ATAPI_FEAT_OVL 0x02

struct atapi_state {
	uint64_t nsectors;       /* 2048-byte blocks on the medium */
	uint8_t cdb[ATAPI_CDB_LEN];
	/* sense data of the last command (SPC fixed format) */
	uint8_t sense_key, asc, ascq;
	bool tray_open;          /* START STOP UNIT ejected the medium */
	bool locked;             /* PREVENT ALLOW MEDIUM REMOVAL */
	uint8_t media_event;     /* GET EVENT STATUS media event code to report */
	/* the command in progress */
	bool packet;             /* the PIO data-out is the command packet */
	bool dma;                /* its data goes through the DMA engine */
	uint16_t limit;          /* byte count limit of a PIO DRQ block */
	bool from_medium;        /* its data comes from the medium, else buf */
	uint64_t lba;            /* the medium's block the data starts at */
	uint64_t total, done;    /* bytes of data-in: all, delivered */
	uint64_t chunk_start, chunk_end; /* data bytes now held in buf */
	uint32_t blk;            /* bytes of the DRQ block offered */
};

enum ata_xfer {
	ATA_XFER_NONE,
	ATA_XFER_PIO_IN,   /* device to host through the data port */
	ATA_XFER_PIO_OUT,  /* host to device through the data port */
	ATA_XFER_DMA_IN,   /* device to host memory, waiting for the DMA engine */
	ATA_XFER_DMA_OUT,  /* host memory to device */
};

/* The command block registers a device holds (each device has its own
 * copy: the host's writes reach both, reads come from the selected one);
 * the 48-bit registers keep the previous value as the "HOB" byte. For a
 * PACKET device, Count is the Interrupt Reason and LBA Mid/High the byte
 * count. */
struct ata_tf {
	uint8_t feature, hob_feature;
	uint8_t nsect, hob_nsect;
	uint8_t lbal, hob_lbal, lbam, hob_lbam, lbah, hob_lbah;
};

struct ata_drive {
	struct blockdev *bd; /* NULL: no device in this position */
	bool atapi;          /* a PACKET (ATAPI CD-ROM) device: devices/atapi.c */
	struct ata_tf tf;
	uint64_t nsectors;
	char serial[21];
	uint8_t status, error;
	bool intrq;          /* this device asserts INTRQ (pending interrupt) */

	/* settings the host changes */
	unsigned multiple;   /* sectors per block of READ/WRITE MULTIPLE, 0: off */
	unsigned heads, spt; /* logical geometry for CHS addressing */
	uint8_t xfer_mode;   /* SET FEATURES transfer mode value (0: default) */
	bool wcache;

	/* the command in progress */
	enum ata_xfer xfer;
	bool identify;       /* the PIO data-in is IDENTIFY's one block */
	uint64_t lba;        /* next sector to transfer */
	uint32_t remaining;  /* sectors still to transfer */
	unsigned block;      /* sectors per DRQ block (PIO) */
	uint32_t pos, len;   /* data port position in buf, bytes in this block */
	uint64_t dma_done;   /* bytes of a DMA command transferred so far */
	uint8_t buf[ATA_MAX_MULTIPLE * ATA_SECTOR];
	struct atapi_state atapi_st; /* atapi only */
};

struct ata_channel {
	struct ata_drive drive[2];
	uint8_t device;      /* the Device register, the same in both devices */
	uint8_t ctl;
	bool irq_level;  /* last level given to irq() */
	void (*irq)(void *opaque, bool level);
	/* a DMA command is ready for the DMA engine (NULL: none) */
	void (*dma_ready)(void *opaque);
	void *opaque;
};

/* Power-on state: no devices, the interrupt line low. */
void ata_channel_init(struct ata_channel *ch,
		      void (*irq)(void *opaque, bool level), void *opaque);
/* Put a disk in position pos (0 or 1). The channel does not own bd.
 * serial: up to 20 characters. 0 or -EINVAL. */
int ata_drive_attach(struct ata_channel *ch, unsigned pos,
		     struct blockdev *bd, const char *serial);
/* Put an ATAPI CD-ROM with the medium bd (read-only, 2048-byte blocks:
 * at least one) in position pos. 0 or -EINVAL. */
int atapi_drive_attach(struct ata_channel *ch, unsigned pos,
		       struct blockdev *bd, const char *serial);
/* A hardware reset (platform reset): settings back to their defaults, the
 * reset signature in the registers. */
void ata_channel_reset(struct ata_channel *ch);
bool ata_channel_empty(const struct ata_channel *ch);

/* The command block (off 0-7) and the control block (Alternate Status /
 * Device Control) as the host sees them. Data port accesses of 2 or 4
 * bytes move that many bytes; every other register is one byte wide. */
/* The name of command block register off (0-7) for --trace: the ATA
 * taskfile's, which differ between read and write at 1 and 7. */
const char *ata_cmd_reg_name(unsigned off, bool is_write);
void ata_cmd_io(struct ata_channel *ch, unsigned off, void *data,
		unsigned len, bool is_write);
void ata_ctl_io(struct ata_channel *ch, void *data, unsigned len,
		bool is_write);

/* ---- the DMA engine's side of a DMA command ---- */
/* The host controller's DMA engine hears of each DMA command once, when
 * the selected device is ready to move its data: an ATA DMA command once
 * written, a PACKET command once its packet is (and the drive has data
 * for it). dma_ready is called from within ata_cmd_io, with the opaque of
 * ata_channel_init; it may run the whole transfer (ata_dma_*) at once. */
void ata_channel_set_dma_ready(struct ata_channel *ch,
			       void (*dma_ready)(void *opaque));
/* The selected device waits for a DMA transfer: its direction (true: to
 * host memory) and the bytes still to move. */
bool ata_dma_pending(const struct ata_channel *ch, bool *to_memory,
		     uint64_t *bytes_left);
/* Move the next iov bytes (a total no larger than bytes_left) between the
 * disk and host memory. 0 or -errno (the command should then end with
 * ata_dma_done(ch, err)). */
int ata_dma_rw(struct ata_channel *ch, const struct iovec *iov, int iovcnt);
/* End the DMA command: err 0 completes it (all bytes must have moved);
 * -EFAULT (the DMA engine failed: bad PRD table), -EIO, -EROFS... end it
 * with ERR. Raises the interrupt. */
void ata_dma_done(struct ata_channel *ch, int err);

/* IDENTIFY DEVICE data of a drive (256 words, little-endian as the data
 * port delivers them), for tests. */
void ata_identify(const struct ata_drive *d, uint16_t id[256]);
/* IDENTIFY PACKET DEVICE data of an ATAPI drive, likewise. */
void atapi_identify(const struct ata_drive *d, uint16_t id[256]);
/* The signature a drive leaves in its registers after a reset. */
void ata_drive_signature(struct ata_drive *d);

#endif
