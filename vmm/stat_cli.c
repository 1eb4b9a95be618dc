/* SPDX-License-Identifier: MIT
 * stat_cli.c - `minivmm stat --api-socket PATH`: connects to a running
 * minivmm's control socket, asks "stats" every interval and redraws a table
 * of rates and totals (plain ANSI clear and home, no curses): exits by
 * reason, by device and by register, where each vCPU's time goes, the latency of the
 * exit handlers by reason, virtqueue and interrupt counters, and each
 * device's own counters. --once prints one table, --json the raw answer.
 */
#include "stat_cli.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- a bounded JSON flattener ---- */

struct sj_parser {
	const char *p, *end;
	struct sj *j;
	int err;
};

static void skip_ws(struct sj_parser *ps)
{
	while (ps->p < ps->end && isspace((unsigned char)*ps->p))
		ps->p++;
}

static struct sj_item *add_item(struct sj_parser *ps, const char *key,
				enum sj_type type)
{
	struct sj_item *it;

	if (ps->j->n >= SJ_ITEMS_MAX) {
		ps->err = -E2BIG;
		return NULL;
	}
	it = &ps->j->items[ps->j->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->key, sizeof(it->key), "%s", key);
	it->type = type;
	return it;
}

/* A string's text into out (cut at outlen - 1; escapes decoded, \u as
 * '?'). Returns 0 or -EINVAL. */
static int parse_string(struct sj_parser *ps, char *out, size_t outlen)
{
	size_t n = 0;

	if (ps->p >= ps->end || *ps->p != '"')
		return -EINVAL;
	ps->p++;
	while (ps->p < ps->end && *ps->p != '"') {
		char c = *ps->p++;

		if ((unsigned char)c < 0x20)
			return -EINVAL;
		if (c == '\\') {
			if (ps->p >= ps->end)
				return -EINVAL;
			c = *ps->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '"': case '\\': case '/': break;
			case 'u':
				for (int i = 0; i < 4; i++)
					if (ps->p >= ps->end ||
					    !isxdigit((unsigned char)*ps->p++))
						return -EINVAL;
				c = '?';
				break;
			default:
				return -EINVAL;
			}
		}
		if (n + 1 < outlen)
			out[n++] = c;
	}
	if (ps->p >= ps->end)
		return -EINVAL;
	ps->p++; /* the closing quote */
	if (outlen)
		out[n] = 0;
	return 0;
}

static int parse_value(struct sj_parser *ps, const char *key, int depth);

/* key + "." + name into out; -EINVAL when it does not fit */
static int join(char *out, const char *key, const char *name)
{
	int r = snprintf(out, SJ_KEY_MAX, "%s%s%s", key, *key ? "." : "", name);

	return r < 0 || r >= SJ_KEY_MAX ? -EINVAL : 0;
}

static int parse_container(struct sj_parser *ps, const char *key, int depth,
			   bool object)
{
	char close = object ? '}' : ']';
	unsigned idx = 0;

	if (depth >= SJ_DEPTH_MAX)
		return -EINVAL;
	ps->p++; /* { or [ */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		char name[SJ_KEY_MAX], sub[SJ_KEY_MAX];
		int r;

		skip_ws(ps);
		if (object) {
			/* a name that fills name[] may have been cut */
			if (parse_string(ps, name, sizeof(name)) ||
			    strlen(name) >= sizeof(name) - 1)
				return -EINVAL;
			/* a '.' in a name would make two paths the same */
			for (char *c = name; *c; c++)
				if (*c == '.')
					*c = '_';
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				return -EINVAL;
		} else {
			snprintf(name, sizeof(name), "%u", idx++);
		}
		if (join(sub, key, name))
			return -EINVAL;
		r = parse_value(ps, sub, depth + 1);
		if (r)
			return r;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return -EINVAL;
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p++ == close)
			return 0;
		return -EINVAL;
	}
}

static int parse_number(struct sj_parser *ps, const char *key)
{
	bool neg = false, digits = false;
	uint64_t v = 0;
	struct sj_item *it;

	if (*ps->p == '-') {
		neg = true;
		ps->p++;
	}
	while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) {
		unsigned d = (unsigned)(*ps->p++ - '0');

		digits = true;
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	if (!digits)
		return -EINVAL;
	/* a fraction or an exponent: read over, the integer part stays */
	while (ps->p < ps->end && strchr(".eE+-0123456789", *ps->p))
		ps->p++;
	it = add_item(ps, key, SJ_NUM);
	if (!it)
		return ps->err;
	it->num = neg ? 0 : v;
	return 0;
}

static int parse_word(struct sj_parser *ps, const char *key)
{
	static const struct { const char *w; enum sj_type t; uint64_t v; } words[] = {
		{ "true", SJ_BOOL, 1 }, { "false", SJ_BOOL, 0 }, { "null", SJ_NULL, 0 },
	};

	for (unsigned i = 0; i < 3; i++) {
		size_t l = strlen(words[i].w);
		struct sj_item *it;

		if ((size_t)(ps->end - ps->p) < l || memcmp(ps->p, words[i].w, l))
			continue;
		ps->p += l;
		it = add_item(ps, key, words[i].t);
		if (!it)
			return ps->err;
		it->num = words[i].v;
		return 0;
	}
	return -EINVAL;
}

static int parse_value(struct sj_parser *ps, const char *key, int depth)
{
	struct sj_item *it;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return -EINVAL;
	switch (*ps->p) {
	case '{':
		return parse_container(ps, key, depth, true);
	case '[':
		return parse_container(ps, key, depth, false);
	case '"':
		it = add_item(ps, key, SJ_STR);
		if (!it)
			return ps->err;
		return parse_string(ps, it->str, sizeof(it->str));
	default:
		if (*ps->p == '-' || isdigit((unsigned char)*ps->p))
			return parse_number(ps, key);
		return parse_word(ps, key);
	}
}

int sj_parse(struct sj *j, const char *text, size_t len)
{
	struct sj_parser ps = { .p = text, .end = text + len, .j = j };
	int r;

	j->n = 0;
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{')
		return -EINVAL;
	r = parse_value(&ps, "", 0);
	if (r)
		return r;
	skip_ws(&ps);
	return ps.p == ps.end ? 0 : -EINVAL;
}

const struct sj_item *sj_find(const struct sj *j, const char *key)
{
	for (unsigned i = 0; i < j->n; i++)
		if (!strcmp(j->items[i].key, key))
			return &j->items[i];
	return NULL;
}

uint64_t sj_num(const struct sj *j, const char *key)
{
	const struct sj_item *it = sj_find(j, key);

	return it && (it->type == SJ_NUM || it->type == SJ_BOOL) ? it->num : 0;
}

static const char *sj_str(const struct sj *j, const char *key)
{
	const struct sj_item *it = sj_find(j, key);

	return it && it->type == SJ_STR ? it->str : "?";
}

/* ---- the table ---- */

static const char *const reasons[] = { "io", "mmio", "hlt", "intr", "other" };

/* the counter at key now, and its growth per second over the interval */
struct figure {
	uint64_t total;
	double rate; /* < 0: no interval */
};

static struct figure fig(const struct stat_sample *prev,
			 const struct stat_sample *cur, const char *key,
			 double dt)
{
	struct figure f = { sj_num(&cur->j, key), -1 };

	if (prev && dt > 0) {
		uint64_t p = sj_num(&prev->j, key);

		f.rate = f.total >= p ? (double)(f.total - p) / dt : 0;
	}
	return f;
}

/* name, rate and total; a name longer than its 28 columns (a PCI
 * capability's field) takes room from the rate's padding, so the figures
 * stay in their columns */
static void row(FILE *f, const char *name, struct figure v)
{
	int w = 40 - (int)strlen(name);

	if (w < 1)
		w = 1;
	if (v.rate >= 0)
		fprintf(f, "  %s %*.0f %14" PRIu64 "\n", name, w, v.rate, v.total);
	else
		fprintf(f, "  %s %*s %14" PRIu64 "\n", name, w, "-", v.total);
}

static void fmt_ns(char *buf, size_t len, double ns)
{
	if (ns >= 1e9)
		snprintf(buf, len, "%.2f s", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else
		snprintf(buf, len, "%.0f ns", ns);
}

/* "[64, 128) ns" for bucket b: [2^b, 2^(b+1)) ns, bucket 0 from 0 */
static void bucket_name(char *buf, size_t len, unsigned b)
{
	snprintf(buf, len, "[%llu, %llu) ns", b ? 1ull << b : 0ull,
		 1ull << (b + 1));
}

/* The handler-time histogram of one reason over the interval (or since
 * the start): a bar per bucket holding at least 1% of the exits. */
static void histogram(FILE *f, const struct stat_sample *prev,
		      const struct stat_sample *cur, const char *r)
{
	uint64_t b[64] = { 0 }, pb[64] = { 0 }, n = 0, ns;
	char key[SJ_KEY_MAX], mean[24];

	for (unsigned i = 0; i < 64; i++) {
		uint64_t idx, cnt;

		snprintf(key, sizeof(key), "handler.%s.hist.%u.0", r, i);
		if (!sj_find(&cur->j, key))
			break;
		idx = sj_num(&cur->j, key);
		snprintf(key, sizeof(key), "handler.%s.hist.%u.1", r, i);
		cnt = sj_num(&cur->j, key);
		if (idx < 64)
			b[idx] = cnt;
		if (!prev)
			continue;
		snprintf(key, sizeof(key), "handler.%s.hist.%u.0", r, i);
		if (!sj_find(&prev->j, key))
			continue;
		idx = sj_num(&prev->j, key);
		snprintf(key, sizeof(key), "handler.%s.hist.%u.1", r, i);
		if (idx < 64)
			pb[idx] = sj_num(&prev->j, key);
	}
	for (unsigned i = 0; i < 64; i++) {
		b[i] = b[i] >= pb[i] ? b[i] - pb[i] : 0;
		n += b[i];
	}
	if (!n)
		return;
	snprintf(key, sizeof(key), "handler.%s.ns", r);
	ns = sj_num(&cur->j, key) - (prev ? sj_num(&prev->j, key) : 0);
	fmt_ns(mean, sizeof(mean), (double)ns / (double)n);
	fprintf(f, "  %-6s %10" PRIu64 " exits, mean %s\n", r, n, mean);
	for (unsigned i = 0; i < 64; i++) {
		unsigned pct = (unsigned)(b[i] * 100 / n);
		char name[48], bar[41];

		if (!pct)
			continue;
		bucket_name(name, sizeof(name), i);
		memset(bar, '#', pct * 40 / 100);
		bar[pct * 40 / 100] = 0;
		fprintf(f, "    %-28s %10" PRIu64 " %3u%% %s\n", name, b[i], pct, bar);
	}
}

/* Members of the object at prefix ("bus_exits.", "devices."): the
 * numbers, in the answer's order. */
static void section(FILE *f, const struct stat_sample *prev,
		    const struct stat_sample *cur, const char *prefix,
		    double dt)
{
	size_t pl = strlen(prefix);
	bool any = false;

	for (unsigned i = 0; i < cur->j.n; i++) {
		const struct sj_item *it = &cur->j.items[i];

		if (strncmp(it->key, prefix, pl) || it->type != SJ_NUM)
			continue;
		row(f, it->key + pl, fig(prev, cur, it->key, dt));
		any = true;
	}
	if (!any)
		fprintf(f, "  (none)\n");
}

/* The count of the register whose name is at key (".0" of a pair in
 * bus_regs), found by name in s: the pair's order may change. */
static bool reg_count(const struct sj *s, const char *dev, const char *reg,
		      uint64_t *out)
{
	char prefix[SJ_KEY_MAX];
	size_t pl;

	snprintf(prefix, sizeof(prefix), "bus_regs.%s.", dev);
	pl = strlen(prefix);
	for (unsigned i = 0; i < s->n; i++) {
		const struct sj_item *it = &s->items[i];
		size_t kl = strlen(it->key);
		char key[SJ_KEY_MAX];

		if (strncmp(it->key, prefix, pl) || it->type != SJ_STR ||
		    kl < 2 || strcmp(it->key + kl - 2, ".0") ||
		    strcmp(it->str, reg))
			continue;
		snprintf(key, sizeof(key), "%.*s.1", (int)(kl - 2), it->key);
		*out = sj_num(s, key);
		return true;
	}
	return false;
}

/* Exits by register: one row per pair of bus_regs ("pio:com1":[["THR",
 * N],...]), "pio:com1 THR", in the answer's order (each device's busiest
 * first), the rate from the same register's count in prev. */
static void regs_section(FILE *f, const struct stat_sample *prev,
			 const struct stat_sample *cur, double dt)
{
	static const char prefix[] = "bus_regs.";
	const size_t pl = sizeof(prefix) - 1;
	bool any = false;

	for (unsigned i = 0; i < cur->j.n; i++) {
		const struct sj_item *it = &cur->j.items[i];
		const char *dot;
		size_t kl = strlen(it->key);
		char dev[SJ_KEY_MAX], name[SJ_KEY_MAX + SJ_STR_MAX];
		struct figure v = { 0, -1 };
		uint64_t p;

		if (strncmp(it->key, prefix, pl) || it->type != SJ_STR ||
		    kl < 2 || strcmp(it->key + kl - 2, ".0") ||
		    !(dot = strchr(it->key + pl, '.')))
			continue;
		snprintf(dev, sizeof(dev), "%.*s", (int)(dot - it->key - pl),
			 it->key + pl);
		reg_count(&cur->j, dev, it->str, &v.total);
		if (prev && dt > 0)
			v.rate = reg_count(&prev->j, dev, it->str, &p) &&
					 v.total >= p ?
					 (double)(v.total - p) / dt :
					 (double)v.total / dt;
		snprintf(name, sizeof(name), "%s %s", dev, it->str);
		row(f, name, v);
		any = true;
	}
	if (!any)
		fprintf(f, "  (none yet: counted from the first stats request)\n");
	else if (sj_num(&cur->j, "bus_regs_left_out"))
		fprintf(f, "  (%" PRIu64 " devices left out: no room in the answer)\n",
			sj_num(&cur->j, "bus_regs_left_out"));
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

void stat_table(FILE *f, const char *path, const struct stat_sample *prev,
		const struct stat_sample *cur)
{
	const struct sj *j = &cur->j;
	uint64_t t1 = sj_num(j, "time_ns"), t0 = prev ? sj_num(&prev->j, "time_ns") : 0;
	double dt = prev && t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
	char key[SJ_KEY_MAX];

	if (!dt)
		prev = NULL;
	fprintf(f, "minivmm stat  %s  pid %" PRIu64 "  %s  %" PRIu64 " vCPU%s  ",
		path, sj_num(j, "pid"), sj_str(j, "state"), sj_num(j, "vcpus"),
		sj_num(j, "vcpus") == 1 ? "" : "s");
	if (prev)
		fprintf(f, "interval %.2f s\n", dt);
	else
		fprintf(f, "totals since the start\n");

	fprintf(f, "\n%-30s %12s %14s\n", "VM EXITS", "per second", "total");
	row(f, "all", fig(prev, cur, "exits.all", dt));
	for (unsigned r = 0; r < 5; r++) {
		snprintf(key, sizeof(key), "exits.%s", reasons[r]);
		row(f, reasons[r], fig(prev, cur, key, dt));
	}

	fprintf(f, "\n%-30s %12s %14s\n", "EXITS BY DEVICE", "per second", "total");
	section(f, prev, cur, "bus_exits.", dt);
	row(f, "unhandled port I/O", fig(prev, cur, "counters.pio_unhandled", dt));
	row(f, "unhandled MMIO", fig(prev, cur, "counters.mmio_unhandled", dt));

	fprintf(f, "\n%-30s %12s %14s\n", "EXITS BY REGISTER", "per second", "total");
	regs_section(f, prev, cur, dt);

	fprintf(f, "\n%-30s %12s %14s\n", "VIRTQUEUES AND INTERRUPTS", "per second", "total");
	row(f, "notifications (kicks)", fig(prev, cur, "counters.vq_notify", dt));
	row(f, "  via ioeventfd: exits saved", fig(prev, cur, "counters.vq_notify_ioeventfd", dt));
	row(f, "requests", fig(prev, cur, "counters.vq_requests", dt));
	row(f, "malformed requests", fig(prev, cur, "counters.vq_errors", dt));
	row(f, "interrupts injected", fig(prev, cur, "counters.irqs", dt));
	row(f, "  via irqfd", fig(prev, cur, "counters.irqs_irqfd", dt));

	fprintf(f, "\n%-32s %9s %9s %9s %9s\n",
		prev ? "VCPU TIME (share of the interval)" : "VCPU TIME (share since the start)",
		"KVM_RUN", "(guest)", "handlers", "other");
	for (unsigned i = 0; i < STAT_VCPUS_MAX; i++) {
		uint64_t id, run, hnd, wall, guest;
		char g[16];

		snprintf(key, sizeof(key), "vcpu_time.%u.id", i);
		if (!sj_find(j, key))
			break;
		id = sj_num(j, key);
		snprintf(key, sizeof(key), "vcpu_time.%u.run_ns", i);
		run = sj_num(j, key) - (prev ? sj_num(&prev->j, key) : 0);
		snprintf(key, sizeof(key), "vcpu_time.%u.handler_ns", i);
		hnd = sj_num(j, key) - (prev ? sj_num(&prev->j, key) : 0);
		guest = id < STAT_VCPUS_MAX ?
			cur->guest_ns[id] - (prev ? prev->guest_ns[id] : 0) : 0;
		/* the times are added at each exit, the interval's ends fall
		 * between exits: a share may run a little over 100% otherwise */
		wall = prev && t1 - t0 > run + hnd ? t1 - t0 : run + hnd;
		if (guest && guest <= run)
			snprintf(g, sizeof(g), "%.1f%%", pct(guest, wall));
		else
			snprintf(g, sizeof(g), "-");
		fprintf(f, "  vcpu%-26" PRIu64 " %8.1f%% %9s %8.1f%% %8.1f%%\n",
			id, pct(run, wall), g, pct(hnd, wall),
			run + hnd < wall ? pct(wall - run - hnd, wall) : 0.0);
	}

	fprintf(f, "\nHANDLER TIME BY EXIT REASON (%s)\n",
		prev ? "this interval" : "since the start");
	for (unsigned r = 0; r < 5; r++)
		histogram(f, prev, cur, reasons[r]);

	fprintf(f, "\n%-30s %12s %14s\n", "DEVICES", "per second", "total");
	section(f, prev, cur, "devices.", dt);
}

int stat_parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.1 && v <= 3600))
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- the client ---- */

#define STAT_ANSWER_MAX (64 * 1024) /* the server's answers are <= 32 KiB */
#define STAT_TIMEOUT_MS 5000

struct stat_conn {
	int fd;
	const char *path;
	char buf[STAT_ANSWER_MAX];
	size_t len;
};

/* Send "stats", read one line. 0, or -1 with the error printed;
 * *gone set when the VM closed the connection (it stopped). */
static int ask(struct stat_conn *c, bool *gone)
{
	static const char cmd[] = "stats\n";

	*gone = false;
	c->len = 0;
	/* a VM that stopped closed the socket: EPIPE, not SIGPIPE */
	if (send(c->fd, cmd, sizeof(cmd) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(cmd) - 1) {
		*gone = true;
		return -1;
	}
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (poll(&p, 1, STAT_TIMEOUT_MS) != 1) {
			pr_err("stat: %s: no answer in %d s", c->path,
			       STAT_TIMEOUT_MS / 1000);
			return -1;
		}
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*gone = true;
			return -1;
		}
		c->len += (size_t)n;
		c->buf[c->len] = 0;
		nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			*nl = 0;
			c->len = (size_t)(nl - c->buf);
			return 0;
		}
		if (c->len == sizeof(c->buf) - 1) {
			pr_err("stat: %s: not a minivmm control socket (an answer over %d KiB)",
			       c->path, STAT_ANSWER_MAX / 1024);
			return -1;
		}
	}
}

/* The kernel's guest time of each vCPU thread (field 43 of
 * /proc/PID/task/TID/stat, in clock ticks); 0 where unknown. */
static void read_guest_times(struct stat_sample *s)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t pid = sj_num(&s->j, "pid");
	char key[SJ_KEY_MAX];

	memset(s->guest_ns, 0, sizeof(s->guest_ns));
	for (unsigned i = 0; i < STAT_VCPUS_MAX && hz > 0; i++) {
		char path[96], line[1024], *p;
		unsigned long long ticks = 0;
		uint64_t id, tid;
		FILE *f;
		size_t n;

		snprintf(key, sizeof(key), "vcpu_time.%u.id", i);
		if (!sj_find(&s->j, key))
			break;
		id = sj_num(&s->j, key);
		snprintf(key, sizeof(key), "vcpu_time.%u.tid", i);
		tid = sj_num(&s->j, key);
		if (id >= STAT_VCPUS_MAX || !tid)
			continue;
		snprintf(path, sizeof(path), "/proc/%" PRIu64 "/task/%" PRIu64 "/stat",
			 pid, tid);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[n] = 0;
		/* after the command's closing parenthesis: field 3 onwards */
		p = strrchr(line, ')');
		if (!p)
			continue;
		p++;
		for (int field = 3; field < 43 && p; field++)
			p = strchr(p + 1, ' ');
		if (p && sscanf(p, " %llu", &ticks) == 1)
			s->guest_ns[id] = ticks * (1000000000ull / (uint64_t)hz);
	}
}

/* Ask and parse. 0; 1 the VM stopped; -1 error (printed). */
static int sample(struct stat_conn *c, struct stat_sample *s)
{
	bool gone;
	int r;

	if (ask(c, &gone))
		return gone ? 1 : -1;
	r = sj_parse(&s->j, c->buf, c->len);
	if (!r && sj_num(&s->j, "ok") && !strcmp(sj_str(&s->j, "minivmm"), "stats") &&
	    sj_find(&s->j, "exits.all")) {
		read_guest_times(s);
		return 0;
	}
	if (!r && sj_find(&s->j, "error") && strstr(sj_str(&s->j, "error"), "unknown command"))
		pr_err("stat: %s: this minivmm has no 'stats' command (an older version?)",
		       c->path);
	else if (!r && sj_find(&s->j, "error"))
		pr_err("stat: %s: %s", c->path, sj_str(&s->j, "error"));
	else
		pr_err("stat: %s: not a minivmm control socket", c->path);
	return -1;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		pr_err("stat: --api-socket: path '%s' is too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		pr_err("stat: --api-socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void stat_usage(FILE *f)
{
	fprintf(f,
"Usage: minivmm stat --api-socket PATH [--interval SECONDS] [--once] [--json]\n"
"\n"
"Live statistics of a running minivmm (started with --api-socket PATH), like\n"
"kvm_stat: exits per second and in total by reason and by device, virtqueue\n"
"and interrupt counters, each vCPU's time in KVM_RUN and in minivmm's exit\n"
"handlers, the handlers' latency by exit reason (power-of-two buckets), and\n"
"each device's own counters. The table is redrawn every interval; Ctrl-C ends.\n"
"\n"
"  --api-socket PATH    the control socket of the minivmm to watch\n"
"  --interval SECONDS   time between readings, 0.1 to 3600 (default 1)\n"
"  --once               print one table (the rates over one interval) and exit\n"
"  --json               print the raw counters (one JSON object) and exit\n");
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int stat_main(int argc, char **argv)
{
	enum { OPT_SOCK = 1, OPT_INTERVAL, OPT_ONCE, OPT_JSON, OPT_HELP };
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, OPT_SOCK },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	double interval = 1;
	bool once = false, json = false;
	struct stat_sample *s[2] = { NULL, NULL };
	struct stat_conn *c = NULL;
	int opt, ret = 1, cur = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCK: path = optarg; break;
		case OPT_INTERVAL:
			if (stat_parse_interval(optarg, &interval)) {
				pr_err("stat: --interval: '%s' is not a number of seconds from 0.1 to 3600",
				       optarg);
				return 2;
			}
			break;
		case OPT_ONCE: once = true; break;
		case OPT_JSON: json = true; break;
		case OPT_HELP: stat_usage(stdout); return 0;
		default:
			pr_err("stat: unknown or incomplete option '%s' (see minivmm stat --help)",
			       argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("stat: unexpected argument '%s' (see minivmm stat --help)", argv[optind]);
		return 2;
	}
	if (!path) {
		pr_err("stat: --api-socket PATH is required (see minivmm stat --help)");
		return 2;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->fd = -1;
	s[0] = calloc(1, sizeof(*s[0]));
	s[1] = calloc(1, sizeof(*s[1]));
	if (!c || !s[0] || !s[1] ||
	    !(s[0]->j.items = calloc(SJ_ITEMS_MAX, sizeof(struct sj_item))) ||
	    !(s[1]->j.items = calloc(SJ_ITEMS_MAX, sizeof(struct sj_item)))) {
		pr_err("stat: out of memory");
		goto out;
	}
	c->fd = -1;
	c->path = path;
	c->fd = connect_to(path);
	if (c->fd < 0)
		goto out;
	ret = sample(c, s[0]);
	if (ret) {
		if (ret > 0)
			pr_err("stat: %s: the connection closed before an answer", path);
		ret = 1;
		goto out;
	}
	if (json) {
		printf("%s\n", c->buf);
		ret = 0;
		goto out;
	}
	if (!once) {
		printf("\033[H\033[2J");
		stat_table(stdout, path, NULL, s[0]);
		fflush(stdout);
	}
	for (;;) {
		int r;

		sleep_s(interval);
		r = sample(c, s[!cur]);
		if (r > 0) {
			/* the VM ended: a normal end of the watch */
			fprintf(stderr, "minivmm stat: %s: the VM stopped\n", path);
			ret = once ? 1 : 0;
			break;
		}
		if (r < 0) {
			ret = 1;
			break;
		}
		cur = !cur;
		if (!once)
			printf("\033[H\033[2J");
		stat_table(stdout, path, s[!cur], s[cur]);
		fflush(stdout);
		if (once) {
			ret = 0;
			break;
		}
	}
out:
	if (c && c->fd >= 0)
		close(c->fd);
	for (int i = 0; i < 2; i++)
		if (s[i])
			free(s[i]->j.items);
	free(s[0]);
	free(s[1]);
	free(c);
	return ret;
}
