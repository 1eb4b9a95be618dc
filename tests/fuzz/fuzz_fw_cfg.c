/* SPDX-License-Identifier: MIT
 * fuzz_fw_cfg - libFuzzer target: a hostile firmware against the fw_cfg
 * device (devices/fw_cfg.c) filled as a firmware boot fills it
 * (boot/x86/fw_cfg_x86.c: memory map, boot order, ACPI blobs and loader),
 * with 1 MiB of guest RAM at 0. The input is a program of operations, an
 * opcode byte (modulo 5) and its little-endian arguments:
 *
 *   SELECT   key:u16                 the selector port
 *   READ     n:u8                    n data-port reads (1, 2 or 4 bytes wide)
 *   DMA      hi:u32 lo:u32           the DMA address register, high then low
 *   DMA_LO   lo:u32 len:u8           only the low half, with a 1/2/4-byte write
 *   MEM      gpa:u32 n:u8 bytes[n]   guest RAM (gpa modulo its size): descriptors
 *
 * A truncated operation ends the program.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/x86/fw_cfg_x86.h"

#define RAM (1u << 20)

static uint8_t ram[RAM];

static int take(const uint8_t **p, size_t *n, void *out, size_t len)
{
	if (*n < len)
		return -1;
	memcpy(out, *p, len);
	*p += len;
	*n -= len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	struct x86_fw_cfg_cfg c = { .low_size = RAM, .nr_cpus = 2, .sercon_port = 0x3f8,
				    .bootorder = "/pci@i0cf8/scsi@1/disk@0,0" };
	struct fw_cfg f;
	uint8_t op;

	if (!gm.nr && gm_add_region(&gm, 0, RAM, ram))
		abort();
	memset(ram, 0, sizeof(ram));
	if (fw_cfg_init(&f, &gm) || x86_fw_cfg_fill(&f, &c))
		abort();
	while (!take(&data, &size, &op, 1)) {
		uint8_t b[8], n;
		uint32_t a;
		uint16_t k;

		switch (op % 5) {
		case 0:
			if (take(&data, &size, &k, 2))
				goto out;
			fw_cfg_io(&f, 0, &k, 2, true);
			break;
		case 1:
			if (take(&data, &size, &n, 1))
				goto out;
			for (unsigned i = 0; i < n; i++)
				fw_cfg_io(&f, 1, b, 1u << (i % 3), false);
			break;
		case 2:
			if (take(&data, &size, b, 8))
				goto out;
			fw_cfg_dma_io(&f, 0, b, 4, true);
			fw_cfg_dma_io(&f, 4, b + 4, 4, true);
			break;
		case 3:
			if (take(&data, &size, b, 5))
				goto out;
			fw_cfg_dma_io(&f, 4 - (b[4] & 4), b, 1u << (b[4] % 3), true);
			fw_cfg_dma_io(&f, b[4] & 7, b, 1, false);
			break;
		case 4:
			if (take(&data, &size, &a, 4) || take(&data, &size, &n, 1))
				goto out;
			for (unsigned i = 0; i < n && size; i++, data++, size--)
				ram[(a + i) % RAM] = *data;
			break;
		}
	}
out:
	fw_cfg_fini(&f);
	return 0;
}
