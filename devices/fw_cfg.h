/* SPDX-License-Identifier: MIT
 * fw_cfg.h - the firmware configuration interface ("fw_cfg") as QEMU's
 * docs/specs/fw_cfg.rst defines it and SeaBIOS reads it: a 16-bit selector
 * port, a byte-wide data port and a DMA interface, through which the
 * firmware reads named blobs (the memory map, the boot order, the ACPI
 * tables and the commands that link them).
 *
 * The machine fills the items before the guest runs; the guest only reads
 * them (write access through the data port or DMA is refused).
 */
#ifndef MINIVMM_FW_CFG_H
#define MINIVMM_FW_CFG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/device.h"
#include "vmm/guest_mem.h"

struct vm;

/* x86 I/O ports: selector (16-bit) at +0, data (8-bit) at +1; the DMA
 * address register, 64-bit big-endian, at FW_CFG_DMA_PORT. */
#define FW_CFG_PORT 0x510
#define FW_CFG_DMA_PORT 0x514

/* Selector keys (fw_cfg.rst "Selector Register", and the legacy items
 * firmware still reads). */
#define FW_CFG_SIGNATURE 0x00 /* "QEMU" */
#define FW_CFG_ID 0x01        /* feature bits below, 32-bit little-endian */
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05 /* 16-bit */
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_WRITE_CHANNEL 0x4000 /* selector bit: write access */
#define FW_CFG_ARCH_LOCAL 0x8000

#define FW_CFG_VERSION 0x01     /* FW_CFG_ID: the traditional interface */
#define FW_CFG_VERSION_DMA 0x02 /* FW_CFG_ID: the DMA interface */

/* DMA access descriptor (16 bytes, big-endian): control, length, address.
 * Control bits; a selector in bits 16-31 with SELECT. */
#define FW_CFG_DMA_CTL_ERROR 0x01
#define FW_CFG_DMA_CTL_READ 0x02
#define FW_CFG_DMA_CTL_SKIP 0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE 0x10
#define FW_CFG_DMA_SIGNATURE "QEMU CFG" /* what the DMA register reads */

#define FW_CFG_MAX_FILE_PATH 56 /* a file's name, NUL included */
#define FW_CFG_MAX_ITEMS 64

struct fw_cfg_item {
	uint16_t key;
	uint8_t *data;
	uint32_t len;
	char name[FW_CFG_MAX_FILE_PATH]; /* "" for a numbered item */
};

struct fw_cfg {
	struct device dev; /* as a device of a VM: fw_cfg_create() */
	struct guest_mem *mem; /* where DMA descriptors and buffers are */
	pthread_mutex_t lock;
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	unsigned nr_items, nr_files;
	/* the current item (an index into items, or -1 for none) and the
	 * offset the next data read starts at */
	int cur;
	uint32_t offset;
	uint32_t dma_hi; /* the DMA address's high half, until the low */
	uint64_t dma_count, dma_errors; /* for tests and --stats' curiosity */
};

/* The device of a VM (device.h) at ports FW_CFG_PORT and FW_CFG_DMA_PORT,
 * with FW_CFG_SIGNATURE, FW_CFG_ID (DMA supported) and an empty file
 * directory. 0 or -errno. */
int fw_cfg_create(struct vm *vm, struct fw_cfg **out);

/* The model alone (tests): DMA goes to mem. fw_cfg_fini frees its items. */
int fw_cfg_init(struct fw_cfg *f, struct guest_mem *mem);
void fw_cfg_fini(struct fw_cfg *f);

/* A numbered item (key < FW_CFG_FILE_FIRST, or FW_CFG_ARCH_LOCAL | n):
 * len bytes copied from data. -EINVAL (a file's key, a write-channel key,
 * or an item already there), -ENOSPC, -ENOMEM, or 0. */
int fw_cfg_add_item(struct fw_cfg *f, uint16_t key, const void *data,
		    size_t len);
/* A named file ("etc/e820", "bootorder"...): len bytes copied; it gets the
 * next key from FW_CFG_FILE_FIRST and an entry in FW_CFG_FILE_DIR.
 * -EINVAL (name empty, too long, or already there), -E2BIG (over 4 GiB),
 * -ENOSPC, -ENOMEM, or 0. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data,
		    size_t len);
/* The file's contents as stored, or NULL (tests, and the machine checking
 * what it gave). */
const void *fw_cfg_file(const struct fw_cfg *f, const char *name,
			uint32_t *len);

/* Bus handlers (opaque = struct fw_cfg): ports FW_CFG_PORT..+1 (offset 0
 * selector, 1 data) and FW_CFG_DMA_PORT..+7 (the DMA address register:
 * a 32-bit write at offset 0 holds the high half, at offset 4 the low half
 * and starts the transfer; reads give FW_CFG_DMA_SIGNATURE). */
void fw_cfg_io(void *opaque, uint64_t off, void *data, unsigned len,
	       bool is_write);
void fw_cfg_dma_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write);

/* Run the DMA transfer whose descriptor is at gpa (what a write of the low
 * address half does). A descriptor outside guest RAM is ignored; any other
 * failure sets FW_CFG_DMA_CTL_ERROR in the descriptor's control field,
 * success clears it. */
void fw_cfg_dma(struct fw_cfg *f, uint64_t gpa);

#endif
