/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LVM command lines, and what lvm2_run's results mean: pure functions.
 * The seam to liblvm2cmd itself is lvmrun.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lvm2cmd.h>

#include "lvmcmd.h"
#include "names.h"

/* ---- builders (pure) ---- */

struct cmdbuf {
	char *buf;
	size_t len;
	size_t pos;
	int err;
};

__attribute__((format(printf, 2, 3)))
static void put(struct cmdbuf *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->buf + c->pos, c->len - c->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= c->len - c->pos) {
		c->err = -ENAMETOOLONG;
		return;
	}
	c->pos += (size_t)n;
}

static int start(struct cmdbuf *c, char *buf, size_t len)
{
	c->buf = buf;
	c->len = len;
	c->pos = 0;
	c->err = 0;
	if (!buf || len == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	return 0;
}

static int finish(struct cmdbuf *c)
{
	if (c->err && c->len)
		c->buf[0] = '\0';
	return c->err;
}

static bool size_ok(uint64_t size)
{
	return size > 0 && size % 512 == 0;
}

int lvt_cmd_create(char *buf, size_t len, const char *vg, const char *pool,
		   const char *lv, uint64_t size, bool activate)
{
	struct cmdbuf c;

	if (start(&c, buf, len) < 0)
		return -ENAMETOOLONG;
	if (!lvt_name_ok(vg) || !lvt_name_ok(pool) || !lvt_name_ok(lv) || !size_ok(size))
		return -EINVAL;
	put(&c, "lvcreate -q -y %s -V %" PRIu64 "b -T %s/%s -n %s",
	    activate ? "-ay" : "-an", size, vg, pool, lv);
	return finish(&c);
}

int lvt_cmd_snapshot(char *buf, size_t len, const char *vg, const char *src_lv,
		     const char *dst_lv, bool activate)
{
	struct cmdbuf c;

	if (start(&c, buf, len) < 0)
		return -ENAMETOOLONG;
	if (!lvt_name_ok(vg) || !lvt_name_ok(src_lv) || !lvt_name_ok(dst_lv))
		return -EINVAL;
	put(&c, "lvcreate -q -y -s %s %s/%s -n %s",
	    activate ? "-kn -ay" : "-ky -an", vg, src_lv, dst_lv);
	return finish(&c);
}

int lvt_cmd_rename(char *buf, size_t len, const char *vg, const char *old_lv,
		   const char *new_lv)
{
	struct cmdbuf c;

	if (start(&c, buf, len) < 0)
		return -ENAMETOOLONG;
	if (!lvt_name_ok(vg) || !lvt_name_ok(old_lv) || !lvt_name_ok(new_lv))
		return -EINVAL;
	put(&c, "lvrename -q %s %s %s", vg, old_lv, new_lv);
	return finish(&c);
}

static int cmd_lvs(char *buf, size_t len, const char *head, const char *vg,
		   const char *const *lvs, size_t n)
{
	struct cmdbuf c;

	if (start(&c, buf, len) < 0)
		return -ENAMETOOLONG;
	if (!lvt_name_ok(vg) || !lvs || n == 0)
		return -EINVAL;
	if (n > LVT_CMD_MAX_LVS)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (!lvt_name_ok(lvs[i]))
			return -EINVAL;
	put(&c, "%s", head);
	for (size_t i = 0; i < n; i++)
		put(&c, " %s/%s", vg, lvs[i]);
	return finish(&c);
}

int lvt_cmd_remove(char *buf, size_t len, const char *vg,
		   const char *const *lvs, size_t n)
{
	return cmd_lvs(buf, len, "lvremove -q -f", vg, lvs, n);
}

int lvt_cmd_resize(char *buf, size_t len, const char *vg, const char *lv,
		   uint64_t size)
{
	struct cmdbuf c;

	if (start(&c, buf, len) < 0)
		return -ENAMETOOLONG;
	if (!lvt_name_ok(vg) || !lvt_name_ok(lv) || !size_ok(size))
		return -EINVAL;
	put(&c, "lvresize -q -f -L %" PRIu64 "b %s/%s", size, vg, lv);
	return finish(&c);
}

int lvt_cmd_activate(char *buf, size_t len, const char *vg,
		     const char *const *lvs, size_t n)
{
	return cmd_lvs(buf, len, "lvchange -q -ay -K", vg, lvs, n);
}

int lvt_cmd_deactivate(char *buf, size_t len, const char *vg,
		       const char *const *lvs, size_t n)
{
	return cmd_lvs(buf, len, "lvchange -q -an", vg, lvs, n);
}

int lvt_cmd_report(char *buf, size_t len, const char *vg)
{
	struct cmdbuf c;

	if (start(&c, buf, len) < 0)
		return -ENAMETOOLONG;
	if (!lvt_name_ok(vg))
		return -EINVAL;
	put(&c, "lvs -a --reportformat json -o " LVT_REPORT_FIELDS
	    " --units b --nosuffix %s", vg);
	return finish(&c);
}

/* ---- return codes ---- */

int lvt_rc_to_errno(int rc, const char *errors)
{
	const char *e = errors ? errors : "";

	switch (rc) {
	case LVM2_COMMAND_SUCCEEDED:
		return 0;
	case LVM2_NO_SUCH_COMMAND:
		return -ENOSYS;
	case LVM2_INVALID_PARAMETERS:
		/* also what lvcreate returns when a dm target is missing */
		return -EINVAL;
	case LVM2_PROCESSING_FAILED:
		if (strstr(e, "already exists"))
			return -EEXIST;
		if (strstr(e, "not found") || strstr(e, "Failed to find") ||
		    strstr(e, "doesn't exist") || strstr(e, "does not exist"))
			return -ENOENT;
		if (strstr(e, "Insufficient free space") ||
		    strstr(e, "out of data space") || strstr(e, "is full"))
			return -ENOSPC;
		return -EIO;
	case LVM2_INIT_FAILED:
	default:
		return -EIO;
	}
}

/* ---- output ---- */

void lvt_out_free(struct lvt_out *out)
{
	if (!out)
		return;
	free(out->report);
	out->report = NULL;
	out->report_len = out->report_cap = 0;
}

const char *lvt_out_reason(const struct lvt_out *out, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", out && out->error[0] ? out->error : "lvm command failed");
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	n = strlen(buf);
	while (n && (buf[n - 1] == '.' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}
