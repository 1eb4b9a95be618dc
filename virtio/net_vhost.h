/* SPDX-License-Identifier: MIT
 * net_vhost.h - virtio-net's data path in the host kernel: vhost-net
 * (Linux drivers/vhost, the UAPI of <linux/vhost.h>).
 *
 * With `--net tap=...,vhost=on` the receive and transmit queues are served
 * by the kernel's vhost-net worker instead of minivmm's I/O thread: it reads
 * the rings and the buffers straight from guest memory (which it is given
 * as a table of regions), takes the queues' kicks from the same eventfds
 * KVM's ioeventfds write, reads and writes the tap itself and signals a
 * "call" eventfd per queue when the driver is to be interrupted. minivmm
 * keeps the control queue, the configuration space, feature negotiation
 * and the tap's offloads (TUNSETOFFLOAD, from the accepted features).
 *
 * This file only speaks the ioctl protocol. Every ioctl goes through a
 * struct net_vhost_ops, so a unit test can record the sequence without
 * /dev/vhost-net; net.c decides when to start and stop.
 */
#ifndef MINIVMM_VIRTIO_NET_VHOST_H
#define MINIVMM_VIRTIO_NET_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/vhost.h>

#include "vmm/guest_mem.h"

#define NET_VHOST_DEV "/dev/vhost-net"
#define NET_VHOST_NR_QUEUES 2 /* receiveq1, transmitq1 */

/* The seam: the real system calls, or a test's recorder. */
struct net_vhost_ops {
	int (*open)(const char *path);              /* fd or -errno */
	int (*ioctl)(int fd, unsigned long req, void *arg); /* 0 or -errno */
};
extern const struct net_vhost_ops net_vhost_sys_ops;

/* One queue as the driver set it up (read by net.c from struct virtq). */
struct net_vhost_queue {
	uint16_t size;         /* entries (power of two, checked by virtq) */
	uint16_t base;         /* next available entry to consume */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	int kick_fd;           /* the queue's kick eventfd (ioeventfd) */
	int call_fd;           /* eventfd vhost signals to interrupt */
	int err_fd;            /* eventfd vhost signals when it cannot use
				* the ring (a driver error), or -1 */
};

struct net_vhost {
	const struct net_vhost_ops *ops;
	int fd;                /* /dev/vhost-net, -1 when not in use */
	uint64_t features;     /* VHOST_GET_FEATURES */
	uint64_t acked;        /* VHOST_SET_FEATURES at the last start */
	bool running;          /* a backend is set on the queues */
	unsigned nr_backends;  /* queues with the tap as backend */
	uint16_t stop_base[NET_VHOST_NR_QUEUES]; /* GET_VRING_BASE at stop */
	bool moved;            /* the last start failed after a backend was
				* set: vhost may have used buffers of the
				* rings, stop_base says where it stopped */
};

/* Open path (NET_VHOST_DEV), become its owner (VHOST_SET_OWNER: the
 * worker thread works in this process's address space) and read its
 * features. ops NULL = net_vhost_sys_ops. 0 or -errno (v->fd stays -1).
 * Prints nothing. */
int net_vhost_open(struct net_vhost *v, const struct net_vhost_ops *ops,
		   const char *path);
/* Close the fd (the kernel stops the worker). Idempotent. */
void net_vhost_close(struct net_vhost *v);

/* The features to give VHOST_SET_FEATURES for a driver that accepted
 * `guest`, with vhost offering `vhost`: the ring and header bits the
 * driver accepted (VERSION_1, EVENT_IDX, INDIRECT_DESC, MRG_RXBUF), which
 * vhost must implement, else -EOPNOTSUPP. The device-level bits (offloads,
 * control queue) are not vhost's: the tap and minivmm do them. The header
 * stays with the tap (VHOST_NET_F_VIRTIO_NET_HDR is never set): with
 * VERSION_1 it is the 12-byte virtio_net_hdr_v1, TUNSETVNETHDRSZ's size.
 * Without VERSION_1 -EOPNOTSUPP (the transport never lets it through). */
int net_vhost_features(uint64_t guest, uint64_t vhost, uint64_t *acked);

/* The guest memory table for VHOST_SET_MEM_TABLE: one region per RAM
 * region of gm (guest-physical start, size, host address). mem must have
 * room for max regions. The number of regions, or -E2BIG. */
int net_vhost_mem_table(const struct guest_mem *gm, struct vhost_memory *mem,
			unsigned max);

/* VHOST_SET_VRING_ADDR's argument for queue q (index idx): the host
 * addresses of its descriptor table, available and used rings, each
 * checked to lie wholly in guest RAM with gm_ptr() (the kernel then only
 * checks they are user addresses). 0 or -EFAULT. */
int net_vhost_ring_addr(const struct guest_mem *gm,
			const struct net_vhost_queue *q, unsigned idx,
			struct vhost_vring_addr *a);

/* Start the data path: SET_FEATURES, SET_MEM_TABLE, then for each queue
 * SET_VRING_NUM, _BASE, _ADDR, _KICK, _CALL, _ERR (with an err_fd), and
 * last NET_SET_BACKEND with
 * backend_fd (the tap). On failure what was set is undone (backends back
 * to -1) and -errno returned; if vhost had a backend meanwhile, v->moved
 * is set and the caller's ring positions must continue from stop_base
 * and the used index vhost wrote. */
int net_vhost_start(struct net_vhost *v, const struct guest_mem *gm,
		    uint64_t guest_features,
		    const struct net_vhost_queue q[NET_VHOST_NR_QUEUES],
		    int backend_fd);
/* Make vhost signal fd for queue idx from now on (VHOST_SET_VRING_CALL):
 * the interrupt's irqfd, or an eventfd the VMM reads. 0 or -errno. */
int net_vhost_set_call(struct net_vhost *v, unsigned idx, int fd);
/* Stop it (device reset): NET_SET_BACKEND -1 on each queue, then
 * GET_VRING_BASE, which waits for the worker to leave the ring; the next
 * start sets everything again, so a driver's re-probe works. Idempotent. */
void net_vhost_stop(struct net_vhost *v);

#endif
