/* SPDX-License-Identifier: MIT
 * trace.c - the --trace lines and their filter (see trace.h).
 *
 * The stream is process-wide, like the log: stderr (each line prefixed
 * "minivmm: trace: ", as every other message there) or the --trace-file,
 * opened before any thread enters its seccomp sandbox. Each line is one
 * write(2), so the lines of several vCPUs never mix.
 */
#include "trace.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t trace_t0;
static struct trace_filter trace_filt;

static const char *const reason_names[TRACE_NR_REASONS] = {
	[TRACE_IO] = "io",
	[TRACE_MMIO] = "mmio",
	[TRACE_HLT] = "hlt",
	[TRACE_INTR] = "intr",
	[TRACE_SHUTDOWN] = "shutdown",
	[TRACE_SYSTEM_EVENT] = "system_event",
	[TRACE_ERROR] = "error",
	[TRACE_OTHER] = "other",
};

/* A device name as the buses know them: a letter, then letters, digits,
 * '-' and '_'. */
static bool device_word(const char *w)
{
	if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z')))
		return false;
	for (; *w; w++)
		if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') ||
		      (*w >= '0' && *w <= '9') || *w == '-' || *w == '_'))
			return false;
	return true;
}

/* "vcpu7" -> 7; -1 when w is not vcpuN with N < 64 */
static int vcpu_word(const char *w)
{
	char *end;
	unsigned long n;

	if (strncmp(w, "vcpu", 4) || w[4] < '0' || w[4] > '9')
		return -1;
	errno = 0;
	n = strtoul(w + 4, &end, 10);
	return errno || *end || n >= 64 ? -2 : (int)n;
}

int trace_filter_parse(const char *spec, struct trace_filter *f)
{
	const char *p = spec ? spec : "";

	memset(f, 0, sizeof(*f));
	if (!*p)
		return 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		char w[TRACE_NAME_MAX];
		int r, v;

		if (n == 0 || n >= sizeof(w)) {
			pr_err("--trace: '%.*s' in '%s' is not a filter word "
			       "(reasons: io, mmio, hlt, intr, shutdown, "
			       "system_event, error, other; vcpuN; a device name)",
			       (int)(n < 40 ? n : 40), p, spec);
			return -EINVAL;
		}
		memcpy(w, p, n);
		w[n] = '\0';
		for (r = 0; r < TRACE_NR_REASONS; r++)
			if (!strcmp(w, reason_names[r]))
				break;
		v = vcpu_word(w);
		if (r < TRACE_NR_REASONS) {
			f->reasons |= 1u << r;
		} else if (v >= 0) {
			f->vcpus |= 1ull << v;
		} else if (v == -2) {
			pr_err("--trace: '%s' is not a vCPU (vcpu0 to vcpu63)", w);
			return -EINVAL;
		} else if (!device_word(w)) {
			pr_err("--trace: '%s' is not a filter word (reasons: io, "
			       "mmio, hlt, intr, shutdown, system_event, error, "
			       "other; vcpuN; a device name)", w);
			return -EINVAL;
		} else if (f->nr_devices == TRACE_MAX_DEVICES) {
			pr_err("--trace: at most %d device names", TRACE_MAX_DEVICES);
			return -EINVAL;
		} else {
			memcpy(f->devices[f->nr_devices++], w, n + 1);
		}
		p += n;
		if (!*p)
			return 0;
		p++; /* the comma */
	}
}

bool trace_device_matches(const char *word, const char *name)
{
	size_t n = strlen(word);
	const char *p;

	if (strncmp(word, name, n))
		return false;
	p = name + n;
	if (!*p)
		return true;
	/* the instance number: "virtio-blk" + "0", "e1000" + "-1" (a word
	 * that ends in a digit is a kind only when a '-' follows) */
	if (n && word[n - 1] >= '0' && word[n - 1] <= '9' && *p++ != '-')
		return false;
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

bool trace_filter_match(const struct trace_filter *f, enum trace_reason r,
			unsigned vcpu, const char *device)
{
	bool dev_ok = !f->nr_devices;

	if (f->reasons && !(f->reasons & (1u << r)))
		return false;
	if (f->vcpus && (vcpu >= 64 || !(f->vcpus & (1ull << vcpu))))
		return false;
	for (unsigned i = 0; i < f->nr_devices && !dev_ok && device; i++)
		dev_ok = trace_device_matches(f->devices[i], device);
	return dev_ok;
}

static bool on_bus(struct bus *b, const char *name)
{
	bool found = false;

	if (!b)
		return false;
	pthread_rwlock_rdlock(&b->lock);
	for (unsigned i = 0; i < b->nr && !found; i++)
		found = b->r[i].name && trace_device_matches(name, b->r[i].name);
	pthread_rwlock_unlock(&b->lock);
	return found;
}

int trace_check_devices(const struct trace_filter *f, struct bus *pio,
			struct bus *mmio)
{
	for (unsigned i = 0; i < f->nr_devices; i++)
		if (!on_bus(pio, f->devices[i]) && !on_bus(mmio, f->devices[i])) {
			pr_err("--trace: no device '%s' in this machine (the "
			       "names are those of --stats' exits by device)",
			       f->devices[i]);
			return -ENOENT;
		}
	return 0;
}

uint64_t trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int trace_start(const char *path, const struct trace_filter *f)
{
	if (path) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);

		if (fd < 0) {
			int e = errno;

			pr_err("--trace-file %s: %s", path, strerror(e));
			return -e;
		}
		log_trace_fd = fd;
	}
	if (f)
		trace_filt = *f;
	else
		memset(&trace_filt, 0, sizeof(trace_filt));
	trace_t0 = trace_now_ns();
	log_trace_enabled = true;
	return 0;
}

void trace_stop(void)
{
	log_trace_enabled = false;
	if (log_trace_fd != STDERR_FILENO)
		close(log_trace_fd);
	log_trace_fd = STDERR_FILENO;
}

/* append like snprintf, never past size */
static void add(char *buf, size_t size, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(char *buf, size_t size, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, size - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at = *at + (size_t)n < size ? *at + (size_t)n : size - 1;
}

static uint64_t value_at(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i); /* x86: little-endian */
	return v;
}

static void add_char(char *buf, size_t size, size_t *at, uint64_t v)
{
	if (v >= 0x20 && v < 0x7f && v != '\'' && v != '\\')
		add(buf, size, at, " '%c'", (char)v);
	else if (v == '\n')
		add(buf, size, at, " '\\n'");
	else if (v == '\r')
		add(buf, size, at, " '\\r'");
}

static void add_time(char *buf, size_t size, size_t *at, uint64_t ns)
{
	if (ns < 10000)
		add(buf, size, at, " (%" PRIu64 "ns)", ns);
	else
		add(buf, size, at, " (%" PRIu64 ".%" PRIu64 "us)", ns / 1000,
		    ns % 1000 / 100);
}

size_t trace_format(char *buf, size_t size, unsigned vcpu,
		    enum trace_reason r, const char *detail,
		    const struct trace_access *a, uint64_t since_ns,
		    uint64_t handler_ns)
{
	size_t at = 0;

	if (!size)
		return 0;
	buf[0] = '\0';
	add(buf, size, &at, "%8" PRIu64 ".%03" PRIu64 " vcpu%u ",
	    since_ns / 1000, since_ns % 1000, vcpu);
	if (a && (r == TRACE_IO || r == TRACE_MMIO)) {
		bool io = r == TRACE_IO;
		char reg[96], where[16];
		unsigned flags = bus_hit_reg(&a->hit, a->size, a->is_write, reg,
					     sizeof(reg));
		uint64_t v = value_at(a->data, a->size);

		snprintf(where, sizeof(where), a->count > 1 ? "%ux%u" : "%u",
			 a->size, a->count);
		add(buf, size, &at, "%s %s 0x%" PRIx64 " %s ",
		    io ? "io" : "mmio",
		    io ? (a->is_write ? "out" : "in")
		       : (a->is_write ? "write" : "read"),
		    a->addr, where);
		if (a->hit.name)
			add(buf, size, &at, "%s %s", a->hit.name, reg);
		else
			add(buf, size, &at, "(unhandled)");
		add(buf, size, &at, " %s 0x%" PRIx64, a->is_write ? "<-" : "->",
		    v);
		if ((flags & BUS_REG_CHAR) && a->size == 1)
			add_char(buf, size, &at, v);
		if (a->count > 1)
			add(buf, size, &at, " (+%u more)", a->count - 1);
	} else {
		add(buf, size, &at, "%s", reason_names[r]);
		if (detail)
			add(buf, size, &at, " %s", detail);
	}
	add_time(buf, size, &at, handler_ns);
	if (at + 1 < size) {
		buf[at++] = '\n';
		buf[at] = '\0';
	} else {
		buf[size - 2] = '\n';
		at = size - 1;
	}
	return at;
}

void trace_exit(unsigned vcpu, enum trace_reason r, const char *detail,
		const struct trace_access *a, uint64_t start_ns,
		uint64_t handler_ns)
{
	char buf[256];
	size_t len;

	if (!trace_filter_match(&trace_filt, r, vcpu, a ? a->hit.name : NULL))
		return;
	len = trace_format(buf, sizeof(buf), vcpu, r, detail, a,
			   start_ns - trace_t0, handler_ns);
	log_trace_write(buf, len);
}
