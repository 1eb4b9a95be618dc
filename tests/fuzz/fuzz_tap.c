/* SPDX-License-Identifier: MIT
 * fuzz_tap.c - a stand-in for devices/tap.c in the network fuzz targets:
 * tap_open() hands out one end of a SOCK_SEQPACKET socketpair (it keeps
 * frame boundaries, as a tap fd does) and keeps the other end here, so a
 * target can feed frames to the device and take what it sends. Offloads
 * are accepted as asked.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/tap.h"
#include "fuzz_pci.h"

static int peer = -1;

int tap_open(struct tap *t, const char *name, const char *bridge,
	     bool create_bridge)
{
	int sv[2];

	(void)bridge;
	(void)create_bridge;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, sv))
		return -1;
	*t = (struct tap){ .fd = sv[0], .offload_ok = 0x1f, .orig_flags = -1,
			   .orig_hdr_len = -1, .orig_offloads = -1 };
	snprintf(t->ifname, sizeof(t->ifname), "%s", name);
	peer = sv[1];
	return 0;
}

int tap_set_offloads(struct tap *t, unsigned flags)
{
	t->offloads = flags & t->offload_ok;
	return 0;
}

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (peer >= 0)
		close(peer);
	peer = -1;
}

bool tap_ifexists(const char *name)
{
	(void)name;
	return false;
}

void fz_tap_frame(void *opaque, const uint8_t *frame, size_t len)
{
	(void)opaque;
	if (send(peer, frame, len, MSG_DONTWAIT) < 0)
		return; /* full: the frame is lost, as on a busy tap */
}

void fz_tap_drain(void)
{
	static uint8_t buf[70000];

	while (recv(peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}
