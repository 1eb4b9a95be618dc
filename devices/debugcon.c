/* SPDX-License-Identifier: MIT
 * debugcon.c - the firmware debug console (QEMU's "isa-debugcon": one
 * I/O port, 0x402 on the PC, whose writes are bytes of text and whose
 * reads return 0xe9 so that firmware can tell it is there).
 *
 * Bytes are gathered and written to the file a line at a time (or when
 * the buffer is full, or at the end): a guest that prints a lot costs
 * one write(2) per line. Without a file the port reads as all ones, which
 * SeaBIOS takes as "no debug port" and then never writes to.
 */
#include "debugcon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/bus.h"
#include "vmm/vm.h"

/* Lock held. */
static void flush_locked(struct debugcon *d)
{
	unsigned at = 0;

	while (d->fd >= 0 && at < d->n) {
		ssize_t w = write(d->fd, d->buf + at, d->n - at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* a full disk loses the firmware's chatter */
		at += (unsigned)w;
	}
	d->n = 0;
}

void debugcon_flush(struct debugcon *d)
{
	pthread_mutex_lock(&d->lock);
	flush_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void debugcon_io(void *opaque, uint64_t off, void *data, unsigned len,
		 bool is_write)
{
	struct debugcon *d = opaque;
	uint8_t *p = data;

	(void)off;
	if (!is_write) {
		memset(p, d->fd >= 0 ? DEBUGCON_READBACK : 0xff, len);
		return;
	}
	if (d->fd < 0)
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < len; i++) {
		d->buf[d->n++] = (char)p[i];
		if (p[i] == '\n' || d->n == sizeof(d->buf))
			flush_locked(d);
	}
	pthread_mutex_unlock(&d->lock);
}

static unsigned debugcon_reg_name(void *opaque, uint64_t off, unsigned len,
				  bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)off;
	(void)len;
	(void)is_write;
	strncpy(buf, "data", size);
	if (size)
		buf[size - 1] = 0;
	return BUS_REG_CHAR;
}

void debugcon_init(struct debugcon *d, int fd)
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	pthread_mutex_init(&d->lock, NULL);
}

static int debugcon_attach(struct device *dev)
{
	struct debugcon *d = container_of(dev, struct debugcon, dev);
	int ret = bus_add(&dev->vm->pio, DEBUGCON_PORT, 1, debugcon_io,
			  debugcon_reg_name, d, dev->name);

	d->attached = ret == 0;
	return ret;
}

static void debugcon_stop(struct device *dev)
{
	debugcon_flush(container_of(dev, struct debugcon, dev));
}

static void debugcon_free(struct device *dev)
{
	struct debugcon *d = container_of(dev, struct debugcon, dev);

	if (d->attached)
		bus_remove(&dev->vm->pio, DEBUGCON_PORT);
	flush_locked(d);
	if (d->fd >= 0)
		close(d->fd);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static const struct device_ops debugcon_ops = {
	.attach = debugcon_attach,
	.stop = debugcon_stop,
	.free = debugcon_free,
};

int debugcon_create(struct vm *vm, const char *path, struct debugcon **out)
{
	struct debugcon *d = malloc(sizeof(*d));
	int fd = -1;

	if (!d)
		return -ENOMEM;
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			int ret = -errno;

			free(d);
			return ret;
		}
	}
	debugcon_init(d, fd);
	device_init(&d->dev, &debugcon_ops, "debugcon", vm, "debugcon");
	*out = d;
	return 0;
}
