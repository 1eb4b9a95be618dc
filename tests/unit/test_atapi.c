/* SPDX-License-Identifier: MIT
 * test_atapi.c - the ATAPI CD-ROM (devices/atapi.c) on an ATA channel
 * (devices/ata.c) beside an ATA disk, and through the PIIX3 function
 * (devices/piix_ide.c): the signatures of both kinds after reset,
 * EXECUTE DEVICE DIAGNOSTIC and DEVICE RESET, IDENTIFY PACKET DEVICE, the
 * PACKET protocol (the packet, DRQ blocks cut by the byte count limit,
 * the status phase), the packet commands and their replies, CHECK
 * CONDITION with the sense data for bad opcodes, fields, block addresses
 * and lengths, the tray, DMA with good and hostile PRD tables, and a
 * stream of random packets.
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

#define CD_BLOCKS 64 /* 128 KiB */
#define DISK_SECTORS 64

static char cd_path[64], disk_path[64];
static struct blockdev *cd, *disk;

/* The byte at offset off of the disc image. */
static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off / ATAPI_SECTOR * 13 + off % 241);
}

static struct blockdev *make_image(char *path, size_t size, bool readonly)
{
	struct blockdev_opts o = { .path = path, .format = "raw", .readonly = readonly };
	struct blockdev *b = NULL;
	uint8_t *buf = malloc(size);
	char err[256];
	int fd;

	assert_non_null(buf);
	snprintf(path, 64, "/tmp/test_atapi.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < size; i++)
		buf[i] = pattern(i);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
	assert_int_equal(blockdev_open(&o, &b, err, sizeof(err)), 0);
	return b;
}

/* An ATA disk as device 0, the CD-ROM as device 1 of one channel. */
static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	cd = make_image(cd_path, CD_BLOCKS * ATAPI_SECTOR, true);
	disk = make_image(disk_path, DISK_SECTORS * ATA_SECTOR, false);
	ata_fixture_setup();
	assert_int_equal(ata_drive_attach(&ch, 0, disk, "disk"), 0);
	assert_int_equal(atapi_drive_attach(&ch, 1, cd, "cd-serial"), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	blockdev_close(cd);
	blockdev_close(disk);
	unlink(cd_path);
	unlink(disk_path);
	ata_fixture_teardown();
	return 0;
}

/* ---- register helpers ---- */

static void select_dev(unsigned dev)
{
	outb(ATA_REG_DEVICE, dev ? ATA_DEV_DEV : 0);
}

static void assert_signature(unsigned dev, uint8_t lbam, uint8_t lbah)
{
	select_dev(dev);
	assert_int_equal(inb(ATA_REG_NSECT), 1);
	assert_int_equal(inb(ATA_REG_LBAL), 1);
	assert_int_equal(inb(ATA_REG_LBAM), lbam);
	assert_int_equal(inb(ATA_REG_LBAH), lbah);
}

static unsigned byte_count(void)
{
	return (unsigned)inb(ATA_REG_LBAH) << 8 | inb(ATA_REG_LBAM);
}

/* Issue a PACKET command to the CD-ROM (device 1) with this byte count
 * limit, and write the packet: the device asks for it at once, without
 * an interrupt. */
static void packet(const uint8_t cdb[12], uint16_t limit, bool dma)
{
	select_dev(1);
	outb(ATA_REG_ERROR, dma ? ATAPI_FEAT_DMA : 0);
	outb(ATA_REG_LBAM, (uint8_t)limit);
	outb(ATA_REG_LBAH, (uint8_t)(limit >> 8));
	outb(ATA_REG_STATUS, ATA_CMD_PACKET);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DRQ);
	assert_int_equal(inb(ATA_REG_NSECT), ATAPI_IREASON_CD);
	for (unsigned i = 0; i < 12; i += 2)
		ata_cmd_io(&ch, ATA_REG_DATA, (void *)(cdb + i), 2, true);
}

/* Read the data-in phase by PIO into buf (at most max bytes), checking
 * each DRQ block against the limit; returns the bytes read. blocks: the
 * sizes of the blocks, if not NULL. */
static size_t pio_in(void *buf, size_t max, unsigned limit, unsigned *blocks,
		     unsigned *nblocks)
{
	uint8_t *p = buf;
	size_t got = 0;
	unsigned nb = 0;

	while (altstatus() & ATA_DRQ) {
		unsigned n = byte_count();

		assert_int_equal(inb(ATA_REG_NSECT), ATAPI_IREASON_IO);
		assert_true(n > 0 && n <= limit);
		assert_true(got + n <= max);
		if (blocks && nb < 64)
			blocks[nb] = n;
		nb++;
		inb(ATA_REG_STATUS); /* acknowledge the interrupt */
		for (unsigned i = 0; i < n; i += 2)
			ata_cmd_io(&ch, ATA_REG_DATA, p + got + i, 2, false);
		got += n;
	}
	if (nblocks)
		*nblocks = nb;
	return got;
}

static void assert_good(void)
{
	assert_int_equal(altstatus(), ATA_DRDY);
	assert_int_equal(inb(ATA_REG_NSECT), ATAPI_IREASON_CD | ATAPI_IREASON_IO);
}

static void request_sense(uint8_t sense[18])
{
	uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 };

	packet(cdb, 18, false);
	assert_int_equal(pio_in(sense, 18, 18, NULL, NULL), 18);
	assert_good();
}

/* The command ended in CHECK CONDITION with this sense; REQUEST SENSE
 * returns it once. */
static void assert_check(uint8_t key, uint8_t asc, uint8_t ascq)
{
	uint8_t sense[18];

	assert_int_equal(altstatus(), ATA_DRDY | ATA_ERR);
	assert_int_equal(inb(ATA_REG_ERROR),
			 key << 4 | (key == 5 ? ATA_ABRT : 0));
	assert_int_equal(inb(ATA_REG_NSECT), ATAPI_IREASON_CD | ATAPI_IREASON_IO);
	request_sense(sense);
	assert_int_equal(sense[0], 0x70);
	assert_int_equal(sense[2] & 0x0f, key);
	assert_int_equal(sense[7], 10);
	assert_int_equal(sense[12], asc);
	assert_int_equal(sense[13], ascq);
	request_sense(sense);
	assert_int_equal(sense[2], 0);
	assert_int_equal(sense[12], 0);
}

/* A command with a reply of up to max bytes, read by PIO. */
static size_t run(const uint8_t cdb[12], void *buf, size_t max)
{
	size_t n;

	packet(cdb, 0xfffe, false);
	n = pio_in(buf, max, 0xfffe, NULL, NULL);
	return n;
}

static void read10(uint32_t lba, uint16_t count, uint16_t limit)
{
	uint8_t cdb[12] = { 0x28, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			    (uint8_t)(lba >> 8), (uint8_t)lba, 0,
			    (uint8_t)(count >> 8), (uint8_t)count };

	packet(cdb, limit, false);
}

static void assert_pattern(const uint8_t *buf, uint64_t lba, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(lba * ATAPI_SECTOR + i))
			fail_msg("byte %zu of the data from block %llu differs", i,
				 (unsigned long long)lba);
}

/* ---- tests ---- */

static void test_signature(void **state)
{
	uint16_t id[256];

	(void)state;
	/* after the reset: ATA on device 0, ATAPI on device 1, DRDY clear */
	assert_signature(0, 0, 0);
	assert_int_equal(inb(ATA_REG_STATUS), ATA_DRDY | ATA_DSC);
	assert_signature(1, 0x14, 0xeb);
	assert_int_equal(inb(ATA_REG_STATUS), 0);
	assert_int_equal(inb(ATA_REG_ERROR), 0x01);
	/* the host's writes reach both devices' registers */
	outb(ATA_REG_NSECT, 0x55);
	outb(ATA_REG_LBAL, 0xaa);
	select_dev(0);
	assert_int_equal(inb(ATA_REG_NSECT), 0x55);
	select_dev(1);
	assert_int_equal(inb(ATA_REG_LBAL), 0xaa);
	/* software reset */
	devctl(ATA_CTL_SRST);
	assert_int_equal(altstatus(), ATA_BSY);
	devctl(0);
	assert_signature(0, 0, 0);
	assert_signature(1, 0x14, 0xeb);
	/* EXECUTE DEVICE DIAGNOSTIC */
	select_dev(1);
	outb(ATA_REG_LBAM, 0x77);
	outb(ATA_REG_STATUS, ATA_CMD_EXEC_DIAGNOSTIC);
	assert_signature(1, 0x14, 0xeb);
	assert_signature(0, 0, 0);
	/* IDENTIFY DEVICE to the CD-ROM: aborted, the signature says why */
	select_dev(1);
	outb(ATA_REG_LBAM, 0);
	outb(ATA_REG_STATUS, ATA_CMD_IDENTIFY);
	assert_int_equal(altstatus() & (ATA_ERR | ATA_DRQ), ATA_ERR);
	assert_int_equal(inb(ATA_REG_ERROR), ATA_ABRT);
	assert_signature(1, 0x14, 0xeb);
	/* DEVICE RESET: this device only, no interrupt */
	irq_raises = 0;
	outb(ATA_REG_LBAH, 0);
	outb(ATA_REG_STATUS, ATA_CMD_DEVICE_RESET);
	assert_signature(1, 0x14, 0xeb);
	assert_int_equal(altstatus(), 0);
	assert_int_equal(irq_raises, 0);
	/* the disk still answers its own commands; packet ones it aborts */
	select_dev(0);
	outb(ATA_REG_STATUS, ATA_CMD_IDENTIFY_PACKET);
	assert_int_equal(inb(ATA_REG_ERROR), ATA_ABRT);
	outb(ATA_REG_STATUS, ATA_CMD_IDENTIFY);
	for (unsigned i = 0; i < 256; i++)
		ata_cmd_io(&ch, ATA_REG_DATA, &id[i], 2, false);
	assert_int_equal(id[0] & 0x8000, 0);
	/* an unknown ATA command to the CD-ROM */
	select_dev(1);
	outb(ATA_REG_STATUS, ATA_CMD_READ_DMA);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_ERR);
	assert_int_equal(inb(ATA_REG_ERROR), ATA_ABRT);
}

static void test_identify_packet(void **state)
{
	uint16_t id[256], ref[256];
	uint8_t sum = 0;
	char model[41];

	(void)state;
	select_dev(1);
	irq_raises = 0;
	outb(ATA_REG_STATUS, ATA_CMD_IDENTIFY_PACKET);
	assert_int_equal(irq_raises, 1);
	assert_int_equal(altstatus() & (ATA_DRQ | ATA_ERR | ATA_BSY), ATA_DRQ);
	for (unsigned i = 0; i < 256; i++)
		ata_cmd_io(&ch, ATA_REG_DATA, &id[i], 2, false);
	assert_int_equal(altstatus() & ATA_DRQ, 0);
	atapi_identify(&ch.drive[1], ref);
	assert_memory_equal(id, ref, sizeof(id));
	/* ATAPI, CD-ROM, removable, DRQ in 50 us, 12-byte packets */
	assert_int_equal(id[0], 0x85c0);
	assert_int_equal(id[0] >> 14, 2);
	assert_int_equal((id[0] >> 8) & 0x1f, 5);
	assert_int_equal(id[0] & 3, 0);
	assert_true(id[49] & (1 << 8)); /* DMA */
	assert_true(id[82] & (1 << 4)); /* PACKET feature set */
	assert_int_equal(id[63] & 7, 7);
	for (unsigned i = 0; i < 20; i++) {
		model[2 * i] = (char)(id[27 + i] >> 8);
		model[2 * i + 1] = (char)id[27 + i];
	}
	model[40] = 0;
	assert_memory_equal(model, "MINIVMM CD-ROM ", 15);
	assert_int_equal(id[10], ('c' << 8) | 'd');
	for (unsigned i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	assert_int_equal(sum, 0);
	assert_int_equal(id[255] & 0xff, 0xa5);
	/* SET FEATURES transfer mode: MWDMA1 shows as selected */
	outb(ATA_REG_ERROR, 0x03);
	outb(ATA_REG_NSECT, 0x21);
	outb(ATA_REG_STATUS, ATA_CMD_SET_FEATURES);
	assert_int_equal(altstatus() & ATA_ERR, 0);
	atapi_identify(&ch.drive[1], ref);
	assert_int_equal(ref[63], 0x0207);
}

static void test_basic_commands(void **state)
{
	uint8_t b[256];
	uint8_t tur[12] = { 0x00 };
	uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
	uint8_t inq5[12] = { 0x12, 0, 0, 0, 5 };
	uint8_t vpd0[12] = { 0x12, 1, 0x00, 0, 255 };
	uint8_t vpd80[12] = { 0x12, 1, 0x80, 0, 255 };
	uint8_t cap[12] = { 0x25 };
	uint8_t spd[12] = { 0xbb, 0, 0xff, 0xff };

	(void)state;
	packet(tur, 0, false);
	assert_good();
	assert_int_equal(run(inq, b, sizeof(b)), 36);
	assert_good();
	assert_int_equal(b[0], 0x05);
	assert_int_equal(b[1], 0x80);
	assert_memory_equal(&b[8], "MINIVMM CD-ROM", 14);
	/* the allocation length cuts the reply; an odd length is fine */
	assert_int_equal(run(inq5, b, sizeof(b)), 5);
	assert_good();
	assert_int_equal(run(vpd0, b, sizeof(b)), 6);
	assert_int_equal(b[1], 0x00);
	assert_int_equal(b[5], 0x80);
	assert_int_equal(run(vpd80, b, sizeof(b)), 4 + 9);
	assert_memory_equal(&b[4], "cd-serial", 9);
	assert_int_equal(run(cap, b, sizeof(b)), 8);
	assert_good();
	assert_int_equal(b[3], CD_BLOCKS - 1);
	assert_int_equal(b[6] << 8 | b[7], 2048);
	packet(spd, 0, false);
	assert_good();
}

static void test_refused(void **state)
{
	uint8_t b[256];
	static const uint8_t bad_ops[] = { 0x0a, 0x2a, 0x55, 0x51, 0xa0, 0xff, 0x08 };
	uint8_t inq_page[12] = { 0x12, 0, 0x80, 0, 36 };
	uint8_t inq_vpd[12] = { 0x12, 1, 0x99, 0, 36 };
	uint8_t gesn_async[12] = { 0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8 };
	uint8_t ms_page[12] = { 0x5a, 0, 0x05, 0, 0, 0, 0, 0, 255 };
	uint8_t ms_saved[12] = { 0x5a, 0, 0xea, 0, 0, 0, 0, 0, 255 };
	uint8_t ms_sub[12] = { 0x5a, 0, 0x2a, 1, 0, 0, 0, 0, 255 };
	uint8_t toc5[12] = { 0x43, 0, 5, 0, 0, 0, 0, 0, 255 };
	uint8_t toc_track[12] = { 0x43, 0, 0, 0, 0, 0, 2, 0, 255 };
	uint8_t conf_rt3[12] = { 0x46, 3, 0, 0, 0, 0, 0, 0, 255 };
	uint8_t ssu_power[12] = { 0x1b, 0, 0, 0, 0x30 };
	uint8_t pam_persist[12] = { 0x1e, 0, 0, 0, 0x02 };

	(void)state;
	for (unsigned i = 0; i < sizeof(bad_ops); i++) {
		uint8_t cdb[12] = { bad_ops[i] };

		packet(cdb, 0xfffe, false);
		assert_int_equal(pio_in(b, sizeof(b), 0xfffe, NULL, NULL), 0);
		assert_check(5, 0x20, 0);
	}
	const uint8_t *fields[] = { inq_page, inq_vpd, gesn_async, ms_page, ms_sub,
				    toc5, toc_track, conf_rt3, ssu_power,
				    pam_persist };
	for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		packet(fields[i], 0xfffe, false);
		assert_int_equal(pio_in(b, sizeof(b), 0xfffe, NULL, NULL), 0);
		assert_check(5, 0x24, 0);
	}
	packet(ms_saved, 0xfffe, false);
	assert_check(5, 0x39, 0);
	/* a command after a refused one runs; the sense was for that one */
	uint8_t tur[12] = { 0 };
	packet(tur, 0, false);
	assert_good();
}

static void test_read_ranges(void **state)
{
	uint8_t b[4 * ATAPI_SECTOR];
	uint8_t r12[12] = { 0xa8, 0, 0, 0, 0, 10, 0xff, 0xff, 0xff, 0xff };
	uint8_t r12ok[12] = { 0xa8, 0, 0, 0, 0, 62, 0, 0, 0, 2 };

	(void)state;
	/* the last blocks */
	read10(CD_BLOCKS - 2, 2, 0xfffe);
	assert_int_equal(pio_in(b, sizeof(b), 0xfffe, NULL, NULL), 2 * ATAPI_SECTOR);
	assert_good();
	assert_pattern(b, CD_BLOCKS - 2, 2 * ATAPI_SECTOR);
	/* one past the end, far past, the address wrapping a 32-bit sum */
	read10(CD_BLOCKS - 1, 2, 0xfffe);
	assert_int_equal(pio_in(b, sizeof(b), 0xfffe, NULL, NULL), 0);
	assert_check(5, 0x21, 0);
	read10(CD_BLOCKS, 1, 0xfffe);
	assert_check(5, 0x21, 0);
	read10(0xffffffffu, 0xffff, 0xfffe);
	assert_check(5, 0x21, 0);
	read10(0xffffff00u, 0x200, 0xfffe);
	assert_check(5, 0x21, 0);
	packet(r12, 0xfffe, false);
	assert_check(5, 0x21, 0);
	/* READ(12) within the disc */
	packet(r12ok, 0xfffe, false);
	assert_int_equal(pio_in(b, sizeof(b), 0xfffe, NULL, NULL), 2 * ATAPI_SECTOR);
	assert_pattern(b, 62, 2 * ATAPI_SECTOR);
	/* no blocks: nothing to move, good status */
	read10(CD_BLOCKS, 0, 0xfffe);
	assert_int_equal(pio_in(b, sizeof(b), 0xfffe, NULL, NULL), 0);
	assert_good();
}

/* The byte count limit cuts the data into DRQ blocks: none larger, all
 * even but the last, an interrupt for each and one for the status. */
static void test_byte_count_limit(void **state)
{
	static uint8_t b[12 * ATAPI_SECTOR];
	static const struct {
		uint16_t limit;  /* what the host writes */
		unsigned eff;    /* what the device takes */
	} cases[] = {
		{ 2048, 2048 }, { 3000, 3000 }, { 2049, 2048 }, { 0, 0xfffe },
		{ 0xffff, 0xfffe }, { 1, 2 }, { 513, 512 }, { 0x8000, 0x8000 },
	};
	unsigned blocks[64], nb;

	(void)state;
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned count = cases[c].limit == 1 ? 1 : 3;
		size_t total = (size_t)count * ATAPI_SECTOR, sum = 0;

		memset(b, 0, sizeof(b));
		irq_raises = 0;
		read10(5, (uint16_t)count, cases[c].limit);
		assert_int_equal(pio_in(b, sizeof(b), cases[c].eff, blocks, &nb), total);
		assert_good();
		assert_pattern(b, 5, total);
		assert_int_equal(irq_raises, nb + 1);
		for (unsigned i = 0; i < nb && i < 64; i++) {
			assert_true(blocks[i] <= cases[c].eff);
			if (i + 1 < nb)
				assert_int_equal(blocks[i] % 2, 0);
			sum += blocks[i];
		}
		if (nb <= 64)
			assert_int_equal(sum, total);
		else
			assert_int_equal(nb, total / cases[c].eff);
		if (cases[c].eff == 2048)
			assert_int_equal(nb, 3); /* as firmware expects */
	}
	/* more than the buffer: blocks never cross what it holds */
	irq_raises = 0;
	read10(40, 12, 0xfffe);
	assert_int_equal(pio_in(b, sizeof(b), 0xfffe, blocks, &nb), 12 * ATAPI_SECTOR);
	assert_good();
	assert_pattern(b, 40, 12 * ATAPI_SECTOR);
	assert_int_equal(nb, 3);
	/* a reply of odd length in blocks of 2: the last one is odd */
	uint8_t inq[12] = { 0x12, 0, 0, 0, 35 };
	packet(inq, 2, false);
	assert_int_equal(pio_in(b, 64, 2, blocks, &nb), 35);
	assert_int_equal(nb, 18);
	assert_int_equal(blocks[17], 1);
	assert_good();
	/* the host reading past a block, or writing data: all ones, dropped */
	read10(0, 1, 2048);
	uint16_t w;
	for (unsigned i = 0; i < 1024; i++)
		ata_cmd_io(&ch, ATA_REG_DATA, &w, 2, true);
	assert_int_equal(altstatus(), ATA_DRDY | ATA_DRQ);
	assert_int_equal(pio_in(b, sizeof(b), 2048, NULL, NULL), 2048);
	assert_pattern(b, 0, 2048);
	ata_cmd_io(&ch, ATA_REG_DATA, &w, 2, false);
	assert_int_equal(w, 0xffff);
	assert_good();
}

static void test_toc_config_mode(void **state)
{
	uint8_t b[512];
	uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 255 };
	uint8_t toc_msf[12] = { 0x43, 2, 0, 0, 0, 0, 1, 0, 255 };
	uint8_t toc_lo[12] = { 0x43, 0, 0, 0, 0, 0, 0xaa, 0, 255 };
	uint8_t sess[12] = { 0x43, 0, 1, 0, 0, 0, 0, 0, 12 };
	uint8_t sess_old[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40 };
	uint8_t conf[12] = { 0x46, 0, 0, 0, 0, 0, 0, 1, 0 };
	uint8_t conf_one[12] = { 0x46, 2, 0, 3, 0, 0, 0, 1, 0 };
	uint8_t ms10[12] = { 0x5a, 0, 0x3f, 0, 0, 0, 0, 1, 0 };
	uint8_t ms6[12] = { 0x1a, 0, 0x2a, 0, 255 };
	uint8_t ms_chg[12] = { 0x5a, 0, 0x6a, 0, 0, 0, 0, 1, 0 };
	uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
	size_t n;

	(void)state;
	n = run(toc, b, sizeof(b));
	assert_int_equal(n, 20);
	assert_int_equal(b[0] << 8 | b[1], 18);
	assert_int_equal(b[2], 1);
	assert_int_equal(b[3], 1);
	assert_int_equal(b[5], 0x14);
	assert_int_equal(b[6], 1);
	assert_int_equal(b[14], 0xaa);
	assert_int_equal(b[19], CD_BLOCKS); /* lead-out at the end */
	n = run(toc_msf, b, sizeof(b));
	assert_int_equal(n, 20);
	assert_memory_equal(&b[8], "\x00\x00\x02\x00", 4); /* 00:02:00 */
	assert_int_equal(b[18], 2);   /* 64 + 150 frames: 00:02:64 */
	assert_int_equal(b[19], 64);
	n = run(toc_lo, b, sizeof(b));
	assert_int_equal(n, 12);
	assert_int_equal(b[6], 0xaa);
	n = run(sess, b, sizeof(b));
	assert_int_equal(n, 12);
	assert_int_equal(b[0] << 8 | b[1], 10);
	assert_int_equal(b[6], 1);
	assert_int_equal(run(sess_old, b, sizeof(b)), 12);
	assert_good();

	n = run(conf, b, sizeof(b));
	assert_int_equal(b[6] << 8 | b[7], 0x0008);  /* current profile CD-ROM */
	assert_int_equal((size_t)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]), n - 4);
	assert_int_equal(b[8] << 8 | b[9], 0x0000);  /* profile list first */
	assert_int_equal(b[12] << 8 | b[13], 0x0008);
	assert_int_equal(b[14] & 1, 1);
	n = run(conf_one, b, sizeof(b));
	assert_int_equal(n, 8 + 8);
	assert_int_equal(b[8] << 8 | b[9], 0x0003);

	n = run(ms10, b, sizeof(b));
	assert_int_equal(n, 8 + 8 + 22);
	assert_int_equal(b[0] << 8 | b[1], n - 2);
	assert_int_equal(b[8], 0x01);
	assert_int_equal(b[16], 0x2a);
	assert_int_equal(b[16 + 6] & 0x08, 0x08); /* can eject */
	n = run(ms6, b, sizeof(b));
	assert_int_equal(n, 4 + 22);
	assert_int_equal(b[0], n - 1);
	assert_int_equal(b[4], 0x2a);
	n = run(ms_chg, b, sizeof(b));
	assert_int_equal(n, 8 + 22);
	assert_int_equal(b[8 + 6], 0); /* nothing changeable */
	n = run(mech, b, sizeof(b));
	assert_int_equal(n, 8);
	assert_int_equal(b[1], 0);
	assert_good();
}

static void test_tray(void **state)
{
	uint8_t b[64];
	uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
	uint8_t gesn_other[12] = { 0x4a, 1, 0, 0, 0x04, 0, 0, 0, 8 };
	uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 };
	uint8_t load[12] = { 0x1b, 0, 0, 0, 0x03 };
	uint8_t lock[12] = { 0x1e, 0, 0, 0, 0x01 };
	uint8_t unlock[12] = { 0x1e, 0, 0, 0, 0x00 };
	uint8_t tur[12] = { 0 };
	uint8_t cap[12] = { 0x25 };
	uint8_t conf[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 8 };

	(void)state;
	assert_int_equal(run(gesn, b, sizeof(b)), 8);
	assert_int_equal(b[0] << 8 | b[1], 4);
	assert_int_equal(b[2], 0x04);
	assert_int_equal(b[3], 0x10);
	assert_int_equal(b[4], 0);     /* no change */
	assert_int_equal(b[5], 0x02);  /* media present */
	assert_int_equal(run(gesn_other, b, sizeof(b)), 4);
	assert_int_equal(b[2], 0x80);  /* NEA */
	/* locked: the eject is refused */
	packet(lock, 0, false);
	assert_good();
	packet(eject, 0, false);
	assert_check(5, 0x53, 0x02);
	packet(unlock, 0, false);
	packet(eject, 0, false);
	assert_good();
	assert_int_equal(run(gesn, b, sizeof(b)), 8);
	assert_int_equal(b[4], 3);     /* media removal */
	assert_int_equal(b[5], 0x01);  /* tray open */
	assert_int_equal(run(gesn, b, sizeof(b)), 8);
	assert_int_equal(b[4], 0);     /* reported once */
	packet(tur, 0, false);
	assert_check(2, 0x3a, 0x02);
	packet(cap, 8, false);
	assert_check(2, 0x3a, 0x02);
	read10(0, 1, 2048);
	assert_check(2, 0x3a, 0x02);
	assert_int_equal(run(conf, b, sizeof(b)), 8);
	assert_int_equal(b[6] << 8 | b[7], 0); /* no current profile */
	packet(load, 0, false);
	assert_good();
	assert_int_equal(run(gesn, b, sizeof(b)), 8);
	assert_int_equal(b[4], 2);     /* new media */
	packet(tur, 0, false);
	assert_good();
}

static void test_dma(void **state)
{
	uint8_t inq[12] = { 0x12, 0, 0, 0, 96 };
	uint8_t tur[12] = { 0 };
	bool to_mem;
	uint64_t left;

	(void)state;
	/* packet written with the DMA bit: no PIO, the engine's turn */
	select_dev(1);
	outb(ATA_REG_ERROR, ATAPI_FEAT_DMA);
	outb(ATA_REG_STATUS, ATA_CMD_PACKET);
	uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 5 };
	for (unsigned i = 0; i < 12; i += 2)
		ata_cmd_io(&ch, ATA_REG_DATA, cdb + i, 2, true);
	assert_true(ata_dma_pending(&ch, &to_mem, &left));
	assert_true(to_mem);
	assert_int_equal(left, 5 * ATAPI_SECTOR);
	irq_raises = 0;
	prd(0, 0x10000, 4096, false);
	prd(1, 0x20002, 6144, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_int_equal(irq_raises, 1);
	assert_good();
	assert_pattern(ram + 0x10000, 3, 4096);
	assert_pattern(ram + 0x20002, 5, 6144);
	/* a reply by DMA, into a table longer than it: the engine stays
	 * active, as the driver expects of a PACKET device */
	packet(inq, 0, true);
	memset(ram + 0x30000, 0xee, 200);
	prd(0, 0x30000, 200, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), BM_ST_ACTIVE);
	assert_good();
	assert_int_equal(ram[0x30000], 0x05);
	assert_int_equal(ram[0x30000 + 36], 0xee);
	/* a non-data command with the DMA bit: just the status */
	packet(tur, 0, true);
	assert_good();
	assert_false(ata_dma_pending(&ch, &to_mem, &left));
	/* hostile tables: outside RAM, shorter than the transfer, endless */
	read10(0, 4, 0);
	packet((uint8_t[12]){ 0x28, 0, 0, 0, 0, 0, 0, 0, 4 }, 0, true);
	prd(0, RAM_SIZE - 256, 4096, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), BM_ST_ERROR);
	assert_check(0xb, 0, 0);
	packet((uint8_t[12]){ 0x28, 0, 0, 0, 0, 0, 0, 0, 4 }, 0, true);
	prd(0, 0x10000, 1024, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), BM_ST_ERROR);
	assert_check(0xb, 0, 0);
	packet((uint8_t[12]){ 0x28, 0, 0, 0, 0, 0, 0, 0, 32 }, 0, true);
	for (unsigned i = 0; i < BM_PRD_MAX + 10; i++)
		prd(i, 0x100000, 2, false);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), BM_ST_ERROR);
	assert_check(0xb, 0, 0);
	assert_int_equal(bm_run_dma(&ch, &gm, 0xfffffff8u, scratch), BM_ST_ACTIVE);
	/* and the drive works afterwards */
	packet((uint8_t[12]){ 0x28, 0, 0, 0, 0, 9, 0, 0, 1 }, 0, true);
	prd(0, 0x10000, 2048, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_pattern(ram + 0x10000, 9, 2048);
	assert_good();
}

/* The DMA engine hears of a DMA command once, when the device is ready
 * for it: a PACKET command's after its whole packet, an ATA disk's after
 * the command; never for PIO, a command without data or a refused one. */
static unsigned dma_ready_calls;

static void count_dma_ready(void *opaque)
{
	bool to_mem;
	uint64_t left;

	(void)opaque;
	assert_true(ata_dma_pending(&ch, &to_mem, &left));
	dma_ready_calls++;
}

static void test_dma_ready(void **state)
{
	uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 2 };
	uint8_t tur[12] = { 0 };
	uint8_t buf[2 * ATAPI_SECTOR];
	bool to_mem;
	uint64_t left;

	(void)state;
	ata_channel_set_dma_ready(&ch, count_dma_ready);
	select_dev(1);
	outb(ATA_REG_ERROR, ATAPI_FEAT_DMA);
	outb(ATA_REG_STATUS, ATA_CMD_PACKET);
	for (unsigned i = 0; i < 10; i += 2)
		ata_cmd_io(&ch, ATA_REG_DATA, cdb + i, 2, true);
	assert_int_equal(dma_ready_calls, 0);
	ata_cmd_io(&ch, ATA_REG_DATA, cdb + 10, 2, true);
	assert_int_equal(dma_ready_calls, 1);
	/* writes past the packet are dropped and call nothing */
	ata_cmd_io(&ch, ATA_REG_DATA, cdb, 2, true);
	assert_int_equal(dma_ready_calls, 1);
	prd(0, 0x10000, 4096, true);
	assert_int_equal(bm_run_dma(&ch, &gm, PRD_TABLE, scratch), 0);
	assert_good();
	assert_int_equal(dma_ready_calls, 1);
	/* by PIO, without data, refused: no call */
	packet(cdb, 0, false);
	assert_int_equal(pio_in(buf, sizeof(buf), 0xfffe, NULL, NULL), sizeof(buf));
	packet(tur, 0, true);
	packet((uint8_t[12]){ 0x28, 0, 0, 0, 0xff, 0, 0, 0, 1 }, 0, true);
	assert_check(5, 0x21, 0);
	assert_int_equal(dma_ready_calls, 1);
	/* an ATA disk's DMA command, once written */
	select_dev(0);
	outb(ATA_REG_NSECT, 1);
	outb(ATA_REG_LBAL, 0);
	outb(ATA_REG_LBAM, 0);
	outb(ATA_REG_LBAH, 0);
	outb(ATA_REG_DEVICE, ATA_DEV_LBA);
	outb(ATA_REG_STATUS, ATA_CMD_READ_DMA);
	assert_int_equal(dma_ready_calls, 2);
	assert_true(ata_dma_pending(&ch, &to_mem, &left));
	assert_int_equal(left, ATA_SECTOR);
	/* out of range: refused, no call */
	outb(ATA_REG_LBAH, 0xff);
	outb(ATA_REG_STATUS, ATA_CMD_READ_DMA);
	assert_int_equal(dma_ready_calls, 2);
	assert_false(ata_dma_pending(&ch, &to_mem, &left));
}

/* Random packets, limits, reads and writes: the device never hangs in
 * BSY, never offers a block larger than the limit, always ends in a
 * status phase the host can see. */
static void test_random_packets(void **state)
{
	uint32_t x = 12345;
	static uint8_t b[CD_BLOCKS * ATAPI_SECTOR];

	(void)state;
	for (unsigned iter = 0; iter < 20000; iter++) {
		uint8_t cdb[12];
		uint16_t limit;
		unsigned eff;

		for (unsigned i = 0; i < 12; i++) {
			x = x * 1103515245u + 12345u;
			cdb[i] = (uint8_t)(x >> 16);
		}
		/* mostly the commands the device knows */
		static const uint8_t ops[] = { 0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e,
					       0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a,
					       0x5a, 0xa8, 0xbb, 0xbd };
		if (iter % 4)
			cdb[0] = ops[(x >> 8) % sizeof(ops)];
		if (cdb[0] == 0x28 || cdb[0] == 0xa8) /* keep reads short */
			cdb[2] = cdb[3] = cdb[6] = cdb[7] = 0;
		if (cdb[0] == 0x1b) /* and the tray mostly closed */
			cdb[4] |= 1;
		x = x * 1103515245u + 12345u;
		limit = (uint16_t)(x >> 12);
		eff = !limit || limit == 0xffff ? 0xfffe : limit == 1 ? 2 : limit & ~1u;
		packet(cdb, limit, false);
		pio_in(b, sizeof(b), eff, NULL, NULL);
		assert_int_equal(altstatus() & (ATA_BSY | ATA_DRQ), 0);
		assert_int_equal(inb(ATA_REG_NSECT), ATAPI_IREASON_CD | ATAPI_IREASON_IO);
	}
}

/* ---- through the PIIX3 function: a DMA read kicked by the packet ---- */

static void test_piix_cdrom(void **state)
{
	struct blockdev_opts o = { .path = cd_path, .format = "raw", .readonly = true };
	struct piix_ide_cfg cfg = { 0 };
	struct pci_bus bus;
	struct pci_dev *d;
	struct piix_ide *ide;
	struct device *dev;
	char err[256];
	uint32_t bm;
	uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 2 };

	(void)state;
	assert_int_equal(blockdev_open(&o, &cfg.disks[2], err, sizeof(err)), 0);
	cfg.cdrom[2] = true;
	d = piix_fixture(&cfg, &bus, &ide);
	dev = &ide->dev;
	bm = pci_cfg_read(d, 0x20, 4) & ~3u;
	pci_cfg_write(d, 4, 2, 0x5);
	/* the secondary master is the CD-ROM */
	assert_int_equal(pin(0x174, 1), 0x14);
	assert_int_equal(pin(0x175, 1), 0xeb);
	/* the engine started first, then the PACKET command and its packet,
	 * as Linux orders it the other way round: both work */
	prd(0, 0x10000, 4096, true);
	pout(bm + 8 + BM_PRD, 4, PRD_TABLE);
	pout(bm + 8 + BM_CMD, 1, BM_CMD_TO_MEMORY | BM_CMD_START);
	pout(0x171, 1, ATAPI_FEAT_DMA);
	pout(0x176, 1, 0);
	pout(0x177, 1, ATA_CMD_PACKET);
	assert_int_equal(pin(0x376, 1), ATA_DRDY | ATA_DRQ);
	for (unsigned i = 0; i < 12; i += 2)
		pout(0x170, 2, (uint32_t)(cdb[i] | cdb[i + 1] << 8));
	assert_int_equal(fake.irq_level[15], 1);
	assert_int_equal(pin(bm + 8 + BM_STATUS, 1), BM_ST_INTR);
	assert_int_equal(pin(0x177, 1), ATA_DRDY);
	assert_int_equal(pin(0x172, 1), 3);
	assert_pattern(ram + 0x10000, 7, 4096);
	pout(bm + 8 + BM_CMD, 1, 0);
	pout(bm + 8 + BM_STATUS, 1, BM_ST_INTR);
	/* the packet first, then the engine */
	memset(ram + 0x10000, 0, 4096);
	pout(0x177, 1, ATA_CMD_PACKET);
	for (unsigned i = 0; i < 12; i += 2)
		pout(0x170, 2, (uint32_t)(cdb[i] | cdb[i + 1] << 8));
	assert_int_equal(pin(0x376, 1), ATA_DRDY | ATA_DRQ);
	pout(bm + 8 + BM_CMD, 1, BM_CMD_TO_MEMORY | BM_CMD_START);
	assert_int_equal(pin(0x177, 1), ATA_DRDY);
	assert_pattern(ram + 0x10000, 7, 4096);

	pci_bus_destroy(&bus);
	dev->ops->free(dev);
	fake_vm_destroy(&vm);
}

static void test_attach_refused(void **state)
{
	struct ata_channel c;

	(void)state;
	ata_channel_init(&c, NULL, NULL);
	/* a writable image, a position that does not exist */
	assert_int_equal(atapi_drive_attach(&c, 0, disk, "x"), -EINVAL);
	assert_int_equal(atapi_drive_attach(&c, 2, cd, "x"), -EINVAL);
	assert_int_equal(atapi_drive_attach(&c, 0, NULL, "x"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_basic_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_count_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_toc_config_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tray, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_piix_cdrom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
