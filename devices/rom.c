/* SPDX-License-Identifier: MIT
 * rom.c - a read-only memory region on the MMIO bus (a PC's BIOS flash at
 * the top of the 32-bit address space, "System BIOS" area of the chipset
 * memory map: the reset vector's alias at 0xFFFFFFF0).
 *
 * The image sits at the end of a page-aligned buffer (0xff before it, as
 * unprogrammed flash reads) that KVM maps read-only into the guest
 * (KVM_MEM_READONLY): reads and instruction fetches run at memory speed
 * (SeaBIOS runs its shadow-RAM unlock code from here and copies itself
 * below 1 MiB from here), and a write becomes an MMIO exit that does
 * nothing, as on flash that is not being programmed. The chipset's alias
 * of the image's last 128 KiB below 1 MiB is devices/x86/i440fx.c's.
 */
#include "rom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* Writes (and reads, should KVM ever send one) exit to the bus handler;
 * the memory slot serves the rest. */
static int rom_attach(struct device *dev)
{
	struct rom *r = container_of(dev, struct rom, dev);
	struct vm *vm = dev->vm;
	int ret = bus_add(&vm->mmio, r->gpa, r->size, rom_io, rom_reg_name, r,
			  dev->name);

	if (ret)
		return ret;
	r->attached = true;
	if ((ret = vm_memslot_alloc(vm)) < 0)
		return ret;
	r->slot = ret;
	if ((ret = vm_set_memslot(vm, (unsigned)r->slot, r->gpa, r->size,
				  r->data, true)))
		r->slot = -1;
	return ret;
}

static void rom_free(struct device *dev)
{
	struct rom *r = container_of(dev, struct rom, dev);

	if (r->slot >= 0)
		vm_set_memslot(dev->vm, (unsigned)r->slot, 0, 0, NULL, false);
	if (r->attached)
		bus_remove(&dev->vm->mmio, r->gpa);
	munmap(r->data, r->size);
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
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), map;
	struct rom *r;
	struct stat st;
	void *p;
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
	map = ((uint64_t)st.st_size + page - 1) & ~(page - 1);
	if (end % page || map > end) {
		close(fd);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	p = r ? mmap(NULL, map, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;
	if (p == MAP_FAILED) {
		free(r);
		close(fd);
		return -ENOMEM;
	}
	r->data = p;
	r->size = (uint32_t)map;
	r->gpa = end - map;
	r->slot = -1;
	memset(r->data, 0xff, map - (uint64_t)st.st_size);
	ret = read_all(fd, r->data + map - (uint64_t)st.st_size,
		       (size_t)st.st_size);
	close(fd);
	/* nothing writes the image again: the VMM's copy is read-only too */
	if (!ret && mprotect(r->data, map, PROT_READ))
		ret = -errno;
	if (ret) {
		munmap(r->data, map);
		free(r);
		return ret;
	}
	device_init(&r->dev, &rom_ops, "bios-rom", vm, "bios-rom");
	*out = r;
	return 0;
}
