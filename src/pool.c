/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handle, the state directory, and pools. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"

/* Options every pool takes, whatever its driver. */
static const char *const common_options[] = {
	"revisions_to_keep", "ephemeral_volatile", "reserve_data", "reserve_metadata", NULL,
};

const char *qs_pool_opt(const struct qs_pool *pool, const char *key)
{
	for (size_t i = 0; i < pool->n_options; i++)
		if (strcmp(pool->options[i].key, key) == 0)
			return pool->options[i].value;
	return NULL;
}

void qs_read_boot_id(char buf[40])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, 40, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return false;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

int qstor_open(const char *state_dir, qstor **ret, qstor_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	qstor *q;
	int r;

	if (!state_dir || !*state_dir)
		state_dir = getenv("QSTOR_STATE_DIR");
	if (!state_dir || !*state_dir)
		state_dir = QSTOR_DEFAULT_STATE_DIR;
	bool created = mkdir(state_dir, 0700) == 0;

	if (!created && errno != EEXIST)
		return qs_err(err, -errno, "cannot create state directory '%s': %s",
			      QS_ESC_PATH(state_dir), strerror(errno));
	if (stat(state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return qs_err(err, -ENOTDIR, "state directory '%s' is not a directory",
			      QS_ESC_PATH(state_dir));
	if (!created) {
		/* only a directory qstor made (it holds the catalog), or an
		 * empty one, is taken: a mistyped --state-dir (/, /tmp, ...)
		 * must not be chmodded or filled with a catalog */
		snprintf(path, sizeof(path), "%s/catalog.db", state_dir);
		if (access(path, F_OK) < 0 && !dir_is_empty(state_dir))
			return qs_err(err, -ENOTEMPTY, "'%s' is not a qstor state directory (no "
				      "catalog.db, not empty)", QS_ESC_PATH(state_dir));
	}
	if (st.st_uid == geteuid() && (st.st_mode & 077))
		chmod(state_dir, 0700);  /* the catalog names every VM: keep it private */

	q = calloc(1, sizeof(*q));
	if (!q || !(q->state_dir = strdup(state_dir))) {
		free(q);
		return qs_err(err, -ENOMEM, "out of memory");
	}
	snprintf(path, sizeof(path), "%s/catalog.db", state_dir);
	mode_t old = umask(077);
	r = qs_cat_open(path, &q->db, err);
	umask(old);
	if (r < 0) {
		free(q->state_dir);
		free(q);
		return r;
	}
	qs_read_boot_id(q->boot_id);
	*ret = q;
	return 0;
}

static void pool_free(struct qs_pool *p)
{
	if (!p)
		return;
	if (p->priv && p->drv->pool_close)
		p->drv->pool_close(p);
	free(p->priv);
	qs_kv_free(p->options, p->n_options);
	free(p);
}

void qstor_close(qstor *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_pools; i++)
		pool_free(q->pools[i]);
	qs_cat_close(q->db);
	free(q->state_dir);
	free(q);
}

const char *qstor_state_dir(const qstor *q)
{
	return q->state_dir;
}

void qstor_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool key_in(const char *const *list, const char *key)
{
	for (; list && *list; list++)
		if (strcmp(*list, key) == 0)
			return true;
	return false;
}

static int parse_percent(const char *pool, const char *key, const char *s, double *ret,
			 qstor_error *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || (*end && strcmp(end, "%") != 0) || v < 0 || v >= 100)
		return qs_err(err, -EINVAL, "invalid value '%s' for option '%s' of pool '%s': "
			      "expected a percentage from 0 to 99", QS_ESC(s), key, pool);
	*ret = v / 100.0;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "True") || !strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(s, "False") || !strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

/* Check options against the driver and fill the pool's common fields. */
static int pool_parse(struct qs_pool *p, qstor_error *err)
{
	const char *v;
	bool b;

	for (size_t i = 0; i < p->n_options; i++) {
		const char *key = p->options[i].key;

		if (!key_in(common_options, key) && !key_in(p->drv->options, key))
			return qs_err(err, -EINVAL, "unknown option '%s' for driver '%s'",
				      QS_ESC(key), p->drv->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->options[j].key, key) == 0)
				return qs_err(err, -EINVAL, "option '%s' given twice", QS_ESC(key));
	}
	for (const char *const *req = p->drv->required; req && *req; req++)
		if (!qs_pool_opt(p, *req))
			return qs_err(err, -EINVAL, "driver '%s' needs option '%s'", p->drv->name, *req);

	p->revisions_to_keep = 1;
	p->reserve_data = 0.10;
	p->reserve_meta = 0.20;
	if ((v = qs_pool_opt(p, "revisions_to_keep"))) {
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (end == v || *end || errno || n < 0 || n > 1000)
			return qs_err(err, -EINVAL, "invalid value '%s' for option 'revisions_to_keep' "
				      "of pool '%s': expected 0 to 1000", QS_ESC(v), p->name);
		p->revisions_to_keep = (int)n;
	}
	if ((v = qs_pool_opt(p, "ephemeral_volatile")) && parse_bool(v, &b) == 0)
		p->ephemeral_volatile = b;
	else if (v)
		return qs_err(err, -EINVAL, "invalid value '%s' for option 'ephemeral_volatile' of "
			      "pool '%s': expected True or False", QS_ESC(v), p->name);
	if ((v = qs_pool_opt(p, "reserve_data")) &&
	    parse_percent(p->name, "reserve_data", v, &p->reserve_data, err) < 0)
		return err ? err->code : -EINVAL;
	if ((v = qs_pool_opt(p, "reserve_metadata")) &&
	    parse_percent(p->name, "reserve_metadata", v, &p->reserve_meta, err) < 0)
		return err ? err->code : -EINVAL;
	return 0;
}

static int kv_dup(const qstor_kv *src, size_t n, qstor_kv **ret)
{
	qstor_kv *kv = calloc(n ? n : 1, sizeof(*kv));

	if (!kv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		kv[i].key = strdup(src[i].key);
		kv[i].value = strdup(src[i].value);
		if (!kv[i].key || !kv[i].value) {
			qs_kv_free(kv, i + 1);
			return -ENOMEM;
		}
	}
	*ret = kv;
	return 0;
}

/* Make (not cache) a pool object and open its driver. */
static int pool_make(const char *name, const char *driver, const qstor_kv *opts, size_t n,
		     bool setup, struct qs_pool **ret, qstor_error *err)
{
	struct qs_pool *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return qs_err(err, -ENOMEM, "out of memory");
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->drv = qs_driver_find(driver);
	if (!p->drv) {
		free(p);
		return qs_err(err, -EINVAL, "unknown driver '%s'", QS_ESC(driver));
	}
	r = kv_dup(opts, n, &p->options);
	if (r < 0) {
		free(p);
		return qs_err(err, r, "out of memory");
	}
	p->n_options = n;
	r = pool_parse(p, err);
	if (r < 0)
		goto fail;
	p->priv = calloc(1, p->drv->instance_size ? p->drv->instance_size : 1);
	if (!p->priv) {
		r = qs_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	r = p->drv->pool_open(p, setup, err);
	if (r < 0) {
		qs_err_prefix(err, "pool '%s'", name);
		free(p->priv);
		p->priv = NULL;
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	qs_kv_free(p->options, p->n_options);
	free(p);
	return r;
}

int qs_pool_get(qstor *q, const char *name, struct qs_pool **ret, qstor_error *err)
{
	char driver[32];
	qstor_kv *opts = NULL;
	size_t n = 0;
	struct qs_pool *p;
	int r;

	for (size_t i = 0; i < q->n_pools; i++)
		if (strcmp(q->pools[i]->name, name) == 0) {
			*ret = q->pools[i];
			return 0;
		}
	if (q->n_pools == QS_MAX_POOLS)
		return qs_err(err, -EMFILE, "too many pools open");
	r = qs_cat_pool_get(q->db, name, driver, &opts, &n, err);
	if (r < 0)
		return r;
	r = pool_make(name, driver, opts, n, false, &p, err);
	qs_kv_free(opts, n);
	if (r < 0)
		return r;
	q->pools[q->n_pools++] = p;
	*ret = p;
	return 0;
}

static void pool_forget(qstor *q, const char *name)
{
	for (size_t i = 0; i < q->n_pools; i++)
		if (strcmp(q->pools[i]->name, name) == 0) {
			pool_free(q->pools[i]);
			q->pools[i] = q->pools[--q->n_pools];
			return;
		}
}

static int check_kv(const qstor_kv *opts, size_t n, qstor_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!opts[i].key || !*opts[i].key || !opts[i].value)
			return qs_err(err, -EINVAL, "invalid option: expected key=value");
		for (const char *c = opts[i].key; *c; c++)
			if (!(*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
				return qs_err(err, -EINVAL, "invalid option name '%s'",
					      QS_ESC(opts[i].key));
		for (const unsigned char *c = (const unsigned char *)opts[i].value; *c; c++)
			if (*c < 0x20 || *c == 0x7f)
				return qs_err(err, -EINVAL, "invalid value '%s' for option '%s': "
					      "control character 0x%02x", QS_ESC(opts[i].value),
					      opts[i].key, *c);
	}
	return 0;
}

int qstor_pool_add(qstor *q, const char *name, const char *driver, const qstor_kv *options,
		   size_t n, qstor_error *err)
{
	struct qs_pool *p;
	int r;

	r = qstor_check_name("pool", name, err);
	if (r < 0)
		return r;
	if (!qs_driver_find(driver))
		return qs_err(err, -EINVAL, "unknown driver '%s'", QS_ESC(driver));
	r = check_kv(options, n, err);
	if (r < 0)
		return r;
	r = qs_cat_pool_get(q->db, name, NULL, NULL, NULL, NULL);
	if (r == 0)
		return qs_err(err, -EEXIST, "pool '%s' already exists", name);
	r = pool_make(name, driver, options, n, true, &p, err);
	if (r < 0)
		return r;
	pool_free(p);
	r = qs_cat_begin(q->db, err);
	if (r < 0)
		return r;
	r = qs_cat_pool_put(q->db, name, driver, options, n, err);
	if (r < 0) {
		qs_cat_rollback(q->db);
		return r;
	}
	return qs_cat_commit(q->db, err);
}

int qstor_pool_remove(qstor *q, const char *name, qstor_error *err)
{
	int r = qstor_check_name("pool", name, err);

	if (r < 0)
		return r;
	r = qs_cat_begin(q->db, err);
	if (r < 0)
		return r;
	r = qs_cat_pool_get(q->db, name, NULL, NULL, NULL, err);
	if (r < 0)
		goto fail;
	r = qs_cat_pool_volume_count(q->db, name, err);
	if (r < 0)
		goto fail;
	if (r > 0) {
		r = qs_err(err, -EBUSY, "cannot remove pool '%s': it holds %d volumes", name, r);
		goto fail;
	}
	r = qs_cat_pool_delete(q->db, name, err);
	if (r < 0)
		goto fail;
	r = qs_cat_commit(q->db, err);
	pool_forget(q, name);
	return r;
fail:
	qs_cat_rollback(q->db);
	return r;
}

int qstor_pool_set(qstor *q, const char *name, const qstor_kv *options, size_t n,
		   qstor_error *err)
{
	char driver[32];
	qstor_kv *cur = NULL, *merged = NULL;
	size_t ncur = 0, nm;
	struct qs_pool *p;
	int r;

	r = qstor_check_name("pool", name, err);
	if (r < 0)
		return r;
	r = check_kv(options, n, err);
	if (r < 0)
		return r;
	r = qs_cat_pool_get(q->db, name, driver, &cur, &ncur, err);
	if (r < 0)
		return r;
	const struct qs_driver *drv = qs_driver_find(driver);
	merged = calloc(ncur + n + 1, sizeof(*merged));
	if (!merged) {
		qs_kv_free(cur, ncur);
		return qs_err(err, -ENOMEM, "out of memory");
	}
	memcpy(merged, cur, ncur * sizeof(*cur));
	nm = ncur;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (drv && key_in(drv->required, options[i].key)) {
			r = qs_err(err, -EINVAL, "option '%s' of pool '%s' cannot be changed",
				   QS_ESC(options[i].key), name);
			goto out;
		}
		for (j = 0; j < nm; j++)
			if (strcmp(merged[j].key, options[i].key) == 0)
				break;
		merged[j].key = options[i].key;
		merged[j].value = options[i].value;
		if (j == nm)
			nm++;
	}
	r = pool_make(name, driver, merged, nm, true, &p, err);
	if (r < 0)
		goto out;
	pool_free(p);
	r = qs_cat_begin(q->db, err);
	if (r < 0)
		goto out;
	r = qs_cat_pool_put(q->db, name, driver, merged, nm, err);
	if (r < 0)
		qs_cat_rollback(q->db);
	else
		r = qs_cat_commit(q->db, err);
	pool_forget(q, name);
out:
	free(merged);  /* strings belong to cur and options */
	qs_kv_free(cur, ncur);
	return r;
}

int qstor_pool_list(qstor *q, char ***ret, size_t *ret_n, qstor_error *err)
{
	return qs_cat_pool_names(q->db, ret, ret_n, err);
}

int qstor_pool_resolve(qstor *q, const char *pool, char ret[QSTOR_NAME_MAX + 1],
		       qstor_error *err)
{
	char **names;
	size_t n;
	int r;

	if (pool) {
		r = qstor_check_name("pool", pool, err);
		if (r < 0)
			return r;
		r = qs_cat_pool_get(q->db, pool, NULL, NULL, NULL, err);
		if (r < 0)
			return r;
		snprintf(ret, QSTOR_NAME_MAX + 1, "%s", pool);
		return 0;
	}
	r = qs_cat_pool_names(q->db, &names, &n, err);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], "default") == 0)
			r = 0;
	if (r == 0)
		snprintf(ret, QSTOR_NAME_MAX + 1, "default");
	else if (n == 1) {
		snprintf(ret, QSTOR_NAME_MAX + 1, "%s", names[0]);
		r = 0;
	} else if (n == 0)
		r = qs_err(err, -ENOENT, "no pool: add one with qvm-pool add");
	else
		r = qs_err(err, -EINVAL, "no pool named 'default' and %zu pools: choose one with --pool", n);
	qstor_strv_free(names, n);
	return r;
}

int qstor_pool_info_get(qstor *q, const char *name, qstor_pool_info *ret, qstor_error *err)
{
	struct qs_pool *p;
	struct qs_pool_usage u = { 0 };
	qstor_pool_info info;
	int r;

	r = qstor_check_name("pool", name, err);
	if (r < 0)
		return r;
	r = qs_pool_get(q, name, &p, err);
	if (r < 0)
		return r;
	memset(&info, 0, sizeof(info));
	snprintf(info.name, sizeof(info.name), "%s", name);
	snprintf(info.driver, sizeof(info.driver), "%s", p->drv->name);
	r = kv_dup(p->options, p->n_options, &info.options);
	if (r < 0)
		return qs_err(err, r, "out of memory");
	info.n_options = p->n_options;
	info.revisions_to_keep = p->revisions_to_keep;
	if (p->drv->pool_usage) {
		r = p->drv->pool_usage(p, &u, err);
		if (r < 0) {
			qs_kv_free(info.options, info.n_options);
			return r;
		}
	}
	info.size = u.data_size;
	info.usage = u.data_used;
	info.metadata_size = u.meta_size;
	info.metadata_usage = u.meta_used;
	*ret = info;
	return 0;
}

void qstor_pool_info_free(qstor_pool_info *info)
{
	if (!info)
		return;
	qs_kv_free(info->options, info->n_options);
	info->options = NULL;
	info->n_options = 0;
}

static void human(uint64_t b, char *buf, size_t len)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	unsigned i = 0;

	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f %s", v, u[i]);
}

static bool data_short(const struct qs_pool *pool, const struct qs_pool_usage *u, uint64_t need)
{
	uint64_t free_b = u->data_used < u->data_size ? u->data_size - u->data_used : 0;
	uint64_t reserve = (uint64_t)((double)u->data_size * pool->reserve_data);

	return u->data_size && (free_b < need || free_b - need < reserve);
}

static bool meta_short(const struct qs_pool *pool, const struct qs_pool_usage *u)
{
	uint64_t free_m = u->meta_used < u->meta_size ? u->meta_size - u->meta_used : 0;
	uint64_t reserve = (uint64_t)((double)u->meta_size * pool->reserve_meta);

	return u->meta_size && free_m < reserve;
}

int qs_reserve_check(struct qs_pool *pool, uint64_t need, const char *what, qstor_error *err)
{
	struct qs_pool_usage u = { 0 };
	char free_s[32], need_s[32], res_s[32];
	int r;

	if (!pool->drv->pool_usage)
		return 0;
	r = pool->drv->pool_usage(pool, &u, err);
	if (r < 0)
		return r;
	if ((data_short(pool, &u, need) || meta_short(pool, &u)) && pool->drv->pool_settle) {
		/* space a removal just gave back may not show yet: look again */
		pool->drv->pool_settle(pool);
		if ((r = pool->drv->pool_usage(pool, &u, err)) < 0)
			return r;
	}
	if (data_short(pool, &u, need)) {
		uint64_t free_b = u.data_used < u.data_size ? u.data_size - u.data_used : 0;
		uint64_t reserve = (uint64_t)((double)u.data_size * pool->reserve_data);

		human(free_b, free_s, sizeof(free_s));
		human(need, need_s, sizeof(need_s));
		human(reserve, res_s, sizeof(res_s));
		return qs_err(err, -ENOSPC, "cannot %s: pool '%s' is full: %s free of %llu bytes, "
			      "%s needed, reserve %s (%.0f%%)", what, pool->name, free_s,
			      (unsigned long long)u.data_size, need_s, res_s,
			      pool->reserve_data * 100);
	}
	if (meta_short(pool, &u)) {
		uint64_t free_m = u.meta_used < u.meta_size ? u.meta_size - u.meta_used : 0;
		uint64_t reserve = (uint64_t)((double)u.meta_size * pool->reserve_meta);

		human(free_m, free_s, sizeof(free_s));
		human(reserve, res_s, sizeof(res_s));
		return qs_err(err, -ENOSPC, "cannot %s: metadata of pool '%s' is full: %s free "
			      "of %llu bytes, reserve %s (%.0f%%)", what, pool->name, free_s,
			      (unsigned long long)u.meta_size, res_s, pool->reserve_meta * 100);
	}
	return 0;
}

int qs_size_check(struct qs_pool *pool, uint64_t size, const char *what, qstor_error *err)
{
	struct qs_pool_usage u = { 0 };

	if (size == 0)
		return qs_err(err, -EINVAL, "cannot %s: size is zero", what);
	if (size % 512)
		return qs_err(err, -EINVAL, "cannot %s: size %llu is not a multiple of 512 bytes",
			      what, (unsigned long long)size);
	if (size > (uint64_t)INT64_MAX)
		return qs_err(err, -EFBIG, "cannot %s: size %llu too large", what,
			      (unsigned long long)size);
	if (pool->drv->pool_usage && pool->drv->pool_usage(pool, &u, NULL) == 0 && u.data_size &&
	    size > u.data_size)
		return qs_err(err, -EFBIG, "cannot %s: size %llu exceeds what pool '%s' can hold "
			      "(%llu bytes)", what, (unsigned long long)size, pool->name,
			      (unsigned long long)u.data_size);
	return 0;
}
