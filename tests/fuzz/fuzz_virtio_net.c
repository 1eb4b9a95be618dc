/* SPDX-License-Identifier: MIT
 * fuzz_virtio_net - libFuzzer target: a hostile driver (fuzz_pci.h)
 * against virtio-net (virtio/net.c, net_rx.c, net_tx.c, net_ctrl.c) over
 * the virtio-pci transport: transmit headers and frames, control-queue
 * commands, receive buffers for frames the program sends in through the
 * tap stand-in (fuzz_tap.c).
 */
#include <stdlib.h>
#include <sys/epoll.h>

#include "fuzz_virtio.h"
#include "virtio/net.h"

static void run(void *opaque)
{
	struct net_dev *n = opaque;
	uint32_t ev;

	fz_virtio_run(&n->vdev);
	/* the tap's events, as the RX/TX thread would see them */
	fz_tap_drain();
	ev = n->tap_events & (EPOLLIN | EPOLLOUT);
	if (ev)
		net_tap_event(n, ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_cfg cfg = { .tap = "fuzz0" };
	struct virtio_dev *d;
	char err[256];

	fz_machine_begin();
	if (virtio_net_create(&fz_vm, &cfg, 0, &d, err, sizeof(err)))
		abort();
	fz_virtio_one(d, &(struct fz_dev){ .run = run, .frame = fz_tap_frame,
					   .opaque = d->opaque },
		      data, size);
	return 0;
}
