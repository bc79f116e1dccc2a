/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-driver.h"
#include "internal.h"

struct fake {
	char dir[1024];
};

static const char *const ops_names[] = { "create", "snapshot", "rename", "remove", "resize",
					 "activate", "deactivate", "reset" };
static int fail_nth[8], fail_code[8], calls[8];
static uint64_t usage_size, usage_used;

static int op_index(const char *op)
{
	for (int i = 0; i < 8; i++)
		if (strcmp(ops_names[i], op) == 0)
			return i;
	return -1;
}

void fake_fail(const char *op, int nth, int code)
{
	int i = op_index(op);

	fail_nth[i] = calls[i] + nth;
	fail_code[i] = code;
}

void fake_fail_reset(void)
{
	memset(fail_nth, 0, sizeof(fail_nth));
	memset(calls, 0, sizeof(calls));
}

int fake_calls(const char *op)
{
	return calls[op_index(op)];
}

void fake_set_usage(uint64_t size, uint64_t used)
{
	usage_size = size;
	usage_used = used;
}

static int hit(const char *op, qstor_error *err)
{
	int i = op_index(op);

	calls[i]++;
	if (fail_nth[i] && calls[i] == fail_nth[i])
		return qs_err(err, fail_code[i], "fake %s failed", op);
	return 0;
}

/* vid "vm/vol" -> file "DIR/vm/vol.<role>[.<key>.<time>]" */
static void obj_path(struct qs_pool *p, const struct qs_obj *o, char *buf, size_t len)
{
	struct fake *f = p->priv;
	static const char *const roles[] = { "committed", "running", "import", "rev", "precache",
					     "tmp" };

	if (o->role == QS_REVISION)
		snprintf(buf, len, "%s/%s.rev.%llu.%lld", f->dir, o->vid,
			 (unsigned long long)o->rev_key, (long long)o->rev_time);
	else
		snprintf(buf, len, "%s/%s.%s", f->dir, o->vid, roles[o->role]);
}

static int fake_open(struct qs_pool *p, bool setup, qstor_error *err)
{
	struct fake *f = p->priv;
	const char *d = qs_pool_opt(p, "dir_path");
	struct stat st;

	if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
		return qs_err(err, -ENOENT, "no directory '%s'", d);
	snprintf(f->dir, sizeof(f->dir), "%s", d);
	return 0;
}

static int fake_usage_pool(struct qs_pool *p, struct qs_pool_usage *ret, qstor_error *err)
{
	ret->data_size = usage_size;
	ret->data_used = usage_used;
	return 0;
}

static int fake_vid(struct qs_pool *p, const char *vm, const char *vol, bool tpl, char *buf,
		    size_t len, qstor_error *err)
{
	snprintf(buf, len, "%s/%s", vm, vol);
	return 0;
}

static int fake_list(struct qs_pool *p, const char *vid, struct qs_objinfo **ret, size_t *ret_n,
		     qstor_error *err)
{
	struct fake *f = p->priv;
	char dir[1200], prefix[128];
	const char *slash = strchr(vid, '/');
	struct qs_objinfo *v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%.*s", f->dir, (int)(slash - vid), vid);
	snprintf(prefix, sizeof(prefix), "%s.", slash + 1);
	*ret = NULL;
	*ret_n = 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct qs_objinfo oi = { 0 };
		const char *rest;
		char full[2400];
		struct stat st;
		unsigned long long key;
		long long t;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		rest = de->d_name + strlen(prefix);
		if (!strcmp(rest, "committed"))
			oi.role = QS_COMMITTED;
		else if (!strcmp(rest, "running"))
			oi.role = QS_RUNNING;
		else if (!strcmp(rest, "import"))
			oi.role = QS_IMPORT;
		else if (!strcmp(rest, "precache"))
			oi.role = QS_PRECACHE;
		else if (!strcmp(rest, "tmp"))
			oi.role = QS_TMP;
		else if (sscanf(rest, "rev.%llu.%lld", &key, &t) == 2) {
			oi.role = QS_REVISION;
			oi.rev_key = key;
			oi.rev_time = t;
			snprintf(oi.rev_id, sizeof(oi.rev_id), "%llu", key);
		} else if (strstr(rest, ".active"))
			continue;
		else
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
		if (stat(full, &st) == 0)
			oi.size = (uint64_t)st.st_size;
		strcat(full, ".active");
		oi.active = access(full, F_OK) == 0;
		struct qs_objinfo *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n++] = oi;
	}
	closedir(d);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int mkparent(const char *path)
{
	char d[2048];
	char *s;

	snprintf(d, sizeof(d), "%s", path);
	s = strrchr(d, '/');
	*s = '\0';
	return mkdir(d, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

static int fake_create(struct qs_pool *p, const struct qs_obj *o, uint64_t size, qstor_error *err)
{
	char path[2048];
	int fd, r = hit("create", err);

	if (r < 0)
		return r;
	obj_path(p, o, path, sizeof(path));
	mkparent(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return qs_err(err, -errno, "cannot create '%s': %s", path, strerror(errno));
	r = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int fake_snapshot(struct qs_pool *p, const struct qs_obj *src, const struct qs_obj *dst,
			 qstor_error *err)
{
	char a[2048], b[2048], buf[65536];
	int in, out, r = hit("snapshot", err);
	ssize_t k;

	if (r < 0)
		return r;
	obj_path(p, src, a, sizeof(a));
	obj_path(p, dst, b, sizeof(b));
	mkparent(b);
	in = open(a, O_RDONLY);
	if (in < 0)
		return qs_err(err, -errno, "cannot snapshot '%s': %s", a, strerror(errno));
	out = open(b, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return qs_err(err, r, "cannot snapshot to '%s': %s", b, strerror(-r));
	}
	while ((k = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)k) != k) {
			r = -EIO;
			break;
		}
	close(in);
	close(out);
	return r;
}

static int fake_rename(struct qs_pool *p, const struct qs_obj *from, const struct qs_obj *to,
		       qstor_error *err)
{
	char a[2048], b[2048];
	int r = hit("rename", err);

	if (r < 0)
		return r;
	obj_path(p, from, a, sizeof(a));
	obj_path(p, to, b, sizeof(b));
	if (access(b, F_OK) == 0)
		return qs_err(err, -EEXIST, "cannot rename to '%s': exists", b);
	if (rename(a, b) < 0)
		return qs_err(err, -errno, "cannot rename '%s': %s", a, strerror(errno));
	return 0;
}

static int fake_remove(struct qs_pool *p, const struct qs_obj *objs, size_t n, qstor_error *err)
{
	int r = hit("remove", err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char path[2048], act[2100];

		obj_path(p, &objs[i], path, sizeof(path));
		snprintf(act, sizeof(act), "%s.active", path);
		unlink(act);
		if (unlink(path) < 0 && errno != ENOENT)
			return qs_err(err, -errno, "cannot remove '%s': %s", path, strerror(errno));
	}
	return 0;
}

static int fake_resize(struct qs_pool *p, const struct qs_obj *o, uint64_t size, qstor_error *err)
{
	char path[2048];
	int r = hit("resize", err);

	if (r < 0)
		return r;
	obj_path(p, o, path, sizeof(path));
	if (truncate(path, (off_t)size) < 0)
		return qs_err(err, -errno, "cannot resize '%s': %s", path, strerror(errno));
	return 0;
}

static int fake_activate(struct qs_pool *p, const struct qs_obj *o, bool rw, char *buf, size_t len,
			 qstor_error *err)
{
	char act[2100];
	int fd, r = hit("activate", err);

	if (r < 0)
		return r;
	obj_path(p, o, buf, len);
	if (access(buf, F_OK) < 0)
		return qs_err(err, -ENOENT, "cannot activate '%s': no such object", buf);
	snprintf(act, sizeof(act), "%s.active", buf);
	fd = open(act, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int fake_deactivate(struct qs_pool *p, const struct qs_obj *o, qstor_error *err)
{
	char path[2048], act[2100];
	int r = hit("deactivate", err);

	if (r < 0)
		return r;
	obj_path(p, o, path, sizeof(path));
	snprintf(act, sizeof(act), "%s.active", path);
	unlink(act);
	return 0;
}

static int fake_path(struct qs_pool *p, const struct qs_obj *o, char *buf, size_t len,
		     qstor_error *err)
{
	obj_path(p, o, buf, len);
	return 0;
}

static int fake_usage(struct qs_pool *p, const struct qs_obj *objs, size_t n, struct qs_usage *ret,
		      uint64_t *set, qstor_error *err)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++) {
		char path[2048];
		struct stat st;

		obj_path(p, &objs[i], path, sizeof(path));
		ret[i].mapped = stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
		ret[i].exclusive = ret[i].mapped;
		total += ret[i].mapped;
	}
	if (set)
		*set = total;
	return 0;
}

static const char *const fake_options[] = { "dir_path", NULL };

const struct qs_driver fake_driver = {
	.name = "fake",
	.instance_size = sizeof(struct fake),
	.options = fake_options,
	.required = fake_options,
	.wants_precache = true,
	.rev_key_is_time = false,
	.pool_open = fake_open,
	.pool_usage = fake_usage_pool,
	.make_vid = fake_vid,
	.list = fake_list,
	.create = fake_create,
	.snapshot = fake_snapshot,
	.rename = fake_rename,
	.remove = fake_remove,
	.resize = fake_resize,
	.activate = fake_activate,
	.deactivate = fake_deactivate,
	.usage = fake_usage,
	.path = fake_path,
};
