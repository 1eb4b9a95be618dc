/* SPDX-License-Identifier: MIT
 * i8042.h - the PS/2 keyboard controller at ports 0x60/0x64: enough of it
 * for Linux's i8042 driver to probe cleanly (a keyboard, no mouse) and for
 * `reboot=k` (command 0xFE, pulse the reset line).
 */
#ifndef MINIVMM_I8042_H
#define MINIVMM_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

struct vm;

#define I8042_QUEUE 16

struct i8042 {
	struct device dev; /* as a device of a VM: i8042_create() */
	bool attached;
	pthread_mutex_t lock;
	uint8_t ctr;        /* controller command byte ("CTR") */
	uint8_t pending;    /* command awaiting its data byte, or 0 */
	bool kbd_pending;   /* keyboard command awaiting its argument */
	uint8_t outport;
	uint8_t q[I8042_QUEUE]; /* output buffer bytes for the guest */
	unsigned q_head, q_count;
	bool last_was_cmd;  /* status bit 3 (A2) */
	bool irq_level;
	void (*set_irq)(void *opaque, bool level);
	void (*reset)(void *opaque);
	void *opaque;
};

/* The controller of a VM (device.h): ports 0x60 and 0x64, keyboard
 * interrupt on ISA IRQ 1, and its reset line reboots the VM. 0 or -errno. */
int i8042_create(struct vm *vm, struct i8042 **out);

/* The model alone: the owner registers the bus handlers and supplies the
 * interrupt line and reset callbacks. */
void i8042_init(struct i8042 *k, void (*set_irq)(void *, bool),
		void (*reset)(void *), void *opaque);
/* Bus handlers: data port 0x60 and status/command port 0x64. */
void i8042_data_io(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write);
void i8042_cmd_io(void *opaque, uint64_t off, void *data, unsigned len,
		  bool is_write);

#endif
