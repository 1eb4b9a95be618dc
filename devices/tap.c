/* SPDX-License-Identifier: MIT
 * tap.c - tap network backend (see tap.h; Linux tuntap.rst, if_tun.h,
 * bridge ioctls of linux/sockios.h, rtnetlink(7) and the ethtool ioctls
 * for reading a pre-existing tap's settings).
 */
#include "tap.h"

#include "vmm/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The TUNSETIFF flags we attach with (see tap.h). */
#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

/* A throw-away socket for the SIOC* interface ioctls (they act on the
 * network namespace of the calling thread). */
static int ctl_socket(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return s < 0 ? -errno : s;
}

/* Why tap_open failed, in t->err for its caller to print. */
#define fail(t, ...) snprintf((t)->err, sizeof((t)->err), __VA_ARGS__)

static int name_ok(struct tap *t, const char *what, const char *name)
{
	if (!name || !name[0] || strlen(name) >= IFNAMSIZ ||
	    strchr(name, '/') || strchr(name, ' ') || strchr(name, ':')) {
		fail(t, "%s name '%s' is not a valid interface name "
		       "(1-%d characters, no '/', ':' or space)",
		       what, name ? name : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	return 0;
}

bool tap_ifexists(const char *name)
{
	return name && name[0] && if_nametoindex(name) != 0;
}

/* Set (up) or clear IFF_UP on an interface. *changed (may be NULL) tells
 * whether the flag had to be changed. */
static int link_set(int s, const char *name, bool up, bool *changed)
{
	struct ifreq ifr = { 0 };

	if (changed)
		*changed = false;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if (!!(ifr.ifr_flags & IFF_UP) == up)
		return 0;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	if (changed)
		*changed = true;
	return 0;
}

/* Make t a port of `bridge` (creating the bridge when asked) and bring the
 * bridge up. SIOCBRADDIF answers EBUSY for an interface that already has a
 * master: a pre-existing tap already on a bridge is left there. */
static int attach_bridge(struct tap *t, int s, const char *bridge,
			 bool create)
{
	struct ifreq ifr = { 0 };
	int r;

	if (!tap_ifexists(bridge)) {
		if (!create) {
			fail(t, "bridge '%s' does not exist (create it, or add "
			       "bridge-create=on to --net)", bridge);
			return -ENODEV;
		}
		/* SIOCBRADDBR takes the bare name as its argument */
		if (ioctl(s, SIOCBRADDBR, bridge) < 0 && errno != EEXIST) {
			r = -errno;
			fail(t, "cannot create bridge '%s': %s", bridge,
			       strerror(-r));
			return r;
		}
		t->bridge_created = true;
	}
	r = link_set(s, bridge, true, NULL);
	if (r) {
		fail(t, "cannot bring bridge '%s' up: %s", bridge, strerror(-r));
		return r;
	}
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", bridge);
	ifr.ifr_ifindex = (int)t->ifindex;
	if (ioctl(s, SIOCBRADDIF, &ifr) < 0) {
		r = -errno;
		if (r == -EBUSY) {
			/* already a port of a bridge (a pre-existing tap the
			 * user set up): respect that, but say so */
			pr_warn("tap '%s' is already a bridge port; not moving "
				"it to '%s'", t->ifname, bridge);
			return 0;
		}
		if ((r == -EOPNOTSUPP || r == -EINVAL) && !t->bridge_created)
			fail(t, "'%s' is not a bridge (cannot add tap '%s' to "
			       "it)", bridge, t->ifname);
		else
			fail(t, "cannot add tap '%s' to bridge '%s': %s",
			       t->ifname, bridge, strerror(-r));
		return r;
	}
	snprintf(t->bridge, IFNAMSIZ, "%s", bridge);
	return 0;
}

/* Bring a bridge we created down and delete it (SIOCBRDELBR refuses one
 * that is up). */
static void remove_bridge(const char *bridge)
{
	int s = ctl_socket();

	if (s < 0)
		return;
	link_set(s, bridge, false, NULL);
	if (ioctl(s, SIOCBRDELBR, bridge) < 0)
		pr_warn("cannot remove bridge '%s' we created: %s", bridge,
			strerror(errno));
	close(s);
}

/* ---- a pre-existing tap's settings, to put back at close ---- */

/* The attribute of this type among [a, a + len), or NULL. */
static struct rtattr *rta_find(struct rtattr *a, int len, unsigned type)
{
	for (; a && RTA_OK(a, len); a = RTA_NEXT(a, len))
		if ((a->rta_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static bool rta_u8(struct rtattr *a)
{
	return RTA_PAYLOAD(a) >= 1 && *(uint8_t *)RTA_DATA(a);
}

/* The TUNSETIFF flags an existing tap has now (IFF_TAP plus IFF_NO_PI and
 * IFF_VNET_HDR as they are), from rtnetlink: IFLA_LINKINFO, IFLA_INFO_DATA,
 * IFLA_TUN_PI / IFLA_TUN_VNET_HDR (Linux 4.15+). -1 when unknown. */
static int tun_flags_of(unsigned ifindex)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST },
		.i = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex },
	};
	union {
		struct nlmsghdr h;
		char b[16384];
	} ans;
	struct rtattr *info, *data = NULL, *pi = NULL, *vh = NULL;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n = -1;

	if (s < 0)
		return -1;
	if (send(s, &req, sizeof(req), 0) == (ssize_t)sizeof(req))
		n = recv(s, &ans, sizeof(ans), 0);
	close(s);
	if (n < 0 || !NLMSG_OK(&ans.h, (unsigned)n) ||
	    ans.h.nlmsg_type != RTM_NEWLINK)
		return -1;
	info = rta_find(IFLA_RTA(NLMSG_DATA(&ans.h)), IFLA_PAYLOAD(&ans.h),
			IFLA_LINKINFO);
	if (info)
		data = rta_find(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_DATA);
	if (data) {
		pi = rta_find(RTA_DATA(data), RTA_PAYLOAD(data), IFLA_TUN_PI);
		vh = rta_find(RTA_DATA(data), RTA_PAYLOAD(data), IFLA_TUN_VNET_HDR);
	}
	if (!pi || !vh)
		return -1;
	return IFF_TAP | (rta_u8(pi) ? 0 : IFF_NO_PI) |
	       (rta_u8(vh) ? IFF_VNET_HDR : 0);
}

static int ethtool(int s, const char *ifname, void *cmd)
{
	struct ifreq ifr = { .ifr_data = cmd };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	return ioctl(s, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

/* The TUNSETOFFLOAD bits an existing tap has now, read back from its
 * active netdev features. The feature bit numbers are not ABI, their
 * names are: look them up (ETHTOOL_GSSET_INFO, GSTRINGS, GFEATURES). UFO
 * has had no feature since Linux 4.14. -1 when unknown. */
static int offloads_of(const char *ifname)
{
	static const struct {
		const char *name;
		unsigned flag;
	} map[] = {
		{ "tx-checksum-ip-generic", TAP_F_CSUM },
		{ "tx-tcp-segmentation", TAP_F_TSO4 },
		{ "tx-tcp6-segmentation", TAP_F_TSO6 },
		{ "tx-tcp-ecn-segmentation", TAP_F_TSO_ECN },
	};
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} info = { .hdr = { .cmd = ETHTOOL_GSSET_INFO,
			    .sset_mask = 1ULL << ETH_SS_FEATURES } };
	struct ethtool_gstrings *names = NULL;
	struct ethtool_gfeatures *feat = NULL;
	int s = ctl_socket(), flags = -1;
	uint32_t n, blocks;

	if (s < 0)
		return -1;
	if (ethtool(s, ifname, &info) || !info.hdr.sset_mask)
		goto out;
	n = info.len;
	blocks = (n + 31) / 32;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	feat = calloc(1, sizeof(*feat) + blocks * sizeof(feat->features[0]));
	if (!names || !feat)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_FEATURES;
	names->len = n;
	feat->cmd = ETHTOOL_GFEATURES;
	feat->size = blocks;
	if (ethtool(s, ifname, names) || ethtool(s, ifname, feat))
		goto out;
	flags = 0;
	for (uint32_t i = 0; i < n; i++) {
		const char *name = (char *)names->data + i * ETH_GSTRING_LEN;

		if (!(feat->features[i / 32].active & (1u << (i % 32))))
			continue;
		for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
			if (!strncmp(name, map[k].name, ETH_GSTRING_LEN))
				flags |= (int)map[k].flag;
	}
out:
	free(names);
	free(feat);
	close(s);
	return flags;
}

/* Put back the offloads and vnet header size a pre-existing tap had (on
 * our fd, still attached), then, once our fd is closed, its flags (a
 * second TUNSETIFF from a fresh fd: the flags stick to the device). */
static void restore_settings(struct tap *t)
{
	if (t->orig_offloads >= 0 && (unsigned)t->orig_offloads != t->offloads &&
	    ioctl(t->fd, TUNSETOFFLOAD, (unsigned)t->orig_offloads) < 0)
		pr_warn("tap '%s': cannot restore offloads 0x%x: %s", t->ifname,
			t->orig_offloads, strerror(errno));
	if (t->orig_hdr_len > 0 && t->orig_hdr_len != TAP_VNET_HDR_LEN &&
	    ioctl(t->fd, TUNSETVNETHDRSZ, &t->orig_hdr_len) < 0)
		pr_warn("tap '%s': cannot restore the vnet header size: %s",
			t->ifname, strerror(errno));
}

static void restore_flags(struct tap *t)
{
	struct ifreq ifr = { .ifr_flags = (short)t->orig_flags };
	int fd;

	if (t->orig_flags < 0 || t->orig_flags == TAP_FLAGS)
		return;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->ifname);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		pr_warn("tap '%s': cannot restore its flags: %s", t->ifname,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

int tap_set_offloads(struct tap *t, unsigned flags)
{
	flags &= t->offload_ok;
	/* The kernel requires CSUM for any segmentation offload. */
	if (!(flags & TAP_F_CSUM))
		flags = 0;
	if (ioctl(t->fd, TUNSETOFFLOAD, flags) < 0) {
		int r = -errno;
		if (!(flags & TAP_F_UFO))
			return r;
		flags &= ~TAP_F_UFO;
		if (ioctl(t->fd, TUNSETOFFLOAD, flags) < 0)
			return -errno;
	}
	t->offloads = flags;
	return 0;
}

/* Which offloads does this kernel accept? UFO was removed from Linux 4.14
 * and partially restored; try it separately so its refusal does not take the
 * TCP offloads with it. Leaves the tap with no offloads set. */
static void probe_offloads(struct tap *t)
{
	unsigned base = TAP_F_CSUM | TAP_F_TSO4 | TAP_F_TSO6 | TAP_F_TSO_ECN;

	t->offload_ok = 0;
	if (ioctl(t->fd, TUNSETOFFLOAD, TAP_F_CSUM) == 0)
		t->offload_ok = TAP_F_CSUM;
	if (ioctl(t->fd, TUNSETOFFLOAD, base) == 0)
		t->offload_ok = base;
	if (ioctl(t->fd, TUNSETOFFLOAD, t->offload_ok | TAP_F_UFO) == 0)
		t->offload_ok |= TAP_F_UFO;
	if (ioctl(t->fd, TUNSETOFFLOAD, 0) < 0)
		pr_warn("tap '%s': cannot clear offloads: %s", t->ifname,
			strerror(errno));
	t->offloads = 0;
}

static int check_names(struct tap *t, const char *name, const char *bridge)
{
	int r = name_ok(t, "tap", name);

	if (!r && bridge && bridge[0])
		r = name_ok(t, "bridge", bridge);
	return r;
}

/* An existing tap's flags and offloads, read before TUNSETIFF and the
 * offload probe change them, so that tap_close can put them back. */
static void remember_existing(struct tap *t, const char *name)
{
	t->created = !tap_ifexists(name);
	if (t->created)
		return;
	t->orig_flags = tun_flags_of(if_nametoindex(name));
	t->orig_offloads = offloads_of(name);
}

static int open_tun(struct tap *t)
{
	int r;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd >= 0)
		return 0;
	r = -errno;
	if (r == -EACCES || r == -EPERM)
		fail(t, "no permission to open /dev/net/tun (run as "
		       "root or with CAP_NET_ADMIN and access to the "
		       "device)");
	else if (r == -ENOENT || r == -ENODEV || r == -ENXIO)
		fail(t, "/dev/net/tun is missing (load the tun module: "
		       "modprobe tun)");
	else
		fail(t, "cannot open /dev/net/tun: %s", strerror(-r));
	return r;
}

/* TUNSETIFF: create the tap or attach to the existing one. */
static int attach_tap(struct tap *t, const char *name)
{
	struct ifreq ifr = { 0 };
	int r;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = TAP_FLAGS;
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		if (r == -EBUSY)
			fail(t, "tap '%s' is already in use by another process",
			       name);
		else if (r == -EPERM || r == -EACCES)
			fail(t, "no permission to %s tap '%s' (needs "
			       "CAP_NET_ADMIN, or be the tap's owner)",
			       t->created ? "create" : "attach to", name);
		else if (r == -EINVAL && !t->created)
			fail(t, "interface '%s' exists but is not a tap device "
			       "(or was made with different flags)", name);
		else
			fail(t, "cannot %s tap '%s': %s",
			       t->created ? "create" : "attach to", name,
			       strerror(-r));
		return r;
	}
	/* The kernel may have completed a name template such as "tap%d". */
	snprintf(t->ifname, IFNAMSIZ, "%s", ifr.ifr_name);
	t->ifindex = if_nametoindex(t->ifname);
	return 0;
}

/* The 12-byte virtio_net_hdr_v1 in front of every frame (an existing
 * tap's own size is kept for tap_close). */
static int set_vnet_hdr(struct tap *t)
{
	int r, hdr = TAP_VNET_HDR_LEN;

	if (!t->created && ioctl(t->fd, TUNGETVNETHDRSZ, &t->orig_hdr_len) < 0)
		t->orig_hdr_len = -1;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		r = -errno;
		fail(t, "tap '%s': cannot set the vnet header size: %s",
		       t->ifname, strerror(-r));
		return r;
	}
	return 0;
}

/* Onto the bridge (if any), then up. */
static int join_and_bring_up(struct tap *t, const char *bridge,
			     bool create_bridge)
{
	int s = ctl_socket(), r = 0;

	if (s < 0) {
		fail(t, "socket: %s", strerror(-s));
		return s;
	}
	if (bridge && bridge[0])
		r = attach_bridge(t, s, bridge, create_bridge);
	if (!r) {
		r = link_set(s, t->ifname, true, &t->set_up);
		if (r)
			fail(t, "cannot bring tap '%s' up: %s", t->ifname,
			       strerror(-r));
	}
	close(s);
	return r;
}

int tap_open(struct tap *t, const char *name, const char *bridge,
	     bool create_bridge)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->orig_flags = t->orig_hdr_len = t->orig_offloads = -1;
	r = check_names(t, name, bridge);
	if (r)
		return r;
	snprintf(t->ifname, IFNAMSIZ, "%s", name);
	remember_existing(t, name);
	r = open_tun(t);
	if (!r)
		r = attach_tap(t, name);
	if (!r)
		r = set_vnet_hdr(t);
	if (!r) {
		probe_offloads(t);
		r = join_and_bring_up(t, bridge, create_bridge);
	}
	if (r) {
		tap_close(t);
		if (t->bridge_created) {
			remove_bridge(bridge);
			t->bridge_created = false;
		}
	}
	return r;
}

void tap_close(struct tap *t)
{
	if (t->fd < 0)
		return;
	/* A tap that existed before us goes back to how it was: its offloads,
	 * vnet header size and flags, off the bridge we put it on, and down if
	 * it was down. One we created vanishes when its (only) fd closes,
	 * since we never set TUNSETPERSIST. */
	if (!t->created)
		restore_settings(t);
	if (!t->created && (t->bridge[0] || t->set_up)) {
		int s = ctl_socket();
		struct ifreq ifr = { 0 };

		if (s >= 0 && t->bridge[0]) {
			snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->bridge);
			ifr.ifr_ifindex = (int)t->ifindex;
			if (ioctl(s, SIOCBRDELIF, &ifr) < 0)
				pr_warn("cannot remove tap '%s' from bridge "
					"'%s': %s", t->ifname, t->bridge,
					strerror(errno));
		}
		if (s >= 0 && t->set_up)
			link_set(s, t->ifname, false, NULL);
		if (s >= 0)
			close(s);
	}
	close(t->fd);
	t->fd = -1;
	if (!t->created)
		restore_flags(t);
	t->bridge[0] = '\0';
}
