/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one table of drivers: explicit registration, no constructors. */
#include <string.h>

#include "driver.h"
#include "internal.h"

static const struct qs_driver *const builtin[] = {
	&qs_driver_file_reflink,
	&qs_driver_lvm_thin,
};

static const struct qs_driver *extra;

void qs_driver_register_extra(const struct qs_driver *drv)
{
	extra = drv;
}

const struct qs_driver *qs_driver_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		if (strcmp(builtin[i]->name, name) == 0)
			return builtin[i];
	if (extra && strcmp(extra->name, name) == 0)
		return extra;
	return NULL;
}

const char *const *qstor_drivers(void)
{
	static const char *const names[] = { "file-reflink", "lvm_thin", NULL };
	return names;
}

const char *const *qstor_driver_options(const char *name)
{
	const struct qs_driver *d = qs_driver_find(name);
	return d ? d->options : NULL;
}
