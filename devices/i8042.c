/* SPDX-License-Identifier: MIT
 * i8042.c - 8042 keyboard controller ("IBM PC/AT Technical Reference",
 * keyboard controller commands; the PS/2 keyboard command set).
 *
 * Status register (port 0x64 read): bit 0 output buffer full, bit 1 input
 * buffer full (never: we take bytes at once), bit 2 system flag, bit 3 last
 * write was a command, bit 4 keyboard not locked. The output buffer is a small queue; keyboard
 * interrupts go out on IRQ 1 while bytes wait and CTR bit 0 allows it.
 * There is no auxiliary (mouse) port: its loopback test fails, so Linux
 * registers only the keyboard. Command 0xFE (or clearing output-port bit 0)
 * resets the machine.
 */
#include "i8042.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/vm.h"

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_A2 0x08
#define STS_UNLOCKED 0x10 /* keyboard not inhibited by the key lock */

#define CTR_KBDINT 0x01
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40

static void update_irq(struct i8042 *k)
{
	bool level = k->q_count && (k->ctr & CTR_KBDINT);

	if (level != k->irq_level) {
		k->irq_level = level;
		if (k->set_irq)
			k->set_irq(k->opaque, level);
	}
}

static void push(struct i8042 *k, uint8_t v)
{
	if (k->q_count < I8042_QUEUE) {
		k->q[(k->q_head + k->q_count) % I8042_QUEUE] = v;
		k->q_count++;
	}
}

void i8042_init(struct i8042 *k, void (*set_irq)(void *, bool),
		void (*reset)(void *), void *opaque)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE | CTR_AUXDIS;
	k->outport = 0x01; /* reset line not asserted */
	k->set_irq = set_irq;
	k->reset = reset;
	k->opaque = opaque;
}

/* A byte sent to the keyboard itself (data port, no controller command
 * pending). Every command is acknowledged with 0xFA. */
static void kbd_command(struct i8042 *k, uint8_t v)
{
	if (k->kbd_pending) { /* argument of LEDs / typematic / scan set */
		k->kbd_pending = false;
		push(k, 0xfa);
		return;
	}
	switch (v) {
	case 0xed: /* set LEDs */
	case 0xf3: /* set typematic rate */
	case 0xf0: /* select scan code set */
		k->kbd_pending = true;
		push(k, 0xfa);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		push(k, 0xfa);
		push(k, 0xab);
		push(k, 0x83);
		break;
	case 0xee: /* echo */
		push(k, 0xee);
		break;
	case 0xff: /* reset: ack, then self-test passed */
		push(k, 0xfa);
		push(k, 0xaa);
		break;
	default: /* enable, disable, set defaults, ... */
		push(k, 0xfa);
		break;
	}
}

static void write_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case 0x60: /* write CTR */
		k->ctr = v;
		break;
	case 0xd1: /* write output port; bit 0 low pulls the reset line */
		k->outport = v;
		if (!(v & 1) && k->reset)
			k->reset(k->opaque);
		break;
	case 0xd2: /* write keyboard output buffer */
		push(k, v);
		break;
	case 0xd3: /* write aux output buffer: no aux port, dropped */
	case 0xd4: /* write to aux device: no aux port, dropped */
		break;
	default:
		kbd_command(k, v);
		break;
	}
}

static void write_cmd(struct i8042 *k, uint8_t v)
{
	switch (v) {
	case 0x20: /* read CTR */
		push(k, k->ctr);
		break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->pending = v; /* data byte follows on port 0x60 */
		break;
	case 0xa7: /* disable aux */
		k->ctr |= CTR_AUXDIS;
		break;
	case 0xa8: /* enable aux: there is none, the bit stays set */
		break;
	case 0xa9: /* test aux interface: 0xff, not present */
		push(k, 0xff);
		break;
	case 0xaa: /* controller self-test */
		push(k, 0x55);
		break;
	case 0xab: /* test keyboard interface: no error */
		push(k, 0x00);
		break;
	case 0xad: /* disable keyboard */
		k->ctr |= CTR_KBDDIS;
		break;
	case 0xae: /* enable keyboard */
		k->ctr &= ~CTR_KBDDIS;
		break;
	case 0xc0: /* read input port */
		push(k, 0x80);
		break;
	case 0xd0: /* read output port */
		push(k, k->outport);
		break;
	case 0xfe: /* pulse reset line */
		if (k->reset)
			k->reset(k->opaque);
		break;
	default:
		/* 0xf0-0xff pulse output lines; bit 0 clear pulses reset */
		if (v >= 0xf0 && !(v & 1) && k->reset)
			k->reset(k->opaque);
		break;
	}
}

/* One access to port 0x60 (data) or 0x64 (status/command). */
static void port_io(struct i8042 *k, bool cmd_port, uint64_t off, void *data,
		    unsigned len, bool is_write)
{
	uint8_t *p = data;

	if (off || len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&k->lock);
	if (is_write) {
		k->last_was_cmd = cmd_port;
		if (cmd_port)
			write_cmd(k, *p);
		else
			write_data(k, *p);
	} else if (cmd_port) {
		*p = (k->q_count ? STS_OBF : 0) | STS_SYS | STS_UNLOCKED |
		     (k->last_was_cmd ? STS_A2 : 0);
	} else if (k->q_count) {
		*p = k->q[k->q_head];
		k->q_head = (k->q_head + 1) % I8042_QUEUE;
		k->q_count--;
	} else {
		*p = 0; /* nothing waiting */
	}
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

void i8042_data_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	port_io(opaque, false, off, data, len, is_write);
}

void i8042_cmd_io(void *opaque, uint64_t off, void *data, unsigned len,
		  bool is_write)
{
	port_io(opaque, true, off, data, len, is_write);
}

/* 0x60 is the data port (the output buffer when read, input to the
 * keyboard or a command's parameter when written), 0x64 the status
 * register when read and the command register when written. */
static unsigned i8042_data_name(void *opaque, uint64_t off, unsigned len,
				bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)off;
	(void)len;
	(void)is_write;
	snprintf(buf, size, "data");
	return 0;
}

static unsigned i8042_cmd_name(void *opaque, uint64_t off, unsigned len,
			       bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)off;
	(void)len;
	snprintf(buf, size, "%s", is_write ? "command" : "status");
	return 0;
}

/* ---- the controller as a device of a VM ---- */

#define I8042_IRQ 1

static struct i8042 *of(struct device *dev)
{
	return container_of(dev, struct i8042, dev);
}

static void kbd_irq(void *opaque, bool level)
{
	vm_irq_line(opaque, I8042_IRQ, level);
}

static void kbd_reset(void *opaque)
{
	vm_request_reboot(opaque);
}

static int i8042_attach(struct device *dev)
{
	struct i8042 *k = of(dev);
	int ret = bus_add(&dev->vm->pio, 0x60, 1, i8042_data_io,
			  i8042_data_name, k, dev->name);

	if (ret)
		return ret;
	ret = bus_add(&dev->vm->pio, 0x64, 1, i8042_cmd_io, i8042_cmd_name, k,
		      dev->name);
	if (ret) {
		bus_remove(&dev->vm->pio, 0x60);
		return ret;
	}
	k->attached = true;
	return 0;
}

static void i8042_free(struct device *dev)
{
	struct i8042 *k = of(dev);

	if (k->attached) {
		bus_remove(&dev->vm->pio, 0x64);
		bus_remove(&dev->vm->pio, 0x60);
	}
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static const struct device_ops i8042_ops = {
	.attach = i8042_attach,
	.free = i8042_free,
};

int i8042_create(struct vm *vm, struct i8042 **out)
{
	struct i8042 *k = malloc(sizeof(*k));

	if (!k)
		return -ENOMEM;
	i8042_init(k, kbd_irq, kbd_reset, vm);
	device_init(&k->dev, &i8042_ops, "i8042", vm, "i8042");
	*out = k;
	return 0;
}
