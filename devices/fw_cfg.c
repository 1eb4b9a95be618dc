/* SPDX-License-Identifier: MIT
 * fw_cfg.c - the firmware configuration device (QEMU docs/specs/fw_cfg.rst:
 * "Selector (Control) Register", "Data Register", "Firmware Configuration
 * Items", "File Directory", "DMA interface"), on the x86 I/O ports.
 *
 * A write to the selector picks an item and rewinds its offset to 0; each
 * data read returns the item's next byte, 0 past its end or with no item
 * selected. The DMA interface takes the guest-physical address of a
 * 16-byte descriptor (big-endian control, length, address) through the DMA
 * address register and runs it at once, on the vCPU that wrote the low
 * half: optionally select an item (control bits 16-31), then read (copy
 * `length` bytes to `address`, zeros past the item's end) or skip
 * `length` bytes; then the control field is written back as 0, or with the
 * error bit when the transfer was refused.
 *
 * The descriptor and every buffer are guest-controlled: they are reached
 * only through gm_read/gm_write/gm_ptr, which check the whole range. A
 * buffer outside guest RAM, a write transfer (no item is writable), a
 * control word with unknown bits, or a guest that sets the error bit
 * itself, get the error bit and nothing else; a descriptor that is not in
 * guest RAM cannot even be answered and is only counted.
 */
#include "fw_cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/vm.h"

#define DIR_ENTRY_LEN (4 + 2 + 2 + FW_CFG_MAX_FILE_PATH)
#define DMA_DESC_LEN 16
#define DMA_CTL_KNOWN (FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_SKIP | \
		       FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE)

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int find_key(const struct fw_cfg *f, uint16_t key)
{
	for (unsigned i = 0; i < f->nr_items; i++)
		if (f->items[i].key == key)
			return (int)i;
	return -1;
}

/* Store an item (data copied). Lock held or not yet shared. */
static int put_item(struct fw_cfg *f, uint16_t key, const char *name,
		    const void *data, size_t len)
{
	int i = find_key(f, key);
	uint8_t *copy = NULL;

	if (len > UINT32_MAX)
		return -E2BIG;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	if (i < 0) {
		if (f->nr_items == FW_CFG_MAX_ITEMS) {
			free(copy);
			return -ENOSPC;
		}
		i = (int)f->nr_items++;
	} else {
		free(f->items[i].data);
	}
	f->items[i].key = key;
	f->items[i].data = copy;
	f->items[i].len = (uint32_t)len;
	snprintf(f->items[i].name, sizeof(f->items[i].name), "%s",
		 name ? name : "");
	return 0;
}

/* FW_CFG_FILE_DIR: a big-endian count, then per file its size, key,
 * a reserved half-word and its name, in key order. */
static int rebuild_dir(struct fw_cfg *f)
{
	size_t len = 4 + (size_t)f->nr_files * DIR_ENTRY_LEN;
	uint8_t *dir = calloc(1, len), *e;
	int ret;

	if (!dir)
		return -ENOMEM;
	put_be32(dir, f->nr_files);
	e = dir + 4;
	for (unsigned k = 0; k < f->nr_files; k++, e += DIR_ENTRY_LEN) {
		int i = find_key(f, (uint16_t)(FW_CFG_FILE_FIRST + k));

		if (i < 0)
			continue;
		put_be32(e, f->items[i].len);
		put_be16(e + 4, f->items[i].key);
		memcpy(e + 8, f->items[i].name, strlen(f->items[i].name));
	}
	ret = put_item(f, FW_CFG_FILE_DIR, NULL, dir, len);
	free(dir);
	return ret;
}

int fw_cfg_add_item(struct fw_cfg *f, uint16_t key, const void *data,
		    size_t len)
{
	uint16_t n = key & (uint16_t)~FW_CFG_ARCH_LOCAL;
	int ret;

	if ((key & FW_CFG_WRITE_CHANNEL) || n >= FW_CFG_FILE_FIRST ||
	    key == FW_CFG_FILE_DIR || (len && !data))
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	ret = find_key(f, key) >= 0 ? -EINVAL : put_item(f, key, NULL, data, len);
	pthread_mutex_unlock(&f->lock);
	return ret;
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data,
		    size_t len)
{
	uint16_t key;
	int ret;

	if (!name || !name[0] || strlen(name) >= FW_CFG_MAX_FILE_PATH ||
	    (len && !data))
		return -EINVAL;
	if (len > UINT32_MAX)
		return -E2BIG;
	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nr_items; i++) {
		if (f->items[i].key >= FW_CFG_FILE_FIRST &&
		    !(f->items[i].key & FW_CFG_ARCH_LOCAL) &&
		    !strcmp(f->items[i].name, name)) {
			pthread_mutex_unlock(&f->lock);
			return -EINVAL;
		}
	}
	key = (uint16_t)(FW_CFG_FILE_FIRST + f->nr_files);
	ret = put_item(f, key, name, data, len);
	if (!ret) {
		f->nr_files++;
		ret = rebuild_dir(f);
		if (ret) { /* take the file back out: the directory is the truth */
			int i = find_key(f, key);

			f->nr_files--;
			free(f->items[i].data);
			f->items[i] = f->items[--f->nr_items];
		}
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

const void *fw_cfg_file(const struct fw_cfg *f, const char *name,
			uint32_t *len)
{
	for (unsigned i = 0; i < f->nr_items; i++) {
		if (f->items[i].key >= FW_CFG_FILE_FIRST &&
		    !(f->items[i].key & FW_CFG_ARCH_LOCAL) &&
		    !strcmp(f->items[i].name, name)) {
			if (len)
				*len = f->items[i].len;
			return f->items[i].data ? (const void *)f->items[i].data
						: (const void *)"";
		}
	}
	return NULL;
}

/* ---- the guest's side ---- */

/* Lock held. The write-channel bit selects the same item (refused on
 * write). */
static void select_key(struct fw_cfg *f, uint16_t key)
{
	f->cur = find_key(f, key & (uint16_t)~FW_CFG_WRITE_CHANNEL);
	f->offset = 0;
}

/* Bytes of the current item left from the offset. Lock held. */
static uint32_t remaining(const struct fw_cfg *f)
{
	const struct fw_cfg_item *it;

	if (f->cur < 0)
		return 0;
	it = &f->items[f->cur];
	return f->offset < it->len ? it->len - f->offset : 0;
}

void fw_cfg_io(void *opaque, uint64_t off, void *data, unsigned len,
	       bool is_write)
{
	struct fw_cfg *f = opaque;
	uint8_t *d = data;

	pthread_mutex_lock(&f->lock);
	if (off == 0 && is_write) {
		uint16_t key = d[0];

		if (len >= 2)
			key |= (uint16_t)(d[1] << 8);
		select_key(f, key);
	} else if (off == 1 && !is_write) {
		/* a wider read takes as many bytes in a row */
		for (unsigned i = 0; i < len; i++) {
			if (remaining(f)) {
				d[i] = f->items[f->cur].data[f->offset];
				f->offset++;
			} else {
				d[i] = 0;
			}
		}
	} else if (!is_write) {
		memset(d, 0, len); /* the selector reads as 0 */
	}
	/* data port writes: no item is writable */
	pthread_mutex_unlock(&f->lock);
}

/* Lock held. Returns 0 or the error bit. */
static uint32_t dma_run(struct fw_cfg *f, uint32_t ctl, uint32_t len,
			uint64_t addr)
{
	uint32_t avail, n;
	uint8_t *dst;

	if (ctl & FW_CFG_DMA_CTL_ERROR || (ctl & 0xffff & ~DMA_CTL_KNOWN))
		return FW_CFG_DMA_CTL_ERROR;
	if (ctl & FW_CFG_DMA_CTL_SELECT)
		select_key(f, (uint16_t)(ctl >> 16));
	if (ctl & FW_CFG_DMA_CTL_READ) {
		/* the whole buffer first: nothing is written unless it all
		 * lies in guest RAM */
		dst = len ? gm_ptr(f->mem, addr, len) : NULL;
		if (len && !dst)
			return FW_CFG_DMA_CTL_ERROR;
		avail = remaining(f);
		n = len < avail ? len : avail;
		if (n)
			memcpy(dst, f->items[f->cur].data + f->offset, n);
		if (len > n)
			memset(dst + n, 0, len - n);
		f->offset += n;
		return 0;
	}
	if (ctl & FW_CFG_DMA_CTL_WRITE)
		return FW_CFG_DMA_CTL_ERROR;
	if (ctl & FW_CFG_DMA_CTL_SKIP) {
		avail = remaining(f);
		f->offset += len < avail ? len : avail;
	}
	return 0;
}

void fw_cfg_dma(struct fw_cfg *f, uint64_t gpa)
{
	uint8_t desc[DMA_DESC_LEN], status[4];
	uint32_t ctl, len, res;
	uint64_t addr;

	if (gm_read(f->mem, gpa, desc, sizeof(desc))) {
		__atomic_add_fetch(&f->dma_errors, 1, __ATOMIC_RELAXED);
		if (f->dev.vm)
			pr_warn_limited(&f->dev.warn, f->dev.name,
					"%s: DMA descriptor at 0x%llx is not in guest RAM",
					f->dev.name, (unsigned long long)gpa);
		return;
	}
	ctl = get_be32(desc);
	len = get_be32(desc + 4);
	addr = (uint64_t)get_be32(desc + 8) << 32 | get_be32(desc + 12);
	pthread_mutex_lock(&f->lock);
	res = dma_run(f, ctl, len, addr);
	f->dma_count++;
	if (res) /* atomic: a descriptor outside RAM counts without the lock */
		__atomic_add_fetch(&f->dma_errors, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&f->lock);
	put_be32(status, res);
	/* the descriptor was readable: its first word is writable RAM too,
	 * unless the guest's memory map says otherwise (then nothing) */
	gm_write(f->mem, gpa, status, sizeof(status));
}

void fw_cfg_dma_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	static const char sig[8] = FW_CFG_DMA_SIGNATURE;
	struct fw_cfg *f = opaque;
	uint8_t *d = data;

	if (!is_write) {
		/* a big-endian register: the byte at the lowest offset is
		 * the most significant of the value read */
		for (unsigned i = 0; i < len; i++) {
			uint64_t at = off + len - 1 - i;

			d[i] = at < sizeof(sig) ? (uint8_t)sig[at] : 0;
		}
		return;
	}
	if (len != 4 || (off != 0 && off != 4))
		return; /* the halves are written as 32-bit words only */
	if (off == 0) {
		__atomic_store_n(&f->dma_hi, get_be32(d), __ATOMIC_RELAXED);
		return;
	}
	/* the low half starts the transfer; a driver that never writes the
	 * high half then addresses the low 4 GiB */
	fw_cfg_dma(f, (uint64_t)__atomic_exchange_n(&f->dma_hi, 0,
						    __ATOMIC_RELAXED) << 32 |
			      get_be32(d));
}

static unsigned fw_cfg_reg_name(void *opaque, uint64_t off, unsigned len,
				bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)len;
	(void)is_write;
	snprintf(buf, size, "%s", off == 0 ? "selector" : "data");
	return 0;
}

static unsigned fw_cfg_dma_reg_name(void *opaque, uint64_t off, unsigned len,
				    bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)len;
	snprintf(buf, size, "%s", !is_write ? "dma.signature" :
				  off == 0 ? "dma.addr_hi" : "dma.addr_lo");
	return 0;
}

int fw_cfg_init(struct fw_cfg *f, struct guest_mem *mem)
{
	uint8_t id[4] = { FW_CFG_VERSION | FW_CFG_VERSION_DMA, 0, 0, 0 };
	int ret;

	memset(f, 0, sizeof(*f));
	f->mem = mem;
	f->cur = -1;
	ret = pthread_mutex_init(&f->lock, NULL);
	if (ret)
		return -ret;
	if ((ret = put_item(f, FW_CFG_SIGNATURE, NULL, "QEMU", 4)) ||
	    (ret = put_item(f, FW_CFG_ID, NULL, id, sizeof(id))) ||
	    (ret = rebuild_dir(f))) {
		fw_cfg_fini(f);
		return ret;
	}
	return 0;
}

void fw_cfg_fini(struct fw_cfg *f)
{
	for (unsigned i = 0; i < f->nr_items; i++)
		free(f->items[i].data);
	f->nr_items = 0;
	pthread_mutex_destroy(&f->lock);
}

/* ---- as a device of a VM ---- */

struct fw_cfg_state {
	struct fw_cfg f;
	bool have_port, have_dma;
};

static int fw_cfg_attach(struct device *dev)
{
	struct fw_cfg_state *st = container_of(dev, struct fw_cfg_state, f.dev);
	int ret;

	ret = bus_add(&dev->vm->pio, FW_CFG_PORT, 2, fw_cfg_io, fw_cfg_reg_name,
		      &st->f, dev->name);
	st->have_port = ret == 0;
	if (ret)
		return ret;
	ret = bus_add(&dev->vm->pio, FW_CFG_DMA_PORT, 8, fw_cfg_dma_io,
		      fw_cfg_dma_reg_name, &st->f, dev->name);
	st->have_dma = ret == 0;
	return ret;
}

static void fw_cfg_free(struct device *dev)
{
	struct fw_cfg_state *st = container_of(dev, struct fw_cfg_state, f.dev);

	if (st->have_port)
		bus_remove(&dev->vm->pio, FW_CFG_PORT);
	if (st->have_dma)
		bus_remove(&dev->vm->pio, FW_CFG_DMA_PORT);
	fw_cfg_fini(&st->f);
	free(st);
}

static const struct device_ops fw_cfg_ops = {
	.attach = fw_cfg_attach,
	.free = fw_cfg_free,
};

int fw_cfg_create(struct vm *vm, struct fw_cfg **out)
{
	struct fw_cfg_state *st = calloc(1, sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	ret = fw_cfg_init(&st->f, &vm->mem);
	if (ret) {
		free(st);
		return ret;
	}
	device_init(&st->f.dev, &fw_cfg_ops, "fw_cfg", vm, "fw_cfg");
	*out = &st->f;
	return 0;
}
