/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The volume state machine, written once for every driver.
 *
 * Kinds (SPEC 2): origin (save_on_stop), snapshot (snap_on_start + source),
 * volatile (neither). Objects (driver.h): COMMITTED, RUNNING, IMPORT,
 * REVISION, PRECACHE, TMP.
 *
 * Crash rules (SPEC 5), and how this file keeps them:
 *  - A commit retires the committed state to a revision *before* renaming
 *    the new state in, even when no revision is to be kept; pruning comes
 *    last. So at every point the newest data has a name: COMMITTED, or
 *    RUNNING (the VM's writes), or the newest REVISION (the state being
 *    replaced). fixup() and recover() read that back.
 *  - IMPORT and TMP objects are never current: a crash leaves them as
 *    leftovers, removed by the next operation on the volume.
 *  - A volume's generation (catalog) is bumped *before* its committed state
 *    changes on disk, so a precache made from an older state is never taken
 *    for a current one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core.h"

static struct qs_obj obj(const char *vid, enum qs_role role)
{
	return (struct qs_obj){ .vid = vid, .role = role };
}

static struct qs_obj rev_obj(const char *vid, const struct qs_objinfo *oi)
{
	return (struct qs_obj){ .vid = vid, .role = QS_REVISION, .rev_key = oi->rev_key,
				.rev_time = oi->rev_time };
}

int qs_objs_read(struct qs_pool *pool, const char *vid, struct qs_objs *ret, qstor_error *err)
{
	ret->v = NULL;
	ret->n = 0;
	return pool->drv->list(pool, vid, &ret->v, &ret->n, err);
}

void qs_objs_free(struct qs_objs *o)
{
	free(o->v);
	o->v = NULL;
	o->n = 0;
}

const struct qs_objinfo *qs_objs_find(const struct qs_objs *o, enum qs_role role)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].role == role)
			return &o->v[i];
	return NULL;
}

const struct qs_objinfo *qs_objs_newest_rev(const struct qs_objs *o)
{
	const struct qs_objinfo *best = NULL;

	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].role == QS_REVISION && (!best || o->v[i].rev_key > best->rev_key))
			best = &o->v[i];
	return best;
}

int qs_vol_rtk(const struct qs_pool *pool, const struct qs_vol *v)
{
	return v->rtk_set ? v->rtk : pool->revisions_to_keep;
}

static bool is_origin(const struct qs_vol *v)
{
	return v->save_on_stop;
}

static bool is_snapshot(const struct qs_vol *v)
{
	return v->snap_on_start;
}

int qs_vol_bump_gen(qstor *q, struct qs_vol *v, qstor_error *err)
{
	v->gen++;
	v->precache_gen = -1;
	return qs_cat_vol_put(q->db, v, err);
}

static int save_vol(qstor *q, struct qs_vol *v, qstor_error *err)
{
	return qs_cat_vol_put(q->db, v, err);
}

/* Remove every object of a role (TMP and IMPORT may be several). */
static int remove_role(struct qs_pool *pool, const char *vid, const struct qs_objs *o,
		       enum qs_role role, unsigned *fixed, qstor_error *err)
{
	for (size_t i = 0; i < o->n; i++) {
		if (o->v[i].role != role)
			continue;
		struct qs_obj x = obj(vid, role);
		int r = pool->drv->remove(pool, &x, 1, err);

		if (r < 0)
			return r;
		if (fixed)
			(*fixed)++;
		/* one call removes every object of a role (TMP: every temporary) */
		return 0;
	}
	return 0;
}

static int cmp_rev(const void *a, const void *b)
{
	const struct qs_objinfo *x = a, *y = b;

	return x->rev_key < y->rev_key ? -1 : x->rev_key > y->rev_key;
}

/* Remove the oldest revisions beyond keep, in one driver call. */
static int prune(struct qs_pool *pool, const char *vid, const struct qs_objs *o, int keep,
		 qstor_error *err)
{
	struct qs_objinfo revs[256];
	struct qs_obj dead[256];
	size_t n = 0, nd = 0;

	if (keep < 0)
		keep = 0;
	for (size_t i = 0; i < o->n && n < ARRAY_SIZE(revs); i++)
		if (o->v[i].role == QS_REVISION)
			revs[n++] = o->v[i];
	if (n <= (size_t)keep)
		return 0;
	qsort(revs, n, sizeof(revs[0]), cmp_rev);
	for (size_t i = 0; i + (size_t)keep < n; i++)
		dead[nd++] = rev_obj(vid, &revs[i]);
	return pool->drv->remove(pool, dead, nd, err);
}

static uint64_t next_rev_key(const struct qs_pool *pool, const struct qs_objs *o, int64_t now)
{
	const struct qs_objinfo *newest = qs_objs_newest_rev(o);
	uint64_t last = newest ? newest->rev_key : 0;

	if (pool->drv->rev_key_is_time)
		return (uint64_t)now > last ? (uint64_t)now : last + 1;
	return last + 1;
}

int qs_vol_commit(qstor *q, struct qs_pool *pool, struct qs_vol *v, enum qs_role from,
		  const char *phase, qstor_error *err)
{
	struct qs_objs o;
	struct qs_obj src = obj(v->vid, from), com = obj(v->vid, QS_COMMITTED);
	char point[64];
	int keep = qs_vol_rtk(pool, v), r;

	r = qs_objs_read(pool, v->vid, &o, err);
	if (r < 0)
		return r;
	r = qs_vol_bump_gen(q, v, err);
	if (r < 0)
		goto out;
	if (qs_objs_find(&o, QS_PRECACHE)) {
		struct qs_obj pc = obj(v->vid, QS_PRECACHE);

		r = pool->drv->remove(pool, &pc, 1, err);
		if (r < 0)
			goto out;
	}
	snprintf(point, sizeof(point), "%s.commit-begin", phase);
	qs_crash_point(point);
	if (qs_objs_find(&o, QS_COMMITTED)) {
		struct qs_obj rev = obj(v->vid, QS_REVISION);
		int64_t now = (int64_t)time(NULL);

		rev.rev_key = next_rev_key(pool, &o, now);
		rev.rev_time = now;
		r = pool->drv->rename(pool, &com, &rev, err);
		if (r < 0)
			goto out;
		snprintf(point, sizeof(point), "%s.after-retire", phase);
		qs_crash_point(point);
	}
	r = pool->drv->rename(pool, &src, &com, err);
	if (r < 0)
		goto out;
	snprintf(point, sizeof(point), "%s.after-rename", phase);
	qs_crash_point(point);
	qs_objs_free(&o);
	r = qs_objs_read(pool, v->vid, &o, err);
	if (r < 0)
		return r;
	r = prune(pool, v->vid, &o, keep, err);
out:
	qs_objs_free(&o);
	return r;
}

int qs_vol_fixup(qstor *q, struct qs_vol *v, bool vm_running, unsigned *ret_fixed,
		 qstor_error *err)
{
	struct qs_pool *pool;
	struct qs_objs o;
	const struct qs_objinfo *com, *rev;
	unsigned fixed = 0;
	int r;

	r = qs_pool_get(q, v->pool, &pool, err);
	if (r < 0)
		return r;
	r = qs_objs_read(pool, v->vid, &o, err);
	if (r < 0)
		return r;
	/* we hold the VM's lock: no import or temporary is in flight */
	r = remove_role(pool, v->vid, &o, QS_TMP, &fixed, err);
	if (r >= 0)
		r = remove_role(pool, v->vid, &o, QS_IMPORT, &fixed, err);
	if (r < 0)
		goto out;
	if (!is_origin(v)) {
		/* a snapshot's or volatile's running copy is disposable */
		/* (a volatile's object is kept between runs where the
		 * driver can reset it cheaply) */
		if (!vm_running && qs_objs_find(&o, QS_RUNNING) &&
		    (is_snapshot(v) || !pool->drv->reset)) {
			struct qs_obj run = obj(v->vid, QS_RUNNING);

			r = pool->drv->remove(pool, &run, 1, err);
			if (r < 0)
				goto out;
			fixed++;
		}
		goto out;
	}
	com = qs_objs_find(&o, QS_COMMITTED);
	if (!com && !qs_objs_find(&o, QS_RUNNING) && (rev = qs_objs_newest_rev(&o))) {
		/* an interrupted revert, import or clone: the state it was
		 * replacing is the newest revision; bring it back */
		struct qs_obj from = rev_obj(v->vid, rev), to = obj(v->vid, QS_COMMITTED);

		r = qs_vol_bump_gen(q, v, err);
		if (r >= 0)
			r = pool->drv->rename(pool, &from, &to, err);
		if (r < 0)
			goto out;
		fixed++;
		qs_objs_free(&o);
		r = qs_objs_read(pool, v->vid, &o, err);
		if (r < 0)
			return r;
		com = qs_objs_find(&o, QS_COMMITTED);
	}
	if (com && !vm_running && !qs_objs_find(&o, QS_RUNNING)) {
		size_t nrev = 0;
		int keep = qs_vol_rtk(pool, v);

		for (size_t i = 0; i < o.n; i++)
			nrev += o.v[i].role == QS_REVISION;
		if (nrev > (size_t)(keep < 0 ? 0 : keep)) {
			r = prune(pool, v->vid, &o, keep, err);
			if (r < 0)
				goto out;
			fixed++;
		}
		/* disk is the truth for the size of the committed state
		 * (a resize interrupted before the catalog heard of it) */
		if (com->size && com->size != v->size) {
			v->size = com->size;
			r = save_vol(q, v, err);
			if (r < 0)
				goto out;
			fixed++;
		}
	}
out:
	qs_objs_free(&o);
	if (r >= 0 && ret_fixed)
		*ret_fixed += fixed;
	return r;
}

int qs_vol_create(qstor *q, struct qs_vol *v, bool *ret_adopted, qstor_error *err)
{
	struct qs_pool *pool;
	struct qs_objs o;
	const struct qs_objinfo *com;
	int r;

	*ret_adopted = false;
	if (!is_origin(v))
		return 0;  /* snapshot and volatile: nothing until start */
	r = qs_pool_get(q, v->pool, &pool, err);
	if (r < 0)
		return r;
	r = qs_objs_read(pool, v->vid, &o, err);
	if (r < 0)
		return r;
	com = qs_objs_find(&o, QS_COMMITTED);
	if (com) {
		/* a pool made by Qubes OS, or a create interrupted before the
		 * catalog recorded it: adopt what is there */
		if (com->size)
			v->size = com->size;
		*ret_adopted = true;
		qs_objs_free(&o);
		return 0;
	}
	if (qs_objs_find(&o, QS_TMP)) {
		struct qs_obj t = obj(v->vid, QS_TMP);

		r = pool->drv->remove(pool, &t, 1, err);
		if (r < 0)
			goto out;
	}
	{
		struct qs_obj c = obj(v->vid, QS_COMMITTED);
		r = pool->drv->create(pool, &c, v->size, err);
	}
out:
	qs_objs_free(&o);
	return r;
}

static int activate(struct qs_pool *pool, const char *vid, enum qs_role role, bool rw,
		    const char *volname, qstor_device *ret, qstor_error *err)
{
	struct qs_obj x = obj(vid, role);
	qstor_device d = { 0 };
	int r;

	r = pool->drv->activate(pool, &x, rw, d.path, sizeof(d.path), err);
	if (r < 0)
		return r;
	snprintf(d.volume, sizeof(d.volume), "%s", volname);
	d.rw = rw;
	*ret = d;
	return 0;
}

static int get_source(qstor *q, const struct qs_vol *v, struct qs_vol *ret, struct qs_vm *ret_vm,
		      qstor_error *err)
{
	int r = qs_cat_vol_get(q->db, v->source_vm, v->source_vol, ret, err);

	if (r < 0)
		return qs_err_prefix(err, "source of '%s:%s'", v->vm, v->name);
	r = qs_cat_vm_get(q->db, v->source_vm, ret_vm, err);
	if (r < 0)
		return r;
	if (strcmp(ret->pool, v->pool) != 0)
		return qs_err(err, -EXDEV, "source '%s:%s' of '%s:%s' is in another pool",
			      ret->vm, ret->name, v->vm, v->name);
	return 0;
}


/* Rename a valid precache into place, else make a fresh snapshot. */
static int snap_or_precache(struct qs_pool *pool, const struct qs_objs *o, const char *vid,
			    bool precache_valid, const struct qs_obj *src, qstor_error *err)
{
	struct qs_obj run = obj(vid, QS_RUNNING), pc = obj(vid, QS_PRECACHE);
	int r;

	if (qs_objs_find(o, QS_PRECACHE)) {
		if (precache_valid) {
			r = pool->drv->rename(pool, &pc, &run, err);
			if (r >= 0 || r != -EEXIST)
				return r;
		}
		r = pool->drv->remove(pool, &pc, 1, err);
		if (r < 0)
			return r;
	}
	return pool->drv->snapshot(pool, src, &run, err);
}

/* The volume's pool and what is on disk for it. */
static int vol_read(qstor *q, const struct qs_vol *v, struct qs_pool **pool, struct qs_objs *o,
		    qstor_error *err)
{
	int r = qs_pool_get(q, v->pool, pool, err);

	return r < 0 ? r : qs_objs_read(*pool, v->vid, o, err);
}

int qs_vol_start(qstor *q, struct qs_vol *v, qstor_device *ret, qstor_error *err)
{
	struct qs_pool *pool;
	struct qs_objs o;
	int r;

	if ((r = vol_read(q, v, &pool, &o, err)) < 0)
		return r;

	if (is_origin(v)) {
		if (qs_objs_find(&o, QS_RUNNING)) {
			/* a crash left the VM's writes here: go on with them */
		} else if (!qs_objs_find(&o, QS_COMMITTED)) {
			r = qs_err(err, -ENOENT, "volume '%s:%s' has no committed state", v->vm, v->name);
			goto out;
		} else if (qs_vol_rtk(pool, v) < 0) {
			/* the VM writes the committed state in place: whatever was
			 * made from it (precaches, snapshots) is now outdated */
			if (v->rw && (r = qs_vol_bump_gen(q, v, err)) < 0)
				goto out;
			if (v->rw && qs_objs_find(&o, QS_PRECACHE)) {
				struct qs_obj pc = obj(v->vid, QS_PRECACHE);

				if ((r = pool->drv->remove(pool, &pc, 1, err)) < 0)
					goto out;
			}
			r = activate(pool, v->vid, QS_COMMITTED, v->rw, v->name, ret, err);
			goto out;
		} else {
			struct qs_obj com = obj(v->vid, QS_COMMITTED);

			r = snap_or_precache(pool, &o, v->vid, v->precache_gen == v->gen, &com, err);
			if (r < 0)
				goto out;
			v->made_running = true;
		}
		qs_crash_point("start.after-snapshot");
		r = activate(pool, v->vid, QS_RUNNING, v->rw, v->name, ret, err);
	} else if (is_snapshot(v)) {
		struct qs_vol src;
		struct qs_vm svm;
		struct qs_objs so = { 0 };
		const struct qs_objinfo *sc;
		int lock = -1;

		r = get_source(q, v, &src, &svm, err);
		if (r < 0)
			goto out;
		if (strcmp(src.vm, v->vm) != 0) {
			r = qs_lock_vm(q, src.vm, true, &lock, err);
			if (r < 0)
				goto out;
			/* re-read under the lock: the source may have been committed */
			if ((r = qs_cat_vol_get(q->db, src.vm, src.name, &src, err)) < 0 ||
			    (r = qs_cat_vm_get(q->db, src.vm, &svm, err)) < 0)
				goto snap_out;
		}
		if (qs_vol_rtk(pool, &src) < 0 && qs_vm_running(q, &svm)) {
			r = qs_err(err, -EBUSY, "cannot start '%s:%s': source '%s:%s' is running with "
				   "revisions_to_keep -1", v->vm, v->name, src.vm, src.name);
			goto snap_out;
		}
		r = qs_objs_read(pool, src.vid, &so, err);
		if (r < 0)
			goto snap_out;
		sc = qs_objs_find(&so, QS_COMMITTED);
		if (!sc) {
			r = qs_err(err, -ENOENT, "cannot start '%s:%s': source '%s:%s' has no committed "
				   "state", v->vm, v->name, src.vm, src.name);
			goto snap_out;
		}
		if (qs_objs_find(&o, QS_RUNNING)) {
			struct qs_obj run = obj(v->vid, QS_RUNNING);

			r = pool->drv->remove(pool, &run, 1, err);
			if (r < 0)
				goto snap_out;
		}
		{
			struct qs_obj scom = obj(src.vid, QS_COMMITTED);

			r = snap_or_precache(pool, &o, v->vid, v->precache_gen == src.gen, &scom, err);
		}
		if (r < 0)
			goto snap_out;
		v->start_src_gen = src.gen;
		v->precache_gen = -1;
		if (sc->size)
			v->size = sc->size;
		r = save_vol(q, v, err);
		if (r < 0)
			goto snap_out;
		qs_crash_point("start.after-snapshot");
		r = activate(pool, v->vid, QS_RUNNING, v->rw, v->name, ret, err);
snap_out:
		qs_objs_free(&so);
		qs_unlock(&lock);
	} else {
		const struct qs_objinfo *run = qs_objs_find(&o, QS_RUNNING);
		struct qs_obj x = obj(v->vid, QS_RUNNING);

		if (run && pool->drv->reset && run->size == v->size) {
			r = pool->drv->reset(pool, &x, v->size, err);
		} else {
			if (run && (r = pool->drv->remove(pool, &x, 1, err)) < 0)
				goto out;
			r = pool->drv->create(pool, &x, v->size, err);
		}
		if (r < 0)
			goto out;
		r = activate(pool, v->vid, QS_RUNNING, true, v->name, ret, err);
		if (r >= 0 && (v->ephemeral || pool->ephemeral_volatile)) {
			char dev[sizeof(ret->path)];

			snprintf(dev, sizeof(dev), "%s", ret->path);
			r = qs_eph_open(v->vm, v->name, dev, ret->path, sizeof(ret->path), err);
			if (r < 0)
				pool->drv->deactivate(pool, &x, NULL);
		}
	}
out:
	qs_objs_free(&o);
	if (r < 0)
		qs_err_prefix(err, "cannot start '%s:%s'", v->vm, v->name);
	return r;
}

void qs_vol_unstart(qstor *q, struct qs_vol *v)
{
	struct qs_pool *pool;
	struct qs_obj run = obj(v->vid, QS_RUNNING);

	if (qs_pool_get(q, v->pool, &pool, NULL) < 0)
		return;
	if (is_origin(v) && qs_vol_rtk(pool, v) < 0) {
		struct qs_obj com = obj(v->vid, QS_COMMITTED);
		pool->drv->deactivate(pool, &com, NULL);
		return;
	}
	if (!is_origin(v) && !is_snapshot(v))
		qs_eph_close(v->vm, v->name, NULL);
	pool->drv->deactivate(pool, &run, NULL);
	/* an origin's running copy made by this start holds nothing yet, but
	 * one reused from a crash holds the VM's data: leave that one, the
	 * next stop commits it */
	if (!is_origin(v) || v->made_running)
		pool->drv->remove(pool, &run, 1, NULL);
	v->made_running = false;
}

/* At stop, prepare what the next start needs, so that start is a rename. */
static int make_precache(qstor *q, struct qs_pool *pool, struct qs_vol *v, qstor_error *err)
{
	struct qs_obj pc = obj(v->vid, QS_PRECACHE);
	struct qs_objs o;
	int r;

	if (!pool->drv->wants_precache || qs_vol_rtk(pool, v) < 0)
		return 0;
	r = qs_objs_read(pool, v->vid, &o, err);
	if (r < 0)
		return r;
	if (qs_objs_find(&o, QS_PRECACHE)) {
		r = pool->drv->remove(pool, &pc, 1, err);
		if (r < 0)
			goto out;
	}
	if (is_origin(v)) {
		struct qs_obj com = obj(v->vid, QS_COMMITTED);

		if (!qs_objs_find(&o, QS_COMMITTED))
			goto out;
		r = pool->drv->snapshot(pool, &com, &pc, err);
		if (r < 0)
			goto out;
		v->precache_gen = v->gen;
	} else {
		struct qs_vol src;
		struct qs_vm svm;
		int lock = -1;

		if (get_source(q, v, &src, &svm, NULL) < 0)
			goto out;  /* no source: nothing to prepare */
		if (strcmp(src.vm, v->vm) != 0 && qs_lock_vm(q, src.vm, true, &lock, err) < 0)
			goto out;
		if (qs_cat_vol_get(q->db, src.vm, src.name, &src, NULL) == 0) {
			struct qs_obj scom = obj(src.vid, QS_COMMITTED);

			r = pool->drv->snapshot(pool, &scom, &pc, err);
			if (r >= 0)
				v->precache_gen = src.gen;
		}
		qs_unlock(&lock);
		if (r < 0)
			goto out;
	}
	qs_crash_point("stop.after-precache");
	r = save_vol(q, v, err);
out:
	qs_objs_free(&o);
	return r;
}

int qs_vol_stop(qstor *q, struct qs_vol *v, qstor_error *err)
{
	struct qs_pool *pool;
	struct qs_objs o;
	struct qs_obj run = obj(v->vid, QS_RUNNING);
	int r;

	if ((r = vol_read(q, v, &pool, &o, err)) < 0)
		return r;

	if (is_origin(v)) {
		if (qs_objs_find(&o, QS_RUNNING)) {
			r = pool->drv->deactivate(pool, &run, err);
			if (r < 0)
				goto out;
			qs_crash_point("stop.after-deactivate");
			r = qs_vol_commit(q, pool, v, QS_RUNNING, "stop", err);
			if (r < 0)
				goto out;
			r = make_precache(q, pool, v, err);
		} else if (qs_objs_find(&o, QS_COMMITTED)) {
			struct qs_obj com = obj(v->vid, QS_COMMITTED);
			const struct qs_objinfo *ci = qs_objs_find(&o, QS_COMMITTED);

			/* revisions_to_keep -1: the VM wrote in place */
			if (ci->active)
				r = pool->drv->deactivate(pool, &com, err);
		}
	} else if (qs_objs_find(&o, QS_RUNNING)) {
		/* the crypt mapping goes first: it holds the device open */
		if (!is_snapshot(v) && (r = qs_eph_close(v->vm, v->name, err)) < 0)
			goto out;
		if (!is_snapshot(v) && pool->drv->reset) {
			/* volatile: drop its data now, keep the object for the
			 * next start (saves a remove and a create) */
			r = pool->drv->reset(pool, &run, v->size, err);
			if (r >= 0 && !pool->drv->volatile_stays_active)
				r = pool->drv->deactivate(pool, &run, err);
		} else {
			r = pool->drv->remove(pool, &run, 1, err);
		}
		if (r >= 0 && is_snapshot(v))
			r = make_precache(q, pool, v, err);
	}
	/* a stopped volume is left as it is: stop stays idempotent and
	 * recover changes nothing healthy */
out:
	qs_objs_free(&o);
	if (r < 0)
		qs_err_prefix(err, "cannot stop '%s:%s'", v->vm, v->name);
	return r;
}

int qs_vol_destroy(qstor *q, struct qs_vol *v, qstor_error *err)
{
	struct qs_pool *pool;
	struct qs_objs o;
	struct qs_obj *all;
	int r;

	r = qs_pool_get(q, v->pool, &pool, err);
	if (r < 0)
		return r;
	r = qs_objs_read(pool, v->vid, &o, err);
	if (r < 0)
		return r;
	all = calloc(o.n + 1, sizeof(*all));
	if (!all) {
		qs_objs_free(&o);
		return qs_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < o.n; i++)
		all[i] = o.v[i].role == QS_REVISION ? rev_obj(v->vid, &o.v[i]) :
						      obj(v->vid, o.v[i].role);
	r = o.n ? pool->drv->remove(pool, all, o.n, err) : 0;
	free(all);
	qs_objs_free(&o);
	return r;
}

int qs_vol_copy_committed(qstor *q, const struct qs_vol *src, const struct qs_vol *dst,
			  qstor_error *err)
{
	struct qs_pool *sp, *dp;
	struct qs_obj scom = obj(src->vid, QS_COMMITTED), tmp = obj(dst->vid, QS_TMP);
	struct qs_objs so;
	const struct qs_objinfo *sc;
	char spath[PATH_MAX], dpath[PATH_MAX];
	bool s_act = false, d_act = false;
	int r, in = -1, out = -1;
	uint64_t size;

	if ((r = qs_pool_get(q, src->pool, &sp, err)) < 0 ||
	    (r = qs_pool_get(q, dst->pool, &dp, err)) < 0)
		return r;
	r = qs_objs_read(sp, src->vid, &so, err);
	if (r < 0)
		return r;
	sc = qs_objs_find(&so, QS_COMMITTED);
	size = sc ? sc->size : 0;
	qs_objs_free(&so);
	if (!sc)
		return qs_err(err, -ENOENT, "volume '%s:%s' has no committed state", src->vm, src->name);
	if (sp == dp)
		return dp->drv->snapshot(dp, &scom, &tmp, err);

	/* across pools: a sparse copy through the objects' paths */
	r = dp->drv->create(dp, &tmp, size, err);
	if (r < 0)
		return r;
	if (sp->drv->path)
		r = sp->drv->path(sp, &scom, spath, sizeof(spath), err);
	else if ((r = sp->drv->activate(sp, &scom, false, spath, sizeof(spath), err)) >= 0)
		s_act = true;
	if (r < 0)
		goto fail;
	if (dp->drv->path)
		r = dp->drv->path(dp, &tmp, dpath, sizeof(dpath), err);
	else if ((r = dp->drv->activate(dp, &tmp, true, dpath, sizeof(dpath), err)) >= 0)
		d_act = true;
	if (r < 0)
		goto fail;
	in = open(spath, O_RDONLY | O_CLOEXEC);
	out = open(dpath, O_WRONLY | O_CLOEXEC);
	if (in < 0 || out < 0) {
		r = qs_err(err, -errno, "cannot open '%s': %s",
			   QS_ESC_PATH(in < 0 ? spath : dpath), strerror(errno));
		goto fail;
	}
	r = qs_copy_data(in, out, size, false, err);
	if (r >= 0 && fsync(out) < 0)
		r = qs_err(err, -errno, "cannot sync '%s': %s", QS_ESC_PATH(dpath),
			   strerror(errno));
fail:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (s_act)
		sp->drv->deactivate(sp, &scom, NULL);
	if (d_act)
		dp->drv->deactivate(dp, &tmp, NULL);
	if (r < 0)
		dp->drv->remove(dp, &tmp, 1, NULL);
	return r;
}
