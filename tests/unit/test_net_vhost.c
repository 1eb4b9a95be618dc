/* SPDX-License-Identifier: MIT
 * Unit tests: virtio-net's vhost-net protocol (virtio/net_vhost.c) without
 * /dev/vhost-net: the features handed to vhost, the memory table, the
 * ring addresses checked against guest RAM, and the ioctl sequence of a
 * start and a stop, recorded through the net_vhost_ops seam. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "virtio/net_vhost.h"

#define BIT(n) (1ULL << (n))

/* ---- a recording vhost ---- */

#define MAX_CALLS 64

struct call {
	unsigned long req;
	unsigned idx, num;  /* vring state / file index, num */
	int fd;             /* vring file fd */
	uint64_t u64;       /* features */
	struct vhost_vring_addr addr;
	unsigned nregions;
	struct vhost_memory_region region[GM_MAX_REGIONS];
};

static struct {
	struct call c[MAX_CALLS];
	unsigned n;
	unsigned long fail_req; /* fail this request ... */
	unsigned fail_nth;      /* ... its nth time (1-based) */
	unsigned seen;
	int open_err;
	uint64_t features;
} rec;

static int fake_open(const char *path)
{
	assert_string_equal(path, NET_VHOST_DEV);
	if (rec.open_err)
		return rec.open_err;
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	struct call *c;

	assert_true(fd >= 0);
	assert_true(rec.n < MAX_CALLS);
	if (req == rec.fail_req && ++rec.seen == rec.fail_nth)
		return -EINVAL;
	c = &rec.c[rec.n++];
	memset(c, 0, sizeof(*c));
	c->req = req;
	if (req == VHOST_GET_FEATURES) {
		*(uint64_t *)arg = rec.features;
	} else if (req == VHOST_SET_FEATURES) {
		c->u64 = *(uint64_t *)arg;
	} else if (req == VHOST_SET_MEM_TABLE) {
		const struct vhost_memory *m = arg;

		c->nregions = m->nregions;
		assert_true(m->nregions <= GM_MAX_REGIONS);
		memcpy(c->region, m->regions, m->nregions * sizeof(c->region[0]));
	} else if (req == VHOST_SET_VRING_NUM || req == VHOST_SET_VRING_BASE) {
		const struct vhost_vring_state *s = arg;

		c->idx = s->index;
		c->num = s->num;
	} else if (req == VHOST_GET_VRING_BASE) {
		struct vhost_vring_state *s = arg;

		c->idx = s->index;
		s->num = 40 + s->index;
	} else if (req == VHOST_SET_VRING_ADDR) {
		c->addr = *(struct vhost_vring_addr *)arg;
		c->idx = c->addr.index;
	} else if (req == VHOST_SET_VRING_KICK || req == VHOST_SET_VRING_CALL ||
		   req == VHOST_SET_VRING_ERR ||
		   req == VHOST_NET_SET_BACKEND) {
		const struct vhost_vring_file *f = arg;

		c->idx = f->index;
		c->fd = f->fd;
	}
	return 0;
}

static const struct net_vhost_ops fake_ops = {
	.open = fake_open,
	.ioctl = fake_ioctl,
};

/* everything a Linux guest accepts of what vhost-net offers */
#define VHOST_ALL                                                           \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |           \
	 BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_NET_F_MRG_RXBUF) |   \
	 BIT(VHOST_NET_F_VIRTIO_NET_HDR) | BIT(VIRTIO_F_NOTIFY_ON_EMPTY))

static uint8_t low[0x20000], high[0x2000];

static struct guest_mem two_regions(void)
{
	struct guest_mem gm = { 0 };

	assert_int_equal(gm_add_region(&gm, 0, sizeof(low), low), 0);
	assert_int_equal(gm_add_region(&gm, 0x100000000ULL, sizeof(high),
				       high), 0);
	return gm;
}

static void reset_rec(void)
{
	memset(&rec, 0, sizeof(rec));
	rec.features = VHOST_ALL;
}

/* ---- features ---- */

static void test_features(void **state)
{
	uint64_t guest = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |
			 BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CSUM) |
			 BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_CTRL_VQ) |
			 BIT(VIRTIO_NET_F_MAC);
	uint64_t acked = ~0ULL;

	(void)state;
	/* only the ring and header bits go to vhost: offloads are the
	 * tap's, the control queue ours */
	assert_int_equal(net_vhost_features(guest, VHOST_ALL, &acked), 0);
	assert_int_equal(acked, BIT(VIRTIO_F_VERSION_1) |
					BIT(VIRTIO_RING_F_EVENT_IDX) |
					BIT(VIRTIO_NET_F_MRG_RXBUF));
	/* the header stays with the tap whatever vhost offers */
	assert_false(acked & BIT(VHOST_NET_F_VIRTIO_NET_HDR));
	/* a ring feature the driver relies on that vhost lacks */
	assert_int_equal(net_vhost_features(guest,
					    VHOST_ALL & ~BIT(VIRTIO_NET_F_MRG_RXBUF),
					    &acked), -EOPNOTSUPP);
	assert_int_equal(net_vhost_features(guest | BIT(VIRTIO_RING_F_INDIRECT_DESC),
					    VHOST_ALL & ~BIT(VIRTIO_RING_F_INDIRECT_DESC),
					    &acked), -EOPNOTSUPP);
	/* ...but one the driver did not take does not matter */
	assert_int_equal(net_vhost_features(guest,
					    VHOST_ALL & ~BIT(VIRTIO_RING_F_INDIRECT_DESC),
					    &acked), 0);
	/* legacy header layout: not what the tap was set up for */
	assert_int_equal(net_vhost_features(guest & ~BIT(VIRTIO_F_VERSION_1),
					    VHOST_ALL, &acked), -EOPNOTSUPP);
}

/* ---- memory table and ring addresses ---- */

static void test_mem_table(void **state)
{
	struct guest_mem gm = two_regions();
	union {
		struct vhost_memory m;
		uint8_t buf[sizeof(struct vhost_memory) +
			    GM_MAX_REGIONS * sizeof(struct vhost_memory_region)];
	} mem;

	(void)state;
	assert_int_equal(net_vhost_mem_table(&gm, &mem.m, GM_MAX_REGIONS), 2);
	assert_int_equal(mem.m.nregions, 2);
	assert_int_equal(mem.m.regions[0].guest_phys_addr, 0);
	assert_int_equal(mem.m.regions[0].memory_size, sizeof(low));
	assert_int_equal(mem.m.regions[0].userspace_addr, (uintptr_t)low);
	assert_int_equal(mem.m.regions[1].guest_phys_addr, 0x100000000ULL);
	assert_int_equal(mem.m.regions[1].memory_size, sizeof(high));
	assert_int_equal(mem.m.regions[1].userspace_addr, (uintptr_t)high);
	assert_int_equal(net_vhost_mem_table(&gm, &mem.m, 1), -E2BIG);
}

static void test_ring_addr(void **state)
{
	struct guest_mem gm = two_regions();
	struct net_vhost_queue q = { .size = 256, .desc_gpa = 0x1000,
				     .avail_gpa = 0x2000, .used_gpa = 0x3000 };
	struct vhost_vring_addr a;

	(void)state;
	assert_int_equal(net_vhost_ring_addr(&gm, &q, 1, &a), 0);
	assert_int_equal(a.index, 1);
	assert_int_equal(a.desc_user_addr, (uintptr_t)(low + 0x1000));
	assert_int_equal(a.avail_user_addr, (uintptr_t)(low + 0x2000));
	assert_int_equal(a.used_user_addr, (uintptr_t)(low + 0x3000));
	assert_int_equal(a.flags, 0);     /* no dirty log */
	/* in the second region */
	q.used_gpa = 0x100000000ULL;
	assert_int_equal(net_vhost_ring_addr(&gm, &q, 0, &a), 0);
	assert_int_equal(a.used_user_addr, (uintptr_t)high);
	/* the used ring runs past the end of RAM: 6 + 8 * 256 bytes */
	q.used_gpa = sizeof(low) - 8 * 256;
	assert_int_equal(net_vhost_ring_addr(&gm, &q, 0, &a), -EFAULT);
	/* the descriptor table in the hole, or wrapping around */
	q.used_gpa = 0x3000;
	q.desc_gpa = 0x80000;
	assert_int_equal(net_vhost_ring_addr(&gm, &q, 0, &a), -EFAULT);
	q.desc_gpa = UINT64_MAX - 15;
	assert_int_equal(net_vhost_ring_addr(&gm, &q, 0, &a), -EFAULT);
	q.desc_gpa = 0x1000;
	q.size = 0;
	assert_int_equal(net_vhost_ring_addr(&gm, &q, 0, &a), -EFAULT);
}

/* ---- open, start, stop ---- */

static void queues(struct net_vhost_queue q[2])
{
	for (unsigned i = 0; i < 2; i++)
		q[i] = (struct net_vhost_queue){
			.size = 256, .base = (uint16_t)(7 * i),
			.desc_gpa = 0x4000 + 0x4000 * i,
			.avail_gpa = 0x5000 + 0x4000 * i,
			.used_gpa = 0x6000 + 0x4000 * i,
			.kick_fd = 100 + (int)i, .call_fd = 200 + (int)i,
			.err_fd = 300,
		};
}

static void test_open(void **state)
{
	struct net_vhost v;

	(void)state;
	reset_rec();
	rec.open_err = -ENOENT;
	assert_int_equal(net_vhost_open(&v, &fake_ops, NET_VHOST_DEV), -ENOENT);
	assert_int_equal(v.fd, -1);
	net_vhost_close(&v); /* harmless */

	reset_rec();
	rec.fail_req = VHOST_SET_OWNER; /* another process owns it */
	rec.fail_nth = 1;
	assert_int_equal(net_vhost_open(&v, &fake_ops, NET_VHOST_DEV), -EINVAL);
	assert_int_equal(v.fd, -1);

	reset_rec();
	assert_int_equal(net_vhost_open(&v, &fake_ops, NET_VHOST_DEV), 0);
	assert_true(v.fd >= 0);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.c[0].req, VHOST_SET_OWNER);
	assert_int_equal(rec.c[1].req, VHOST_GET_FEATURES);
	assert_int_equal(v.features, VHOST_ALL);
	net_vhost_close(&v);
	assert_int_equal(v.fd, -1);
}

static void test_start_stop(void **state)
{
	struct guest_mem gm = two_regions();
	struct net_vhost_queue q[2];
	struct net_vhost v;
	uint64_t guest = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
			 BIT(VIRTIO_NET_F_CSUM);
	unsigned k = 2;

	(void)state;
	reset_rec();
	queues(q);
	assert_int_equal(net_vhost_open(&v, &fake_ops, NET_VHOST_DEV), 0);
	assert_int_equal(net_vhost_start(&v, &gm, guest, q, 55), 0);
	assert_true(v.running);
	/* features, memory, then each queue, then the backends */
	assert_int_equal(rec.c[k].req, VHOST_SET_FEATURES);
	assert_int_equal(rec.c[k++].u64, BIT(VIRTIO_F_VERSION_1) |
						 BIT(VIRTIO_NET_F_MRG_RXBUF));
	assert_int_equal(rec.c[k].req, VHOST_SET_MEM_TABLE);
	assert_int_equal(rec.c[k].nregions, 2);
	assert_int_equal(rec.c[k++].region[1].userspace_addr, (uintptr_t)high);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(rec.c[k].req, VHOST_SET_VRING_NUM);
		assert_int_equal(rec.c[k].idx, i);
		assert_int_equal(rec.c[k++].num, 256);
		assert_int_equal(rec.c[k].req, VHOST_SET_VRING_BASE);
		assert_int_equal(rec.c[k++].num, 7 * i);
		assert_int_equal(rec.c[k].req, VHOST_SET_VRING_ADDR);
		assert_int_equal(rec.c[k].idx, i);
		assert_int_equal(rec.c[k++].addr.desc_user_addr,
				 (uintptr_t)(low + q[i].desc_gpa));
		assert_int_equal(rec.c[k].req, VHOST_SET_VRING_KICK);
		assert_int_equal(rec.c[k++].fd, 100 + (int)i);
		assert_int_equal(rec.c[k].req, VHOST_SET_VRING_CALL);
		assert_int_equal(rec.c[k++].fd, 200 + (int)i);
		/* a ring vhost cannot use is reported, not left silent */
		assert_int_equal(rec.c[k].req, VHOST_SET_VRING_ERR);
		assert_int_equal(rec.c[k].idx, i);
		assert_int_equal(rec.c[k++].fd, 300);
	}
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(rec.c[k].req, VHOST_NET_SET_BACKEND);
		assert_int_equal(rec.c[k].idx, i);
		assert_int_equal(rec.c[k++].fd, 55);
	}
	assert_int_equal(rec.n, k);
	/* a second start without a stop is refused */
	assert_int_equal(net_vhost_start(&v, &gm, guest, q, 55), -EBUSY);

	/* reset: backends off first, then the ring positions */
	net_vhost_stop(&v);
	assert_false(v.running);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(rec.c[k].req, VHOST_NET_SET_BACKEND);
		assert_int_equal(rec.c[k].idx, i);
		assert_int_equal(rec.c[k++].fd, -1);
	}
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(rec.c[k].req, VHOST_GET_VRING_BASE);
		assert_int_equal(rec.c[k++].idx, i);
		assert_int_equal(v.stop_base[i], 40 + i);
	}
	assert_int_equal(rec.n, k);
	net_vhost_stop(&v); /* idempotent */
	assert_int_equal(rec.n, k);

	/* the interrupt's target can change while running */
	assert_int_equal(net_vhost_set_call(&v, 1, 77), 0);
	assert_int_equal(rec.c[k].req, VHOST_SET_VRING_CALL);
	assert_int_equal(rec.c[k].idx, 1);
	assert_int_equal(rec.c[k++].fd, 77);
	assert_int_equal(net_vhost_set_call(&v, 2, 77), -EINVAL);
	assert_int_equal(rec.n, k);

	/* the driver probes again: everything is set anew */
	assert_int_equal(net_vhost_start(&v, &gm, guest, q, 55), 0);
	assert_int_equal(rec.c[k].req, VHOST_SET_FEATURES);
	net_vhost_close(&v);
}

static void test_start_refused(void **state)
{
	struct guest_mem gm = two_regions();
	struct net_vhost_queue q[2];
	struct net_vhost v;
	uint64_t guest = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF);

	(void)state;
	/* a ring outside guest RAM: nothing reaches vhost */
	reset_rec();
	queues(q);
	assert_int_equal(net_vhost_open(&v, &fake_ops, NET_VHOST_DEV), 0);
	q[1].avail_gpa = sizeof(low) - 2;
	assert_int_equal(net_vhost_start(&v, &gm, guest, q, 55), -EFAULT);
	assert_false(v.running);
	assert_false(v.moved); /* vhost never ran: the rings are as they were */
	for (unsigned i = 0; i < rec.n; i++)
		assert_true(rec.c[i].req != VHOST_NET_SET_BACKEND);
	net_vhost_close(&v);

	/* vhost lacks MRG_RXBUF: refused before any ioctl */
	reset_rec();
	queues(q);
	rec.features = VHOST_ALL & ~BIT(VIRTIO_NET_F_MRG_RXBUF);
	assert_int_equal(net_vhost_open(&v, &fake_ops, NET_VHOST_DEV), 0);
	assert_int_equal(net_vhost_start(&v, &gm, guest, q, 55), -EOPNOTSUPP);
	assert_int_equal(rec.n, 2);
	net_vhost_close(&v);

	/* the second backend is refused: the first one is taken back */
	reset_rec();
	queues(q);
	assert_int_equal(net_vhost_open(&v, &fake_ops, NET_VHOST_DEV), 0);
	rec.fail_req = VHOST_NET_SET_BACKEND;
	rec.fail_nth = 2;
	assert_int_equal(net_vhost_start(&v, &gm, guest, q, 55), -EINVAL);
	assert_false(v.running);
	assert_int_equal(rec.c[rec.n - 3].req, VHOST_NET_SET_BACKEND);
	assert_int_equal(rec.c[rec.n - 3].fd, -1);
	assert_int_equal(rec.c[rec.n - 2].req, VHOST_GET_VRING_BASE);
	assert_int_equal(rec.c[rec.n - 1].req, VHOST_GET_VRING_BASE);
	/* the first queue ran meanwhile: the caller is told where vhost
	 * left both rings */
	assert_true(v.moved);
	assert_int_equal(v.stop_base[0], 40);
	assert_int_equal(v.stop_base[1], 41);
	/* the first backend refused: vhost never ran */
	rec.seen = 0;
	rec.fail_nth = 1;
	assert_int_equal(net_vhost_start(&v, &gm, guest, q, 55), -EINVAL);
	assert_false(v.moved);
	net_vhost_close(&v);
	assert_int_equal(net_vhost_start(&v, &gm, guest, q, 55), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_mem_table),
		cmocka_unit_test(test_ring_addr),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_start_stop),
		cmocka_unit_test(test_start_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
