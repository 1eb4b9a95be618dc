/* SPDX-License-Identifier: MIT
 * rom.c - a read-only memory region on the MMIO bus (a PC's BIOS flash at
 * the top of the 32-bit address space, "System BIOS" area of the chipset
 * memory map: the reset vector's alias at 0xFFFFFFF0).
 *
 * Every access is an MMIO exit: firmware reads this copy rarely (SeaBIOS
 * copies itself back below 1 MiB from it before a reboot), and the copy it
 * runs from is guest RAM. A write does nothing, as on flash that is not
 * being programmed.
 */
#include "rom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/bus.h"
#include "vmm/vm.h"

void rom_io(void *opaque, uint64_t off, void *data, unsigned len,
	    bool is_write)
{
	struct rom *r = opaque;
	uint8_t *d = data;

	if (is_write)
		return;
	for (unsigned i = 0; i < len; i++)
		d[i] = off + i < r->size ? r->data[off + i] : 0xff;
}

static unsigned rom_reg_name(void *opaque, uint64_t off, unsigned len,
			     bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)len;
	(void)is_write;
	snprintf(buf, size, "+0x%llx", (unsigned long long)off);
	return 0;
}

static int rom_attach(struct device *dev)
{
	struct rom *r = container_of(dev, struct rom, dev);
	int ret = bus_add(&dev->vm->mmio, r->gpa, r->size, rom_io, rom_reg_name,
			  r, dev->name);

	r->attached = ret == 0;
	return ret;
}

static void rom_free(struct device *dev)
{
	struct rom *r = container_of(dev, struct rom, dev);

	if (r->attached)
		bus_remove(&dev->vm->mmio, r->gpa);
	free(r->data);
	free(r);
}

static const struct device_ops rom_ops = {
	.attach = rom_attach,
	.free = rom_free,
};

static int read_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shorter than fstat said */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rom_create(struct vm *vm, const char *path, uint64_t end, struct rom **out)
{
	struct rom *r;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > ROM_MAX_SIZE || (uint64_t)st.st_size > end) {
		close(fd);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->data = malloc((size_t)st.st_size);
	if (!r || !r->data) {
		free(r);
		close(fd);
		return -ENOMEM;
	}
	r->size = (uint32_t)st.st_size;
	r->gpa = end - r->size;
	ret = read_all(fd, r->data, r->size);
	close(fd);
	if (ret) {
		free(r->data);
		free(r);
		return ret;
	}
	device_init(&r->dev, &rom_ops, "bios-rom", vm, "bios-rom");
	*out = r;
	return 0;
}
