/* SPDX-License-Identifier: MIT
 * tap.c - tap network backend (see tap.h; Linux tuntap.rst, if_tun.h,
 * bridge ioctls of linux/sockios.h).
 */
#include "tap.h"

#include "vmm/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A throw-away socket for the SIOC* interface ioctls (they act on the
 * network namespace of the calling thread). */
static int ctl_socket(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return s < 0 ? -errno : s;
}

static int name_ok(const char *what, const char *name)
{
	if (!name || !name[0] || strlen(name) >= IFNAMSIZ ||
	    strchr(name, '/') || strchr(name, ' ') || strchr(name, ':')) {
		pr_err("%s name '%s' is not a valid interface name "
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
			pr_err("bridge '%s' does not exist (create it, or add "
			       "bridge-create=on to --net)", bridge);
			return -ENODEV;
		}
		/* SIOCBRADDBR takes the bare name as its argument */
		if (ioctl(s, SIOCBRADDBR, bridge) < 0 && errno != EEXIST) {
			r = -errno;
			pr_err("cannot create bridge '%s': %s", bridge,
			       strerror(-r));
			return r;
		}
		t->bridge_created = true;
	}
	r = link_set(s, bridge, true, NULL);
	if (r) {
		pr_err("cannot bring bridge '%s' up: %s", bridge, strerror(-r));
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
		if (r == -EOPNOTSUPP || r == -EINVAL)
			pr_err("'%s' is not a bridge (cannot add tap '%s' to "
			       "it)", bridge, t->ifname);
		else
			pr_err("cannot add tap '%s' to bridge '%s': %s",
			       t->ifname, bridge, strerror(-r));
		return r;
	}
	snprintf(t->bridge, IFNAMSIZ, "%s", bridge);
	return 0;
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

int tap_open(struct tap *t, const char *name, const char *bridge,
	     bool create_bridge)
{
	struct ifreq ifr = { 0 };
	int s = -1, r, hdr = TAP_VNET_HDR_LEN;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	r = name_ok("tap", name);
	if (r)
		return r;
	if (bridge && bridge[0]) {
		r = name_ok("bridge", bridge);
		if (r)
			return r;
	}
	snprintf(t->ifname, IFNAMSIZ, "%s", name);
	t->created = !tap_ifexists(name);

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		r = -errno;
		if (r == -EACCES || r == -EPERM)
			pr_err("no permission to open /dev/net/tun (run as "
			       "root or with CAP_NET_ADMIN and access to the "
			       "device)");
		else if (r == -ENOENT || r == -ENODEV || r == -ENXIO)
			pr_err("/dev/net/tun is missing (load the tun module: "
			       "modprobe tun)");
		else
			pr_err("cannot open /dev/net/tun: %s", strerror(-r));
		goto fail;
	}

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		if (r == -EBUSY)
			pr_err("tap '%s' is already in use by another process",
			       name);
		else if (r == -EPERM || r == -EACCES)
			pr_err("no permission to %s tap '%s' (needs "
			       "CAP_NET_ADMIN, or be the tap's owner)",
			       t->created ? "create" : "attach to", name);
		else if (r == -EINVAL && !t->created)
			pr_err("interface '%s' exists but is not a tap device "
			       "(or was made with different flags)", name);
		else
			pr_err("cannot %s tap '%s': %s",
			       t->created ? "create" : "attach to", name,
			       strerror(-r));
		goto fail;
	}
	/* The kernel may have completed a name template such as "tap%d". */
	snprintf(t->ifname, IFNAMSIZ, "%s", ifr.ifr_name);
	t->ifindex = if_nametoindex(t->ifname);

	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		r = -errno;
		pr_err("tap '%s': cannot set the vnet header size: %s",
		       t->ifname, strerror(-r));
		goto fail;
	}
	probe_offloads(t);

	s = ctl_socket();
	if (s < 0) {
		r = s;
		pr_err("socket: %s", strerror(-r));
		goto fail;
	}
	if (bridge && bridge[0]) {
		r = attach_bridge(t, s, bridge, create_bridge);
		if (r)
			goto fail;
	}
	r = link_set(s, t->ifname, true, &t->set_up);
	if (r) {
		pr_err("cannot bring tap '%s' up: %s", t->ifname,
		       strerror(-r));
		goto fail;
	}
	close(s);
	return 0;

fail:
	if (s >= 0)
		close(s);
	tap_close(t);
	return r;
}

void tap_close(struct tap *t)
{
	if (t->fd < 0)
		return;
	/* A tap that existed before us goes back to how it was: off the bridge
	 * we put it on, and down if it was down. One we created vanishes when its (only) fd closes,
	 * since we never set TUNSETPERSIST. */
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
	t->bridge[0] = '\0';
}
