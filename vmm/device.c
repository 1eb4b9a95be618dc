/* SPDX-License-Identifier: MIT
 * device.c - the machine's list of devices (device.h): recorded in creation
 * order, attached as they are added, stopped and freed in reverse.
 */
#include "device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Name a numbered device <kind><n> (<kind>-<n> when the kind ends in a
 * digit), n counting the devices of its kind already in the list. */
static void name_device(struct device_list *l, struct device *dev)
{
	size_t kl = strlen(dev->kind);
	unsigned n = 0;

	if (!dev->numbered)
		return;
	for (unsigned i = 0; i < l->nr; i++)
		n += !strcmp(l->devs[i]->kind, dev->kind);
	snprintf(dev->name, sizeof(dev->name), "%s%s%u", dev->kind,
		 kl && dev->kind[kl - 1] >= '0' && dev->kind[kl - 1] <= '9' ?
			 "-" : "", n);
}

int device_list_add(struct device_list *l, struct device *dev)
{
	if (l->nr == l->cap) {
		unsigned cap = l->cap ? 2 * l->cap : 16;
		struct device **devs = realloc(l->devs, cap * sizeof(*devs));

		if (!devs) {
			dev->ops->free(dev); /* never attached */
			return -ENOMEM;
		}
		l->devs = devs;
		l->cap = cap;
	}
	name_device(l, dev);
	l->devs[l->nr++] = dev;
	return dev->ops->attach(dev);
}

void device_list_stop(struct device_list *l)
{
	for (unsigned i = l->nr; i-- > 0;)
		if (l->devs[i]->ops->stop)
			l->devs[i]->ops->stop(l->devs[i]);
}

void device_list_free(struct device_list *l)
{
	for (unsigned i = l->nr; i-- > 0;)
		l->devs[i]->ops->free(l->devs[i]);
	free(l->devs);
	*l = (struct device_list){ 0 };
}
