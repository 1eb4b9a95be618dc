/* SPDX-License-Identifier: MIT
 * msix.c - MSI-X (PCI Local Bus Spec 3.0, 6.8.2).
 *
 * The capability (ID 0x11) holds Message Control (table size N-1 in bits
 * 10:0, read-only; Function Mask bit 14 and MSI-X Enable bit 15, the only
 * writable bits), the Table Offset/BIR and the PBA Offset/BIR. The table
 * (16 bytes per vector: Message Address low/high, Message Data, Vector
 * Control with its Mask bit 0) and the Pending Bit Array live in one of
 * the device's memory BARs; the device's BAR handler forwards those ranges
 * to pci_msix_access. Vectors start masked (6.8.2.9).
 *
 * Delivery: every vector owns a KVM GSI and an eventfd bound to it with
 * an irqfd, so pci_msix_notify from any thread is one write(2) and no
 * VM exit. The GSI is routed to the vector's (address, data) whenever the
 * vector is deliverable (enabled, function and vector unmasked) and the
 * pair differs from the one last routed; Linux only rewrites a vector's
 * message while it is masked, so that is one routing update per
 * (re)programming. While masked, a notification sets the vector's pending
 * bit instead, and the interrupt is sent when the mask clears (6.8.2.9).
 * With --irqfd=off (vm->no_irqfd) no vector has either, and every
 * message goes by KVM_SIGNAL_MSI from the notifying thread: the VMM
 * injects each interrupt itself, as --stats shows.
 * If a GSI or eventfd could not be had, the vector falls back to
 * KVM_SIGNAL_MSI.
 *
 * Locking: msix.lock covers the table, the PBA and the enable/mask state.
 * Configuration writes reach here with the bus lock held; lock order is
 * bus lock, then msix.lock.
 */
#include "pci.h"
#include "pci_priv.h"

#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#define ENTRY_ADDR_LO 0
#define ENTRY_ADDR_HI 1
#define ENTRY_DATA 2
#define ENTRY_CTRL 3
#define ENTRY_CTRL_MASKED 0x1u

static unsigned pba_words(unsigned nvec)
{
	return (nvec + 63) / 64;
}

int pci_msix_init(struct pci_dev *d, unsigned nvec, int bar,
		  uint32_t table_off, uint32_t pba_off)
{
	struct pci_msix *m = &d->msix;
	uint64_t tsize = (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE;
	uint64_t psize = (uint64_t)pba_words(nvec) * 8;
	const struct pci_bar *b;
	uint8_t cap[PCI_MSIX_CAP_LEN] = { 0 };
	uint32_t tbl, pba;
	int off;

	if (m->nvec)
		return -EEXIST;
	if (!nvec || nvec > PCI_MSIX_MAX_VECTORS || bar < 0 ||
	    bar >= PCI_NUM_BARS)
		return -EINVAL;
	b = &d->bars[bar];
	if (b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64)
		return -EINVAL;
	/* Offsets are QWORD aligned (the BIR takes the low 3 bits), both
	 * structures lie inside the BAR and do not overlap. */
	if ((table_off & 7) || (pba_off & 7) || table_off + tsize > b->size ||
	    pba_off + psize > b->size ||
	    (table_off < pba_off + psize && pba_off < table_off + tsize))
		return -EINVAL;

	m->v = calloc(nvec, sizeof(*m->v));
	m->pba = calloc(pba_words(nvec), sizeof(*m->pba));
	if (!m->v || !m->pba) {
		free(m->v);
		free(m->pba);
		m->v = NULL;
		m->pba = NULL;
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nvec; i++) {
		m->v[i].ctrl = ENTRY_CTRL_MASKED;
		m->v[i].gsi = -1;
		m->v[i].efd = -1;
	}

	cap[0] = PCI_CAP_ID_MSIX;
	cap[PCI_MSIX_CTRL] = (uint8_t)(nvec - 1);
	cap[PCI_MSIX_CTRL + 1] = (uint8_t)((nvec - 1) >> 8);
	tbl = table_off | (uint32_t)bar;
	pba = pba_off | (uint32_t)bar;
	memcpy(cap + PCI_MSIX_TABLE, &tbl, 4); /* little-endian host */
	memcpy(cap + PCI_MSIX_PBA, &pba, 4);
	off = pci_dev_add_cap(d, cap, sizeof(cap));
	if (off < 0) {
		free(m->v);
		free(m->pba);
		m->v = NULL;
		m->pba = NULL;
		return off;
	}
	/* Only Function Mask and MSI-X Enable are writable. */
	d->wmask[off + PCI_MSIX_CTRL + 1] =
		(PCI_MSIX_CTRL_MASK | PCI_MSIX_CTRL_ENABLE) >> 8;
	m->cap = (uint8_t)off;
	m->bar = bar;
	m->table_off = table_off;
	m->pba_off = pba_off;
	m->enabled = m->masked = false;
	m->nvec = nvec;
	return 0;
}

void msix_attach(struct pci_dev *d)
{
	struct pci_msix *m = &d->msix;
	struct vm *vm = d->bus->vm;
	unsigned failed = 0;

	/* --irqfd=off: no GSI, no irqfd; fire() sends each message with
	 * KVM_SIGNAL_MSI from the device's thread */
	if (vm->no_irqfd)
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->nvec; i++) {
		struct msix_vector *v = &m->v[i];
		int gsi = vm_msi_alloc(vm), efd, ret;

		if (gsi < 0) {
			failed++;
			continue;
		}
		v->gsi = gsi;
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd < 0) {
			failed++;
			continue;
		}
		ret = vm_irqfd(vm, efd, (unsigned)gsi, -1, true);
		if (ret) {
			close(efd);
			failed++;
			continue;
		}
		v->efd = efd;
	}
	pthread_mutex_unlock(&m->lock);
	if (failed)
		pr_warn("pci %s: %u of %u MSI-X vectors without irqfd; they "
			"use KVM_SIGNAL_MSI", d->name, failed, m->nvec);
}

void msix_release(struct pci_dev *d)
{
	struct pci_msix *m = &d->msix;

	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; m->v && i < m->nvec; i++) {
		struct msix_vector *v = &m->v[i];
		if (v->efd >= 0) {
			if (d->bus && d->bus->vm && v->gsi >= 0)
				vm_irqfd(d->bus->vm, v->efd, (unsigned)v->gsi,
					 -1, false);
			close(v->efd);
			v->efd = -1;
		}
	}
	free(m->v);
	free(m->pba);
	m->v = NULL;
	m->pba = NULL;
	m->nvec = 0;
	m->enabled = m->masked = false;
	pthread_mutex_unlock(&m->lock);
}

/* ---- delivery (msix.lock held) ---- */

static bool deliverable(const struct pci_msix *m, unsigned i)
{
	return m->enabled && !m->masked &&
	       !(m->v[i].ctrl & ENTRY_CTRL_MASKED);
}

/* Point the vector's GSI at its current message if it is not already. */
static void route(struct pci_dev *d, unsigned i)
{
	struct msix_vector *v = &d->msix.v[i];
	int ret;

	if (v->gsi < 0 || !d->bus || !d->bus->vm)
		return;
	if (v->routed && v->routed_addr == v->addr &&
	    v->routed_data == v->data)
		return;
	ret = vm_msi_route(d->bus->vm, (unsigned)v->gsi, v->addr, v->data,
			   pci_requester_id(d));
	v->routed = !ret;
	v->routed_addr = v->addr;
	v->routed_data = v->data;
	if (ret) /* the guest can reprogram a vector again and again */
		pr_warn_limited(&d->warn, d->name,
				"pci %s: MSI-X vector %u: routing GSI %d failed: %s",
				d->name, i, v->gsi, strerror(-ret));
}

static int fire(struct pci_dev *d, unsigned i)
{
	struct msix_vector *v = &d->msix.v[i];
	uint64_t one = 1;

	if (v->efd >= 0 && v->routed) {
		/* EAGAIN only if the counter is about to overflow, i.e. the
		 * interrupt is pending anyway. */
		if (write(v->efd, &one, sizeof(one)) == sizeof(one) ||
		    errno == EAGAIN) {
			stat_inc(&d->bus->vm->stats, STAT_IRQS_IRQFD);
			return 0;
		}
		return -errno;
	}
	if (d->bus && d->bus->vm)
		return vm_signal_msi(d->bus->vm, v->addr, v->data,
				     pci_requester_id(d));
	return -ENODEV;
}

static bool pending(const struct pci_msix *m, unsigned i)
{
	return m->pba[i / 64] >> (i % 64) & 1;
}

/* Vector i's state changed: when deliverable, bring its route up to date
 * and send the interrupt it was holding back. */
static void vector_update(struct pci_dev *d, unsigned i)
{
	struct pci_msix *m = &d->msix;

	if (!deliverable(m, i))
		return;
	route(d, i);
	if (pending(m, i)) {
		m->pba[i / 64] &= ~(1ULL << (i % 64));
		fire(d, i);
	}
}

void msix_ctrl_written(struct pci_dev *d)
{
	struct pci_msix *m = &d->msix;
	uint16_t ctrl;

	ctrl = (uint16_t)(d->cfg[m->cap + PCI_MSIX_CTRL] |
			  d->cfg[m->cap + PCI_MSIX_CTRL + 1] << 8);
	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & PCI_MSIX_CTRL_ENABLE;
	m->masked = ctrl & PCI_MSIX_CTRL_MASK;
	for (unsigned i = 0; m->v && i < m->nvec; i++)
		vector_update(d, i);
	pthread_mutex_unlock(&m->lock);
	if (d->msix_changed)
		d->msix_changed(d);
}

int pci_msix_vector_irqfd(struct pci_dev *d, unsigned v)
{
	struct pci_msix *m = &d->msix;
	int fd = -1;

	pthread_mutex_lock(&m->lock);
	if (m->v && v < m->nvec && deliverable(m, v) && m->v[v].efd >= 0) {
		route(d, v);
		if (m->v[v].routed)
			fd = m->v[v].efd;
	}
	pthread_mutex_unlock(&m->lock);
	return fd;
}

bool pci_msix_enabled(struct pci_dev *d)
{
	bool on;

	if (!d->msix.nvec)
		return false;
	pthread_mutex_lock(&d->msix.lock);
	on = d->msix.enabled; /* masked or not: see pci.h */
	pthread_mutex_unlock(&d->msix.lock);
	return on;
}

int pci_msix_notify(struct pci_dev *d, unsigned v)
{
	struct pci_msix *m = &d->msix;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	if (!m->v || v >= m->nvec) {
		ret = -EINVAL;
	} else if (deliverable(m, v)) {
		route(d, v);
		ret = fire(d, v);
	} else {
		m->pba[v / 64] |= 1ULL << (v % 64);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* ---- the table and PBA as the guest sees them (msix.lock held) ---- */

static uint32_t table_read32(const struct msix_vector *v, unsigned reg)
{
	switch (reg) {
	case ENTRY_ADDR_LO:
		return (uint32_t)v->addr;
	case ENTRY_ADDR_HI:
		return (uint32_t)(v->addr >> 32);
	case ENTRY_DATA:
		return v->data;
	default:
		return v->ctrl & ENTRY_CTRL_MASKED;
	}
}

static void table_write32(struct msix_vector *v, unsigned reg, uint32_t val)
{
	switch (reg) {
	case ENTRY_ADDR_LO: /* bits 1:0 are zero: DWORD-aligned address */
		v->addr = (v->addr & ~0xffffffffULL) | (val & ~3u);
		break;
	case ENTRY_ADDR_HI:
		v->addr = (v->addr & 0xffffffffULL) | (uint64_t)val << 32;
		break;
	case ENTRY_DATA:
		v->data = val;
		break;
	default: /* only the Mask bit; the rest is reserved */
		v->ctrl = val & ENTRY_CTRL_MASKED;
		break;
	}
}

bool pci_msix_reg_name(const struct pci_dev *d, uint64_t bar_off, char *buf,
		       size_t size)
{
	static const char *const entry[4] = { "addr_lo", "addr_hi", "data",
					      "ctrl" };
	const struct pci_msix *m = &d->msix;
	uint64_t tsize, psize, off;

	/* nvec and the offsets are set before the device is on the bus */
	if (!m->nvec)
		return false;
	tsize = (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE;
	psize = (uint64_t)pba_words(m->nvec) * 8;
	if (bar_off >= m->table_off && bar_off - m->table_off < tsize) {
		off = bar_off - m->table_off;
		snprintf(buf, size, "msix.table[%u].%s",
			 (unsigned)(off / PCI_MSIX_ENTRY_SIZE),
			 entry[off % PCI_MSIX_ENTRY_SIZE / 4]);
		return true;
	}
	if (bar_off >= m->pba_off && bar_off - m->pba_off < psize) {
		snprintf(buf, size, "msix.pba[%u]",
			 (unsigned)((bar_off - m->pba_off) / 8));
		return true;
	}
	return false;
}

bool pci_msix_access(struct pci_dev *d, uint64_t bar_off, void *data,
		     unsigned len, bool is_write)
{
	struct pci_msix *m = &d->msix;
	uint64_t tsize, psize, off;
	bool ok = (len == 4 || len == 8) && bar_off % len == 0;
	bool changed = false;

	if (!m->nvec || !data)
		return false;
	tsize = (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE;
	psize = (uint64_t)pba_words(m->nvec) * 8;

	if (bar_off >= m->table_off && bar_off - m->table_off < tsize) {
		off = bar_off - m->table_off;
		if (!ok || off + len > tsize) {
			/* 6.8.2: only aligned DWORD/QWORD accesses */
			if (!is_write)
				memset(data, 0xff, len);
			return true;
		}
		unsigned i = (unsigned)(off / PCI_MSIX_ENTRY_SIZE);
		unsigned reg = (unsigned)(off % PCI_MSIX_ENTRY_SIZE) / 4;
		uint32_t dw[2] = { 0, 0 };

		if (!is_write)
			memset(data, 0xff, len);
		pthread_mutex_lock(&m->lock);
		if (m->v) {
			if (is_write) {
				memcpy(dw, data, len); /* little-endian host */
				for (unsigned k = 0; k < len / 4; k++)
					table_write32(&m->v[i], reg + k, dw[k]);
				vector_update(d, i);
				changed = true;
			} else {
				for (unsigned k = 0; k < len / 4; k++)
					dw[k] = table_read32(&m->v[i], reg + k);
				memcpy(data, dw, len);
			}
		}
		pthread_mutex_unlock(&m->lock);
		if (changed && d->msix_changed)
			d->msix_changed(d);
		return true;
	}

	if (bar_off >= m->pba_off && bar_off - m->pba_off < psize) {
		off = bar_off - m->pba_off;
		if (is_write) /* the PBA is read-only */
			return true;
		if (!ok || off + len > psize) {
			memset(data, 0xff, len);
			return true;
		}
		memset(data, 0xff, len);
		pthread_mutex_lock(&m->lock);
		if (m->pba) {
			uint64_t w = m->pba[off / 8] >> (8 * (off % 8));
			memcpy(data, &w, len); /* little-endian host */
		}
		pthread_mutex_unlock(&m->lock);
		return true;
	}
	return false;
}
