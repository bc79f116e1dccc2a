/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Admin operations on one volume: info, config, resize, revert, import,
 * clone, clear, export. Each takes the VM's lock, cleans leftovers of
 * earlier crashes first, and refuses by state before touching anything. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

/* What an admin operation needs: the VM, the volume, its pool, the lock. */
struct op {
	qstor *q;
	struct qs_vm vm;
	struct qs_vol v;
	struct qs_pool *pool;
	int lock;
	bool running;
};

static int op_begin(qstor *q, const char *vm, const char *vol, bool lock, struct op *op,
		    qstor_error *err)
{
	int r;

	memset(op, 0, sizeof(*op));
	op->q = q;
	op->lock = -1;
	if ((r = qstor_check_name("vm", vm, err)) < 0 ||
	    (r = qstor_check_name("volume", vol, err)) < 0)
		return r;
	if (lock && (r = qs_lock_vm(q, vm, false, &op->lock, err)) < 0)
		return r;
	if ((r = qs_cat_vm_get(q->db, vm, &op->vm, err)) < 0 ||
	    (r = qs_cat_vol_get(q->db, vm, vol, &op->v, err)) < 0 ||
	    (r = qs_pool_get(q, op->v.pool, &op->pool, err)) < 0) {
		qs_unlock(&op->lock);
		return r;
	}
	op->running = qs_vm_running(q, &op->vm);
	return 0;
}

static void op_end(struct op *op)
{
	qs_unlock(&op->lock);
}

/* Refuse a mutation of a stopped volume's committed state by state. */
static int op_need_stopped(struct op *op, const char *what, qstor_error *err)
{
	struct qs_objs o;
	int r;

	if (op->running)
		return qs_err(err, -EBUSY, "cannot %s '%s:%s': volume is running", what, op->v.vm,
			      op->v.name);
	if ((r = qs_vol_fixup(op->q, &op->v, false, NULL, err)) < 0)
		return r;
	if ((r = qs_objs_read(op->pool, op->v.vid, &o, err)) < 0)
		return r;
	if (op->v.save_on_stop && qs_objs_find(&o, QS_RUNNING))
		r = qs_err(err, -EBUSY, "cannot %s '%s:%s': volume is dirty (left running by a "
			   "crash): run 'qstor recover' first", what, op->v.vm, op->v.name);
	else if (op->v.save_on_stop && !qs_objs_find(&o, QS_COMMITTED))
		r = qs_err(err, -ENOENT, "cannot %s '%s:%s': volume has no committed state", what,
			   op->v.vm, op->v.name);
	qs_objs_free(&o);
	return r;
}

static int fill_info(qstor *q, const struct qs_vm *vm, struct qs_vol *v, struct qs_pool *pool,
		     bool probe, qstor_volume_info *ret, qstor_error *err)
{
	qstor_volume_info i;
	struct qs_objs o;
	const struct qs_objinfo *com, *run;
	bool is_running = qs_vm_running(q, vm);
	int r;

	memset(&i, 0, sizeof(i));
	snprintf(i.vm, sizeof(i.vm), "%s", v->vm);
	snprintf(i.name, sizeof(i.name), "%s", v->name);
	snprintf(i.pool, sizeof(i.pool), "%s", v->pool);
	snprintf(i.vid, sizeof(i.vid), "%s", v->vid);
	if (v->source_vm[0]) {
		struct qs_vol src;

		snprintf(i.source, sizeof(i.source), "%s:%s", v->source_vm, v->source_vol);
		if (qs_cat_vol_get(q->db, v->source_vm, v->source_vol, &src, NULL) == 0) {
			snprintf(i.source_vid, sizeof(i.source_vid), "%s", src.vid);
			i.is_outdated = is_running && v->snap_on_start && v->start_src_gen != src.gen;
			if (v->snap_on_start && !is_running)
				v->size = src.size;
		}
	}
	i.size = v->size;
	i.rw = v->rw;
	i.snap_on_start = v->snap_on_start;
	i.save_on_stop = v->save_on_stop;
	i.ephemeral = v->ephemeral;
	i.revisions_to_keep = qs_vol_rtk(pool, v);
	i.running = is_running;
	r = qs_objs_read(pool, v->vid, &o, err);
	if (r < 0)
		return r;
	com = qs_objs_find(&o, QS_COMMITTED);
	run = qs_objs_find(&o, QS_RUNNING);
	i.is_dirty = v->save_on_stop && run && !is_running;
	for (size_t k = 0; k < o.n; k++)
		i.n_revisions += o.v[k].role == QS_REVISION;
	if (i.n_revisions) {
		size_t m = 0;

		i.revisions = calloc(i.n_revisions, sizeof(*i.revisions));
		if (!i.revisions) {
			qs_objs_free(&o);
			return qs_err(err, -ENOMEM, "out of memory");
		}
		for (size_t k = 0; k < o.n; k++)
			if (o.v[k].role == QS_REVISION) {
				snprintf(i.revisions[m].id, sizeof(i.revisions[m].id), "%s",
					 o.v[k].rev_id);
				i.revisions[m].time = o.v[k].rev_time;
				m++;
			}
		/* oldest first, by key */
		for (size_t a = 1; a < m; a++)
			for (size_t b = a; b > 0; b--) {
				if (i.revisions[b - 1].time > i.revisions[b].time ||
				    (i.revisions[b - 1].time == i.revisions[b].time &&
				     strtoull(i.revisions[b - 1].id, NULL, 10) >
				     strtoull(i.revisions[b].id, NULL, 10))) {
					qstor_revision t = i.revisions[b];
					i.revisions[b] = i.revisions[b - 1];
					i.revisions[b - 1] = t;
				}
			}
	}
	if (pool->drv->usage && (com || run)) {
		struct qs_obj x = { .vid = v->vid, .role = (is_running && run) ? QS_RUNNING :
				    (com ? QS_COMMITTED : QS_RUNNING) };
		struct qs_usage u = { 0 };

		if (pool->drv->usage(pool, &x, 1, &u, NULL, NULL) == 0)
			i.usage = u.mapped;
	}
	if (probe && com && pool->drv->path) {
		char path[PATH_MAX];
		struct qs_obj x = { .vid = v->vid, .role = QS_COMMITTED };

		if (pool->drv->path(pool, &x, path, sizeof(path), NULL) == 0)
			qs_probe_content(path, i.content, sizeof(i.content));
	}
	qs_objs_free(&o);
	*ret = i;
	return 0;
}

int qstor_volume_list(qstor *q, const char *pool_name, const char *vm, qstor_volume_info **ret,
		      size_t *ret_n, qstor_error *err)
{
	struct qs_vol *vols = NULL;
	qstor_volume_info *out;
	size_t n = 0, m = 0;
	int r;

	if (pool_name && (r = qstor_check_name("pool", pool_name, err)) < 0)
		return r;
	if (vm && (r = qstor_check_name("vm", vm, err)) < 0)
		return r;
	if (pool_name && (r = qs_cat_pool_get(q->db, pool_name, NULL, NULL, NULL, err)) < 0)
		return r;
	if (vm) {
		struct qs_vm x;
		if ((r = qs_cat_vm_get(q->db, vm, &x, err)) < 0)
			return r;
	}
	if ((r = qs_cat_vol_list(q->db, vm, pool_name, &vols, &n, err)) < 0)
		return r;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(vols);
		return qs_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct qs_vm x;
		struct qs_pool *p;

		if ((r = qs_cat_vm_get(q->db, vols[i].vm, &x, err)) < 0 ||
		    (r = qs_pool_get(q, vols[i].pool, &p, err)) < 0 ||
		    (r = fill_info(q, &x, &vols[i], p, false, &out[m], err)) < 0) {
			qstor_volume_infos_free(out, m);
			free(vols);
			return r;
		}
		m++;
	}
	free(vols);
	*ret = out;
	*ret_n = m;
	return 0;
}

int qstor_volume_info_get(qstor *q, const char *vm, const char *vol, qstor_volume_info *ret,
			  qstor_error *err)
{
	struct op op;
	int r = op_begin(q, vm, vol, false, &op, err);

	if (r < 0)
		return r;
	r = fill_info(q, &op.vm, &op.v, op.pool, true, ret, err);
	op_end(&op);
	return r;
}

void qstor_volume_info_free(qstor_volume_info *v)
{
	if (v) {
		free(v->revisions);
		v->revisions = NULL;
		v->n_revisions = 0;
	}
}

void qstor_volume_infos_free(qstor_volume_info *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		qstor_volume_info_free(&v[i]);
	free(v);
}

static int parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "True") || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes") ||
	    !strcmp(s, "on")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(s, "False") || !strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no") ||
	    !strcmp(s, "off") || !strcmp(s, "")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

int qstor_volume_set(qstor *q, const char *vm, const char *vol, const char *prop,
		     const char *value, qstor_error *err)
{
	struct op op;
	bool b;
	int r;

	if (!prop || !value)
		return qs_err(err, -EINVAL, "no property or value given");
	if ((r = op_begin(q, vm, vol, true, &op, err)) < 0)
		return r;
	if (strcmp(prop, "rw") == 0) {
		if (parse_bool(value, &b) < 0) {
			r = qs_err(err, -EINVAL, "invalid value '%s' for property 'rw' of '%s:%s': "
				   "expected True or False", QS_ESC(value), vm, vol);
			goto out;
		}
		if (op.running) {
			r = qs_err(err, -EBUSY, "cannot set 'rw' of '%s:%s': volume is running", vm, vol);
			goto out;
		}
		op.v.rw = b;
	} else if (strcmp(prop, "revisions_to_keep") == 0) {
		char *end;
		long n;

		errno = 0;
		n = strtol(value, &end, 10);
		if (end == value || *end || errno || n < -1 || n > 1000) {
			r = qs_err(err, -EINVAL, "invalid value '%s' for property 'revisions_to_keep' of "
				   "'%s:%s': expected -1 to 1000", QS_ESC(value), vm, vol);
			goto out;
		}
		if (op.running && ((n < 0) != (qs_vol_rtk(op.pool, &op.v) < 0))) {
			r = qs_err(err, -EBUSY, "cannot set 'revisions_to_keep' of '%s:%s' to or from -1: "
				   "volume is running", vm, vol);
			goto out;
		}
		op.v.rtk_set = true;
		op.v.rtk = (int)n;
	} else if (strcmp(prop, "ephemeral") == 0) {
		if (parse_bool(value, &b) < 0) {
			r = qs_err(err, -EINVAL, "invalid value '%s' for property 'ephemeral' of '%s:%s': "
				   "expected True or False", QS_ESC(value), vm, vol);
			goto out;
		}
		if (b && (op.v.save_on_stop || op.v.snap_on_start)) {
			r = qs_err(err, -EINVAL, "cannot set 'ephemeral' of '%s:%s': only volatile "
				   "volumes can be ephemeral", vm, vol);
			goto out;
		}
		op.v.ephemeral = b;
	} else {
		r = qs_err(err, -EINVAL, "invalid property '%s': expected rw, revisions_to_keep or "
			   "ephemeral", QS_ESC(prop));
		goto out;
	}
	r = qs_cat_vol_put(q->db, &op.v, err);
out:
	op_end(&op);
	return r;
}

int qstor_volume_resize(qstor *q, const char *vm, const char *vol, uint64_t size, bool force,
			qstor_error *err)
{
	struct op op;
	int r;

	if ((r = op_begin(q, vm, vol, true, &op, err)) < 0)
		return r;
	if (!op.v.rw) {
		r = qs_err(err, -EROFS, "cannot resize '%s:%s': volume is read-only", vm, vol);
		goto out;
	}
	if ((r = qs_size_check(op.pool, size, "resize", err)) < 0)
		goto out;
	if (op.v.snap_on_start && !op.running) {
		r = qs_err(err, -EINVAL, "cannot resize '%s:%s': it is a snapshot of '%s:%s', resize "
			   "the source instead", vm, vol, op.v.source_vm, op.v.source_vol);
		goto out;
	}
	if (size == op.v.size)
		goto out;
	if (size < op.v.size) {
		if (!force) {
			r = qs_err(err, -EINVAL, "cannot shrink '%s:%s' from %llu to %llu bytes without "
				   "--force", vm, vol, (unsigned long long)op.v.size,
				   (unsigned long long)size);
			goto out;
		}
		if (op.running) {
			r = qs_err(err, -EBUSY, "cannot shrink '%s:%s': volume is running", vm, vol);
			goto out;
		}
	}
	if (op.running) {
		struct qs_obj x = { .vid = op.v.vid, .role = QS_RUNNING };

		if (op.v.save_on_stop && qs_vol_rtk(op.pool, &op.v) < 0)
			x.role = QS_COMMITTED;
		r = op.pool->drv->resize(op.pool, &x, size, err);
	} else if (op.v.save_on_stop) {
		struct qs_obj x = { .vid = op.v.vid, .role = QS_COMMITTED };

		if ((r = op_need_stopped(&op, "resize", err)) < 0 ||
		    (r = qs_vol_bump_gen(q, &op.v, err)) < 0)
			goto out;
		struct qs_objs o;
		if ((r = qs_objs_read(op.pool, op.v.vid, &o, err)) < 0)
			goto out;
		if (qs_objs_find(&o, QS_PRECACHE)) {
			struct qs_obj pc = { .vid = op.v.vid, .role = QS_PRECACHE };
			r = op.pool->drv->remove(op.pool, &pc, 1, err);
		}
		qs_objs_free(&o);
		if (r >= 0)
			r = op.pool->drv->resize(op.pool, &x, size, err);
	}
	/* volatile, stopped: takes the size at its next start */
	if (r < 0)
		goto out;
	qs_crash_point("resize.after-object");
	op.v.size = size;
	r = qs_cat_vol_put(q->db, &op.v, err);
out:
	op_end(&op);
	return r;
}

int qstor_volume_revert(qstor *q, const char *vm, const char *vol, const char *rev,
			qstor_error *err)
{
	struct op op;
	struct qs_objs o = { 0 };
	const struct qs_objinfo *target = NULL;
	int r;

	if ((r = op_begin(q, vm, vol, true, &op, err)) < 0)
		return r;
	if (!op.v.save_on_stop) {
		r = qs_err(err, -EINVAL, "cannot revert '%s:%s': volume keeps no state", vm, vol);
		goto out;
	}
	if ((r = op_need_stopped(&op, "revert", err)) < 0)
		goto out;
	if ((r = qs_objs_read(op.pool, op.v.vid, &o, err)) < 0)
		goto out;
	if (rev) {
		for (size_t i = 0; i < o.n; i++)
			if (o.v[i].role == QS_REVISION && strcmp(o.v[i].rev_id, rev) == 0)
				target = &o.v[i];
		if (!target) {
			r = qs_err(err, -ENOENT, "cannot revert '%s:%s': no revision '%s'", vm, vol,
				   QS_ESC(rev));
			goto out;
		}
	} else if (!(target = qs_objs_newest_rev(&o))) {
		r = qs_err(err, -ENOENT, "cannot revert '%s:%s': no revisions", vm, vol);
		goto out;
	}
	{
		struct qs_obj from = { .vid = op.v.vid, .role = QS_REVISION, .rev_key = target->rev_key,
				       .rev_time = target->rev_time };
		struct qs_obj tmp = { .vid = op.v.vid, .role = QS_TMP };
		int keep = qs_vol_rtk(op.pool, &op.v);

		r = op.pool->drv->snapshot(op.pool, &from, &tmp, err);
		if (r < 0)
			goto out;
		qs_crash_point("revert.after-snapshot");
		/* the state being replaced must survive as a revision (undo),
		 * even where revisions_to_keep would prune it right away */
		struct qs_vol keep1 = op.v;
		if (keep < 1) {
			keep1.rtk_set = true;
			keep1.rtk = 1;
		}
		r = qs_vol_commit(q, op.pool, &keep1, QS_TMP, "revert", err);
		op.v.gen = keep1.gen;
		op.v.precache_gen = keep1.precache_gen;
	}
out:
	qs_objs_free(&o);
	op_end(&op);
	return r;
}

/* Import (fd >= 0) or clear (fd < 0): a new committed state from data. */
static int import_or_clear(qstor *q, const char *vm, const char *vol, int fd, uint64_t size,
			   bool resize, const char *what, qstor_error *err)
{
	struct op op;
	struct qs_obj imp;
	char path[PATH_MAX];
	bool activated = false;
	uint64_t target;
	int r, out = -1;

	if ((r = op_begin(q, vm, vol, true, &op, err)) < 0)
		return r;
	imp = (struct qs_obj){ .vid = op.v.vid, .role = QS_IMPORT };
	if (op.v.snap_on_start) {
		r = qs_err(err, -EINVAL, "cannot %s '%s:%s': it is a snapshot of '%s:%s', %s the "
			   "source instead", what, vm, vol, op.v.source_vm, op.v.source_vol, what);
		goto out;
	}
	if (!op.v.save_on_stop) {
		r = qs_err(err, -EINVAL, "cannot %s '%s:%s': volatile volume", what, vm, vol);
		goto out;
	}
	if ((r = op_need_stopped(&op, what, err)) < 0)
		goto out;
	target = op.v.size;
	if (size) {
		if (!resize && size != op.v.size) {
			r = qs_err(err, -EINVAL, "cannot %s '%s:%s': data size %llu differs from volume "
				   "size %llu", what, vm, vol, (unsigned long long)size,
				   (unsigned long long)op.v.size);
			goto out;
		}
		if ((r = qs_size_check(op.pool, size, what, err)) < 0)
			goto out;
		target = size;
	}
	if ((r = qs_reserve_check(op.pool, fd >= 0 ? target : 0, what, err)) < 0)
		goto out;
	if ((r = op.pool->drv->create(op.pool, &imp, target, err)) < 0)
		goto out;
	qs_crash_point("import.after-create");
	if (fd >= 0) {
		if (op.pool->drv->path)
			r = op.pool->drv->path(op.pool, &imp, path, sizeof(path), err);
		else if ((r = op.pool->drv->activate(op.pool, &imp, true, path, sizeof(path), err)) >= 0)
			activated = true;
		if (r < 0)
			goto fail;
		out = open(path, O_WRONLY | O_CLOEXEC);
		if (out < 0) {
			r = qs_err(err, -errno, "cannot open '%s': %s", QS_ESC_PATH(path),
				   strerror(errno));
			goto fail;
		}
		r = qs_copy_data(fd, out, target, true, err);
		if (r < 0) {
			qs_err_prefix(err, "cannot import '%s:%s'", vm, vol);
			goto fail;
		}
		if (fsync(out) < 0) {
			r = qs_err(err, -errno, "cannot sync '%s': %s", QS_ESC_PATH(path),
				   strerror(errno));
			goto fail;
		}
		close(out);
		out = -1;
		if (activated && (r = op.pool->drv->deactivate(op.pool, &imp, err)) < 0)
			goto fail;
		activated = false;
	}
	qs_crash_point("import.after-write");
	{
		char phase[16];
		snprintf(phase, sizeof(phase), "%s", what);
		r = qs_vol_commit(q, op.pool, &op.v, QS_IMPORT, phase, err);
	}
	if (r < 0)
		goto out;
	op.v.size = target;
	r = qs_cat_vol_put(q->db, &op.v, err);
	goto out;
fail:
	if (out >= 0)
		close(out);
	if (activated)
		op.pool->drv->deactivate(op.pool, &imp, NULL);
	op.pool->drv->remove(op.pool, &imp, 1, NULL);
out:
	op_end(&op);
	return r;
}

int qstor_volume_import(qstor *q, const char *vm, const char *vol, int fd, uint64_t size,
			bool resize, qstor_error *err)
{
	if (fd < 0)
		return qs_err(err, -EBADF, "cannot import '%s:%s': no data", QS_ESC(vm),
			      QS_ESC(vol));
	return import_or_clear(q, vm, vol, fd, size, resize, "import", err);
}

int qstor_volume_clear(qstor *q, const char *vm, const char *vol, qstor_error *err)
{
	return import_or_clear(q, vm, vol, -1, 0, false, "clear", err);
}

int qstor_volume_clone(qstor *q, const char *src_vm, const char *src_vol, const char *dst_vm,
		       const char *dst_vol, qstor_error *err)
{
	struct op dst;
	struct qs_vol src;
	struct qs_vm svm;
	struct qs_objs so;
	int r, lsrc = -1;

	if ((r = qstor_check_name("vm", src_vm, err)) < 0 ||
	    (r = qstor_check_name("volume", src_vol, err)) < 0)
		return r;
	if (strcmp(src_vm, dst_vm ? dst_vm : "") == 0 && strcmp(src_vol, dst_vol ? dst_vol : "") == 0)
		return qs_err(err, -EINVAL, "cannot clone '%s:%s' onto itself", src_vm, src_vol);
	/* lock order: by name, as in qstor_vm_clone */
	bool same_vm = strcmp(src_vm, dst_vm ? dst_vm : "") == 0;
	bool src_first = !same_vm && strcmp(src_vm, dst_vm ? dst_vm : "") < 0;
	if (src_first && (r = qs_lock_vm(q, src_vm, true, &lsrc, err)) < 0)
		return r;
	if ((r = op_begin(q, dst_vm, dst_vol, true, &dst, err)) < 0) {
		qs_unlock(&lsrc);
		return r;
	}
	if (!same_vm && !src_first && (r = qs_lock_vm(q, src_vm, true, &lsrc, err)) < 0)
		goto out;
	if ((r = qs_cat_vm_get(q->db, src_vm, &svm, err)) < 0 ||
	    (r = qs_cat_vol_get(q->db, src_vm, src_vol, &src, err)) < 0)
		goto out;
	if (!src.save_on_stop) {
		r = qs_err(err, -EINVAL, "cannot clone from '%s:%s': volume keeps no state of its own",
			   src_vm, src_vol);
		goto out;
	}
	if (!dst.v.save_on_stop) {
		r = qs_err(err, -EINVAL, "cannot clone to '%s:%s': volume keeps no state of its own",
			   dst_vm, dst_vol);
		goto out;
	}
	if (qs_vm_running(q, &svm)) {
		struct qs_pool *sp;
		if ((r = qs_pool_get(q, src.pool, &sp, err)) < 0)
			goto out;
		if (qs_vol_rtk(sp, &src) < 0) {
			r = qs_err(err, -EBUSY, "cannot clone from '%s:%s': running with "
				   "revisions_to_keep -1", src_vm, src_vol);
			goto out;
		}
	}
	if ((r = op_need_stopped(&dst, "clone to", err)) < 0)
		goto out;
	{
		struct qs_pool *sp;
		const struct qs_objinfo *sc;
		uint64_t need = 0;

		if ((r = qs_pool_get(q, src.pool, &sp, err)) < 0 ||
		    (r = qs_objs_read(sp, src.vid, &so, err)) < 0)
			goto out;
		sc = qs_objs_find(&so, QS_COMMITTED);
		if (sc)
			src.size = sc->size ? sc->size : src.size;
		qs_objs_free(&so);
		if (sp != dst.pool)
			need = src.size;
		if ((r = qs_reserve_check(dst.pool, need, "clone", err)) < 0)
			goto out;
	}
	if ((r = qs_vol_copy_committed(q, &src, &dst.v, err)) < 0)
		goto out;
	qs_crash_point("clone.after-copy");
	if ((r = qs_vol_commit(q, dst.pool, &dst.v, QS_TMP, "clone", err)) < 0)
		goto out;
	dst.v.size = src.size;
	r = qs_cat_vol_put(q->db, &dst.v, err);
out:
	op_end(&dst);
	qs_unlock(&lsrc);
	return r;
}

int qstor_volume_export(qstor *q, const char *vm, const char *vol, char **ret_path,
			qstor_error *err)
{
	struct op op;
	struct qs_obj x;
	char path[PATH_MAX];
	int r;

	if ((r = op_begin(q, vm, vol, true, &op, err)) < 0)
		return r;
	x = (struct qs_obj){ .vid = op.v.vid, .role = QS_COMMITTED };
	if (!op.v.save_on_stop) {
		r = qs_err(err, -EINVAL, "cannot export '%s:%s': volume keeps no state", vm, vol);
		goto out;
	}
	/* an interrupted commit may have left the committed state under a
	 * revision's name: bring it back first, like every other operation */
	if ((r = qs_vol_fixup(q, &op.v, op.running, NULL, err)) < 0)
		goto out;
	if (op.pool->drv->path)
		r = op.pool->drv->path(op.pool, &x, path, sizeof(path), err);
	else
		r = op.pool->drv->activate(op.pool, &x, false, path, sizeof(path), err);
	if (r < 0)
		goto out;
	*ret_path = strdup(path);
	if (!*ret_path)
		r = qs_err(err, -ENOMEM, "out of memory");
out:
	op_end(&op);
	return r;
}

int qstor_volume_export_end(qstor *q, const char *vm, const char *vol, qstor_error *err)
{
	struct op op;
	int r;

	if ((r = op_begin(q, vm, vol, true, &op, err)) < 0)
		return r;
	if (!op.pool->drv->path && !op.running) {
		struct qs_obj x = { .vid = op.v.vid, .role = QS_COMMITTED };
		r = op.pool->drv->deactivate(op.pool, &x, err);
	}
	op_end(&op);
	return r;
}
