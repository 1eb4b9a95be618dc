/* SPDX-License-Identifier: MIT
 * net_stats.c - virtio-net's counters (struct net_stats in net.h), for
 * --stats and the control socket's "info": the receive path, the transmit
 * path and the control queue count into them, this file reads them out.
 *
 * They are the host's view only: nothing here is visible to the guest.
 * The guest-visible counters of VIRTIO 1.x "Device Statistics" (a command
 * of the control queue, 5.1.6.5; VIRTIO_NET_F_DEVICE_STATS) are not
 * offered. What counts as a GSO or checksum frame is the virtio_net_hdr of
 * 5.1.6 (gso_type, flags).
 */
#include "net_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* a GSO super-frame (TSO/UFO), whatever the ECN bit says */
static bool hdr_gso(const struct virtio_net_hdr_v1 *h)
{
	return (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) !=
	       VIRTIO_NET_HDR_GSO_NONE;
}

void net_count_offloads(uint64_t *gso, uint64_t *csum,
			const struct virtio_net_hdr_v1 *h)
{
	if (hdr_gso(h))
		net_cnt(gso, 1);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		net_cnt(csum, 1);
}

static const char *const rx_drop_name[NET_RX_DROP_NR][2] = {
	[NET_RX_RUNT] = { "runt", "runt frame from the tap" },
	[NET_RX_OVERSIZE] = { "oversize", "oversize read" },
	[NET_RX_BUF_SMALL] = { "buf_small", "guest buffer too small" },
	[NET_RX_RING_SMALL] = { "ring_small", "frame bigger than ring" },
};

static const char *const tx_bad_name[NET_HDR_ERR_NR][2] = {
	[NET_HDR_OK] = { NULL, NULL },
	[NET_HDR_SHORT] = { "short", "chain or frame too short" },
	[NET_HDR_TOO_BIG] = { "too_big", "frame too big" },
	[NET_HDR_FLAGS] = { "flags", "unknown flags" },
	[NET_HDR_CSUM] = { "csum", "bad checksum request" },
	[NET_HDR_GSO_TYPE] = { "gso_type", "gso type not negotiated" },
	[NET_HDR_GSO_SIZE] = { "gso_size", "gso fields past frame" },
};

/* A breakdown of one counter by reason: reasons first..nr-1 of the
 * uint64_t array at off in struct net_stats, named by name[reason]
 * { JSON member, --stats label }. */
struct net_breakdown {
	const char *json;
	const char *const (*name)[2];
	unsigned first, nr;
	size_t off;
};

static const struct net_breakdown rx_drops = {
	"rx_drop", rx_drop_name, 0, NET_RX_DROP_NR,
	offsetof(struct net_stats, rx_drop),
};

static const struct net_breakdown tx_bads = {
	"tx_bad", tx_bad_name, 1, NET_HDR_ERR_NR, /* not NET_HDR_OK */
	offsetof(struct net_stats, tx_bad),
};

/* The counters in the order --stats prints them and the JSON lists them:
 * JSON member (the field's name), --stats label, the field, and the
 * breakdown that follows it, if any. */
static const struct net_counter {
	const char *json, *label;
	size_t off;
	const struct net_breakdown *parts;
} counters[] = {
#define C(field, label, parts) \
	{ #field, label, offsetof(struct net_stats, field), parts }
	C(rx_packets, "rx packets", NULL),
	C(rx_bytes, "rx bytes", NULL),
	C(rx_gso, "rx gso frames", NULL),
	C(rx_csum, "rx needs-csum frames", NULL),
	C(rx_filtered, "rx filtered (MAC/mode)", NULL),
	C(rx_dropped, "rx dropped", &rx_drops),
	C(tx_packets, "tx packets", NULL),
	C(tx_bytes, "tx bytes", NULL),
	C(tx_gso, "tx gso frames", NULL),
	C(tx_csum, "tx needs-csum frames", NULL),
	C(tx_bad_hdr, "tx bad header (dropped)", &tx_bads),
	C(tx_errors, "tx refused by the tap", NULL),
	C(ctrl_ok, "ctrl commands ok", NULL),
	C(ctrl_err, "ctrl commands failed", NULL),
	C(ctrl_offloads, "ctrl offload changes", NULL),
#undef C
};

#define NR_COUNTERS (sizeof(counters) / sizeof(counters[0]))

/* the uint64_t at byte off of s, for printf's %llu */
static unsigned long long counter_at(const struct net_stats *s, size_t off)
{
	return *(const uint64_t *)((const char *)s + off);
}

void net_stats_read(const struct net_dev *n, struct net_stats *o)
{
	const uint64_t *src = (const uint64_t *)&n->st;
	uint64_t *dst = (uint64_t *)o;

	/* struct net_stats is nothing but uint64_t counters */
	for (size_t i = 0; i < sizeof(*o) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

const char *net_offloads_str(uint64_t v, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } o[] = {
		{ VIRTIO_NET_F_GUEST_CSUM, "csum" },
		{ VIRTIO_NET_F_GUEST_TSO4, "tso4" },
		{ VIRTIO_NET_F_GUEST_TSO6, "tso6" },
		{ VIRTIO_NET_F_GUEST_ECN, "ecn" },
		{ VIRTIO_NET_F_GUEST_UFO, "ufo" },
	};
	size_t at = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	for (unsigned i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		if (!(v & F(o[i].bit)))
			continue;
		int r = snprintf(buf + at, len - at, "%s%s", at ? "," : "",
				 o[i].name);
		if (r < 0 || (size_t)r >= len - at) {
			buf[at] = 0; /* whole names only */
			break;
		}
		at += (size_t)r;
	}
	if (!at)
		snprintf(buf, len, "none");
	return buf;
}

static unsigned tap_offloads_now(const struct net_dev *n)
{
	return __atomic_load_n(&n->tap.offloads, __ATOMIC_RELAXED);
}

void net_stats_print(const struct net_dev *n, FILE *f)
{
	uint64_t go = __atomic_load_n(&n->guest_offloads, __ATOMIC_ACQUIRE);
	struct net_stats s;
	char ob[64];

	net_stats_read(n, &s);
	fprintf(f, "minivmm: %s counters (tap %s%s%s)\n", n->vdev.dev.name,
		n->tap.ifname[0] ? n->tap.ifname : "-",
		n->tap.bridge[0] ? " on bridge " : "", n->tap.bridge);
	/* vhost moves the frames without us: the packet counters below only
	 * count what went through minivmm (nothing while vhost had the
	 * queues), the control queue's are complete */
	if (net_vhost_enabled(n))
		fprintf(f, "  %-26s vhost-net, started %llu times (packet counters: only what minivmm moved)\n",
			"data path", (unsigned long long)__atomic_load_n(
					     &n->vhost_starts, __ATOMIC_RELAXED));
	fprintf(f, "  %-26s %s (0x%llx)\n", "guest receive offloads",
		net_offloads_str(go, ob, sizeof(ob)), (unsigned long long)go);
	if (n->tap.ifname[0])
		fprintf(f, "  %-26s 0x%x\n", "tap offloads (TUN_F_*)",
			tap_offloads_now(n));
	for (unsigned i = 0; i < NR_COUNTERS; i++) {
		const struct net_counter *c = &counters[i];
		const struct net_breakdown *b = c->parts;

		fprintf(f, "  %-26s %12llu\n", c->label,
			counter_at(&s, c->off));
		if (!b)
			continue;
		for (unsigned r = b->first; r < b->nr; r++)
			fprintf(f, "    %-24s %12llu\n", b->name[r][1],
				counter_at(&s, b->off + r * sizeof(uint64_t)));
	}
}

/* snprintf at buf[*at], the way stats_sources_json() chains them: *at
 * counts what would have been written, buf gets what fits */
static void jput(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void jput(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(*at < len ? buf + *at : NULL, *at < len ? len - *at : 0,
		      fmt, ap);
	va_end(ap);
	if (r > 0)
		*at += (size_t)r;
}

int net_stats_json(const struct net_dev *n, char *buf, size_t len)
{
	uint64_t go = __atomic_load_n(&n->guest_offloads, __ATOMIC_ACQUIRE);
	struct net_stats s;
	char tap[JSON_ESCAPED_MAX(sizeof(n->tap.ifname))];
	size_t at = 0;

	if (len)
		buf[0] = 0;
	net_stats_read(n, &s);
	/* an interface name may hold '"' or '\\' (tap.c refuses only '/',
	 * ':' and space) */
	json_escape(tap, sizeof(tap), n->tap.ifname);
	jput(buf, len, &at, "\"%s\":{\"tap\":\"%s\",\"guest_offloads\":%llu,"
	     "\"tap_offloads\":%u", n->vdev.dev.name, tap,
	     (unsigned long long)go, tap_offloads_now(n));
	if (net_vhost_enabled(n))
		jput(buf, len, &at, ",\"vhost_starts\":%llu",
		     (unsigned long long)__atomic_load_n(&n->vhost_starts,
							 __ATOMIC_RELAXED));
	for (unsigned i = 0; i < NR_COUNTERS; i++) {
		const struct net_counter *c = &counters[i];
		const struct net_breakdown *b = c->parts;

		jput(buf, len, &at, ",\"%s\":%llu", c->json,
		     counter_at(&s, c->off));
		if (!b)
			continue;
		jput(buf, len, &at, ",\"%s\":{", b->json);
		for (unsigned r = b->first; r < b->nr; r++)
			jput(buf, len, &at, "%s\"%s\":%llu",
			     r > b->first ? "," : "", b->name[r][0],
			     counter_at(&s, b->off + r * sizeof(uint64_t)));
		jput(buf, len, &at, "}");
	}
	jput(buf, len, &at, "}");
	return (int)at;
}

static const struct net_dev *of_src(const struct stats_source *src)
{
	return (const struct net_dev *)((const char *)src -
					offsetof(struct net_dev, stats_src));
}

static void src_print(const struct stats_source *src, FILE *f)
{
	net_stats_print(of_src(src), f);
}

static int src_json(const struct stats_source *src, char *buf, size_t len)
{
	return net_stats_json(of_src(src), buf, len);
}

void net_stats_attach(struct net_dev *n, struct vm_stats *vs)
{
	n->stats_src.print = src_print;
	n->stats_src.json = src_json;
	stats_add_source(vs, &n->stats_src);
}
