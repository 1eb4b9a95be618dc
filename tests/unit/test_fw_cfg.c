/* SPDX-License-Identifier: MIT
 * Unit tests: the fw_cfg device (devices/fw_cfg.c) through its port
 * handlers: selector and data reads, the file directory, DMA read, skip
 * and select, and hostile DMA descriptors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/fw_cfg.h"

#define RAM (1u << 20)
#define DESC 0x1000 /* where the tests put DMA descriptors */
#define BUF 0x2000  /* and buffers */

struct env {
	struct guest_mem gm;
	uint8_t *ram;
	struct fw_cfg f;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->ram = calloc(1, RAM);
	assert_non_null(e->ram);
	assert_int_equal(gm_add_region(&e->gm, 0, RAM, e->ram), 0);
	assert_int_equal(fw_cfg_init(&e->f, &e->gm), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fw_cfg_fini(&e->f);
	free(e->ram);
	free(e);
	return 0;
}

static void sel(struct fw_cfg *f, uint16_t key)
{
	uint8_t v[2] = { (uint8_t)key, (uint8_t)(key >> 8) };

	fw_cfg_io(f, 0, v, 2, true);
}

static uint8_t rd(struct fw_cfg *f)
{
	uint8_t v;

	fw_cfg_io(f, 1, &v, 1, false);
	return v;
}

static void rd_n(struct fw_cfg *f, void *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = rd(f);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Write a descriptor at gpa and start it through the DMA register, as a
 * driver does (high half, then low half, big-endian). */
static void dma(struct env *e, uint64_t gpa, uint32_t ctl, uint32_t len,
		uint64_t addr)
{
	uint8_t d[16], hi[4], lo[4];

	put_be32(d, ctl);
	put_be32(d + 4, len);
	put_be32(d + 8, (uint32_t)(addr >> 32));
	put_be32(d + 12, (uint32_t)addr);
	if (gpa + 16 <= RAM)
		memcpy(e->ram + gpa, d, 16);
	put_be32(hi, (uint32_t)(gpa >> 32));
	put_be32(lo, (uint32_t)gpa);
	fw_cfg_dma_io(&e->f, 0, hi, 4, true);
	fw_cfg_dma_io(&e->f, 4, lo, 4, true);
}

static uint32_t ctl_after(struct env *e, uint64_t gpa)
{
	return be32(e->ram + gpa);
}

static void test_signature_and_id(void **state)
{
	struct env *e = *state;
	char sig[5] = "";
	uint8_t id[4], dsig[8];

	sel(&e->f, FW_CFG_SIGNATURE);
	rd_n(&e->f, sig, 4);
	assert_string_equal(sig, "QEMU");
	/* past the end: zeros */
	assert_int_equal(rd(&e->f), 0);
	/* selecting again rewinds */
	sel(&e->f, FW_CFG_SIGNATURE);
	assert_int_equal(rd(&e->f), 'Q');
	sel(&e->f, FW_CFG_ID);
	rd_n(&e->f, id, 4);
	assert_int_equal(id[0], FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	/* an item that does not exist reads as zeros */
	sel(&e->f, 0x1234);
	assert_int_equal(rd(&e->f), 0);
	/* the DMA register reads as "QEMU CFG", big-endian */
	for (unsigned i = 0; i < 8; i++)
		fw_cfg_dma_io(&e->f, i, &dsig[i], 1, false);
	assert_memory_equal(dsig, "QEMU CFG", 8);
	fw_cfg_dma_io(&e->f, 0, dsig, 4, false);
	assert_int_equal(dsig[0] | dsig[1] << 8 | dsig[2] << 16 |
				 (uint32_t)dsig[3] << 24, 0x51454d55);
}

static void test_items_and_dir(void **state)
{
	struct env *e = *state;
	uint16_t ncpu = 3;
	uint8_t cnt[4], ent[64], v[2];
	char big[100];
	uint32_t len;

	assert_int_equal(fw_cfg_add_item(&e->f, FW_CFG_NB_CPUS, &ncpu, 2), 0);
	assert_int_equal(fw_cfg_add_item(&e->f, FW_CFG_NB_CPUS, &ncpu, 2), -EINVAL);
	assert_int_equal(fw_cfg_add_item(&e->f, 0x20, &ncpu, 2), -EINVAL);
	assert_int_equal(fw_cfg_add_item(&e->f, 0x4005, &ncpu, 2), -EINVAL);
	sel(&e->f, FW_CFG_NB_CPUS);
	rd_n(&e->f, v, 2);
	assert_int_equal(v[0] | v[1] << 8, 3);

	assert_int_equal(fw_cfg_add_file(&e->f, "bootorder", "/a\n/b", 6), 0);
	assert_int_equal(fw_cfg_add_file(&e->f, "etc/sercon-port", "\xf8\x03", 2), 0);
	assert_int_equal(fw_cfg_add_file(&e->f, "bootorder", "x", 1), -EINVAL);
	assert_int_equal(fw_cfg_add_file(&e->f, "", "x", 1), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(fw_cfg_add_file(&e->f, big, "x", 1), -EINVAL);
	assert_non_null(fw_cfg_file(&e->f, "bootorder", &len));
	assert_int_equal(len, 6);
	assert_null(fw_cfg_file(&e->f, "nothing", NULL));

	sel(&e->f, FW_CFG_FILE_DIR);
	rd_n(&e->f, cnt, 4);
	assert_int_equal(be32(cnt), 2);
	rd_n(&e->f, ent, 64);
	assert_int_equal(be32(ent), 6);
	assert_int_equal(ent[4] << 8 | ent[5], FW_CFG_FILE_FIRST);
	assert_string_equal((char *)ent + 8, "bootorder");
	rd_n(&e->f, ent, 64);
	assert_int_equal(be32(ent), 2);
	assert_int_equal(ent[4] << 8 | ent[5], FW_CFG_FILE_FIRST + 1);
	assert_string_equal((char *)ent + 8, "etc/sercon-port");
	/* the file by its key */
	sel(&e->f, FW_CFG_FILE_FIRST + 1);
	rd_n(&e->f, v, 2);
	assert_int_equal(v[0] | v[1] << 8, 0x3f8);
	/* the write channel selects the same item for reading */
	sel(&e->f, FW_CFG_WRITE_CHANNEL | (FW_CFG_FILE_FIRST + 1));
	assert_int_equal(rd(&e->f), 0xf8);
}

static void test_dma_read_skip_select(void **state)
{
	struct env *e = *state;
	static const char data[] = "0123456789abcdef";

	assert_int_equal(fw_cfg_add_file(&e->f, "etc/test", data, 16), 0);
	/* select + read 4 */
	dma(e, DESC, (uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT |
			     FW_CFG_DMA_CTL_READ, 4, BUF);
	assert_int_equal(ctl_after(e, DESC), 0);
	assert_memory_equal(e->ram + BUF, "0123", 4);
	/* skip 6, read 3 */
	dma(e, DESC, FW_CFG_DMA_CTL_SKIP, 6, 0);
	assert_int_equal(ctl_after(e, DESC), 0);
	dma(e, DESC, FW_CFG_DMA_CTL_READ, 3, BUF);
	assert_memory_equal(e->ram + BUF, "abc", 3);
	/* the port follows the same offset */
	assert_int_equal(rd(&e->f), 'd');
	/* a read past the end: the rest, then zeros */
	memset(e->ram + BUF, 0xee, 8);
	dma(e, DESC, FW_CFG_DMA_CTL_READ, 8, BUF);
	assert_int_equal(ctl_after(e, DESC), 0);
	assert_memory_equal(e->ram + BUF, "ef\0\0\0\0\0\0", 8);
	/* a skip past the end stops there */
	dma(e, DESC, (uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT |
			     FW_CFG_DMA_CTL_SKIP, 1000, 0);
	assert_int_equal(ctl_after(e, DESC), 0);
	dma(e, DESC, FW_CFG_DMA_CTL_READ, 1, BUF);
	assert_int_equal(e->ram[BUF], 0);
	/* a zero-length read at any address is fine */
	dma(e, DESC, FW_CFG_DMA_CTL_READ, 0, 0xffffffffffffffffULL);
	assert_int_equal(ctl_after(e, DESC), 0);
	/* select alone */
	dma(e, DESC, (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT, 0, 0);
	assert_int_equal(ctl_after(e, DESC), 0);
	assert_int_equal(rd(&e->f), 'Q');
	assert_int_equal(e->f.dma_errors, 0);
}

static void test_dma_hostile(void **state)
{
	struct env *e = *state;
	uint8_t lo[4];

	assert_int_equal(fw_cfg_add_file(&e->f, "etc/test", "xyz", 3), 0);
	/* buffer outside guest RAM: error, nothing written */
	dma(e, DESC, (uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT |
			     FW_CFG_DMA_CTL_READ, 3, RAM);
	assert_int_equal(ctl_after(e, DESC), FW_CFG_DMA_CTL_ERROR);
	/* a buffer that starts in RAM and runs out of it */
	memset(e->ram + RAM - 2, 0x55, 2);
	dma(e, DESC, FW_CFG_DMA_CTL_READ, 3, RAM - 2);
	assert_int_equal(ctl_after(e, DESC), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(e->ram[RAM - 1], 0x55);
	/* a huge length, and an address that wraps */
	dma(e, DESC, FW_CFG_DMA_CTL_READ, 0xffffffffu, BUF);
	assert_int_equal(ctl_after(e, DESC), FW_CFG_DMA_CTL_ERROR);
	dma(e, DESC, FW_CFG_DMA_CTL_READ, 16, 0xfffffffffffffff8ULL);
	assert_int_equal(ctl_after(e, DESC), FW_CFG_DMA_CTL_ERROR);
	/* writes are refused, unknown bits and a preset error bit too */
	dma(e, DESC, FW_CFG_DMA_CTL_WRITE, 3, BUF);
	assert_int_equal(ctl_after(e, DESC), FW_CFG_DMA_CTL_ERROR);
	dma(e, DESC, 0x20 | FW_CFG_DMA_CTL_READ, 3, BUF);
	assert_int_equal(ctl_after(e, DESC), FW_CFG_DMA_CTL_ERROR);
	dma(e, DESC, FW_CFG_DMA_CTL_ERROR | FW_CFG_DMA_CTL_READ, 3, BUF);
	assert_int_equal(ctl_after(e, DESC), FW_CFG_DMA_CTL_ERROR);
	/* the item's offset did not move through all that */
	dma(e, DESC, FW_CFG_DMA_CTL_READ, 3, BUF);
	assert_int_equal(ctl_after(e, DESC), 0);
	assert_memory_equal(e->ram + BUF, "xyz", 3);
	/* a descriptor outside RAM (or straddling its end): ignored, counted */
	uint64_t before = e->f.dma_errors;
	dma(e, RAM + 0x1000, FW_CFG_DMA_CTL_READ, 3, BUF);
	dma(e, RAM - 8, FW_CFG_DMA_CTL_READ, 3, BUF);
	assert_int_equal(e->f.dma_errors, before + 2);
	/* the descriptor may be the buffer itself */
	dma(e, DESC, (uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT |
			     FW_CFG_DMA_CTL_READ, 3, DESC);
	/* ... its first word then says the transfer's status, 0 */
	assert_int_equal(ctl_after(e, DESC), 0);
	/* only 32-bit writes of the halves count; a low half alone uses a
	 * high half of 0 */
	dma(e, DESC, (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT |
			     FW_CFG_DMA_CTL_READ, 4, BUF);
	put_be32(lo, DESC);
	fw_cfg_dma_io(&e->f, 0, lo, 2, true);
	fw_cfg_dma_io(&e->f, 5, lo, 1, true);
	memset(e->ram + BUF, 0, 4);
	memcpy(e->ram + DESC, "\0\0\0\x0a", 4); /* select 0 + read again */
	fw_cfg_dma_io(&e->f, 4, lo, 4, true);
	assert_memory_equal(e->ram + BUF, "QEMU", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_items_and_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_read_skip_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_hostile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
