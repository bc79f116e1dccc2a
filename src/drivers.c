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

/* The driver's own options, then those every pool takes (as Qubes lists
 * them for each driver). */
const char *const *qstor_driver_options(const char *name)
{
	static const char *table[ARRAY_SIZE(builtin) + 1][24];
	static const char *const common[] = { "revisions_to_keep", "ephemeral_volatile",
					      "reserve_data", "reserve_metadata" };
	const struct qs_driver *d = qs_driver_find(name);
	size_t slot = ARRAY_SIZE(builtin), n = 0;

	if (!d)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		if (builtin[i] == d)
			slot = i;
	for (const char *const *o = d->options; o && *o && n < 18; o++)
		table[slot][n++] = *o;
	for (size_t i = 0; i < ARRAY_SIZE(common); i++)
		table[slot][n++] = common[i];
	table[slot][n] = NULL;
	return table[slot];
}
