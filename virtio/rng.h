/* SPDX-License-Identifier: MIT
 * rng.h - virtio-rng / entropy device (VIRTIO 1.x section 5.4): one
 * request queue whose writable buffers are filled with getrandom() bytes.
 */
#ifndef MINIVMM_VIRTIO_RNG_H
#define MINIVMM_VIRTIO_RNG_H

struct vm;
struct virtio_rng;

/* Create the device on vm->pci and start its I/O thread. 0 or -errno. */
int virtio_rng_create(struct vm *vm, struct virtio_rng **out);
/* Stop the I/O thread (call before pci_bus_destroy)... */
void virtio_rng_stop(struct virtio_rng *rng);
/* ...and free the device (after pci_bus_destroy). NULL is fine. */
void virtio_rng_destroy(struct virtio_rng *rng);

#endif
