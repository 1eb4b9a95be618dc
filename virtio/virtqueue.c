/* SPDX-License-Identifier: MIT
 * virtqueue.c - device side of a VIRTIO 1.x split virtqueue
 * (VIRTIO 1.x 2.7: descriptor table, available ring, used ring; 2.7.5
 * indirect descriptors; 2.7.7 and 2.7.10 notification suppression).
 *
 * The rings live in guest memory and the guest may change them at any
 * moment, so every field is read exactly once into a local (an atomic
 * load, so the compiler cannot re-read it) and only the local copy is
 * checked and used. Ring host pointers are taken once, in virtq_enable(),
 * after checking that each ring lies wholly inside guest RAM: guest RAM
 * never moves or shrinks while the VM runs.
 */
#include "virtio/virtqueue.h"

#include <errno.h>
#include <string.h>

/* Ring sizes in bytes for a queue of n entries (2.7, "Virtqueues"). The
 * trailing 2 bytes are used_event (avail ring) / avail_event (used ring). */
static inline uint64_t desc_bytes(unsigned n)
{
	return 16ULL * n;
}
static inline uint64_t avail_bytes(unsigned n)
{
	return 4 + 2ULL * n + 2;
}
static inline uint64_t used_bytes(unsigned n)
{
	return 4 + 8ULL * n + 2;
}

/* Do [a, a + alen) and [b, b + blen) share a byte? (Both checked by
 * gm_ptr first: neither wraps.) */
static inline bool overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Single loads/stores of ring fields. Relaxed atomics: one access, no
 * tearing, never duplicated or elided by the compiler. Ordering between
 * them is made explicit with the fences below. */
#define LOAD(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)

static inline uint16_t *used_event_p(struct virtq *q)
{
	return &q->avail->ring[q->size];
}
static inline uint16_t *avail_event_p(struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

const char *virtq_strerror(enum virtq_err e)
{
	switch (e) {
	case VIRTQ_OK: return "no error";
	case VIRTQ_ERR_AVAIL_IDX: return "avail index ran ahead by more than the queue size";
	case VIRTQ_ERR_HEAD: return "head descriptor index out of range";
	case VIRTQ_ERR_NEXT: return "next descriptor index out of range";
	case VIRTQ_ERR_LOOP: return "descriptor chain longer than the queue (loop?)";
	case VIRTQ_ERR_INDIRECT: return "malformed indirect descriptor";
	case VIRTQ_ERR_ORDER: return "device-readable descriptor after a writable one";
	case VIRTQ_ERR_ADDR: return "buffer outside guest RAM";
	case VIRTQ_ERR_TOTAL: return "chain length overflows 32 bits";
	case VIRTQ_ERR_BROKEN: return "queue is broken until reset";
	}
	return "unknown";
}

void virtq_init(struct virtq *q, const struct guest_mem *gm,
		uint16_t max_size)
{
	memset(q, 0, sizeof(*q));
	q->gm = gm;
	q->max_size = max_size;
	virtq_reset(q);
}

void virtq_reset(struct virtq *q)
{
	const struct guest_mem *gm = q->gm;
	uint16_t max = q->max_size, quiet = q->quiet_depth;

	memset(q, 0, sizeof(*q));
	q->gm = gm;
	q->max_size = max;
	q->quiet_depth = quiet;
	q->size = max; /* 4.1.4.3: queue_size reads the maximum at reset */
}

int virtq_enable(struct virtq *q)
{
	unsigned n = q->size;
	void *d, *a, *u;

	if (n == 0 || n > q->max_size || (n & (n - 1)) || n > VIRTQ_MAX_SIZE)
		return -EINVAL;
	/* 2.7 "Virtqueues": alignment 16 / 2 / 4 for desc / avail / used */
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	d = gm_ptr(q->gm, q->desc_gpa, desc_bytes(n));
	a = gm_ptr(q->gm, q->avail_gpa, avail_bytes(n));
	u = gm_ptr(q->gm, q->used_gpa, used_bytes(n));
	if (!d || !a || !u)
		return -EINVAL;
	/* The device writes the used ring (flags, elements, avail_event):
	 * laid over the descriptor table or the available ring, its own
	 * stores would rewrite what it reads, e.g. flip avail->idx with each
	 * used->flags store and keep virtq_drain() going round for ever
	 * without a chain to pop. */
	if (overlap(q->used_gpa, used_bytes(n), q->desc_gpa, desc_bytes(n)) ||
	    overlap(q->used_gpa, used_bytes(n), q->avail_gpa, avail_bytes(n)))
		return -EINVAL;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->last_avail_idx = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	q->notify_disabled = false;
	q->inflight = 0;
	q->published = 0;
	q->broken = false;
	q->error = VIRTQ_OK;
	STORE(q->used->flags, 0);
	/* avail_event exists only with EVENT_IDX (2.7.10): without it the
	 * driver may keep its own data right after used->ring (SeaBIOS puts
	 * its queue's bookkeeping there) */
	if (q->event_idx)
		STORE(*avail_event_p(q), 0);
	/* The device's view of the used ring starts at 0 (2.7.8): do not
	 * trust whatever the driver left in used->idx. */
	STORE(q->used->idx, 0);
	q->ready = true;
	return 0;
}

static int fail(struct virtq *q, enum virtq_err e)
{
	q->broken = true;
	q->error = e;
	return -EINVAL;
}

bool virtq_has_avail(struct virtq *q)
{
	if (!q->ready || q->broken)
		return false;
	/* acquire: if the index says there is work, the entries and
	 * descriptors read afterwards must be at least that new */
	return __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) !=
	       q->last_avail_idx;
}

/* Append one buffer [addr, addr + len) to r; checks RAM and totals. */
static int add_buf(struct virtq *q, struct virtq_req *r, uint64_t addr,
		   uint32_t len, bool write)
{
	uint64_t total;
	void *p;

	if (len == 0)
		return 0; /* nothing to transfer; keep iovecs meaningful */
	p = gm_ptr(q->gm, addr, len);
	if (!p)
		return fail(q, VIRTQ_ERR_ADDR);
	total = (uint64_t)(write ? r->in_len : r->out_len) + len;
	if (total > UINT32_MAX)
		return fail(q, VIRTQ_ERR_TOTAL);
	/* count bounds the number of descriptors to q->size, and
	 * q->size <= VIRTQ_MAX_SIZE, so this index is always in range */
	r->iov[r->out_num + r->in_num] =
		(struct iovec){ .iov_base = p, .iov_len = len };
	if (write) {
		r->in_num++;
		r->in_len = (uint32_t)total;
	} else {
		r->out_num++;
		r->out_len = (uint32_t)total;
	}
	return 0;
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Copy one descriptor out of guest memory. The compiler barrier stops the
 * compiler from re-reading the guest's copy later instead of ours (the
 * guest may change it between the check and the use). memcpy, not atomic
 * loads: an indirect table need not be naturally aligned. */
static inline struct desc read_desc(const uint8_t *v)
{
	struct vring_desc raw;
	struct desc d;

	memcpy(&raw, v, sizeof(raw));
	__asm__ __volatile__("" ::: "memory");
	d.addr = raw.addr;
	d.len = raw.len;
	d.flags = raw.flags;
	d.next = raw.next;
	return d;
}

int virtq_pop(struct virtq *q, struct virtq_req *r)
{
	const uint8_t *table; /* bytes: an indirect table may be unaligned */
	unsigned table_len, count = 0;
	uint16_t avail_idx, head, idx;
	bool indirect = false, seen_write = false;

	if (!q->ready)
		return 0;
	if (q->broken)
		return -EINVAL;

	/* acquire: the driver writes ring entry and descriptors, then (after
	 * its write barrier) avail->idx. Our reads of those must not be
	 * satisfied before this read of idx, or we could see stale ones. */
	avail_idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == q->last_avail_idx)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail_idx) > q->size)
		return fail(q, VIRTQ_ERR_AVAIL_IDX);

	head = LOAD(q->avail->ring[q->last_avail_idx & (q->size - 1)]);
	if (head >= q->size)
		return fail(q, VIRTQ_ERR_HEAD);

	r->head = head;
	r->out_num = r->in_num = 0;
	r->out_len = r->in_len = 0;

	table = (const uint8_t *)q->desc;
	table_len = q->size;
	idx = head;
	for (;;) {
		struct desc d = read_desc(table + 16 * idx);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			uint64_t n = d.len / 16;

			/* 2.7.5.3: only with the feature, never nested,
			 * never together with NEXT; the table must be a
			 * whole number of descriptors, not empty, no longer
			 * than the queue, and inside guest RAM. */
			if (!q->indirect || indirect ||
			    (d.flags & VRING_DESC_F_NEXT) || d.len == 0 ||
			    (d.len % 16) || n > q->size)
				return fail(q, VIRTQ_ERR_INDIRECT);
			table = gm_ptr(q->gm, d.addr, d.len);
			if (!table)
				return fail(q, VIRTQ_ERR_ADDR);
			table_len = (unsigned)n;
			indirect = true;
			idx = 0;
			continue;
		}

		/* Every descriptor (direct or in a table) counts against
		 * the queue size: this bounds loops and the iovec array. */
		if (++count > q->size)
			return fail(q, VIRTQ_ERR_LOOP);

		if (d.flags & VRING_DESC_F_WRITE) {
			seen_write = true;
		} else if (seen_write) {
			return fail(q, VIRTQ_ERR_ORDER);
		}
		if (add_buf(q, r, d.addr, d.len,
			    d.flags & VRING_DESC_F_WRITE))
			return -EINVAL;

		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= table_len)
			return fail(q, VIRTQ_ERR_NEXT);
		idx = d.next;
	}

	q->last_avail_idx++;
	/* With EVENT_IDX, tell the driver which index should kick us next
	 * (2.7.10): the one after what we just took, unless we are busy. */
	if (q->event_idx && !q->notify_disabled)
		STORE(*avail_event_p(q), q->last_avail_idx);
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail_idx--;
}

/* Write the next used element (not yet published). */
static void fill(struct virtq *q, uint16_t head, uint32_t written)
{
	struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];

	STORE(e->id, (uint32_t)head);
	STORE(e->len, written);
	q->used_idx++;
}

void virtq_publish(struct virtq *q)
{
	if (!q->ready || q->published == q->used_idx)
		return;
	/* release: the elements (and the data written into the buffers)
	 * must be visible to the driver before the index that hands them
	 * over */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	q->published = q->used_idx;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	if (!q->ready)
		return;
	fill(q, head, written);
	virtq_publish(q);
}

void virtq_complete(struct virtq *q, uint16_t head, uint32_t written)
{
	if (!q->ready)
		return;
	if (q->inflight)
		q->inflight--;
	fill(q, head, written);
}

bool virtq_need_notify(struct virtq *q)
{
	uint16_t old, new, event;
	bool valid;

	if (!q->ready)
		return false;
	virtq_publish(q); /* what virtq_complete() wrote */
	/* full barrier: the used->idx store must be globally visible
	 * before we read the driver's suppression flag / used_event. The
	 * driver does the mirror image (write used_event, mb, read idx); with
	 * anything weaker both sides can miss each other and an interrupt is
	 * lost (store->load ordering is not given even on x86). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	old = q->signalled_used;
	new = q->used_idx;
	valid = q->signalled_valid;
	if (old == new)
		return false; /* nothing pushed since the last interrupt
			       * (or since the queue was enabled) */
	q->signalled_used = new;
	q->signalled_valid = true;

	if (!q->event_idx)
		return !(LOAD(q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	event = LOAD(*used_event_p(q));
	/* 2.7.10: interrupt if used_event lies in [old, new) (mod 2^16) */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

void virtq_disable_notify(struct virtq *q)
{
	if (!q->ready)
		return;
	q->notify_disabled = true;
	if (!q->event_idx)
		STORE(q->used->flags, VRING_USED_F_NO_NOTIFY);
	/* with EVENT_IDX: simply stop advancing avail_event */
}

bool virtq_enable_notify(struct virtq *q)
{
	if (!q->ready || q->broken)
		return false;
	q->notify_disabled = false;
	if (q->event_idx)
		STORE(*avail_event_p(q), q->last_avail_idx);
	else
		STORE(q->used->flags, 0);
	/* full barrier: the flag / avail_event store must be visible before
	 * we re-read avail->idx. Otherwise the driver could add a buffer, see
	 * the old "don't notify" state and skip the kick while we read the
	 * old idx and go to sleep: a lost wakeup. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_has_avail(q);
}

int virtq_drain(struct virtq *q, struct virtq_req *req, unsigned budget,
		virtq_handle_fn *handle, void *opaque,
		virtq_notify_fn *notify, void *notify_arg)
{
	unsigned pushed = 0;
	int ret;

	do {
		virtq_disable_notify(q);
		while ((ret = virtq_pop(q, req)) == 1) {
			uint32_t written = 0;
			int h = handle(opaque, req, &written);

			if (h < 0)
				return h; /* the chain stays unused */
			if (h == VIRTQ_REQ_RETRY) {
				virtq_unpop(q);
				ret = VIRTQ_DRAIN_STOPPED;
				goto stop;
			}
			if (h == VIRTQ_REQ_ASYNC)
				q->inflight++;
			else
				virtq_push(q, req->head, written);
			if (budget && ++pushed == budget) {
				ret = VIRTQ_DRAIN_BUDGET;
				goto stop;
			}
		}
		if (ret < 0)
			return ret;
		if (virtq_need_notify(q))
			notify(notify_arg);
		/* Enough chains in flight: kicks stay off, since their
		 * completion brings the device back here anyway (a kick
		 * now would cost the driver an exit and the device a
		 * wakeup). Otherwise kicks are wanted again, and what came
		 * in before they were is served now. */
		if (q->quiet_depth && q->inflight >= q->quiet_depth)
			return VIRTQ_DRAIN_INFLIGHT;
	} while (virtq_enable_notify(q));
	return VIRTQ_DRAIN_EMPTY;
stop:
	/* notifications stay off: the caller comes back */
	if (virtq_need_notify(q))
		notify(notify_arg);
	return ret;
}
