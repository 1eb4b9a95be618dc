/* SPDX-License-Identifier: MIT
 * aio.c - asynchronous block I/O on the image's host file with io_uring
 * (io_uring(7), liburing), behind blockdev.h's bdaio_* calls.
 *
 * A request is cut into extents by the format (ops->aio_map): the ones on
 * the host file become READV/WRITEV SQEs on the registered (fixed) file,
 * the others (backing data, zero clusters, allocation) are done at once
 * through the format's synchronous preadv/pwritev. The request completes
 * when its last piece does. A short transfer is continued from where it
 * stopped; a read that reaches end of file returns zeroes for the rest
 * (as the synchronous host-file layer does); a write that makes no
 * progress fails with -EIO. FLUSH on a format whose flush is fdatasync
 * is an FSYNC SQE submitted once every write request of the context in
 * flight has completed, short transfers continued included (an
 * IOSQE_IO_DRAIN would not wait for a continuation queued after it);
 * meanwhile the context is blocked (bdaio_blocked) so the flush waits for
 * no write that came after it. Otherwise the context waits for what it
 * has in flight, then calls the format's flush.
 *
 * The ring is created disabled, the image's file and the eventfd are
 * registered, then restricted to READV, WRITEV and FSYNC on the fixed
 * file (IORING_REGISTER_RESTRICTIONS) before it is enabled: the ring can
 * do nothing else, whatever code later runs on the thread that owns it.
 */
#include "devices/disk/disk_int.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

struct bdaio_hooks bdaio_hooks;

/* Retries of a submission that keeps failing with EAGAIN (the kernel is
 * short of memory) before what is queued is left for the next call. */
#define SUBMIT_TRIES 1000
/* Completions taken from the ring at once. */
#define REAP_BATCH 64
/* Pieces one request may have in flight; the rest of a request cut
 * finer than that (a fragmented qcow2 image) is done synchronously, so
 * what a guest's request costs in memory stays bounded. */
#define MAX_PIECES 32

struct bdaio {
	struct io_uring ring;
	struct blockdev *bd;
	int efd;
	bdaio_done_fn *done;
	void *opaque;
	unsigned inflight;   /* requests */
	unsigned writes;     /* write requests in flight */
	struct aio_piece *flush_wait; /* an FSYNC waiting for them */
	struct iovec *scratch; /* slicing a request, before a piece */
	int scratch_n;
};

/* One request. pending counts its pieces in flight, plus one while
 * bdaio_rw is still cutting it up. */
struct aio_req {
	void *tag;
	int pending;
	int err;
	bool write;
};

enum { PIECE_READ, PIECE_WRITE, PIECE_FSYNC };

/* One SQE's worth: an extent of a request on the host file. */
struct aio_piece {
	struct aio_req *r;
	int op;
	bool mapped;        /* aio_map gave it: aio_end when it finishes */
	unsigned ticket;    /* aio_map's, for aio_end */
	uint64_t host;      /* where the rest starts in the file */
	size_t left;        /* bytes still to transfer */
	int n;              /* v[0..n): what is left */
	struct iovec v[];
};

static int do_submit(struct io_uring *ring)
{
	return bdaio_hooks.submit ? bdaio_hooks.submit(ring)
				  : io_uring_submit(ring);
}

static void reap_some(struct bdaio *a);

void bdaio_submit(struct bdaio *a)
{
	const uint64_t one = 1;
	int tries = 0;
	ssize_t w;

	/* what the kernel has not taken yet, by the ring's own indices */
	while (io_uring_sq_ready(&a->ring)) {
		int ret = do_submit(&a->ring);

		if (ret > 0) {
			tries = 0;
			continue;
		}
		if (ret == -EINTR)
			continue;
		if (ret == 0 || ret == -EBUSY || ret == -EAGAIN) {
			/* completions waiting, or the kernel short of
			 * memory: take completions, try again */
			if (++tries > SUBMIT_TRIES)
				break; /* left queued for the next call */
			reap_some(a);
			sched_yield();
			continue;
		}
		break; /* cannot happen with valid SQEs; left queued */
	}
	if (!io_uring_sq_ready(&a->ring))
		return;
	/* Left queued: no completion may be due to bring the owner back
	 * (the kernel may hold nothing of ours), and the driver waits
	 * without kicking. The eventfd makes the owner's thread call
	 * bdaio_reap, which submits again. */
	w = write(a->efd, &one, sizeof(one));
	(void)w; /* EAGAIN: it is readable already */
}

/* A free SQE, submitting what is queued if the ring is full. */
static struct io_uring_sqe *get_sqe(struct bdaio *a)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&a->ring))) {
		unsigned before = io_uring_sq_ready(&a->ring);

		bdaio_submit(a);
		if (io_uring_sq_ready(&a->ring) == before)
			reap_some(a); /* the kernel took nothing: make room */
	}
	return sqe;
}

static void prep_piece(struct bdaio *a, struct aio_piece *p)
{
	struct io_uring_sqe *sqe = get_sqe(a);

	if (p->op == PIECE_FSYNC) {
		io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
	} else if (p->op == PIECE_READ) {
		io_uring_prep_readv(sqe, 0, p->v, (unsigned)p->n, p->host);
	} else {
		io_uring_prep_writev(sqe, 0, p->v, (unsigned)p->n, p->host);
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, p);
}

static void req_put(struct bdaio *a, struct aio_req *r, int err)
{
	if (err && !r->err)
		r->err = err;
	if (--r->pending)
		return;
	a->inflight--;
	if (r->write && !--a->writes && a->flush_wait) {
		/* every write before the flush is complete: now fsync */
		prep_piece(a, a->flush_wait);
		a->flush_wait = NULL;
	}
	a->done(a->opaque, r->tag, r->err);
	free(r);
}

static void piece_end(struct bdaio *a, struct aio_piece *p, int err)
{
	struct aio_req *r = p->r;

	if (p->mapped && a->bd->ops->aio_end)
		a->bd->ops->aio_end(a->bd, p->ticket);
	free(p);
	req_put(a, r, err);
}

/* A CQE for piece p with result res. */
static void piece_result(struct bdaio *a, struct aio_piece *p, int res)
{
	if (bdaio_hooks.result && p->op != PIECE_FSYNC)
		res = bdaio_hooks.result(res, p->left);
	if (res == -EAGAIN || res == -EINTR) {
		prep_piece(a, p); /* nothing done: the same again */
		return;
	}
	if (res < 0 || p->op == PIECE_FSYNC) {
		piece_end(a, p, res < 0 ? res : 0);
		return;
	}
	if ((size_t)res > p->left) {
		piece_end(a, p, -EIO);
		return;
	}
	if (res == 0) {
		/* end of file: a read gets zeroes; a write went nowhere */
		if (p->op == PIECE_READ)
			iov_memset(p->v, (unsigned)p->n, 0, 0, p->left);
		piece_end(a, p, p->op == PIECE_READ ? 0 : -EIO);
		return;
	}
	p->left -= (size_t)res;
	p->host += (uint64_t)res;
	if (!p->left) {
		piece_end(a, p, 0);
		return;
	}
	/* short: the rest, from where it stopped */
	p->n = iov_slice(p->v, (unsigned)p->n, (size_t)res, p->left, p->v,
			 (unsigned)p->n);
	if (p->n <= 0) {
		piece_end(a, p, -EIO);
		return;
	}
	prep_piece(a, p);
}

/* Take up to REAP_BATCH completions (in the order the kernel posted
 * them, unless a test hook reorders them). */
static unsigned reap_batch(struct bdaio *a)
{
	struct io_uring_cqe *cqes[REAP_BATCH];
	struct aio_piece *ps[REAP_BATCH];
	int res[REAP_BATCH];
	unsigned n = io_uring_peek_batch_cqe(&a->ring, cqes, REAP_BATCH);

	if (!n)
		return 0;
	if (bdaio_hooks.order)
		bdaio_hooks.order((void **)cqes, n);
	/* copy out and free the CQ slots first: handling a result may
	 * submit again */
	for (unsigned i = 0; i < n; i++) {
		ps[i] = io_uring_cqe_get_data(cqes[i]);
		res[i] = cqes[i]->res;
	}
	io_uring_cq_advance(&a->ring, n);
	for (unsigned i = 0; i < n; i++)
		piece_result(a, ps[i], res[i]);
	return n;
}

static void reap_some(struct bdaio *a)
{
	reap_batch(a);
}

unsigned bdaio_reap(struct bdaio *a)
{
	unsigned before = a->inflight;

	while (reap_batch(a) == REAP_BATCH)
		;
	bdaio_submit(a); /* what short transfers queued again */
	return before - a->inflight;
}

void bdaio_wait(struct bdaio *a)
{
	/* The waiting thread reaps every completion itself: the eventfd
	 * would only wake it again for nothing afterwards. (A flag in the
	 * shared CQ ring, no system call; kernels before 5.8 lack it and
	 * keep signalling.) */
	bool quiet = io_uring_cq_eventfd_toggle(&a->ring, false) == 0;

	while (a->inflight) {
		struct io_uring_cqe *cqe;
		int ret;

		if (io_uring_sq_ready(&a->ring) && !bdaio_hooks.submit) {
			/* hand over and wait in one system call */
			ret = io_uring_submit_and_wait(&a->ring, 1);
			if (ret > 0 && !io_uring_sq_ready(&a->ring)) {
				bdaio_reap(a);
				continue;
			}
		}
		bdaio_submit(a);
		if (!a->inflight)
			break; /* a refused submission reaped the last */
		if (io_uring_sq_ready(&a->ring)) {
			/* the kernel refused what is queued and may hold
			 * nothing that would end a wait: try again shortly */
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
			bdaio_reap(a);
			continue;
		}
		ret = io_uring_wait_cqe(&a->ring, &cqe);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
			break; /* the ring is unusable: nothing will come */
		bdaio_reap(a);
	}
	if (quiet)
		io_uring_cq_eventfd_toggle(&a->ring, true);
}

unsigned bdaio_inflight(const struct bdaio *a)
{
	return a->inflight;
}

int bdaio_fd(const struct bdaio *a)
{
	return a->efd;
}

/* All of iov and off aligned as O_DIRECT needs? */
static bool aligned(const struct blockdev *bd, const struct iovec *iov,
		    int iovcnt, uint64_t off)
{
	uint32_t al = bd->align;

	if (!bd->direct || al <= 1)
		return true;
	if (off % al)
		return false;
	for (int i = 0; i < iovcnt; i++)
		if ((uintptr_t)iov[i].iov_base % al || iov[i].iov_len % al)
			return false;
	return true;
}

static int sync_rw(struct blockdev *bd, bool write, const struct iovec *iov,
		   int iovcnt, uint64_t off)
{
	return write ? blockdev_pwritev(bd, iov, iovcnt, off)
		     : blockdev_preadv(bd, iov, iovcnt, off);
}

/* Bytes [skip, skip + len) of iov at guest offset off, through the
 * format's synchronous path. 0 or -errno. */
static int sync_piece(struct bdaio *a, bool write, const struct iovec *iov,
		      int iovcnt, size_t skip, uint64_t off, uint64_t len)
{
	struct iovec *v = malloc(sizeof(*v) * (size_t)iovcnt);
	int n, ret;

	if (!v)
		return -ENOMEM;
	n = iov_slice(iov, (unsigned)iovcnt, skip, len, v, (unsigned)iovcnt);
	ret = n <= 0 ? -EIO : sync_rw(a->bd, write, v, n, off);
	free(v);
	return ret;
}

/* Queue extent e of a request: bytes [skip, skip + e->len) of iov. */
static int queue_extent(struct bdaio *a, struct aio_req *r, bool write,
			const struct iovec *iov, int iovcnt, size_t skip,
			const struct bd_extent *e)
{
	struct aio_piece *p;
	int n;

	if (a->scratch_n < iovcnt) {
		struct iovec *v = realloc(a->scratch, sizeof(*v) * (size_t)iovcnt);

		if (!v)
			return -ENOMEM;
		a->scratch = v;
		a->scratch_n = iovcnt;
	}
	n = iov_slice(iov, (unsigned)iovcnt, skip, e->len, a->scratch,
		      (unsigned)iovcnt);
	if (n <= 0 || !aligned(a->bd, a->scratch, n, e->host))
		return 1; /* O_DIRECT would need a bounce buffer: the caller
			   * does it through the format's synchronous path */
	p = malloc(sizeof(*p) + sizeof(struct iovec) * (size_t)n);
	if (!p)
		return -ENOMEM;
	memcpy(p->v, a->scratch, sizeof(struct iovec) * (size_t)n);
	p->r = r;
	p->op = write ? PIECE_WRITE : PIECE_READ;
	p->mapped = true;
	p->ticket = e->ticket;
	p->host = e->host;
	p->left = e->len;
	p->n = n;
	r->pending++;
	prep_piece(a, p);
	return 0;
}

int bdaio_rw(struct bdaio *a, bool write, const struct iovec *iov,
	     int iovcnt, uint64_t off, void *tag)
{
	struct blockdev *bd = a->bd;
	size_t len = iov_size(iov, (unsigned)iovcnt), done = 0;
	struct aio_req *r;

	if (off > bd->size || len > bd->size - off)
		return -EINVAL;
	if (write && bd->readonly)
		return -EROFS;
	if (!len)
		return 1;
	/* misaligned for O_DIRECT: the synchronous layer bounces it */
	if (!aligned(bd, iov, iovcnt, off)) {
		int ret = sync_rw(bd, write, iov, iovcnt, off);
		return ret ? ret : 1;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->tag = tag;
	r->pending = 1;
	r->write = write;
	a->inflight++;
	a->writes += write;
	while (done < len && !r->err) {
		struct bd_extent e = { 0 };
		int ret;

		if (r->pending > MAX_PIECES) {
			/* the rest at once, through the format */
			e.sync = true;
			e.len = len - done;
			goto now;
		}
		ret = bd->ops->aio_map(bd, off + done, len - done, write, &e);
		if (!ret && (e.len == 0 || e.len > len - done)) {
			if (!e.sync && bd->ops->aio_end)
				bd->ops->aio_end(bd, e.ticket);
			ret = -EIO; /* a format bug: stop here */
		}
		if (ret) {
			r->err = ret;
			break;
		}
		if (!e.sync) {
			ret = queue_extent(a, r, write, iov, iovcnt, done, &e);
			if (ret == 1 && bd->ops->aio_end)
				bd->ops->aio_end(bd, e.ticket);
			if (ret < 0) {
				if (bd->ops->aio_end)
					bd->ops->aio_end(bd, e.ticket);
				r->err = ret;
				break;
			}
			if (ret == 0) {
				done += e.len;
				continue;
			}
		}
now:		/* through the format, now */
		ret = sync_piece(a, write, iov, iovcnt, done, off + done, e.len);
		if (ret)
			r->err = ret;
		done += e.len;
	}
	if (r->pending == 1) {
		/* nothing went to the kernel: finished here */
		int ret = r->err;

		a->inflight--;
		a->writes -= write;
		free(r);
		return ret ? ret : 1;
	}
	req_put(a, r, 0); /* done runs when the last piece finishes */
	return 0;
}

int bdaio_flush(struct bdaio *a, void *tag)
{
	struct aio_piece *p;
	struct aio_req *r;
	int ret;

	if (!a->bd->aio_fsync) {
		/* the format's flush (metadata too): after every write in
		 * flight here has completed */
		bdaio_wait(a);
		ret = blockdev_flush(a->bd);
		return ret ? ret : 1;
	}
	if (a->flush_wait)
		return -EBUSY; /* the caller waits while bdaio_blocked */
	r = calloc(1, sizeof(*r));
	p = calloc(1, sizeof(*p));
	if (!r || !p) {
		free(r);
		free(p);
		return -ENOMEM;
	}
	r->tag = tag;
	r->pending = 1;
	p->r = r;
	p->op = PIECE_FSYNC;
	a->inflight++;
	if (a->writes)
		a->flush_wait = p; /* after them (req_put) */
	else
		prep_piece(a, p);
	return 0;
}

bool bdaio_blocked(const struct bdaio *a)
{
	return a->flush_wait != NULL;
}

/* io_uring_register(2) itself: the liburing 2.3 that Debian 12 ships
 * does not export its wrappers for these two. 0 or -errno. */
static int ring_register(struct io_uring *ring, unsigned op, void *arg,
			 unsigned n)
{
	long ret = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, n);

	return ret < 0 ? -errno : 0;
}

static int ring_setup(unsigned entries, struct io_uring *ring,
		      struct io_uring_params *par)
{
	return bdaio_hooks.setup ? bdaio_hooks.setup(entries, ring, par)
				 : io_uring_queue_init_params(entries, ring, par);
}

/* The ring, disabled until restricted. Completions are posted by task
 * work on the thread that submitted (the queue's); by default the kernel
 * interrupts that thread with an IPI for each batch when it is running.
 * COOP_TASKRUN (Linux 5.19) leaves the work for the thread's next system
 * call, which the queue's loop makes soon anyway (submitting, or waiting
 * in epoll_wait: a sleeping thread is still woken), and TASKRUN_FLAG
 * sets IORING_SQ_TASKRUN meanwhile, so that liburing's peek enters the
 * kernel to run it when no completion is posted yet. A kernel that
 * refuses the flags (EINVAL) gets the ring without them.
 * SINGLE_ISSUER and DEFER_TASKRUN are not used: the ring is enabled
 * (IORING_REGISTER_ENABLE_RINGS, which makes the enabling thread the
 * only submitter) on the thread that builds the device, while the
 * queue's own thread submits, and its sandbox allows no
 * io_uring_register. */
static int ring_init(struct bdaio *a, unsigned entries)
{
	struct io_uring_params par;
	int ret;

	memset(&par, 0, sizeof(par));
	par.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_COOP_TASKRUN |
		    IORING_SETUP_TASKRUN_FLAG;
	ret = ring_setup(entries, &a->ring, &par);
	if (ret != -EINVAL)
		return ret;
	memset(&par, 0, sizeof(par));
	par.flags = IORING_SETUP_R_DISABLED;
	return ring_setup(entries, &a->ring, &par);
}

unsigned bdaio_ring_flags(const struct bdaio *a)
{
	return a->ring.flags;
}

int bdaio_new(struct blockdev *bd, unsigned depth, bdaio_done_fn *done,
	      void *opaque, struct bdaio **out)
{
	struct io_uring_restriction res[5];
	struct bdaio *a;
	unsigned entries = 1;
	int ret;

	if (!bd->ops->aio_map || bd->aio_fd < 0)
		return -EOPNOTSUPP;
	while (entries < depth && entries < 4096)
		entries <<= 1;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->bd = bd;
	a->done = done;
	a->opaque = opaque;
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		ret = -errno;
		free(a);
		return ret;
	}
	ret = ring_init(a, entries);
	if (ret < 0) {
		close(a->efd);
		free(a);
		return ret;
	}
	memset(res, 0, sizeof(res));
	res[0].opcode = IORING_RESTRICTION_SQE_OP;
	res[0].sqe_op = IORING_OP_READV;
	res[1].opcode = IORING_RESTRICTION_SQE_OP;
	res[1].sqe_op = IORING_OP_WRITEV;
	res[2].opcode = IORING_RESTRICTION_SQE_OP;
	res[2].sqe_op = IORING_OP_FSYNC;
	res[3].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[3].sqe_flags = IOSQE_FIXED_FILE;
	res[4].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[4].sqe_flags = IOSQE_FIXED_FILE | IOSQE_IO_DRAIN;
	ret = io_uring_register_files(&a->ring, &bd->aio_fd, 1);
	if (!ret)
		ret = io_uring_register_eventfd(&a->ring, a->efd);
	if (!ret)
		ret = ring_register(&a->ring, IORING_REGISTER_RESTRICTIONS, res,
				    5);
	if (!ret)
		ret = ring_register(&a->ring, IORING_REGISTER_ENABLE_RINGS,
				    NULL, 0);
	if (ret < 0) {
		io_uring_queue_exit(&a->ring);
		close(a->efd);
		free(a);
		return ret;
	}
	*out = a;
	return 0;
}

void bdaio_free(struct bdaio *a)
{
	if (!a)
		return;
	bdaio_wait(a);
	io_uring_queue_exit(&a->ring);
	close(a->efd);
	free(a->scratch);
	free(a);
}
