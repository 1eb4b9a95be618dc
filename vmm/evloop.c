/* SPDX-License-Identifier: MIT
 * evloop.c - epoll loop on a thread; an eventfd wakes it for calls and stop.
 */
#include "evloop.h"
#include "log.h"
#include "sandbox.h"

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

int evloop_run_ready(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[32];
	int n;

	if (l->started)
		return -EBUSY;
	n = epoll_wait(l->epfd, evs, 32, timeout_ms);
	if (n < 0)
		return -errno;
	dispatch(l, evs, n);
	return n;
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
		int n = epoll_wait(l->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("%s: epoll_wait: %s", l->name, strerror(errno));
			break;
		}
		dispatch(l, evs, n);
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
