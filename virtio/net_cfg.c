/* SPDX-License-Identifier: MIT
 * net_cfg.c - the --net option of virtio-net: MAC addresses (parsing and a
 * stable default) and the "tap=NAME,bridge=BR,mac=...,model=..." string
 * (model=e1000 puts an emulated Intel 82540EM on the tap instead of
 * virtio-net). Kept apart from the devices so the command line can be
 * parsed and tested without them.
 */
#include "net.h"

#include "vmm/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int net_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	const char *p = s;

	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)p[0]) ||
		    !isxdigit((unsigned char)p[1]))
			goto bad;
		char hex[3] = { p[0], p[1], 0 };
		m[i] = (uint8_t)strtoul(hex, NULL, 16);
		p += 2;
		if (i < 5) {
			if (*p != ':' && *p != '-')
				goto bad;
			p++;
		}
	}
	if (*p)
		goto bad;
	if (m[0] & 1) {
		pr_err("MAC '%s' is a multicast address (the low bit of the "
		       "first byte must be 0)", s);
		return -EINVAL;
	}
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
		pr_err("MAC '%s' is all zeros", s);
		return -EINVAL;
	}
	memcpy(mac, m, 6);
	return 0;
bad:
	pr_err("malformed MAC '%s' (expected six hex pairs like "
	       "52:54:00:12:34:56)", s);
	return -EINVAL;
}

void net_default_mac(const char *tap, unsigned index, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */

	for (const char *p = tap ? tap : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((index >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	/* locally administered (bit 1), unicast (bit 0 clear) */
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

int net_cfg_parse(const char *s, struct net_cfg *cfg)
{
	char buf[256], *save = NULL, *tok;

	memset(cfg, 0, sizeof(*cfg));
	if (strlen(s) >= sizeof(buf)) {
		pr_err("--net '%s': too long", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '=');
		if (!v) {
			pr_err("--net: '%s' is not key=value", tok);
			return -EINVAL;
		}
		*v++ = '\0';
		if (!strcmp(tok, "tap") || !strcmp(tok, "bridge")) {
			char *dst = tok[0] == 't' ? cfg->tap : cfg->bridge;
			if (!*v || strlen(v) >= IFNAMSIZ) {
				pr_err("--net %s='%s': interface names have "
				       "1-%d characters", tok, v, IFNAMSIZ - 1);
				return -EINVAL;
			}
			strcpy(dst, v);
		} else if (!strcmp(tok, "bridge-create")) {
			if (!strcmp(v, "on") || !strcmp(v, "yes") ||
			    !strcmp(v, "1"))
				cfg->bridge_create = true;
			else if (!strcmp(v, "off") || !strcmp(v, "no") ||
				 !strcmp(v, "0"))
				cfg->bridge_create = false;
			else {
				pr_err("--net bridge-create='%s': use on or "
				       "off", v);
				return -EINVAL;
			}
		} else if (!strcmp(tok, "mac")) {
			if (net_parse_mac(v, cfg->mac))
				return -EINVAL;
			cfg->mac_set = true;
		} else if (!strcmp(tok, "vhost")) {
			if (!strcmp(v, "on"))
				cfg->vhost = true;
			else if (!strcmp(v, "off"))
				cfg->vhost = false;
			else {
				pr_err("--net vhost='%s': use on or off", v);
				return -EINVAL;
			}
		} else if (!strcmp(tok, "model")) {
			if (!strcmp(v, "virtio"))
				cfg->model = NET_MODEL_VIRTIO;
			else if (!strcmp(v, "e1000"))
				cfg->model = NET_MODEL_E1000;
			else {
				pr_err("--net model='%s': use virtio or e1000",
				       v);
				return -EINVAL;
			}
		} else {
			pr_err("--net: unknown option '%s' (tap, bridge, "
			       "bridge-create, mac, model, vhost)", tok);
			return -EINVAL;
		}
	}
	if (!cfg->tap[0]) {
		pr_err("--net '%s': tap=NAME is required", s);
		return -EINVAL;
	}
	if (cfg->vhost && cfg->model != NET_MODEL_VIRTIO) {
		pr_err("--net '%s': vhost=on needs model=virtio", s);
		return -EINVAL;
	}
	if (cfg->bridge_create && !cfg->bridge[0]) {
		pr_err("--net '%s': bridge-create needs bridge=NAME", s);
		return -EINVAL;
	}
	return 0;
}

