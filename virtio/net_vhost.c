/* SPDX-License-Identifier: MIT
 * net_vhost.c - the vhost-net ioctl protocol for virtio-net (Linux
 * <linux/vhost.h>; the rings are those of VIRTIO 1.x section 2.7 "Split
 * Virtqueues"). See net_vhost.h.
 */
#include "virtio/net_vhost.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define BIT(n) (1ULL << (n))

/* ---- the real system calls ---- */

static int sys_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

const struct net_vhost_ops net_vhost_sys_ops = {
	.open = sys_open,
	.ioctl = sys_ioctl,
};

/* ---- pure parts ---- */

/* The bits of the split ring and the header layout that vhost implements
 * on the driver's behalf: whatever of them the driver accepted, vhost must
 * do too. */
#define VHOST_RING_BITS                                                     \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |           \
	 BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_NET_F_MRG_RXBUF))

int net_vhost_features(uint64_t guest, uint64_t vhost, uint64_t *acked)
{
	uint64_t need = guest & VHOST_RING_BITS;

	if (!(guest & BIT(VIRTIO_F_VERSION_1)) || (need & ~vhost))
		return -EOPNOTSUPP;
	/* bit 27 is also VIRTIO_F_ANY_LAYOUT, which VERSION_1 implies and
	 * nobody offers here: never ask vhost to add the header itself */
	*acked = need & ~BIT(VHOST_NET_F_VIRTIO_NET_HDR);
	return 0;
}

int net_vhost_mem_table(const struct guest_mem *gm, struct vhost_memory *mem,
			unsigned max)
{
	if (gm->nr > max)
		return -E2BIG;
	memset(mem, 0, sizeof(*mem) + max * sizeof(mem->regions[0]));
	for (unsigned i = 0; i < gm->nr; i++) {
		mem->regions[i].guest_phys_addr = gm->r[i].gpa;
		mem->regions[i].memory_size = gm->r[i].size;
		mem->regions[i].userspace_addr = (uintptr_t)gm->r[i].host;
	}
	mem->nregions = gm->nr;
	return (int)gm->nr;
}

int net_vhost_ring_addr(const struct guest_mem *gm,
			const struct net_vhost_queue *q, unsigned idx,
			struct vhost_vring_addr *a)
{
	uint64_t n = q->size;
	/* 2.7: the rings with their event-index words (used_event after the
	 * available ring, avail_event after the used ring) */
	void *d = gm_ptr(gm, q->desc_gpa, 16 * n);
	void *av = gm_ptr(gm, q->avail_gpa, 4 + 2 * n + 2);
	void *u = gm_ptr(gm, q->used_gpa, 4 + 8 * n + 2);

	if (!n || !d || !av || !u)
		return -EFAULT;
	memset(a, 0, sizeof(*a));
	a->index = idx;
	a->desc_user_addr = (uintptr_t)d;
	a->avail_user_addr = (uintptr_t)av;
	a->used_user_addr = (uintptr_t)u;
	return 0;
}

/* ---- the device ---- */

int net_vhost_open(struct net_vhost *v, const struct net_vhost_ops *ops,
		   const char *path)
{
	int fd, r;

	memset(v, 0, sizeof(*v));
	v->fd = -1;
	v->ops = ops ? ops : &net_vhost_sys_ops;
	fd = v->ops->open(path);
	if (fd < 0)
		return fd;
	r = v->ops->ioctl(fd, VHOST_SET_OWNER, NULL);
	if (!r)
		r = v->ops->ioctl(fd, VHOST_GET_FEATURES, &v->features);
	if (r) {
		close(fd);
		return r;
	}
	v->fd = fd;
	return 0;
}

void net_vhost_close(struct net_vhost *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	v->running = false;
	v->nr_backends = 0;
}

static int set_file(struct net_vhost *v, unsigned long req, unsigned idx,
		    int fd)
{
	struct vhost_vring_file f = { .index = idx, .fd = fd };

	return v->ops->ioctl(v->fd, req, &f);
}

static int set_state(struct net_vhost *v, unsigned long req, unsigned idx,
		     unsigned num)
{
	struct vhost_vring_state s = { .index = idx, .num = num };

	return v->ops->ioctl(v->fd, req, &s);
}

/* One queue's ring, notifications and position (not its backend). */
static int setup_queue(struct net_vhost *v, const struct guest_mem *gm,
		       const struct net_vhost_queue *q, unsigned i)
{
	struct vhost_vring_addr a;
	int r;

	r = net_vhost_ring_addr(gm, q, i, &a);
	if (!r)
		r = set_state(v, VHOST_SET_VRING_NUM, i, q->size);
	if (!r)
		r = set_state(v, VHOST_SET_VRING_BASE, i, q->base);
	if (!r)
		r = v->ops->ioctl(v->fd, VHOST_SET_VRING_ADDR, &a);
	if (!r)
		r = set_file(v, VHOST_SET_VRING_KICK, i, q->kick_fd);
	if (!r)
		r = set_file(v, VHOST_SET_VRING_CALL, i, q->call_fd);
	if (!r && q->err_fd >= 0)
		r = set_file(v, VHOST_SET_VRING_ERR, i, q->err_fd);
	return r;
}

int net_vhost_start(struct net_vhost *v, const struct guest_mem *gm,
		    uint64_t guest_features,
		    const struct net_vhost_queue q[NET_VHOST_NR_QUEUES],
		    int backend_fd)
{
	union {
		struct vhost_memory m;
		uint8_t buf[sizeof(struct vhost_memory) +
			    GM_MAX_REGIONS * sizeof(struct vhost_memory_region)];
	} mem;
	uint64_t acked;
	int r;

	if (v->fd < 0)
		return -EBADF;
	if (v->running)
		return -EBUSY;
	v->moved = false;
	r = net_vhost_features(guest_features, v->features, &acked);
	if (r)
		return r;
	r = net_vhost_mem_table(gm, &mem.m, GM_MAX_REGIONS);
	if (r < 0)
		return r;
	r = v->ops->ioctl(v->fd, VHOST_SET_FEATURES, &acked);
	if (!r)
		r = v->ops->ioctl(v->fd, VHOST_SET_MEM_TABLE, &mem.m);
	for (unsigned i = 0; !r && i < NET_VHOST_NR_QUEUES; i++)
		r = setup_queue(v, gm, &q[i], i);
	if (r)
		return r;
	v->acked = acked;
	v->running = true;
	v->nr_backends = 0;
	/* last: from here the worker moves frames */
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
		r = set_file(v, VHOST_NET_SET_BACKEND, i, backend_fd);
		if (r) {
			/* the queues before this one ran meanwhile */
			v->moved = v->nr_backends > 0;
			net_vhost_stop(v);
			return r;
		}
		v->nr_backends++;
	}
	return 0;
}

int net_vhost_set_call(struct net_vhost *v, unsigned idx, int fd)
{
	if (v->fd < 0 || idx >= NET_VHOST_NR_QUEUES)
		return -EINVAL;
	return set_file(v, VHOST_SET_VRING_CALL, idx, fd);
}

void net_vhost_stop(struct net_vhost *v)
{
	if (v->fd < 0 || !v->running)
		return;
	for (unsigned i = 0; i < v->nr_backends; i++)
		(void)set_file(v, VHOST_NET_SET_BACKEND, i, -1);
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
		struct vhost_vring_state s = { .index = i };

		/* waits for the worker to be done with the ring */
		if (!v->ops->ioctl(v->fd, VHOST_GET_VRING_BASE, &s))
			v->stop_base[i] = (uint16_t)s.num;
	}
	v->nr_backends = 0;
	v->running = false;
}
