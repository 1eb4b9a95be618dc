/* SPDX-License-Identifier: MIT
 * rng.h - virtio-rng / entropy device (VIRTIO 1.x section 5.4): one
 * request queue whose writable buffers are filled with getrandom() bytes.
 */
#ifndef MINIVMM_VIRTIO_RNG_H
#define MINIVMM_VIRTIO_RNG_H

struct vm;
struct virtio_dev;

/* Create the device (device.h, virtio_pci.h); its I/O thread starts when
 * it is attached. 0 or -errno. */
int virtio_rng_create(struct vm *vm, struct virtio_dev **out);

#endif
