/* SPDX-License-Identifier: MIT
 * pl031.c - ARM PrimeCell Real Time Clock (PL031), after its Technical
 * Reference Manual (ARM DDI 0224, chapter 3 "Programmer's Model").
 *
 * The counter (RTCDR) is the host's UTC time in seconds plus an offset the
 * guest moves by writing RTCLR; it always runs (RTCCR reads 1). The match
 * register is kept, and the match interrupt follows the TRM's flags as far
 * as the guest can see them: RTCRIS is set when the counter is found equal
 * to RTCMR at an access (a reading of RTCDR, RTCRIS or RTCMIS, or any
 * write), once per matching second, RTCMIS is RTCRIS masked by RTCIMSC,
 * RTCICR clears it, and the interrupt line
 * follows RTCMIS. No timer runs to catch a match between accesses: Linux
 * only reads the time and sets alarms it does not wait for at boot.
 *
 * The PrimeCell identification registers at 0xfe0-0xffc let Linux's AMBA
 * bus match the device (peripheral ID 0x00041031, cell ID 0xb105f00d).
 * Every register is 32 bits wide; other widths and offsets read as zero
 * and are ignored on write.
 */
#include "pl031.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/vm.h"

static const uint8_t periph_id[4] = { 0x31, 0x10, 0x04, 0x00 };
static const uint8_t pcell_id[4] = { 0x0d, 0xf0, 0x05, 0xb1 };

static uint32_t counter(const struct pl031 *r)
{
	return (uint32_t)((int64_t)r->now() + r->offset);
}

/* Lock held: note a match, then drive the line to RTCMIS. */
static void update(struct pl031 *r)
{
	bool level;

	uint32_t now = counter(r);

	if (now == r->mr && !(r->cleared && r->cleared_at == now))
		r->ris = true;
	level = r->ris && r->imsc;
	if (level != r->irq_level) {
		r->irq_level = level;
		if (r->dev.vm)
			vm_irq_line(r->dev.vm, r->irq, level);
	}
}

static uint32_t reg_read(struct pl031 *r, uint64_t off)
{
	if (off >= PL031_PERIPH_ID && off < PL031_PERIPH_ID + 16)
		return periph_id[(off - PL031_PERIPH_ID) / 4];
	if (off >= PL031_PCELL_ID && off < PL031_PCELL_ID + 16)
		return pcell_id[(off - PL031_PCELL_ID) / 4];
	switch (off) {
	case PL031_DR:
		update(r);
		return counter(r);
	case PL031_MR:
		return r->mr;
	case PL031_LR: /* the last value loaded: the counter, near enough */
		return counter(r);
	case PL031_CR:
		return 1;
	case PL031_IMSC:
		return r->imsc;
	case PL031_RIS:
		update(r);
		return r->ris;
	case PL031_MIS:
		update(r);
		return r->ris && r->imsc;
	default:
		return 0;
	}
}

static void reg_write(struct pl031 *r, uint64_t off, uint32_t v)
{
	switch (off) {
	case PL031_MR:
		r->mr = v;
		break;
	case PL031_LR:
		r->offset = (int64_t)v - (int64_t)r->now();
		break;
	case PL031_IMSC:
		r->imsc = v & 1;
		break;
	case PL031_ICR:
		if (v & 1) {
			r->ris = false;
			r->cleared = true;
			r->cleared_at = counter(r);
		}
		break;
	default: /* RTCDR, RTCCR (the clock cannot be stopped), read-only */
		return;
	}
	update(r);
}

void pl031_io(void *opaque, uint64_t off, void *data, unsigned len,
	      bool is_write)
{
	struct pl031 *r = opaque;
	uint32_t v = 0;

	if (len != 4 || (off & 3) || off >= PL031_SIZE) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&r->lock);
	if (is_write) {
		memcpy(&v, data, 4);
		reg_write(r, off, v);
	} else {
		v = reg_read(r, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&r->lock);
}

unsigned pl031_reg_name(void *opaque, uint64_t off, unsigned len,
			bool is_write, char *buf, size_t size)
{
	static const char *const names[] = { "RTCDR", "RTCMR", "RTCLR",
		"RTCCR", "RTCIMSC", "RTCRIS", "RTCMIS", "RTCICR" };

	(void)opaque;
	(void)len;
	(void)is_write;
	if (off < 0x20 && !(off & 3))
		snprintf(buf, size, "%s", names[off / 4]);
	else if (off >= PL031_PERIPH_ID && off < PL031_PERIPH_ID + 16)
		snprintf(buf, size, "RTCPeriphID%u",
			 (unsigned)(off - PL031_PERIPH_ID) / 4);
	else if (off >= PL031_PCELL_ID && off < PL031_PCELL_ID + 16)
		snprintf(buf, size, "RTCPCellID%u",
			 (unsigned)(off - PL031_PCELL_ID) / 4);
	else
		snprintf(buf, size, "+0x%llx", (unsigned long long)off);
	return 0;
}

static time_t host_now(void)
{
	return time(NULL);
}

void pl031_init(struct pl031 *r, time_t (*now)(void))
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->now = now ? now : host_now;
}

/* ---- the clock as a device of a VM ---- */

static struct pl031 *of(struct device *dev)
{
	return container_of(dev, struct pl031, dev);
}

static int pl031_attach(struct device *dev)
{
	struct pl031 *r = of(dev);
	int ret = bus_add(&dev->vm->mmio, r->base, PL031_SIZE, pl031_io,
			  pl031_reg_name, r, dev->name);

	r->attached = ret == 0;
	return ret;
}

static void pl031_free(struct device *dev)
{
	struct pl031 *r = of(dev);

	if (r->attached)
		bus_remove(&dev->vm->mmio, r->base);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const struct device_ops pl031_ops = {
	.attach = pl031_attach,
	.free = pl031_free,
};

int pl031_create(struct vm *vm, uint64_t base, unsigned irq,
		 struct pl031 **out)
{
	struct pl031 *r = malloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	pl031_init(r, NULL);
	device_init(&r->dev, &pl031_ops, "pl031", vm, "rtc");
	r->base = base;
	r->irq = irq;
	*out = r;
	return 0;
}
