/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdevmapper calls of the lvm_thin driver: info, status, table, message.
 *
 * This is libdevmapper.so. liblvm2cmd 2.03 carries its own private copy
 * (device_mapper/ in lvm2's tree, symbols not exported) whose messages
 * reach lvm's log callback; this one prints errors to stderr unless given
 * a log function, so it gets one that keeps the last error quietly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libdevmapper.h>

#include "dmstatus.h"

static __thread char dm_error[256];
static pthread_once_t dm_log_once = PTHREAD_ONCE_INIT;

__attribute__((format(printf, 5, 6)))
static void dm_log_cb(int level, const char *file, int line, int dm_errno,
		      const char *fmt, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	if (level > 3)  /* _LOG_ERR */
		return;
	va_start(ap, fmt);
	vsnprintf(dm_error, sizeof(dm_error), fmt, ap);
	va_end(ap);
}

static void dm_log_setup(void)
{
	dm_log_with_errno_init(dm_log_cb);
}

const char *lvt_dm_last_error(void)
{
	return dm_error;
}

static struct dm_task *task(int type, const char *name)
{
	struct dm_task *dmt;

	pthread_once(&dm_log_once, dm_log_setup);
	dm_error[0] = '\0';
	if (!(dmt = dm_task_create(type)))
		return NULL;
	if (!dm_task_set_name(dmt, name) || !dm_task_no_open_count(dmt)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

static int task_errno(struct dm_task *dmt)
{
	int e = dmt ? dm_task_get_errno(dmt) : 0;

	return e > 0 ? -e : -EIO;
}

int lvt_dm_info(const char *dm_name, bool *ret_exists, unsigned *ret_major,
		unsigned *ret_minor)
{
	struct dm_task *dmt = task(DM_DEVICE_INFO, dm_name);
	struct dm_info info;
	int r = 0;

	if (!dmt)
		return -ENODEV;
	if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &info)) {
		r = task_errno(dmt);
	} else {
		*ret_exists = info.exists;
		if (ret_major)
			*ret_major = info.exists ? info.major : 0;
		if (ret_minor)
			*ret_minor = info.exists ? info.minor : 0;
	}
	dm_task_destroy(dmt);
	return r;
}

int lvt_dm_params(const char *dm_name, bool table, char *target, size_t tlen,
		  char *params, size_t plen)
{
	struct dm_task *dmt;
	struct dm_info info;
	uint64_t start, length;
	char *type = NULL, *p = NULL;
	void *next;
	int r = 0;

	if (!(dmt = task(table ? DM_DEVICE_TABLE : DM_DEVICE_STATUS, dm_name)))
		return -ENODEV;
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		goto out;
	}
	if (!dm_task_get_info(dmt, &info) || !info.exists) {
		r = -ENXIO;
		goto out;
	}
	next = dm_get_next_target(dmt, NULL, &start, &length, &type, &p);
	if (!type || !p || next) {  /* none, or more than one target */
		r = -EBADMSG;
		goto out;
	}
	if ((size_t)snprintf(target, tlen, "%s", type) >= tlen ||
	    (size_t)snprintf(params, plen, "%s", p) >= plen)
		r = -ENAMETOOLONG;
out:
	dm_task_destroy(dmt);
	return r;
}

int lvt_dm_message(const char *dm_name, const char *msg)
{
	struct dm_task *dmt = task(DM_DEVICE_TARGET_MSG, dm_name);
	int r = 0;

	if (!dmt)
		return -ENODEV;
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg) ||
	    !dm_task_run(dmt))
		r = task_errno(dmt);
	dm_task_destroy(dmt);
	return r;
}
