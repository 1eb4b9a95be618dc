/* SPDX-License-Identifier: MIT
 * evloop.c - epoll loop on a thread; an eventfd wakes it for calls and stop.
 * A loop may busy-poll before it sleeps (evloop_set_poll), with a window
 * that adapts the way QEMU's iothreads adapt theirs (poll-max-ns): grown
 * while sleeps with work due end soon, shrunk while they do not.
 */
#include "evloop.h"
#include "log.h"
#include "sandbox.h"
#include "stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct ev_watch {
	int fd;
	ev_cb cb;
	void *opaque;
	struct ev_watch *next;
};

struct evloop {
	const char *name;
	int epfd, wakefd;
	pthread_t thread;
	bool started;
	bool stop;
	enum sandbox_class sclass; /* the allow-list the thread runs under */
	int enter_ret;             /* its sandbox_enter(); 1 until known */
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	struct ev_watch *watches; /* owned; freed at evloop_free */
	struct ev_watch *dead;    /* deleted, freed after the current batch */
	/* pending cross-thread call */
	void (*call_fn)(void *);
	void *call_arg;
	unsigned long call_seq, done_seq;
	/* busy-polling before sleeping (evloop_set_poll) */
	ev_poll_fn poll_fn;
	void *poll_opaque;
	unsigned poll_max_ns, poll_ns; /* the limit, the current window */
};

static void wake(struct evloop *l)
{
	uint64_t one = 1;
	ssize_t r = write(l->wakefd, &one, sizeof(one));
	(void)r; /* EAGAIN: the counter is already non-zero, loop will wake */
}

struct evloop *evloop_new(const char *name)
{
	struct evloop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l)
		return NULL;
	l->name = name;
	l->sclass = SANDBOX_IO;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->wakefd < 0)
		goto fail;
	ev.data.ptr = NULL; /* NULL marks the wake fd */
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev))
		goto fail;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->done_cond, NULL);
	return l;
fail:
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	free(l);
	return NULL;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, ev_cb cb,
	       void *opaque)
{
	struct ev_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOMEM;
	*w = (struct ev_watch){ fd, cb, opaque, NULL };
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = -errno;
		free(w);
		return e;
	}
	pthread_mutex_lock(&l->lock);
	w->next = l->watches;
	l->watches = w;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static struct ev_watch *find(struct evloop *l, int fd)
{
	for (struct ev_watch *w = l->watches; w; w = w->next)
		if (w->fd == fd)
			return w;
	return NULL;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	pthread_mutex_lock(&l->lock);
	ev.data.ptr = find(l, fd);
	pthread_mutex_unlock(&l->lock);
	if (!ev.data.ptr)
		return -ENOENT;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int evloop_del(struct evloop *l, int fd)
{
	struct ev_watch **pw, *w = NULL;

	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL))
		return -errno;
	pthread_mutex_lock(&l->lock);
	for (pw = &l->watches; *pw; pw = &(*pw)->next) {
		if ((*pw)->fd == fd) {
			w = *pw;
			*pw = w->next;
			break;
		}
	}
	if (w) {
		/* An event for w may sit in the batch the loop is working
		 * through: disarm it and free it only after that batch. */
		__atomic_store_n(&w->cb, NULL, __ATOMIC_RELEASE);
		w->next = l->dead;
		l->dead = w;
	}
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static void free_list(struct ev_watch *w)
{
	while (w) {
		struct ev_watch *next = w->next;
		free(w);
		w = next;
	}
}

static void run_pending_call(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	if (l->call_fn && l->done_seq != l->call_seq) {
		void (*fn)(void *) = l->call_fn;
		void *arg = l->call_arg;
		pthread_mutex_unlock(&l->lock);
		fn(arg);
		pthread_mutex_lock(&l->lock);
		l->done_seq = l->call_seq;
		pthread_cond_broadcast(&l->done_cond);
	}
	pthread_mutex_unlock(&l->lock);
}

/* Run the callbacks of n events epoll_wait gave. */
static void dispatch(struct evloop *l, struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		struct ev_watch *w = evs[i].data.ptr;
		if (!w) {
			uint64_t v;
			ssize_t r = read(l->wakefd, &v, sizeof(v));
			(void)r;
			run_pending_call(l);
			continue;
		}
		/* acquire: pairs with the release in evloop_del();
		 * a NULL cb means w was removed meanwhile */
		ev_cb cb = __atomic_load_n(&w->cb, __ATOMIC_ACQUIRE);
		if (cb)
			cb(w->opaque, evs[i].events);
	}
	pthread_mutex_lock(&l->lock);
	free_list(l->dead);
	l->dead = NULL;
	pthread_mutex_unlock(&l->lock);
}

void evloop_set_poll(struct evloop *l, ev_poll_fn fn, void *opaque,
		     unsigned max_ns)
{
	l->poll_fn = max_ns ? fn : NULL;
	l->poll_opaque = opaque;
	l->poll_max_ns = max_ns;
	if (l->poll_ns > max_ns) /* a new limit keeps what is below it */
		l->poll_ns = max_ns;
}

/* Poll for up to the window. Returns what the last call of the poll
 * function returned: > 0 work done, 0 the window ran out with work due,
 * < 0 nothing due. */
static int poll_window(struct evloop *l)
{
	uint64_t end = 0;
	int r;

	for (;;) {
		r = l->poll_fn(l->poll_opaque);
		if (r || !l->poll_ns)
			return r;
		/* a stop or a call from another thread ends the window: the
		 * wake fd is ready for the epoll_wait that follows */
		if (__atomic_load_n(&l->stop, __ATOMIC_RELAXED) ||
		    __atomic_load_n(&l->call_seq, __ATOMIC_RELAXED) !=
		    l->done_seq)
			return 0;
		/* the clock read (vDSO) paces the loop */
		if (!end)
			end = stats_now_ns() + l->poll_ns;
		else if (stats_now_ns() >= end)
			return 0;
	}
}

/* A wait with work due took waited_ns, the poll window included: adapt
 * the window (a wait that ended within it needs no change). */
static void poll_adapt(struct evloop *l, uint64_t waited_ns)
{
	if (waited_ns <= l->poll_ns)
		return;
	if (waited_ns > l->poll_max_ns) {
		l->poll_ns /= 2;
		if (l->poll_ns < EVLOOP_POLL_MIN_NS)
			l->poll_ns = 0;
	} else if (l->poll_ns < l->poll_max_ns) {
		l->poll_ns = l->poll_ns ? l->poll_ns * 2 : EVLOOP_POLL_MIN_NS;
		if (l->poll_ns > l->poll_max_ns)
			l->poll_ns = l->poll_max_ns;
	}
}

/* One round of the loop: poll if it does, then wait up to timeout_ms for
 * fds (not at all when polling did work) and run their callbacks. How
 * many callbacks ran, or -errno. */
static int loop_round(struct evloop *l, struct epoll_event *evs,
		      int timeout)
{
	int due = -1, n;
	uint64_t t0 = 0;

	if (l->poll_fn) {
		t0 = stats_now_ns();
		due = poll_window(l);
		if (due > 0)
			timeout = 0;
	}
	n = epoll_wait(l->epfd, evs, 32, timeout);
	if (n < 0)
		return -errno;
	if (due == 0) /* the wait, polling included, with work due */
		poll_adapt(l, stats_now_ns() - t0);
	dispatch(l, evs, n);
	return n;
}

int evloop_run_ready(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[32];

	if (l->started)
		return -EBUSY;
	return loop_round(l, evs, timeout_ms);
}

unsigned evloop_poll_window(const struct evloop *l)
{
	return l->poll_ns;
}

static void *loop_thread(void *arg)
{
	struct evloop *l = arg;
	struct epoll_event evs[32];
	int ret = sandbox_enter(l->sclass);

	/* the last step of the set-up: tell evloop_start how it went */
	pthread_mutex_lock(&l->lock);
	l->enter_ret = ret;
	pthread_cond_broadcast(&l->done_cond);
	pthread_mutex_unlock(&l->lock);
	if (ret)
		return NULL;
	/* acquire: pairs with the release in evloop_free(); everything done
	 * before the stop request is visible to the loop's last round */
	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		int ret = loop_round(l, evs, -1);

		if (ret < 0 && ret != -EINTR) {
			pr_err("%s: epoll_wait: %s", l->name, strerror(-ret));
			break;
		}
	}
	return NULL;
}

void evloop_set_sandbox(struct evloop *l, enum sandbox_class c)
{
	l->sclass = c;
}

int evloop_start(struct evloop *l)
{
	int e;

	l->enter_ret = 1;
	e = pthread_create(&l->thread, NULL, loop_thread, l);
	if (e)
		return -e;
	pthread_setname_np(l->thread, l->name);
	l->started = true;
	/* serve nothing until the thread is under its filter */
	pthread_mutex_lock(&l->lock);
	while (l->enter_ret == 1)
		pthread_cond_wait(&l->done_cond, &l->lock);
	e = l->enter_ret;
	pthread_mutex_unlock(&l->lock);
	if (e) { /* the thread has returned: as if never started */
		pthread_join(l->thread, NULL);
		l->started = false;
	}
	return e;
}

void evloop_call(struct evloop *l, void (*fn)(void *), void *opaque)
{
	unsigned long seq;

	if (!l->started || pthread_equal(pthread_self(), l->thread)) {
		fn(opaque);
		return;
	}
	pthread_mutex_lock(&l->lock);
	/* one call at a time: wait for any previous call to finish */
	while (l->done_seq != l->call_seq)
		pthread_cond_wait(&l->done_cond, &l->lock);
	l->call_fn = fn;
	l->call_arg = opaque;
	seq = ++l->call_seq;
	pthread_mutex_unlock(&l->lock);
	wake(l);
	pthread_mutex_lock(&l->lock);
	while (l->done_seq < seq)
		pthread_cond_wait(&l->done_cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

void evloop_free(struct evloop *l)
{
	if (!l)
		return;
	if (l->started) {
		__atomic_store_n(&l->stop, true, __ATOMIC_RELEASE);
		wake(l);
		pthread_join(l->thread, NULL);
	}
	free_list(l->watches);
	free_list(l->dead);
	close(l->epfd);
	close(l->wakefd);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->done_cond);
	free(l);
}
