/* SPDX-License-Identifier: MIT
 * tap.h - the tap network backend of virtio-net.
 *
 * A tap device (Linux Documentation/networking/tuntap.rst) is a virtual
 * Ethernet interface whose "wire" is a file descriptor: every frame the host
 * kernel sends out of the interface can be read() from the fd, every frame
 * written to the fd is received by the kernel as if it came off a cable.
 *
 * We open it with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR: no packet-information
 * prefix, but a struct virtio_net_hdr in front of every frame, which is what
 * lets checksum and segmentation offloads pass between the guest and the
 * host kernel untouched. TUNSETVNETHDRSZ makes that header 12 bytes
 * (virtio_net_hdr_v1, the VERSION_1 layout with num_buffers); TUNSETOFFLOAD
 * says which offloaded frames (partial checksums, TSO/UFO super-frames) we
 * are ready to read, which mirrors the GUEST_* features the driver accepted.
 *
 * The send buffer (TUNSETSNDBUF), which bounds what vhost-net's transmit
 * worker may have written to the tap and not yet delivered, is left
 * alone: every fd opened on /dev/net/tun starts with INT_MAX, the value
 * QEMU sets explicitly, and a bound another program set on its own fd of
 * a persistent tap does not carry over to ours (test_tap.sh checks both).
 *
 * Lifetime: a tap that did not exist is created, and being non-persistent it
 * disappears when our fd is closed. A tap that already existed (made
 * persistent with `ip tuntap add`) is attached to and left as it was: its
 * flags (IFF_VNET_HDR, IFF_NO_PI), vnet header size and offloads are read
 * first (rtnetlink, TUNGETVNETHDRSZ, ethtool features) and put back at
 * close, as are its link state and bridge. Optionally the tap is made a
 * port of a Linux bridge, which can be created on request; a bridge is
 * shared by several VMs, so one we created is left in place at exit (like
 * a persistent tap; `ip link del BR` removes it), unless tap_open fails.
 * Everything is done with ioctls and netlink: no shelling out to ip(8).
 */
#ifndef MINIVMM_TAP_H
#define MINIVMM_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

/* TUNSETOFFLOAD bits (linux/if_tun.h); USO bits are newer than some headers */
#define TAP_F_CSUM 0x01
#define TAP_F_TSO4 0x02
#define TAP_F_TSO6 0x04
#define TAP_F_TSO_ECN 0x08
#define TAP_F_UFO 0x10

/* Size of the vnet header we ask for: struct virtio_net_hdr_v1. */
#define TAP_VNET_HDR_LEN 12

struct tap {
	int fd;                    /* non-blocking, close-on-exec */
	char ifname[IFNAMSIZ];
	unsigned ifindex;
	bool created;              /* we created the interface */
	bool set_up;               /* we set IFF_UP on a pre-existing tap */
	char bridge[IFNAMSIZ];     /* "" when not attached */
	bool bridge_created;       /* we created the bridge (it stays) */
	unsigned offload_ok;       /* TAP_F_* bits the kernel accepted at probe */
	unsigned offloads;         /* TAP_F_* bits currently set */
	/* a pre-existing tap's settings, put back at close (-1: unknown) */
	int orig_flags;            /* TUNSETIFF flags */
	int orig_hdr_len;          /* vnet header size */
	int orig_offloads;         /* TAP_F_* bits */
	char err[192];             /* why tap_open failed, one line */
};

/* Open (creating if needed) tap `name`, set the 12-byte vnet header, probe
 * the offloads, bring the link up and, if bridge is non-NULL/non-empty,
 * attach to that bridge (creating it when create_bridge). Prints nothing:
 * the reason of a failure is left in t->err, naming the tap or bridge, for
 * the caller to print. 0 or -errno; on failure nothing is left behind. */
int tap_open(struct tap *t, const char *name, const char *bridge,
	     bool create_bridge);

/* Set the TUNSETOFFLOAD bits (TAP_F_*); bits not in t->offload_ok are
 * dropped first. A refused UFO bit is retried without UFO. 0 or -errno. */
int tap_set_offloads(struct tap *t, unsigned flags);

/* Close the fd: a tap we created disappears with it (the kernel also takes
 * it off its bridge); a pre-existing one stays as it was. Sets t->fd = -1, so
 * a second call does nothing. */
void tap_close(struct tap *t);

/* True if interface `name` exists. */
bool tap_ifexists(const char *name);

#endif
