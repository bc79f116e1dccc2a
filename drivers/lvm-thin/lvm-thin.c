/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lvm_thin: volumes as thin LVs of an LVM thin pool, named as Qubes OS
 * names them (names.h), changed through liblvm2cmd in process (lvmcmd.h),
 * listed from one cached report (cache.h), measured through libdevmapper
 * (dmstatus.h) and thin_ls (thinls.h).
 *
 * What an op costs in lvm2_run calls (the expensive unit: 150-500 ms under
 * TCG): create, snapshot, rename, resize 1; remove 1 per 48 LVs (plus 1
 * to activate inactive ones when discard_on_remove=yes); activate and
 * deactivate 1, or 0 when the device already is in that state (checked
 * with a dm info ioctl); reset 0 when the volume is active and keeps its
 * size (BLKDISCARD), or inactive and mapping no block (thin_ls); list 0
 * while the VG seqno on disk is unchanged, else 1 (the report; the cache
 * outlives the process, see cache.h); usage 0 (dm status, thin_ls, one
 * thin_ls serving a whole listing); extents 0 (one metadata snapshot read
 * here, thinmeta.c). An app VM's start is 2 calls (two
 * snapshots; the volatile stays active between runs, emptied by a discard
 * at stop and again at start), its stop 5 (remove the root snapshot,
 * deactivate and two renames to commit the private, prune one revision).
 * QSTOR_LVM_TRACE=1 prints each call.
 *
 * Activation: running copies (-snap) are created active with activation
 * skip off; other snapshots inactive with activation skip on (a plain
 * "vgchange -ay" leaves them alone); activate() uses -K so it works on
 * either. Read-only activation (rw=false) activates normally: lvm can only
 * make a device read-only by changing the LV's permission in the VG
 * metadata, which would outlive us on a crash; readers open it O_RDONLY.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "dmstatus.h"
#include "driver.h"
#include "internal.h"
#include "lvmcmd.h"
#include "names.h"
#include "report.h"
#include "thinls.h"

/* The last thin_ls of the pool, reused while the pool's status shows no
 * new mapping or transaction and for at most THIN_LS_TTL_MS: `qvm-volume
 * list` asks usage volume by volume, one metadata snapshot serves all. */
#define THIN_LS_TTL_MS 2000

struct lvt_thin_ls {
	struct lvt_thin_usage *tu;
	size_t n;
	uint64_t transaction_id, data_used;
	double at_ms;
	bool valid;
};

struct lvt_priv {
	char vg[LVT_NAME_MAX + 1];
	char pool[LVT_NAME_MAX + 1];
	bool discard_on_remove;
	struct lvt_cache cache;
	struct lvt_thin_ls thin_ls;
	bool batch;          /* read_batch: the core only reads meanwhile */
	bool batch_fresh;    /* ...and the cache was checked in it */
};

/* An object resolved to its LV. */
struct lvt_obj {
	char lv[LVT_NAME_MAX + 1];
	char full[2 * LVT_NAME_MAX + 2];   /* "VG/LV", for messages */
	char dm[LVT_DM_NAME_MAX + 1];
};

static struct lvt_priv *priv(struct qs_pool *pool)
{
	return pool->priv;
}

/* The cache made current: the VG seqno on disk read (a few preads of the
 * PV), the report run again if it moved. Inside a read batch, once. */
static int fresh(struct lvt_priv *p, qstor_error *err)
{
	int r;

	if (p->batch && p->batch_fresh && p->cache.loaded)
		return 0;
	r = lvt_cache_fresh(&p->cache, p->vg, err);
	if (r == 0 && p->batch)
		p->batch_fresh = true;
	return r;
}

static void lvt_read_batch(struct qs_pool *pool, bool on)
{
	priv(pool)->batch = on;
	priv(pool)->batch_fresh = false;
}

static int resolve(struct lvt_priv *p, const struct qs_obj *obj, const char *what,
		   struct lvt_obj *ret, qstor_error *err)
{
	char vg[LVT_NAME_MAX + 1], base[LVT_NAME_MAX + 1];
	int r;

	if (lvt_vid_split(obj->vid, vg, base) < 0)
		return qs_err(err, -EINVAL, "cannot %s '%s': not an lvm_thin volume id", what,
			      obj->vid);
	if (strcmp(vg, p->vg) != 0)
		return qs_err(err, -EXDEV, "cannot %s '%s': not in volume group '%s'", what,
			      obj->vid, p->vg);
	r = lvt_obj_lv(base, obj->role, obj->rev_key, ret->lv, sizeof(ret->lv));
	if (r == -EOPNOTSUPP)
		return qs_err(err, r, "cannot %s '%s': lvm_thin keeps no precache object", what,
			      obj->vid);
	if (r < 0)
		return qs_err(err, r, "cannot %s '%s': name too long for lvm", what, obj->vid);
	snprintf(ret->full, sizeof(ret->full), "%s/%s", vg, ret->lv);
	if (lvt_dm_name(vg, ret->lv, NULL, ret->dm, sizeof(ret->dm)) < 0)
		return qs_err(err, -ENAMETOOLONG, "cannot %s '%s': name too long for device-mapper",
			      what, ret->full);
	return 0;
}

/* Run cmd; on failure drop the cache (the VG may be half changed) and
 * fill err with "<head>: <lvm's first error line>", head being e.g.
 * "cannot snapshot 'VG/A' to 'VG/B'". */
static int run(struct lvt_priv *p, const char *cmd, const char *head, qstor_error *err)
{
	struct lvt_out out = { 0 };
	char reason[256];
	int r = lvt_run(cmd, &out);

	if (r < 0) {
		lvt_cache_drop(&p->cache);
		qs_err(err, r, "%s: %s", head, lvt_out_reason(&out, reason, sizeof(reason)));
	}
	lvt_out_free(&out);
	return r;
}

#define HEAD_MAX (4 * LVT_NAME_MAX + 64)

__attribute__((format(printf, 3, 4)))
static const char *head(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

static uint64_t round_sector(uint64_t size)
{
	return (size + 511) & ~(uint64_t)511;
}

/* true when device-mapper has the device; when the kernel has no
 * device-mapper at all nothing can be active. */
static bool dm_exists(const char *dm)
{
	bool exists = false;

	return lvt_dm_info(dm, &exists, NULL, NULL) == 0 && exists;
}

/* Best effort, for error paths: remove lv if a failed command left it. */
static void remove_quiet(struct lvt_priv *p, const char *lv)
{
	char cmd[LVT_CMD_LEN];
	const char *one[] = { lv };

	if (lvt_cmd_remove(cmd, sizeof(cmd), p->vg, one, 1) == 0)
		(void)lvt_run(cmd, NULL);
	lvt_cache_drop(&p->cache);
}

static bool parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return true;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return true;
		}
	}
	return false;
}

/* ---- pool ---- */

static int lvt_pool_open(struct qs_pool *pool, bool setup, qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	const char *vg = qs_pool_opt(pool, "volume_group");
	const char *tp = qs_pool_opt(pool, "thin_pool");
	const char *dor = qs_pool_opt(pool, "discard_on_remove");
	const struct lvt_lv *lv;
	int r;

	/* the core prefixes these with "pool 'NAME': " */
	if (!vg || !*vg)
		return qs_err(err, -EINVAL, "option 'volume_group' is required");
	if (!tp || !*tp)
		return qs_err(err, -EINVAL, "option 'thin_pool' is required");
	if (!lvt_name_ok(vg))
		return qs_err(err, -EINVAL, "invalid volume_group '%s'", QS_ESC(vg));
	if (!lvt_name_ok(tp))
		return qs_err(err, -EINVAL, "invalid thin_pool '%s'", QS_ESC(tp));
	p->discard_on_remove = false;
	if (dor && !parse_bool(dor, &p->discard_on_remove))
		return qs_err(err, -EINVAL, "invalid discard_on_remove '%s': expected yes or no",
			      QS_ESC(dor));
	snprintf(p->vg, sizeof(p->vg), "%s", vg);
	snprintf(p->pool, sizeof(p->pool), "%s", tp);
	if (!setup)
		return 0;  /* no LVM until an op needs it */

	r = lvt_cache_load(&p->cache, p->vg, err);
	if (r < 0)
		return r;
	lv = lvt_cache_find(&p->cache, p->pool);
	if (!lv)
		return qs_err(err, -ENOENT, "thin pool '%s/%s' not found", p->vg, p->pool);
	if (lv->attr[0] != 't')
		return qs_err(err, -EINVAL, "'%s/%s' is not a thin pool", p->vg, p->pool);
	return 0;
}

static void lvt_pool_close(struct qs_pool *pool)
{
	struct lvt_priv *p = priv(pool);

	if (p) {
		lvt_cache_free(&p->cache);
		free(p->thin_ls.tu);
		memset(&p->thin_ls, 0, sizeof(p->thin_ls));
	}
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* thin_ls figures of every thin device, from the last run when still good */
static int thin_ls(struct lvt_priv *p, const char *tpool, const struct lvt_pool_status *st,
		   const struct lvt_thin_usage **ret, size_t *ret_n, qstor_error *err)
{
	struct lvt_thin_ls *t = &p->thin_ls;
	struct lvt_thin_usage *tu = NULL;
	size_t n = 0;
	double now = mono_ms();
	int r;

	if (!(t->valid && t->transaction_id == st->transaction_id &&
	      t->data_used == st->data_used && now - t->at_ms < THIN_LS_TTL_MS)) {
		r = lvt_thin_ls_usage(p->vg, p->pool, tpool, &tu, &n, err);
		if (r < 0)
			return r;
		free(t->tu);
		t->tu = tu;
		t->n = n;
		t->transaction_id = st->transaction_id;
		t->data_used = st->data_used;
		t->at_ms = now;
		t->valid = true;
	}
	*ret = t->tu;
	*ret_n = t->n;
	return 0;
}

/* The device-mapper device that carries the pool's thin-pool target: LVM
 * names it "VG-POOL-tpool" (with "VG-POOL" a linear on top) once the pool
 * has thin volumes, but an unused pool is activated as "VG-POOL" itself.
 * 0 with the name in buf, -ENXIO when neither is active. */
static int pool_target_dev(struct lvt_priv *p, char *buf, size_t len)
{
	char target[32], params[512], plain[LVT_DM_NAME_MAX + 1];
	bool exists = false;
	int r;

	if (lvt_dm_name(p->vg, p->pool, "tpool", buf, len) < 0 ||
	    lvt_dm_name(p->vg, p->pool, NULL, plain, sizeof(plain)) < 0)
		return -ENAMETOOLONG;
	r = lvt_dm_info(buf, &exists, NULL, NULL);
	if (r < 0)
		return r;
	if (exists)
		return 0;
	r = lvt_dm_params(plain, true, target, sizeof(target), params, sizeof(params));
	if (r == 0 && strcmp(target, "thin-pool") == 0) {
		snprintf(buf, len, "%s", plain);
		return 0;
	}
	return r == -ENODEV ? r : -ENXIO;
}

/* Status and table of the pool's thin-pool device, activating the pool when
 * it is not (usage of an inactive pool is unknown to the kernel). */
static int pool_dm(struct lvt_priv *p, const char *what, struct lvt_pool_status *st,
		   struct lvt_pool_table *t, char *dev, size_t dev_len, qstor_error *err)
{
	char tpool[LVT_DM_NAME_MAX + 1], target[32], params[512], cmd[LVT_CMD_LEN];
	char subject[2 * LVT_NAME_MAX + 2], h[HEAD_MAX];
	const char *one[] = { p->pool };
	int r;

	snprintf(subject, sizeof(subject), "%s/%s", p->vg, p->pool);
	r = pool_target_dev(p, tpool, sizeof(tpool));
	if (r == -ENAMETOOLONG)
		return qs_err(err, r, "cannot %s '%s': name too long", what, subject);
	if (r == -ENXIO) {
		r = lvt_cmd_activate(cmd, sizeof(cmd), p->vg, one, 1);
		if (r == 0)
			r = run(p, cmd, head(h, sizeof(h), "cannot activate '%s'", subject), err);
		if (r < 0)
			return r;
		r = pool_target_dev(p, tpool, sizeof(tpool));
		if (r == -ENXIO)
			return qs_err(err, r, "cannot %s '%s': no thin-pool device after "
				      "activation", what, subject);
	}
	if (r < 0)
		return qs_err(err, r, "cannot %s '%s': device-mapper not available", what, subject);
	if (dev && (size_t)snprintf(dev, dev_len, "%s", tpool) >= dev_len)
		return qs_err(err, -ENAMETOOLONG, "cannot %s '%s': name too long", what, subject);
	r = lvt_dm_params(tpool, false, target, sizeof(target), params, sizeof(params));
	if (r == 0 && strcmp(target, "thin-pool") != 0)
		r = -EBADMSG;
	if (r == 0)
		r = lvt_parse_pool_status(params, st);
	if (r == -EIO)
		return qs_err(err, r, "cannot %s '%s': the thin pool has failed", what, subject);
	if (r < 0)
		return qs_err(err, r, "cannot %s '%s': no thin-pool status on '%s'", what,
			      subject, tpool);
	if (!t)
		return 0;
	r = lvt_dm_params(tpool, true, target, sizeof(target), params, sizeof(params));
	if (r == 0)
		r = lvt_parse_pool_table(params, t);
	if (r < 0)
		return qs_err(err, r, "cannot %s '%s': no thin-pool table on '%s'", what,
			      subject, tpool);
	return 0;
}

static int lvt_pool_usage(struct qs_pool *pool, struct qs_pool_usage *ret,
			  qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	struct lvt_pool_status st;
	struct lvt_pool_table t;
	uint64_t block;
	int r;

	r = pool_dm(p, "read usage of", &st, &t, NULL, 0, err);
	if (r < 0)
		return r;
	block = t.block_sectors * 512;
	ret->data_size = st.data_total * block;
	ret->data_used = st.data_used * block;
	ret->meta_size = st.meta_total * LVT_META_BLOCK_BYTES;
	ret->meta_used = st.meta_used * LVT_META_BLOCK_BYTES;
	return 0;
}

/* ---- names ---- */

static int lvt_make_vid(struct qs_pool *pool, const char *vm, const char *vol,
			bool is_template, char *buf, size_t len, qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	char base[LVT_NAME_MAX + 1], longest[LVT_NAME_MAX + 1], dm[LVT_DM_NAME_MAX + 1];
	int n;

	(void)is_template;  /* Qubes names templates' LVs like any VM's */
	if (!lvt_name_ok(vm) || !lvt_name_ok(vol))
		return qs_err(err, -EINVAL, "invalid volume name '%s:%s'", vm ? vm : "",
			      vol ? vol : "");
	n = snprintf(base, sizeof(base), "vm-%s-%s", vm, vol);
	/* every object name must fit LVM and device-mapper, the longest
	 * being a revision with a 20-digit key */
	if (n < 0 || (size_t)n >= sizeof(base) ||
	    lvt_obj_lv(base, QS_REVISION, UINT64_MAX, longest, sizeof(longest)) < 0 ||
	    lvt_dm_name(p->vg, longest, NULL, dm, sizeof(dm)) < 0)
		return qs_err(err, -ENAMETOOLONG, "cannot name '%s:%s' in '%s': too long for lvm",
			      vm, vol, p->vg);
	n = snprintf(buf, len, "%s/%s", p->vg, base);
	if (n < 0 || (size_t)n >= len)
		return qs_err(err, -ENAMETOOLONG, "cannot name '%s:%s': buffer too small", vm, vol);
	return 0;
}

/* ---- list ---- */

static int lvt_list(struct qs_pool *pool, const char *vid, struct qs_objinfo **ret,
		    size_t *ret_n, qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	char vg[LVT_NAME_MAX + 1], base[LVT_NAME_MAX + 1];
	struct qs_objinfo *v = NULL;
	size_t n = 0;
	int r;

	if (lvt_vid_split(vid, vg, base) < 0)
		return qs_err(err, -EINVAL, "cannot list '%s': not an lvm_thin volume id", vid);
	if (strcmp(vg, p->vg) != 0)
		return qs_err(err, -EXDEV, "cannot list '%s': not in volume group '%s'", vid, p->vg);
	r = fresh(p, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < p->cache.rep.n_lvs; i++) {
		const struct lvt_lv *lv = &p->cache.rep.lvs[i];
		struct qs_objinfo *o;
		enum qs_role role;
		uint64_t key;
		char dm[LVT_DM_NAME_MAX + 1];
		bool exists = false;

		if (!lvt_lv_role(base, lv->name, &role, &key))
			continue;
		o = realloc(v, (n + 1) * sizeof(*o));
		if (!o) {
			free(v);
			return qs_err(err, -ENOMEM, "cannot list '%s': out of memory", vid);
		}
		v = o;
		o = &v[n++];
		memset(o, 0, sizeof(*o));
		o->role = role;
		o->size = lv->size;
		if (role == QS_REVISION) {
			o->rev_key = key;
			o->rev_time = (int64_t)key;
			lvt_rev_id(key, o->rev_id, sizeof(o->rev_id));
		}
		/* the kernel knows better than a report that may be old */
		if (lvt_dm_name(vg, lv->name, NULL, dm, sizeof(dm)) == 0 &&
		    lvt_dm_info(dm, &exists, NULL, NULL) == 0)
			o->active = exists;
		else
			o->active = lv->attr[4] == 'a';
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- create, snapshot, rename, remove, resize ---- */

static void cache_add(struct lvt_priv *p, const char *lv, uint64_t size,
		      const char *origin, bool active)
{
	struct lvt_lv e = { .thin_id = -1 };
	char dm[LVT_DM_NAME_MAX + 1], target[32], params[128];
	uint64_t id;

	/* an active thin device tells its id (no report needed for usage) */
	if (active && lvt_dm_name(p->vg, lv, NULL, dm, sizeof(dm)) == 0 &&
	    lvt_dm_params(dm, true, target, sizeof(target), params, sizeof(params)) == 0 &&
	    strcmp(target, "thin") == 0 && lvt_parse_thin_table(params, &id) == 0)
		e.thin_id = (int64_t)id;

	snprintf(e.name, sizeof(e.name), "%s", lv);
	snprintf(e.attr, sizeof(e.attr), "Vwi-%ctz--", active ? 'a' : '-');
	snprintf(e.pool, sizeof(e.pool), "%s", p->pool);
	snprintf(e.origin, sizeof(e.origin), "%s", origin ? origin : "");
	e.size = size;
	if (lvt_cache_add(&p->cache, &e))
		lvt_cache_adopt(&p->cache, p->vg, LVT_STEP_CREATE);
}

static int create_lv(struct lvt_priv *p, const struct lvt_obj *o, enum qs_role role,
		     uint64_t size, qstor_error *err)
{
	char cmd[LVT_CMD_LEN], h[HEAD_MAX];
	bool activate = role == QS_RUNNING || role == QS_IMPORT;
	int r;

	size = round_sector(size);
	r = lvt_cmd_create(cmd, sizeof(cmd), p->vg, p->pool, o->lv, size, activate);
	if (r < 0)
		return qs_err(err, r, "cannot create '%s': invalid size %llu", o->full,
			      (unsigned long long)size);
	r = run(p, cmd, head(h, sizeof(h), "cannot create '%s'", o->full), err);
	if (r < 0) {
		/* lvcreate may fail after committing the LV (activation) */
		if (r != -EEXIST && r != -ENOENT && r != -EINVAL && r != -ENOSPC)
			remove_quiet(p, o->lv);
		return r;
	}
	cache_add(p, o->lv, lvt_cache_round(&p->cache, size), NULL, activate);
	return 0;
}

static int lvt_create(struct qs_pool *pool, const struct qs_obj *obj, uint64_t size,
		      qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	struct lvt_obj o;
	int r = resolve(p, obj, "create", &o, err);

	if (r < 0)
		return r;
	if (size == 0)
		return qs_err(err, -EINVAL, "cannot create '%s': size is zero", o.full);
	return create_lv(p, &o, obj->role, size, err);
}

static int lvt_snapshot(struct qs_pool *pool, const struct qs_obj *src,
			const struct qs_obj *dst, qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	char cmd[LVT_CMD_LEN], h[HEAD_MAX];
	const struct lvt_lv *s;
	struct lvt_obj so, d;
	bool activate = dst->role == QS_RUNNING;
	int r;

	if ((r = resolve(p, src, "snapshot", &so, err)) < 0 ||
	    (r = resolve(p, dst, "snapshot", &d, err)) < 0)
		return r;
	head(h, sizeof(h), "cannot snapshot '%s' to '%s'", so.full, d.full);
	r = lvt_cmd_snapshot(cmd, sizeof(cmd), p->vg, so.lv, d.lv, activate);
	if (r < 0)
		return qs_err(err, r, "%s: invalid name", h);
	r = run(p, cmd, h, err);
	if (r < 0) {
		if (r != -EEXIST && r != -ENOENT && r != -EINVAL && r != -ENOSPC)
			remove_quiet(p, d.lv);
		return r;
	}
	s = lvt_cache_find(&p->cache, so.lv);
	if (s)
		cache_add(p, d.lv, s->size, so.lv, activate);
	else
		lvt_cache_drop(&p->cache);  /* the source was unknown: stale */
	return 0;
}

static int lvt_rename(struct qs_pool *pool, const struct qs_obj *from,
		      const struct qs_obj *to, qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	char cmd[LVT_CMD_LEN], h[HEAD_MAX];
	struct lvt_obj f, t;
	int r;

	if ((r = resolve(p, from, "rename", &f, err)) < 0 ||
	    (r = resolve(p, to, "rename", &t, err)) < 0)
		return r;
	if (strcmp(f.lv, t.lv) == 0)
		return 0;
	head(h, sizeof(h), "cannot rename '%s' to '%s'", f.full, t.lv);
	r = lvt_cmd_rename(cmd, sizeof(cmd), p->vg, f.lv, t.lv);
	if (r < 0)
		return qs_err(err, r, "%s: invalid name", h);
	r = run(p, cmd, h, err);
	if (r < 0)
		return r;
	if (lvt_cache_rename(&p->cache, f.lv, t.lv))
		lvt_cache_adopt(&p->cache, p->vg, LVT_STEP_RENAME);
	return 0;
}

static int discard_dev(const char *dm)
{
	char path[LVT_DM_NAME_MAX + 16];
	_cleanup_close_ int fd = -1;
	uint64_t range[2] = { 0, 0 };

	snprintf(path, sizeof(path), "/dev/mapper/%s", dm);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, &range[1]) < 0)
		return -errno;
	if (range[1] && ioctl(fd, BLKDISCARD, range) < 0)
		return -errno;
	return 0;
}

/* discard_on_remove: hand the blocks back to the storage below the pool
 * before lvremove (removing a thin LV only drops its mappings). Best
 * effort: inactive LVs are activated in one batch first. */
static void discard_lvs(struct lvt_priv *p, const char *const *lvs, size_t n)
{
	const char **inactive = calloc(n ? n : 1, sizeof(*inactive));
	char dm[LVT_DM_NAME_MAX + 1], cmd[LVT_CMD_LEN];
	size_t k = 0;

	if (!inactive)
		return;
	for (size_t i = 0; i < n; i++)
		if (lvt_dm_name(p->vg, lvs[i], NULL, dm, sizeof(dm)) == 0 && !dm_exists(dm))
			inactive[k++] = lvs[i];
	for (size_t i = 0; i < k; i += LVT_CMD_MAX_LVS) {
		size_t m = k - i < LVT_CMD_MAX_LVS ? k - i : LVT_CMD_MAX_LVS;

		if (lvt_cmd_activate(cmd, sizeof(cmd), p->vg, inactive + i, m) == 0)
			(void)lvt_run(cmd, NULL);
	}
	for (size_t i = 0; i < n; i++)
		if (lvt_dm_name(p->vg, lvs[i], NULL, dm, sizeof(dm)) == 0)
			(void)discard_dev(dm);
	free(inactive);
}

static int lvt_remove(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		      qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	struct lvt_obj *o;
	const char **lvs;
	char cmd[LVT_CMD_LEN];
	size_t k = 0;
	int r = 0;

	if (n == 0)
		return 0;
	o = calloc(n, sizeof(*o));
	lvs = calloc(n, sizeof(*lvs));
	if (!o || !lvs) {
		r = qs_err(err, -ENOMEM, "cannot remove: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = resolve(p, &objs[i], "remove", &o[i], err)) < 0)
			goto out;
	r = lvt_cache_fresh(&p->cache, p->vg, err);
	if (r < 0)
		goto out;
	/* absent ones are not an error: leave them out of the command */
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(lvs[j], o[i].lv) == 0;
		if (!dup && lvt_cache_find(&p->cache, o[i].lv))
			lvs[k++] = o[i].lv;
	}
	if (k == 0)
		goto out;
	if (p->discard_on_remove)
		discard_lvs(p, lvs, k);
	for (size_t i = 0; i < k; i += LVT_CMD_MAX_LVS) {
		size_t m = k - i < LVT_CMD_MAX_LVS ? k - i : LVT_CMD_MAX_LVS;
		char h[HEAD_MAX];

		if (m > 1)
			head(h, sizeof(h), "cannot remove '%s/%s' (and %zu more)", p->vg,
			     lvs[i], m - 1);
		else
			head(h, sizeof(h), "cannot remove '%s/%s'", p->vg, lvs[i]);
		r = lvt_cmd_remove(cmd, sizeof(cmd), p->vg, lvs + i, m);
		if (r < 0) {
			qs_err(err, r, "%s: invalid name", h);
			goto out;
		}
		r = run(p, cmd, h, err);
		if (r < 0)
			goto out;
		for (size_t j = i; j < i + m; j++)
			lvt_cache_remove(&p->cache, lvs[j]);
		lvt_cache_adopt(&p->cache, p->vg, (unsigned)(LVT_STEP_REMOVE * m));
	}
out:
	free(o);
	free(lvs);
	return r;
}

static int lvt_resize(struct qs_pool *pool, const struct qs_obj *obj, uint64_t size,
		      qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	struct lvt_out out = { 0 };
	char cmd[LVT_CMD_LEN];
	struct lvt_obj o;
	int r = resolve(p, obj, "resize", &o, err);

	if (r < 0)
		return r;
	if (size == 0)
		return qs_err(err, -EINVAL, "cannot resize '%s': size is zero", o.full);
	size = round_sector(size);
	r = lvt_cmd_resize(cmd, sizeof(cmd), p->vg, o.lv, size);
	if (r < 0)
		return qs_err(err, r, "cannot resize '%s': invalid size", o.full);
	r = lvt_run(cmd, &out);
	/* lvresize refuses a size the LV already has: nothing changed */
	if (r < 0 && strstr(out.errors, "matches existing size")) {
		lvt_out_free(&out);
		return 0;
	}
	if (r < 0) {
		char reason[256];

		lvt_cache_drop(&p->cache);
		qs_err(err, r, "cannot resize '%s': %s", o.full,
		       lvt_out_reason(&out, reason, sizeof(reason)));
	}
	lvt_out_free(&out);
	if (r < 0)
		return r;
	if (lvt_cache_resize(&p->cache, o.lv, lvt_cache_round(&p->cache, size)))
		lvt_cache_adopt(&p->cache, p->vg, LVT_STEP_RESIZE);
	return 0;
}

/* ---- devices ---- */

/* Without udev the node is made by libdevmapper inside lvm2_run; with
 * udev (udev_sync=0) it may come a moment later. */
static int wait_node(const char *path)
{
	struct stat st;

	for (int i = 0; i < 200; i++) {
		if (stat(path, &st) == 0)
			return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
		if (errno != ENOENT)
			return -errno;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return -ENOENT;
}

static int activate_obj(struct lvt_priv *p, const struct lvt_obj *o, char *path,
			size_t len, qstor_error *err)
{
	char cmd[LVT_CMD_LEN], h[HEAD_MAX];
	const char *one[] = { o->lv };
	int n, r;

	n = snprintf(path, len, "/dev/mapper/%s", o->dm);
	if (n < 0 || (size_t)n >= len)
		return qs_err(err, -ENAMETOOLONG, "cannot activate '%s': path too long", o->full);
	if (!dm_exists(o->dm)) {
		r = lvt_cmd_activate(cmd, sizeof(cmd), p->vg, one, 1);
		if (r < 0)
			return qs_err(err, r, "cannot activate '%s': invalid name", o->full);
		r = run(p, cmd, head(h, sizeof(h), "cannot activate '%s'", o->full), err);
		if (r < 0)
			return r;
		if (!dm_exists(o->dm))
			return qs_err(err, -EIO, "cannot activate '%s': no device '%s' after "
				      "activation", o->full, o->dm);
	}
	r = wait_node(path);
	if (r < 0)
		return qs_err(err, r, "cannot activate '%s': no device node '%s'", o->full, path);
	return 0;
}

static int lvt_activate(struct qs_pool *pool, const struct qs_obj *obj, bool rw,
			char *path, size_t len, qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	char tmp[LVT_DM_NAME_MAX + 16];
	struct lvt_obj o;
	int r = resolve(p, obj, "activate", &o, err);

	(void)rw;  /* see the comment at the top */
	if (r < 0)
		return r;
	r = activate_obj(p, &o, tmp, sizeof(tmp), err);
	if (r < 0)
		return r;
	if ((size_t)snprintf(path, len, "%s", tmp) >= len)
		return qs_err(err, -ENAMETOOLONG, "cannot activate '%s': path too long", o.full);
	return 0;
}

static int lvt_deactivate(struct qs_pool *pool, const struct qs_obj *obj,
			  qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	char cmd[LVT_CMD_LEN], h[HEAD_MAX];
	struct lvt_obj o;
	const char *one[1];
	int r = resolve(p, obj, "deactivate", &o, err);

	if (r < 0)
		return r;
	if (!dm_exists(o.dm))
		return 0;
	one[0] = o.lv;
	r = lvt_cmd_deactivate(cmd, sizeof(cmd), p->vg, one, 1);
	if (r < 0)
		return qs_err(err, r, "cannot deactivate '%s': invalid name", o.full);
	return run(p, cmd, head(h, sizeof(h), "cannot deactivate '%s'", o.full), err);
}

/* An inactive LV of the given size whose thin device maps no block (from
 * the pool's metadata, thin_ls): all zeros already. false when unsure. */
static bool maps_nothing(struct lvt_priv *p, const struct lvt_obj *o, uint64_t size)
{
	char tpool[LVT_DM_NAME_MAX + 1];
	const struct lvt_thin_usage *tu;
	const struct lvt_lv *lv;
	struct lvt_pool_status st;
	size_t n;

	if (lvt_cache_fresh(&p->cache, p->vg, NULL) < 0 ||
	    !(lv = lvt_cache_find(&p->cache, o->lv)) || lv->thin_id < 0 ||
	    strcmp(lv->pool, p->pool) != 0 || lv->size != lvt_cache_round(&p->cache, size) ||
	    pool_dm(p, "reset", &st, NULL, tpool, sizeof(tpool), NULL) < 0 ||
	    thin_ls(p, tpool, &st, &tu, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tu[i].dev_id == (uint64_t)lv->thin_id)
			return tu[i].mapped == 0;
	return false;
}

/* A volatile volume made all zeros again without two LVM commands: discard
 * every block of the active device, then check with the thin status that
 * nothing stays mapped (a pool that ignores discards, or a partial last
 * block, falls back to remove + create). */
static int lvt_reset(struct qs_pool *pool, const struct qs_obj *obj, uint64_t size,
		     qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	char path[LVT_DM_NAME_MAX + 16], target[32], params[128];
	uint64_t cur = 0, range[2], mapped = 1, want;
	_cleanup_close_ int fd = -1;
	struct lvt_obj o;
	int r = resolve(p, obj, "reset", &o, err);

	if (r < 0)
		return r;
	if (size == 0)
		return qs_err(err, -EINVAL, "cannot reset '%s': size is zero", o.full);
	size = round_sector(size);
	if (!dm_exists(o.dm) && maps_nothing(p, &o, size))
		return 0;  /* already all zeros, and inactive: nothing to do */
	r = activate_obj(p, &o, path, sizeof(path), err);
	if (r == -ENOENT)
		return create_lv(p, &o, obj->role, size, err);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &cur) < 0)
		return qs_err(err, -errno, "cannot reset '%s': %m", path);
	/* LVM rounds sizes up to whole extents (4 MiB unless the report said) */
	want = p->cache.loaded && p->cache.rep.extent_size ? lvt_cache_round(&p->cache, size)
							    : size;
	if (cur != want && !(!p->cache.loaded && cur >= size && cur - size < (4u << 20))) {
		close(TAKE_FD(fd));
		r = lvt_resize(pool, obj, size, err);
		if (r < 0)
			return r;
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 || ioctl(fd, BLKGETSIZE64, &cur) < 0)
			return qs_err(err, -errno, "cannot reset '%s': %m", path);
	}
	range[0] = 0;
	range[1] = cur;
	if (ioctl(fd, BLKDISCARD, range) == 0 &&
	    lvt_dm_params(o.dm, false, target, sizeof(target), params, sizeof(params)) == 0 &&
	    strcmp(target, "thin") == 0 &&
	    lvt_parse_thin_status(params, &mapped) == 0 && mapped == 0)
		return 0;

	close(TAKE_FD(fd));
	{
		char cmd[LVT_CMD_LEN], h[HEAD_MAX];
		const char *one[] = { o.lv };

		r = lvt_cmd_remove(cmd, sizeof(cmd), p->vg, one, 1);
		if (r == 0)
			r = run(p, cmd, head(h, sizeof(h), "cannot reset '%s'", o.full), err);
		if (r < 0)
			return r;
		lvt_cache_remove(&p->cache, o.lv);
		lvt_cache_adopt(&p->cache, p->vg, LVT_STEP_REMOVE);
	}
	return create_lv(p, &o, obj->role, size, err);
}

/* ---- usage ---- */

/* Resolve objs and their thin device ids (-1: no such LV). */
static int thin_ids(struct lvt_priv *p, const struct qs_obj *objs, size_t n, const char *what,
		    struct lvt_obj *o, int64_t *ids, qstor_error *err)
{
	int r;

	for (size_t i = 0; i < n; i++)
		if ((r = resolve(p, &objs[i], what, &o[i], err)) < 0)
			return r;
	/* thin ids of LVs we made ourselves are unknown until a report */
	for (int pass = 0; pass < 2; pass++) {
		bool unknown = false;

		r = pass ? lvt_cache_load(&p->cache, p->vg, err) : fresh(p, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			const struct lvt_lv *lv = lvt_cache_find(&p->cache, o[i].lv);

			ids[i] = lv ? lv->thin_id : -1;
			unknown |= lv && lv->thin_id < 0;
		}
		if (!unknown)
			break;
	}
	return 0;
}

static int lvt_usage(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		     struct qs_usage *ret, uint64_t *ret_set_exclusive, qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	const struct lvt_thin_usage *tu = NULL;
	struct lvt_pool_status st;
	struct lvt_obj *o = NULL;
	char tpool[LVT_DM_NAME_MAX + 1];
	int64_t *ids = NULL;
	size_t nt = 0;
	uint64_t set = 0;
	qstor_error lerr = { 0 };
	int r;

	if (n == 0) {
		if (ret_set_exclusive)
			*ret_set_exclusive = 0;
		return 0;
	}
	o = calloc(n, sizeof(*o));
	ids = calloc(n, sizeof(*ids));
	if (!o || !ids) {
		r = qs_err(err, -ENOMEM, "cannot read usage: out of memory");
		goto out;
	}
	if ((r = thin_ids(p, objs, n, "read usage of", o, ids, err)) < 0)
		goto out;
	r = pool_dm(p, "read usage of", &st, NULL, tpool, sizeof(tpool), err);
	if (r < 0)
		goto out;

	memset(ret, 0, n * sizeof(*ret));
	r = thin_ls(p, tpool, &st, &tu, &nt, &lerr);
	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < nt && ids[i] >= 0; j++)
				if (tu[j].dev_id == (uint64_t)ids[i]) {
					ret[i].mapped = tu[j].mapped;
					ret[i].exclusive = tu[j].exclusive;
				}
	} else if (r == -ENOENT) {
		/* no metadata device node or no thin_ls: what the kernel says
		 * of active devices, exclusive unknown (0) */
		for (size_t i = 0; i < n; i++) {
			char target[32], params[128];
			uint64_t sectors;

			if (lvt_dm_params(o[i].dm, false, target, sizeof(target), params,
					  sizeof(params)) == 0 &&
			    strcmp(target, "thin") == 0 &&
			    lvt_parse_thin_status(params, &sectors) == 0)
				ret[i].mapped = sectors * 512;
		}
	} else {
		r = qs_err(err, r, "%s", lerr.msg);
		goto out;
	}
	/* Bytes no object outside objs references: the sum of each one's
	 * exclusive bytes. Blocks shared only among objs (a volume and its
	 * own revisions) are not counted: an underestimate until a set-aware
	 * count (thin_dump mappings) replaces it. */
	for (size_t i = 0; i < n; i++)
		set += ret[i].exclusive;
	if (ret_set_exclusive)
		*ret_set_exclusive = set;
	r = 0;
out:
	free(o);
	free(ids);
	return r;
}

/* ---- extents ---- */

/* Every data range of each obj, from one metadata snapshot of the pool
 * read here (thinmeta.c): exact, and QS_EXTENT_SHARED counted over every
 * mapping of every thin device in the pool, LVM's or anyone's. An object
 * without an LV maps nothing. */
static int lvt_extents(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		       qs_extent_cb cb, void *ctx, qstor_error *err)
{
	struct lvt_priv *p = priv(pool);
	struct lvt_pool_status st;
	char tpool[LVT_DM_NAME_MAX + 1];
	_cleanup_free_ struct lvt_obj *o = NULL;
	_cleanup_free_ int64_t *ids = NULL;
	_cleanup_free_ uint64_t *uids = NULL;
	int r;

	if (n == 0)
		return 0;
	o = calloc(n, sizeof(*o));
	ids = calloc(n, sizeof(*ids));
	uids = calloc(n, sizeof(*uids));
	if (!o || !ids || !uids)
		return qs_err(err, -ENOMEM, "cannot read extents: out of memory");
	if ((r = thin_ids(p, objs, n, "read extents of", o, ids, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		uids[i] = ids[i] < 0 ? UINT64_MAX : (uint64_t)ids[i];  /* no thin id is */
	r = pool_dm(p, "read extents of", &st, NULL, tpool, sizeof(tpool), err);
	if (r < 0)
		return r;
	return lvt_thin_meta_extents(p->vg, p->pool, tpool, uids, n, cb, ctx, err);
}

static const char *const lvt_options[] = {
	"volume_group", "thin_pool", "discard_on_remove", NULL,
};
static const char *const lvt_required[] = { "volume_group", "thin_pool", NULL };

const struct qs_driver qs_driver_lvm_thin = {
	.name = "lvm_thin",
	.instance_size = sizeof(struct lvt_priv),
	.options = lvt_options,
	.required = lvt_required,
	.wants_precache = false,
	.rev_key_is_time = true,
	.volatile_stays_active = true,      /* an active thin LV costs nothing */
	.pool_open = lvt_pool_open,
	.pool_close = lvt_pool_close,
	.pool_usage = lvt_pool_usage,
	.make_vid = lvt_make_vid,
	.list = lvt_list,
	.create = lvt_create,
	.snapshot = lvt_snapshot,
	.rename = lvt_rename,
	.remove = lvt_remove,
	.resize = lvt_resize,
	.activate = lvt_activate,
	.deactivate = lvt_deactivate,
	.reset = lvt_reset,
	.usage = lvt_usage,
	.extents = lvt_extents,
	.read_batch = lvt_read_batch,      /* du: the VG seqno checked once */
	.path = NULL,  /* core uses activate(rw=false) */
};
