/* SPDX-License-Identifier: MIT
 * fuzz_e1000 - libFuzzer target: a hostile driver (fuzz_pci.h) against
 * the emulated 82540EM (devices/e1000.c) through its memory and I/O BARs
 * and config space: registers, EEPROM, PHY, TX context/data/legacy
 * descriptor rings with offloads and TSO, RX rings for frames the program
 * sends in through the tap stand-in (fuzz_tap.c), interrupt throttling.
 */
#include <stdlib.h>

#include "devices/e1000.h"
#include "fuzz_pci.h"
#include "virtio/net.h"

/* What the device's I/O thread would do: take frames from the tap, and
 * deliver an interrupt the ITR timer held. */
static void run(void *opaque)
{
	struct e1000 *d = opaque;

	fz_tap_drain();
	e1000_rx_process(d);
	if (d->timer_armed)
		e1000_itr_expired(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_cfg cfg = { .tap = "fuzz0", .model = NET_MODEL_E1000 };
	struct e1000 *d;
	char err[256];

	fz_machine_begin();
	if (e1000_create(&fz_vm, &cfg, 0, &d, err, sizeof(err)))
		abort();
	d->dev.ops->stop(&d->dev); /* no I/O thread: run() does its work */
	if (pci_bus_add(fz_vm.pci, &d->pci) == 0)
		fz_run_program(&(struct fz_dev){ .pci = &d->pci, .run = run,
						 .frame = fz_tap_frame, .opaque = d },
			       data, size);
	fz_pci_bus_end();
	d->dev.ops->free(&d->dev);
	fz_buses_end();
	return 0;
}
