/* SPDX-License-Identifier: MIT
 * blk-hostile.c - a hostile guest driver for minivmm's virtio-blk (runs as
 * root inside the guest; built statically on the host by
 * tests/integration/cases/blk-hostile.prep).
 *
 *   blk-hostile 0000:00:05.0
 *
 * Takes the PCI function away from Linux (unbinds virtio-pci), maps its
 * BAR 0 through sysfs, turns bus mastering back on through the config file
 * (unbinding cleared it, and the device does no DMA without it) and drives
 * it by hand: for each attack it resets the device, sets up queue 0 in
 * locked pages whose physical addresses come from /proc/self/pagemap,
 * writes a malformed ring or request, kicks, and checks the device
 * answered as the VIRTIO spec wants (DEVICE_NEEDS_RESET, or an error
 * status for a well-formed but invalid request) instead of the VMM
 * dying. Prints "HOSTILE <name> ok|FAIL ..." per attack and
 * "HOSTILE-RESULT pass=N fail=M"; exits 0 only if all passed.
 *
 * The plumbing (device take-over, pages, queue set-up, the ring attacks
 * every device shares) is in vdev-hostile.h.
 */
#include "vdev-hostile.h"

#define F_INDIRECT_DESC (1ULL << 28)

static uint8_t init_dev(uint64_t desc_override, int driver_ok)
{
	return init_dev_q(0, F_INDIRECT_DESC, desc_override, driver_ok);
}

static void init_default(void) { init_dev(0, 1); }

/* a virtio-blk request header for `type` at `sector` in P_HDR; status
 * byte at offset 64 of that page, preset to 0xee */
static void hdr(uint32_t type, uint64_t sector)
{
	uint8_t *h = page(P_HDR);
	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	h[64] = 0xee;
}

/* A normal 3-descriptor request: header, data (512 bytes), status. */
static void normal_req(uint32_t type, uint64_t sector, int data_write)
{
	hdr(type, sector);
	d(0, phys[P_HDR], 16, F_NEXT, 1);
	d(1, phys[P_DATA], 512, F_NEXT | (data_write ? F_WRITE : 0), 2);
	d(2, phys[P_HDR] + 64, 1, F_WRITE, 0);
}

static void sanity(const char *name)
{
	uint8_t st = init_dev(0, 1);
	normal_req(0 /* IN */, 0, 1);
	publish(0, 1);
	int got = wait_used(1);
	uint8_t s = ((uint8_t *)page(P_HDR))[64];
	char why[96];
	snprintf(why, sizeof(why), "status reg %#x, used %d, blk status %#x",
		 st, got, s);
	result(name, got && s == 0 && !(r8(COMMON + STATUS) & S_NEEDS_RESET),
	       why);
}

int main(int argc, char **argv)
{
	int rc = hostile_start(argc, argv, "blk-hostile");

	if (rc)
		return rc;

	sanity("sanity-before");

	ring_attacks("", init_default);

	/* rings outside RAM: refused at queue_enable */
	{
		init_dev(1ULL << 45, 0);
		result("ring-outside-ram", wait_needs_reset() &&
					   r16(COMMON + QENABLE) == 0,
		       "queue enabled or no NEEDS_RESET");
	}

	/* well-formed but invalid requests: error status, device fine */
	{
		uint64_t cap;
		init_dev(0, 1);
		cap = r32(DEVCFG) | (uint64_t)r32(DEVCFG + 4) << 32;
		normal_req(0, cap, 1);
		publish(0, 1);
		int got = wait_used(1);
		uint8_t s = ((uint8_t *)page(P_HDR))[64];
		result("read-past-end", got && s == 1 &&
				       !(r8(COMMON + STATUS) & S_NEEDS_RESET),
		       "no IOERR status");
		init_dev(0, 1);
		normal_req(0, UINT64_MAX / 256, 1);
		publish(0, 1);
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("sector-overflow", got && s == 1, "no IOERR status");
		init_dev(0, 1);
		hdr(0x1234, 0);
		d(0, phys[P_HDR], 16, F_NEXT, 1);
		d(1, phys[P_HDR] + 64, 1, F_WRITE, 0);
		publish(0, 1);
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("unknown-type", got && s == 2, "no UNSUPP status");
		/* data the wrong way round: a write whose data is
		 * device-writable, a read into device-readable memory */
		init_dev(0, 1);
		normal_req(1 /* OUT */, 0, 1);
		publish(0, 1);
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("write-data-device-writable",
		       got && s == 1 && used32()[2] == 1 &&
			       !(r8(COMMON + STATUS) & S_NEEDS_RESET),
		       "no IOERR status");
		init_dev(0, 1);
		normal_req(0 /* IN */, 0, 0);
		publish(0, 1);
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("read-data-device-readable",
		       got && s == 1 && used32()[2] == 1 &&
			       !(r8(COMMON + STATUS) & S_NEEDS_RESET),
		       "no IOERR status");
	}

	/* no writable byte at all, so no room for the status: the request
	 * cannot be completed, the device needs a reset */
	init_dev(0, 1);
	hdr(1 /* OUT */, 0);
	d(0, phys[P_HDR], 16, F_NEXT, 1);
	d(1, phys[P_DATA], 512, 0, 0);
	publish(0, 1);
	result("no-status-byte", wait_needs_reset() && used16()[1] == 0,
	       "no NEEDS_RESET, or the chain was completed");

	/* bus mastering off: the device must not touch the ring; the request
	 * is served once it is back on */
	{
		int early, got, ok;
		uint8_t s;

		init_dev(0, 1);
		ok = !set_bus_master(0);
		normal_req(0 /* IN */, 0, 1);
		publish(0, 1);
		msleep(200);
		early = used16()[1];
		ok = !set_bus_master(1) && ok;
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("bus-master-off", ok && !early && got && s == 0,
		       early ? "request served with bus mastering off"
			     : "config write failed or not served after");
	}

	/* register abuse: out-of-range selects, sizes, vectors, odd widths */
	{
		init_dev(0, 0);
		w16(COMMON + QSEL, 0xffff);
		w16(COMMON + QSIZE, 4);
		w16(COMMON + QENABLE, 1);
		w64(COMMON + QDESC, 0);
		w16(COMMON + QSEL, 0);
		w16(COMMON + QSIZE, 3);
		w16(COMMON + QMSIX, 0x7fff);
		w32(COMMON + DFSEL, 0xffffffff);
		(void)r32(COMMON + DF);
		w32(COMMON + GFSEL, 0xffffffff);
		w32(COMMON + GF, 0xffffffff);
		for (unsigned o = 0x38; o < 0x1000; o += 4)
			w32(COMMON + o, 0xffffffff);
		for (unsigned o = 0; o < 0x1000; o += 4)
			(void)r32(DEVCFG + o);
		for (unsigned o = 0; o < 0x1000; o += 4)
			w32(DEVCFG + o, 0xffffffff);
		for (unsigned o = 4; o < 0x1000; o += 4)
			w32(NOTIFY + o, 0);
		(void)r8(ISR + 1);
		int ok = r16(COMMON + QSIZE) != 3;
		w16(COMMON + QSEL, 0xffff);
		ok = ok && r16(COMMON + QSIZE) == 0;
		result("register-abuse", ok, "bad values were accepted");
	}

	sanity("sanity-after");
	w8(COMMON + STATUS, 0); /* leave it reset */
	printf("HOSTILE-RESULT pass=%d fail=%d\n", pass, fail);
	return fail ? 1 : 0;
}
