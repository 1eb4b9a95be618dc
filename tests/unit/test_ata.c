/* SPDX-License-Identifier: MIT
 * test_ata.c - the ATA disk and channel (devices/ata.c) and the PIIX3 IDE
 * function with its bus-master DMA engine (devices/piix_ide.c): IDENTIFY
 * contents and checksum, PIO reads and writes (single and multiple,
 * partial), aborts (unknown command, LBA past the end, read-only),
 * software reset and the signature, an absent device 1, and PRD tables
 * that are well formed or hostile (zero length, past RAM, endless, short).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ata_fixture.h"
#include "devices/ata.h"
#include "devices/disk/blockdev.h"
#include "devices/pci.h"
#include "devices/piix_ide.h"
#include "fake_vm.h"
#include "vmm/device.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define DISK_SECTORS 2048 /* 1 MiB */

static char path[64];
static struct blockdev *bd;

/* The byte at offset off of the disk image as made by setup. */
static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off / ATA_SECTOR * 7 + off % 251);
}

static struct blockdev *open_disk(bool readonly)
{
	struct blockdev_opts o = { .path = path, .format = "raw", .readonly = readonly };
	struct blockdev *b = NULL;
	char err[256];

	assert_int_equal(blockdev_open(&o, &b, err, sizeof(err)), 0);
	return b;
}

static int setup_common(bool readonly)
{
	static uint8_t buf[DISK_SECTORS * ATA_SECTOR];
	int fd;

	log_quiet = true;
	snprintf(path, sizeof(path), "/tmp/test_ata.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = pattern(i);
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	bd = open_disk(readonly);
	ata_fixture_setup();
	assert_int_equal(ata_drive_attach(&ch, 0, bd, "minivmm-test"), 0);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_common(false);
}

static int setup_ro(void **state)
{
	(void)state;
	return setup_common(true);
}

static int teardown(void **state)
{
	(void)state;
	blockdev_close(bd);
	unlink(path);
	ata_fixture_teardown();
	return 0;
}

/* ---- register helpers ---- */

/* A 28-bit LBA command on device 0. */
static void cmd28(uint8_t cmd, uint32_t lba, uint8_t count)
{
	outb(ATA_REG_NSECT, count);
	outb(ATA_REG_LBAL, (uint8_t)lba);
	outb(ATA_REG_LBAM, (uint8_t)(lba >> 8));
	outb(ATA_REG_LBAH, (uint8_t)(lba >> 16));
	outb(ATA_REG_DEVICE, (uint8_t)(ATA_DEV_LBA | ((lba >> 24) & 0x0f)));
	outb(ATA_REG_STATUS, cmd);
}

/* A 48-bit command: the previous (HOB) bytes first, as hosts do. */
static void cmd48(uint8_t cmd, uint64_t lba, uint16_t count)
{
	outb(ATA_REG_NSECT, (uint8_t)(count >> 8));
	outb(ATA_REG_LBAL, (uint8_t)(lba >> 24));
	outb(ATA_REG_LBAM, (uint8_t)(lba >> 32));
	outb(ATA_REG_LBAH, (uint8_t)(lba >> 40));
	outb(ATA_REG_NSECT, (uint8_t)count);
	outb(ATA_REG_LBAL, (uint8_t)lba);
	outb(ATA_REG_LBAM, (uint8_t)(lba >> 8));
	outb(ATA_REG_LBAH, (uint8_t)(lba >> 16));
	outb(ATA_REG_DEVICE, ATA_DEV_LBA);
	outb(ATA_REG_STATUS, cmd);
}

static void read_data(void *buf, size_t len, unsigned width)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i += width)
		ata_cmd_io(&ch, ATA_REG_DATA, p + i, width, false);
}

static void write_data(const void *buf, size_t len, unsigned width)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i += width)
		ata_cmd_io(&ch, ATA_REG_DATA, (void *)(p + i), width, true);
}

static void assert_pattern(const uint8_t *buf, uint64_t lba, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(lba * ATA_SECTOR + i))
			fail_msg("byte %zu of the data from LBA %llu differs", i,
				 (unsigned long long)lba);
}

static void assert_aborted(uint8_t err)
{
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC | ATA_ERR);
	assert_int_equal(inb(ATA_REG_ERROR), err);
}

static void disk_read(uint64_t lba, void *buf, size_t len)
{
	struct iovec iov = { buf, len };

	assert_int_equal(blockdev_preadv(bd, &iov, 1, lba * ATA_SECTOR), 0);
}

/* ---- IDENTIFY ---- */

static void test_identify(void **state)
{
	uint16_t id[256];
	uint8_t sum = 0;
	char serial[21];

	(void)state;
	outb(ATA_REG_DEVICE, 0);
	outb(ATA_REG_STATUS, ATA_CMD_IDENTIFY);
	assert_int_equal(irq_raises, 1);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC | ATA_DRQ);
	assert_false(irq_now); /* reading Status acknowledged it */
	read_data(id, sizeof(id), 2);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC);
	for (unsigned i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	assert_int_equal(sum, 0);
	assert_int_equal(id[255] & 0xff, 0xa5);
	assert_int_equal(id[0] & 0x8000, 0);              /* ATA device */
	assert_int_equal(id[49] & 0x0300, 0x0300);        /* LBA, DMA */
	assert_int_equal(id[83] & 0xc400, 0x4400);        /* LBA48 */
	assert_true(id[83] & (1 << 12) && id[83] & (1 << 13)); /* FLUSH (EXT) */
	assert_int_equal(id[85] & (1 << 5), 1 << 5);      /* write cache on */
	assert_int_equal(id[60] | (uint32_t)id[61] << 16, DISK_SECTORS);
	assert_int_equal(id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
			 (uint64_t)id[103] << 48, DISK_SECTORS);
	assert_int_equal(id[63] & 0x07, 0x07);            /* MWDMA 0-2 */
	assert_int_equal(id[88] & 0x3f, 0x3f);            /* UDMA 0-5 */
	assert_int_equal(id[47] & 0xff, ATA_MAX_MULTIPLE);
	for (unsigned i = 0; i < 10; i++) {
		serial[2 * i] = (char)(id[10 + i] >> 8);
		serial[2 * i + 1] = (char)id[10 + i];
	}
	serial[20] = '\0';
	assert_string_equal(serial, "minivmm-test        ");
	assert_int_equal(id[27] >> 8, 'M');

	/* the selected transfer mode shows in words 63 / 88 */
	outb(ATA_REG_ERROR, ATA_SF_XFER_MODE);
	outb(ATA_REG_NSECT, 0x45); /* UDMA 5 */
	outb(ATA_REG_STATUS, ATA_CMD_SET_FEATURES);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	ata_identify(&ch.drive[0], id);
	assert_int_equal(id[88] >> 8, 1 << 5);
	assert_int_equal(id[63] >> 8, 0);
	outb(ATA_REG_NSECT, 0x46); /* UDMA 6: not supported */
	outb(ATA_REG_ERROR, ATA_SF_XFER_MODE);
	outb(ATA_REG_STATUS, ATA_CMD_SET_FEATURES);
	assert_aborted(ATA_ABRT);
}

/* ---- PIO ---- */

static void test_pio_read(void **state)
{
	uint8_t buf[3 * ATA_SECTOR];

	(void)state;
	cmd28(ATA_CMD_READ, 5, 3);
	/* an interrupt before each block */
	for (unsigned s = 0; s < 3; s++) {
		assert_int_equal(irq_raises, s + 1);
		assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC | ATA_DRQ);
		read_data(buf + s * ATA_SECTOR, ATA_SECTOR, 4); /* 32-bit PIO */
	}
	assert_int_equal(irq_raises, 3); /* none after the last block */
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	assert_pattern(buf, 5, sizeof(buf));
	/* nothing more to read: the bus floats */
	uint16_t w = 0;
	read_data(&w, 2, 2);
	assert_int_equal(w, 0xffff);

	/* 48-bit, sector count 0 is not allowed past the end, but 2 at the
	 * last-but-one sector is fine */
	cmd48(ATA_CMD_READ_EXT, DISK_SECTORS - 2, 2);
	read_data(buf, 2 * ATA_SECTOR, 2);
	assert_pattern(buf, DISK_SECTORS - 2, 2 * ATA_SECTOR);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC);
}

static void test_pio_write(void **state)
{
	uint8_t buf[2 * ATA_SECTOR], back[2 * ATA_SECTOR];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	cmd48(ATA_CMD_WRITE_EXT, 100, 2);
	/* data-out: no interrupt before the first block */
	assert_int_equal(irq_raises, 0);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC | ATA_DRQ);
	write_data(buf, ATA_SECTOR, 2);
	assert_int_equal(irq_raises, 1);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC | ATA_DRQ);
	write_data(buf + ATA_SECTOR, ATA_SECTOR, 4);
	assert_int_equal(irq_raises, 2);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	disk_read(100, back, sizeof(back));
	assert_memory_equal(buf, back, sizeof(buf));
	/* FLUSH CACHE EXT completes */
	outb(ATA_REG_STATUS, ATA_CMD_FLUSH_EXT);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	assert_int_equal(irq_raises, 3);
}

static void test_multiple(void **state)
{
	uint8_t buf[6 * ATA_SECTOR];

	(void)state;
	/* on at reset, as firmware leaves it; disabled with a count of 0 */
	uint16_t id[256];
	ata_identify(&ch.drive[0], id);
	assert_int_equal(id[59], 0x0100 | ATA_MAX_MULTIPLE);
	outb(ATA_REG_NSECT, 0);
	outb(ATA_REG_STATUS, ATA_CMD_SET_MULTIPLE);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	cmd28(ATA_CMD_READ_MULTI, 0, 6);
	assert_aborted(ATA_ABRT);
	/* not a power of two, too large */
	outb(ATA_REG_NSECT, 3);
	outb(ATA_REG_STATUS, ATA_CMD_SET_MULTIPLE);
	assert_aborted(ATA_ABRT);
	outb(ATA_REG_NSECT, 32);
	outb(ATA_REG_STATUS, ATA_CMD_SET_MULTIPLE);
	assert_aborted(ATA_ABRT);
	outb(ATA_REG_NSECT, 4);
	outb(ATA_REG_STATUS, ATA_CMD_SET_MULTIPLE);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	irq_raises = 0;
	/* 6 sectors: a block of 4, then one of 2 */
	cmd28(ATA_CMD_READ_MULTI, 40, 6);
	assert_int_equal(irq_raises, 1);
	inb(ATA_REG_STATUS);
	read_data(buf, 4 * ATA_SECTOR, 4);
	assert_int_equal(irq_raises, 2);
	inb(ATA_REG_STATUS);
	read_data(buf + 4 * ATA_SECTOR, 2 * ATA_SECTOR, 4);
	assert_int_equal(irq_raises, 2);
	assert_pattern(buf, 40, sizeof(buf));
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC);

	/* WRITE MULTIPLE EXT: 5 sectors as 4 + 1 */
	memset(buf, 0x5a, sizeof(buf));
	cmd48(ATA_CMD_WRITE_MULTI_EXT, 200, 5);
	write_data(buf, 5 * ATA_SECTOR, 2);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC);
	uint8_t back[5 * ATA_SECTOR];
	disk_read(200, back, sizeof(back));
	assert_memory_equal(buf, back, sizeof(back));
}

static void test_partial_transfer(void **state)
{
	uint8_t buf[ATA_SECTOR], back[ATA_SECTOR];

	(void)state;
	/* the host reads half a sector, then gives another command */
	cmd28(ATA_CMD_READ, 0, 2);
	read_data(buf, ATA_SECTOR / 2, 2);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC | ATA_DRQ);
	outb(ATA_REG_STATUS, ATA_CMD_CHECK_POWER);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	assert_int_equal(inb(ATA_REG_NSECT), 0xff);
	/* a half-written sector never reaches the disk */
	memset(buf, 0xee, sizeof(buf));
	cmd28(ATA_CMD_WRITE, 7, 1);
	write_data(buf, 100, 2);
	devctl(ATA_CTL_SRST);
	devctl(0);
	disk_read(7, back, sizeof(back));
	assert_pattern(back, 7, sizeof(back));
	/* extra data past the block is dropped */
	cmd28(ATA_CMD_WRITE, 8, 1);
	write_data(buf, ATA_SECTOR, 2);
	write_data(buf, 64, 2);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC);
	disk_read(8, back, sizeof(back));
	assert_memory_equal(buf, back, sizeof(back));
	disk_read(9, back, sizeof(back));
	assert_pattern(back, 9, sizeof(back));
}

/* ---- aborts ---- */

static void test_aborts(void **state)
{
	(void)state;
	/* an unknown command, NOP, a packet command: ERR + ABRT, interrupt */
	static const uint8_t bad[] = { 0xff, ATA_CMD_NOP, ATA_CMD_IDENTIFY_PACKET,
				       ATA_CMD_PACKET, ATA_CMD_DEVICE_RESET, 0xb0 };
	for (unsigned i = 0; i < sizeof(bad); i++) {
		irq_raises = 0;
		outb(ATA_REG_STATUS, bad[i]);
		assert_int_equal(irq_raises, 1);
		assert_aborted(ATA_ABRT);
		inb(ATA_REG_STATUS);
	}
	/* past the end: IDNF, with 28 and 48 bits and DMA */
	cmd28(ATA_CMD_READ, DISK_SECTORS - 1, 2);
	assert_aborted(ATA_IDNF);
	cmd28(ATA_CMD_READ, DISK_SECTORS, 1);
	assert_aborted(ATA_IDNF);
	cmd28(ATA_CMD_WRITE, 0x0fffffff, 1);
	assert_aborted(ATA_IDNF);
	cmd48(ATA_CMD_READ_EXT, 0xffffffffffffull, 0);
	assert_aborted(ATA_IDNF);
	cmd48(ATA_CMD_READ_DMA_EXT, DISK_SECTORS - 65536ull + 1, 0);
	assert_aborted(ATA_IDNF);
	cmd48(ATA_CMD_READ_DMA_EXT, 0, 0); /* 65536 sectors > the disk */
	assert_aborted(ATA_IDNF);
	cmd28(ATA_CMD_VERIFY, DISK_SECTORS - 1, 2);
	assert_aborted(ATA_IDNF);
	cmd28(ATA_CMD_VERIFY, DISK_SECTORS - 2, 2);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC);
	/* a CHS address outside the geometry */
	outb(ATA_REG_NSECT, 1);
	outb(ATA_REG_LBAL, 0); /* sector 0 does not exist */
	outb(ATA_REG_DEVICE, 0);
	outb(ATA_REG_STATUS, ATA_CMD_READ);
	assert_aborted(ATA_IDNF);
	/* nothing was left waiting for data */
	bool to_mem;
	uint64_t left;
	assert_false(ata_dma_pending(&ch, &to_mem, &left));
}

static void test_readonly(void **state)
{
	uint8_t buf[ATA_SECTOR];

	(void)state;
	cmd28(ATA_CMD_WRITE, 0, 1);
	assert_aborted(ATA_ABRT);
	cmd48(ATA_CMD_WRITE_DMA_EXT, 0, 1);
	assert_aborted(ATA_ABRT);
	cmd28(ATA_CMD_WRITE_DMA, 0, 1);
	assert_aborted(ATA_ABRT);
	/* the data port takes nothing */
	memset(buf, 0, sizeof(buf));
	write_data(buf, sizeof(buf), 2);
	disk_read(0, buf, sizeof(buf));
	assert_pattern(buf, 0, sizeof(buf));
	/* reads and FLUSH still work */
	cmd28(ATA_CMD_READ, 3, 1);
	read_data(buf, sizeof(buf), 2);
	assert_pattern(buf, 3, sizeof(buf));
	outb(ATA_REG_STATUS, ATA_CMD_FLUSH);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DSC);
}

/* ---- reset, device selection, registers ---- */

static void test_srst_signature(void **state)
{
	(void)state;
	cmd28(ATA_CMD_READ, 10, 4);
	assert_int_equal(irq_now, true);
	devctl(ATA_CTL_SRST);
	assert_int_equal(altstatus(), ATA_BSY);
	assert_false(irq_now);
	devctl(0);
	assert_int_equal(inb(ATA_REG_NSECT), 1);
	assert_int_equal(inb(ATA_REG_LBAL), 1);
	assert_int_equal(inb(ATA_REG_LBAM), 0);
	assert_int_equal(inb(ATA_REG_LBAH), 0);
	assert_int_equal(inb(ATA_REG_DEVICE), 0);
	assert_int_equal(inb(ATA_REG_ERROR), 0x01);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	/* the read in progress is gone */
	uint16_t w;
	read_data(&w, 2, 2);
	assert_int_equal(w, 0xffff);

	/* EXECUTE DEVICE DIAGNOSTIC gives the signature too */
	outb(ATA_REG_LBAM, 0x12);
	outb(ATA_REG_STATUS, ATA_CMD_EXEC_DIAGNOSTIC);
	assert_int_equal(inb(ATA_REG_LBAM), 0);
	assert_int_equal(inb(ATA_REG_ERROR), 0x01);
}

static void test_device1_absent(void **state)
{
	(void)state;
	/* the presence check libata does: write patterns, read them back */
	outb(ATA_REG_DEVICE, ATA_DEV_DEV);
	outb(ATA_REG_NSECT, 0x55);
	outb(ATA_REG_LBAL, 0xaa);
	assert_int_equal(inb(ATA_REG_NSECT), 0);
	assert_int_equal(inb(ATA_REG_LBAL), 0);
	assert_int_equal(inb(ATA_REG_STATUS), 0);
	assert_int_equal(altstatus(), 0);
	irq_raises = 0;
	outb(ATA_REG_STATUS, ATA_CMD_IDENTIFY);
	assert_int_equal(irq_raises, 0);
	assert_int_equal(inb(ATA_REG_STATUS), 0);
	/* device 0 latched the same registers */
	outb(ATA_REG_DEVICE, 0);
	assert_int_equal(inb(ATA_REG_NSECT), 0x55);
	assert_int_equal(inb(ATA_REG_LBAL), 0xaa);
}

static void test_empty_channel(void **state)
{
	struct ata_channel empty;

	(void)state;
	ata_channel_init(&empty, ata_fixture_irq, NULL);
	uint8_t v = 0;
	ata_cmd_io(&empty, ATA_REG_STATUS, &v, 1, false);
	assert_int_equal(v, 0xff);
	v = ATA_CMD_IDENTIFY;
	ata_cmd_io(&empty, ATA_REG_STATUS, &v, 1, true);
	ata_cmd_io(&empty, ATA_REG_STATUS, &v, 1, false);
	assert_int_equal(v, 0xff);
	assert_false(irq_now);
}

static void test_hob_and_nien(void **state)
{
	(void)state;
	outb(ATA_REG_LBAL, 0x11);
	outb(ATA_REG_LBAL, 0x22);
	assert_int_equal(inb(ATA_REG_LBAL), 0x22);
	devctl(ATA_CTL_HOB);
	assert_int_equal(inb(ATA_REG_LBAL), 0x11);
	/* a register write clears HOB */
	outb(ATA_REG_NSECT, 1);
	assert_int_equal(inb(ATA_REG_LBAL), 0x22);
	/* READ NATIVE MAX ADDRESS EXT */
	outb(ATA_REG_DEVICE, ATA_DEV_LBA);
	outb(ATA_REG_STATUS, ATA_CMD_READ_NATIVE_MAX_EXT);
	assert_int_equal(inb(ATA_REG_LBAL) | inb(ATA_REG_LBAM) << 8, DISK_SECTORS - 1);
	/* nIEN: the command runs, the line stays low until it is cleared */
	inb(ATA_REG_STATUS);
	devctl(ATA_CTL_NIEN);
	irq_raises = 0;
	outb(ATA_REG_STATUS, ATA_CMD_FLUSH);
	assert_int_equal(irq_raises, 0);
	devctl(0);
	assert_int_equal(irq_raises, 1);
	inb(ATA_REG_STATUS);
	assert_false(irq_now);
}

/* ---- DMA and PRD tables ---- */

static void test_dma_read(void **state)
{
	(void)state;
	cmd28(ATA_CMD_READ_DMA, 16, 8);
	assert_int_equal(altstatus() & (ATA_DRQ | ATA_ERR), ATA_DRQ);
	assert_int_equal(irq_raises, 0);
	prd(0, 0x10000, 2048, false);
	prd(1, 0x20002, 2048, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_int_equal(irq_raises, 1);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	assert_pattern(ram + 0x10000, 16, 2048);
	assert_pattern(ram + 0x20002, 20, 2048);

	/* a table longer than the transfer: the engine stays active */
	cmd28(ATA_CMD_READ_DMA, 0, 1);
	prd(0, 0x30000, 4096, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), BM_ST_ACTIVE);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	assert_pattern(ram + 0x30000, 0, 512);
	assert_int_equal(ram[0x30000 + 512], 0);

	/* a zero byte count is 64 KiB */
	memset(ram + 0x40000, 0, 0x10000);
	cmd48(ATA_CMD_READ_DMA_EXT, 300, 128);
	prd(0, 0x40000, 0, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	assert_pattern(ram + 0x40000, 300, 0x10000);
}

static void test_dma_write(void **state)
{
	uint8_t back[1024];

	(void)state;
	memset(ram + 0x50000, 0x77, 1024);
	cmd48(ATA_CMD_WRITE_DMA_EXT, 500, 2);
	/* odd split: 6 + 1018 bytes, and many small entries below */
	prd(0, 0x50000, 6, false);
	prd(1, 0x50006, 1018, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	disk_read(500, back, sizeof(back));
	for (unsigned i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0x77);
	/* 512 entries of 2 bytes: more than one batch of iovecs */
	memset(ram + 0x60000, 0x31, 1024);
	cmd28(ATA_CMD_WRITE_DMA, 600, 2);
	for (unsigned i = 0; i < 512; i++)
		prd(i, 0x60000 + 2 * i, 2, i == 511);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	disk_read(600, back, sizeof(back));
	for (unsigned i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0x31);
}

static void assert_dma_error(uint8_t bm)
{
	assert_int_equal(bm, BM_ST_ERROR);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC | ATA_ERR);
	assert_int_equal(inb(ATA_REG_ERROR), ATA_ABRT);
	bool to_mem;
	uint64_t left;
	assert_false(ata_dma_pending(&ch, &to_mem, &left));
}

static void test_prd_hostile(void **state)
{
	(void)state;
	/* a buffer past the end of RAM */
	cmd28(ATA_CMD_READ_DMA, 0, 1);
	prd(0, RAM_SIZE - 256, 512, true);
	irq_raises = 0;
	assert_dma_error(bm_run_dma(&ch, &gm, PRD_TABLE, scratch));
	assert_int_equal(irq_raises, 1); /* the driver hears about it */
	/* a buffer far outside RAM (32-bit address) */
	cmd28(ATA_CMD_WRITE_DMA, 0, 1);
	prd(0, 0xfffff000u, 512, true);
	assert_dma_error(bm_run_dma(&ch, &gm, PRD_TABLE, scratch));
	/* the table itself outside RAM */
	cmd28(ATA_CMD_READ_DMA, 0, 1);
	assert_dma_error(bm_run_dma(&ch, &gm, 0xfffffff8u, scratch));
	/* the table runs off the end of RAM */
	cmd28(ATA_CMD_READ_DMA, 0, 8);
	uint32_t e[2] = { 0x10000, 2 };
	memcpy(ram + RAM_SIZE - 8, e, 8);
	assert_dma_error(bm_run_dma(&ch, &gm, RAM_SIZE - 8, scratch));
	/* shorter than the transfer: EOT after 1 KiB of 4 KiB */
	cmd28(ATA_CMD_READ_DMA, 0, 8);
	prd(0, 0x10000, 1024, true);
	assert_dma_error(bm_run_dma(&ch, &gm, PRD_TABLE, scratch));
	/* endless: no EOT, 2 bytes each, the walk stops at BM_PRD_MAX */
	cmd48(ATA_CMD_READ_DMA_EXT, 0, 64); /* 32 KiB > 8192 * 2 bytes */
	for (unsigned i = 0; i < BM_PRD_MAX + 100; i++)
		prd(i, 0x100000, 2, false);
	assert_dma_error(bm_run_dma(&ch, &gm, PRD_TABLE, scratch));
	/* a table that points at itself, overwritten by the transfer */
	cmd28(ATA_CMD_READ_DMA, 0, 1);
	prd(0, PRD_TABLE, 512, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	/* the device works afterwards */
	cmd28(ATA_CMD_READ_DMA, 1, 1);
	prd(0, 0x10000, 512, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_pattern(ram + 0x10000, 1, 512);
}

/* ---- the PCI function ---- */

static void test_piix(void **state)
{
	struct piix_ide_cfg cfg = { .disks = { NULL, NULL, open_disk(false), NULL } };
	struct pci_bus bus;
	struct pci_dev *d;
	struct piix_ide *ide;
	struct device *dev;
	uint32_t bm;

	(void)state;
	d = piix_fixture(&cfg, &bus, &ide);
	dev = &ide->dev;
	assert_int_equal(pci_cfg_read(d, 0, 4), 0x70108086);
	assert_int_equal(pci_cfg_read(d, 8, 4) >> 8, PIIX_IDE_CLASS);
	assert_int_equal(pci_cfg_read(d, 0x10, 4), 0); /* BAR 0-3 unused */
	assert_int_equal(pci_cfg_read(d, 0x41, 1) & 0x80, 0x80);
	assert_int_equal(pci_cfg_read(d, 0x43, 1) & 0x80, 0x80);
	bm = pci_cfg_read(d, 0x20, 4);
	assert_int_equal(bm & 1, 1); /* I/O */
	bm &= ~3u;
	pci_cfg_write(d, 4, 2, 0x5); /* I/O decode, bus master */
	assert_int_equal(pin(bm + 2, 1) & BM_ST_SIMPLEX, 0);

	/* the primary channel is empty: the bus floats */
	assert_int_equal(pin(0x1f7, 1), 0xff);
	assert_int_equal(pin(0x3f6, 1), 0xff);
	/* the disk is the secondary master: a DMA read through BAR 4 */
	prd(0, 0x10000, 1024, true);
	pout(bm + 8 + BM_PRD, 4, PRD_TABLE);
	pout(bm + 8 + BM_CMD, 1, BM_CMD_TO_MEMORY);
	pout(0x172, 1, 2);
	pout(0x173, 1, 4);
	pout(0x174, 1, 0);
	pout(0x175, 1, 0);
	pout(0x176, 1, ATA_DEV_LBA);
	pout(0x177, 1, ATA_CMD_READ_DMA);
	assert_int_equal(fake.irq_level[15], 0);
	pout(bm + 8 + BM_CMD, 1, BM_CMD_TO_MEMORY | BM_CMD_START);
	assert_int_equal(fake.irq_level[15], 1);
	assert_int_equal(pin(bm + 8 + BM_STATUS, 1), BM_ST_INTR);
	pout(bm + 8 + BM_CMD, 1, 0);
	assert_int_equal(pin(0x177, 1), ATA_DRDY | ATA_DSC);
	assert_int_equal(fake.irq_level[15], 0);
	pout(bm + 8 + BM_STATUS, 1, BM_ST_INTR);
	assert_int_equal(pin(bm + 8 + BM_STATUS, 1), 0);
	assert_pattern(ram + 0x10000, 4, 1024);

	/* the engine set up the wrong way round: an error, not a transfer */
	pout(0x177, 1, ATA_CMD_READ_DMA);
	pout(bm + 8 + BM_CMD, 1, BM_CMD_START);
	assert_int_equal(pin(bm + 8 + BM_STATUS, 1), BM_ST_INTR | BM_ST_ERROR);
	assert_int_equal(pin(0x177, 1), ATA_DRDY | ATA_DSC | ATA_ERR);
	pout(bm + 8 + BM_CMD, 1, 0);
	pout(bm + 8 + BM_STATUS, 1, BM_ST_INTR | BM_ST_ERROR);

	/* bus mastering off: an error too; the start bit before the command */
	pci_cfg_write(d, 4, 2, 0x1);
	pout(bm + 8 + BM_CMD, 1, BM_CMD_TO_MEMORY | BM_CMD_START);
	pout(0x177, 1, ATA_CMD_READ_DMA);
	assert_int_equal(pin(bm + 8 + BM_STATUS, 1), BM_ST_INTR | BM_ST_ERROR);
	assert_int_equal(pin(0x177, 1), ATA_DRDY | ATA_DSC | ATA_ERR);

	/* the counters: --stats and the control socket's JSON */
	char json[512];
	assert_non_null(vm.stats.sources);
	int jl = vm.stats.sources->json(vm.stats.sources, json, sizeof(json));
	assert_true(jl > 0 && (size_t)jl < sizeof(json));
	assert_non_null(strstr(json, "\"piix-ide\":{\"register_accesses\":"));
	assert_non_null(strstr(json, "\"dma_transfers\":1,\"dma_bytes\":1024,\"dma_errors\":2,"));
	assert_int_equal(vm.stats.sources->json(vm.stats.sources, json, 10), jl);

	pci_bus_destroy(&bus);
	dev->ops->free(dev);
	assert_null(vm.stats.sources);
	/* the legacy ports left with it */
	uint32_t v;
	assert_false(bus_access(&vm.pio, 0x1f7, &v, 1, false));
	fake_vm_destroy(&vm);
}

/* --trace's names of the command block: reads and writes differ at 1, 7 */
static void test_reg_names(void **state)
{
	(void)state;
	assert_string_equal(ata_cmd_reg_name(ATA_REG_DATA, false), "data");
	assert_string_equal(ata_cmd_reg_name(ATA_REG_ERROR, false), "error");
	assert_string_equal(ata_cmd_reg_name(ATA_REG_ERROR, true), "features");
	assert_string_equal(ata_cmd_reg_name(ATA_REG_LBAH, true), "lbah");
	assert_string_equal(ata_cmd_reg_name(ATA_REG_STATUS, false), "status");
	assert_string_equal(ata_cmd_reg_name(ATA_REG_STATUS, true), "command");
	assert_string_equal(ata_cmd_reg_name(8, true), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_transfer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(test_srst_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device1_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hob_and_nien, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prd_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_piix, setup, teardown),
		cmocka_unit_test(test_reg_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
