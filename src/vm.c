/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VMs: sets of volumes created, started, stopped and removed together. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

#define GiB (1ULL << 30)

bool qs_vm_running(const qstor *q, const struct qs_vm *vm)
{
	return strcmp(vm->state, QS_STATE_RUNNING) == 0 && strcmp(vm->boot_id, q->boot_id) == 0;
}

static bool half_made(const struct qs_vm *vm)
{
	return !strcmp(vm->state, QS_STATE_CREATING) || !strcmp(vm->state, QS_STATE_CLONING);
}

static int refuse_half_made(const struct qs_vm *vm, const char *what, qstor_error *err)
{
	return qs_err(err, -EBUSY, "cannot %s '%s': its %s was interrupted, run 'qstor recover' "
		      "first", what, vm->name, !strcmp(vm->state, QS_STATE_CREATING) ? "creation" :
		      "cloning");
}

/* Check the name, take the VM's lock, read it: the start of every VM
 * operation. On failure nothing is held. */
static int vm_begin(qstor *q, const char *name, struct qs_vm *vm, int *lock, qstor_error *err)
{
	int r;

	*lock = -1;
	if ((r = qstor_check_name("vm", name, err)) < 0)
		return r;
	if ((r = qs_lock_vm(q, name, false, lock, err)) < 0)
		return r;
	if ((r = qs_cat_vm_get(q->db, name, vm, err)) < 0)
		qs_unlock(lock);
	return r;
}

static int make_vol(qstor *q, struct qs_pool *pool, const struct qs_vm *vm, const char *name,
		    uint64_t size, struct qs_vol *ret, qstor_error *err)
{
	struct qs_vol v;
	int r;

	memset(&v, 0, sizeof(v));
	snprintf(v.vm, sizeof(v.vm), "%s", vm->name);
	snprintf(v.name, sizeof(v.name), "%s", name);
	snprintf(v.pool, sizeof(v.pool), "%s", pool->name);
	v.size = size;
	v.rw = true;
	v.precache_gen = -1;
	v.start_src_gen = -1;
	r = pool->drv->make_vid(pool, vm->name, name, vm->klass == QSTOR_CLASS_TEMPLATE, v.vid,
				sizeof(v.vid), err);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

static void set_source(struct qs_vol *v, const struct qs_vol *src)
{
	v->snap_on_start = true;
	v->save_on_stop = false;
	snprintf(v->source_vm, sizeof(v->source_vm), "%s", src->vm);
	snprintf(v->source_vol, sizeof(v->source_vol), "%s", src->name);
	v->size = src->size;
}

static int check_size_arg(struct qs_pool *pool, uint64_t size, const char *what, qstor_error *err)
{
	return size ? qs_size_check(pool, size, what, err) : 0;
}

/* Record vm (state creating) and vols in one transaction, or finish the
 * record: state stopped. */
static int record(qstor *q, const struct qs_vm *vm, const struct qs_vol *vols, size_t n,
		  const char *state, qstor_error *err)
{
	struct qs_vm v = *vm;
	int r = qs_cat_begin(q->db, err);

	if (r < 0)
		return r;
	snprintf(v.state, sizeof(v.state), "%s", state);
	r = qs_cat_vm_put(q->db, &v, err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = qs_cat_vol_put(q->db, &vols[i], err);
	if (r < 0) {
		qs_cat_rollback(q->db);
		return r;
	}
	return qs_cat_commit(q->db, err);
}

static int forget(qstor *q, const char *name, qstor_error *err)
{
	int r = qs_cat_begin(q->db, err);

	if (r < 0)
		return r;
	if ((r = qs_cat_vm_delete(q->db, name, err)) < 0) {
		qs_cat_rollback(q->db);
		return r;
	}
	return qs_cat_commit(q->db, err);
}

/* Record the VM as being created, make (or adopt) the objects of its
 * volumes, then mark it stopped. A crash in between leaves a VM in state
 * "creating", which recover finishes the same way. */
static int create_volumes(qstor *q, const struct qs_vm *vm, struct qs_vol *vols, size_t n,
			  bool *adopted, qstor_error *err)
{
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		r = qs_vol_create(q, &vols[i], &adopted[i], err);
		if (r < 0)
			return r;
		if (adopted[i] && (r = qs_cat_vol_put(q->db, &vols[i], err)) < 0)
			return r;
	}
	qs_crash_point("create.before-done");
	return qs_cat_vm_set_state(q->db, vm->name, QS_STATE_STOPPED, "", err);
}

static int create_and_record(qstor *q, const struct qs_vm *vm, struct qs_vol *vols, size_t n,
			     qstor_error *err)
{
	bool adopted[8] = { false };
	int r;

	r = record(q, vm, vols, n, QS_STATE_CREATING, err);
	if (r < 0)
		return r;
	qs_crash_point("create.after-record");
	r = create_volumes(q, vm, vols, n, adopted, err);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			if (!adopted[i])
				qs_vol_destroy(q, &vols[i], NULL);
		forget(q, vm->name, NULL);
	}
	return r;
}

int qstor_vm_create(qstor *q, const qstor_vm_spec *spec, qstor_error *err)
{
	char poolname[QSTOR_NAME_MAX + 1];
	struct qs_pool *pool;
	struct qs_vm vm, tpl, base;
	struct qs_vol vols[3];
	int r, lock = -1;

	if (!spec)
		return qs_err(err, -EINVAL, "no vm given");
	r = qstor_check_name("vm", spec->name, err);
	if (r < 0)
		return r;
	if ((unsigned)spec->klass > QSTOR_CLASS_DISPOSABLE)
		return qs_err(err, -EINVAL, "invalid class for vm '%s'", spec->name);
	bool needs_tpl = spec->klass == QSTOR_CLASS_APP || spec->klass == QSTOR_CLASS_DISPOSABLE;
	if (needs_tpl && !spec->template_vm)
		return qs_err(err, -EINVAL, "cannot create '%s': class %s needs --template", spec->name,
			      qstor_class_name(spec->klass));
	if (!needs_tpl && spec->template_vm)
		return qs_err(err, -EINVAL, "cannot create '%s': class %s takes no template",
			      spec->name, qstor_class_name(spec->klass));
	if (needs_tpl && (r = qstor_check_name("vm", spec->template_vm, err)) < 0)
		return r;
	r = qstor_pool_resolve(q, spec->pool, poolname, err);
	if (r < 0)
		return r;
	r = qs_pool_get(q, poolname, &pool, err);
	if (r < 0)
		return r;
	if ((r = check_size_arg(pool, spec->root_size, "set root size", err)) < 0 ||
	    (r = check_size_arg(pool, spec->private_size, "set private size", err)) < 0 ||
	    (r = check_size_arg(pool, spec->volatile_size, "set volatile size", err)) < 0)
		return r;

	r = qs_lock_vm(q, spec->name, false, &lock, err);
	if (r < 0)
		return r;
	if (qs_cat_vm_get(q->db, spec->name, &vm, NULL) == 0) {
		r = qs_err(err, -EEXIST, "vm '%s' already exists", spec->name);
		goto out;
	}
	memset(&vm, 0, sizeof(vm));
	snprintf(vm.name, sizeof(vm.name), "%s", spec->name);
	vm.klass = spec->klass;
	snprintf(vm.pool, sizeof(vm.pool), "%s", poolname);
	snprintf(vm.state, sizeof(vm.state), QS_STATE_STOPPED);
	if (needs_tpl) {
		snprintf(vm.template_vm, sizeof(vm.template_vm), "%s", spec->template_vm);
		r = qs_cat_vm_get(q->db, spec->template_vm, &tpl, err);
		if (r < 0)
			goto out;
		if (spec->klass == QSTOR_CLASS_APP && tpl.klass != QSTOR_CLASS_TEMPLATE) {
			r = qs_err(err, -EINVAL, "cannot create '%s': '%s' is not a template vm",
				   spec->name, tpl.name);
			goto out;
		}
		if (spec->klass == QSTOR_CLASS_DISPOSABLE && tpl.klass != QSTOR_CLASS_APP) {
			r = qs_err(err, -EINVAL, "cannot create '%s': '%s' is not an app vm",
				   spec->name, tpl.name);
			goto out;
		}
		if (strcmp(tpl.pool, poolname) != 0) {
			r = qs_err(err, -EXDEV, "cannot create '%s': template '%s' is in pool '%s'",
				   spec->name, tpl.name, tpl.pool);
			goto out;
		}
	}
	if ((r = qs_reserve_check(pool, 0, "create vm", err)) < 0)
		goto out;
	if ((r = make_vol(q, pool, &vm, "root", spec->root_size ? spec->root_size : 10 * GiB,
			  &vols[0], err)) < 0 ||
	    (r = make_vol(q, pool, &vm, "private", spec->private_size ? spec->private_size : 2 * GiB,
			  &vols[1], err)) < 0 ||
	    (r = make_vol(q, pool, &vm, "volatile", spec->volatile_size ? spec->volatile_size :
			  (spec->klass == QSTOR_CLASS_DISPOSABLE ? 12 : 10) * GiB, &vols[2], err)) < 0)
		goto out;
	vols[1].save_on_stop = true;
	if (spec->klass == QSTOR_CLASS_TEMPLATE || spec->klass == QSTOR_CLASS_STANDALONE) {
		vols[0].save_on_stop = true;
	} else {
		struct qs_vol troot, bpriv;

		if (spec->klass == QSTOR_CLASS_APP) {
			r = qs_cat_vol_get(q->db, tpl.name, "root", &troot, err);
		} else {
			/* disposable: root of the app VM's template, private of the app VM */
			base = tpl;
			r = qs_cat_vol_get(q->db, base.name, "root", &bpriv, err);
			if (r >= 0)
				r = qs_cat_vol_get(q->db, bpriv.source_vm, bpriv.source_vol, &troot, err);
			if (r >= 0)
				r = qs_cat_vol_get(q->db, base.name, "private", &bpriv, err);
			if (r >= 0) {
				set_source(&vols[1], &bpriv);
				vols[1].rw = true;
			}
		}
		if (r < 0)
			goto out;
		set_source(&vols[0], &troot);
		if (spec->root_size) {
			r = qs_err(err, -EINVAL, "cannot create '%s': its root is a snapshot of '%s:%s', "
				   "resize the source instead", spec->name, troot.vm, troot.name);
			goto out;
		}
	}
	r = create_and_record(q, &vm, vols, 3, err);
out:
	qs_unlock(&lock);
	return r;
}

static void lock_two(qstor *q, const char *a, const char *b, int *la, int *lb, qstor_error *err,
		     int *r)
{
	/* in name order, so two clones in opposite directions cannot deadlock */
	bool a_first = strcmp(a, b) < 0;

	*la = *lb = -1;
	*r = qs_lock_vm(q, a_first ? a : b, false, a_first ? la : lb, err);
	if (*r >= 0 && strcmp(a, b) != 0)
		*r = qs_lock_vm(q, a_first ? b : a, false, a_first ? lb : la, err);
}

int qstor_vm_clone(qstor *q, const char *src, const char *dst, const char *pool_name,
		   qstor_error *err)
{
	struct qs_vm svm, dvm;
	struct qs_vol *svols = NULL, dvols[8];
	size_t n = 0;
	struct qs_pool *pool;
	char poolname[QSTOR_NAME_MAX + 1];
	int r, ls = -1, ld = -1;

	if ((r = qstor_check_name("vm", src, err)) < 0 || (r = qstor_check_name("vm", dst, err)) < 0)
		return r;
	if (strcmp(src, dst) == 0)
		return qs_err(err, -EINVAL, "cannot clone '%s' onto itself", src);
	lock_two(q, src, dst, &ls, &ld, err, &r);
	if (r < 0)
		goto out;
	if ((r = qs_cat_vm_get(q->db, src, &svm, err)) < 0)
		goto out;
	if (qs_cat_vm_get(q->db, dst, &dvm, NULL) == 0) {
		r = qs_err(err, -EEXIST, "vm '%s' already exists", dst);
		goto out;
	}
	r = qstor_pool_resolve(q, pool_name ? pool_name : svm.pool, poolname, err);
	if (r < 0 || (r = qs_pool_get(q, poolname, &pool, err)) < 0)
		goto out;
	if ((r = qs_cat_vol_list(q->db, src, NULL, &svols, &n, err)) < 0)
		goto out;
	if (n > ARRAY_SIZE(dvols)) {
		r = qs_err(err, -E2BIG, "vm '%s' has too many volumes", src);
		goto out;
	}
	dvm = svm;
	snprintf(dvm.name, sizeof(dvm.name), "%s", dst);
	snprintf(dvm.pool, sizeof(dvm.pool), "%s", poolname);
	snprintf(dvm.state, sizeof(dvm.state), QS_STATE_STOPPED);
	dvm.boot_id[0] = '\0';
	if ((r = qs_reserve_check(pool, 0, "clone vm", err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct qs_vol *d = &dvols[i];

		*d = svols[i];
		snprintf(d->vm, sizeof(d->vm), "%s", dst);
		snprintf(d->pool, sizeof(d->pool), "%s", poolname);
		d->gen = 0;
		d->precache_gen = -1;
		d->start_src_gen = -1;
		if (d->snap_on_start && strcmp(d->pool, svols[i].pool) != 0) {
			r = qs_err(err, -EXDEV, "cannot clone '%s' to pool '%s': its %s is a snapshot "
				   "of '%s:%s' in pool '%s'", src, poolname, d->name, d->source_vm,
				   d->source_vol, svols[i].pool);
			goto out;
		}
		r = pool->drv->make_vid(pool, dst, d->name, dvm.klass == QSTOR_CLASS_TEMPLATE,
					d->vid, sizeof(d->vid), err);
		if (r < 0)
			goto out;
	}
	if ((r = record(q, &dvm, dvols, n, QS_STATE_CLONING, err)) < 0)
		goto out;
	qs_crash_point("vmclone.after-record");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct qs_vol *d = &dvols[i];
		struct qs_pool *dp;
		struct qs_objs o;
		struct qs_obj tmp = { .vid = d->vid, .role = QS_TMP };
		struct qs_obj com = { .vid = d->vid, .role = QS_COMMITTED };

		if (!d->save_on_stop)
			continue;
		if (svols[i].rtk_set && svols[i].rtk < 0 && qs_vm_running(q, &svm)) {
			r = qs_err(err, -EBUSY, "cannot clone '%s': '%s:%s' is running with "
				   "revisions_to_keep -1", src, src, d->name);
			break;
		}
		if ((r = qs_pool_get(q, d->pool, &dp, err)) < 0 ||
		    (r = qs_objs_read(dp, d->vid, &o, err)) < 0)
			break;
		bool exists = qs_objs_find(&o, QS_COMMITTED) != NULL;
		bool has_tmp = qs_objs_find(&o, QS_TMP) != NULL;
		qs_objs_free(&o);
		if (exists) {
			r = qs_err(err, -EEXIST, "cannot clone to '%s': volume '%s' already exists in "
				   "pool '%s'", dst, d->vid, d->pool);
			break;
		}
		if (has_tmp && (r = dp->drv->remove(dp, &tmp, 1, err)) < 0)
			break;
		r = qs_vol_copy_committed(q, &svols[i], d, err);
		if (r >= 0) {
			qs_crash_point("vmclone.after-copy");
			r = dp->drv->rename(dp, &tmp, &com, err);
		}
	}
	if (r >= 0)
		r = qs_cat_vm_set_state(q->db, dst, QS_STATE_STOPPED, "", err);
	if (r < 0) {
		/* roll back: nothing of the half-made clone stays */
		for (size_t i = 0; i < n; i++)
			if (dvols[i].save_on_stop)
				qs_vol_destroy(q, &dvols[i], NULL);
		forget(q, dst, NULL);
	}
out:
	free(svols);
	qs_unlock(&ls);
	qs_unlock(&ld);
	return r;
}

int qstor_vm_remove(qstor *q, const char *name, qstor_error *err)
{
	struct qs_vm vm;
	struct qs_vol *vols = NULL, *deps = NULL;
	size_t n = 0, nd = 0;
	int r, lock = -1;

	if ((r = vm_begin(q, name, &vm, &lock, err)) < 0)
		return r;
	if (qs_vm_running(q, &vm)) {
		r = qs_err(err, -EBUSY, "cannot remove '%s': vm is running", name);
		goto out;
	}
	if ((r = qs_cat_vol_dependents(q->db, name, NULL, &deps, &nd, err)) < 0)
		goto out;
	if (nd) {
		r = qs_err(err, -EBUSY, "cannot remove '%s': vm '%s' is based on it", name, deps[0].vm);
		goto out;
	}
	if ((r = qs_cat_vol_list(q->db, name, NULL, &vols, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		r = qs_vol_destroy(q, &vols[i], err);
		if (r < 0)
			goto out;
		qs_crash_point("remove.after-volume");
	}
	if ((r = qs_cat_begin(q->db, err)) < 0)
		goto out;
	if ((r = qs_cat_vm_delete(q->db, name, err)) < 0)
		qs_cat_rollback(q->db);
	else
		r = qs_cat_commit(q->db, err);
out:
	free(vols);
	free(deps);
	qs_unlock(&lock);
	if (r < 0 && err && strncmp(err->msg, "cannot", 6) != 0)
		qs_err_prefix(err, "cannot remove '%s'", name);
	return r;
}

static void vm_to_info(const struct qs_vm *vm, bool is_running, qstor_vm_info *i)
{
	memset(i, 0, sizeof(*i));
	snprintf(i->name, sizeof(i->name), "%s", vm->name);
	i->klass = vm->klass;
	snprintf(i->template_vm, sizeof(i->template_vm), "%s", vm->template_vm);
	snprintf(i->pool, sizeof(i->pool), "%s", vm->pool);
	i->running = is_running;
}

int qstor_vm_list(qstor *q, qstor_vm_info **ret, size_t *ret_n, qstor_error *err)
{
	struct qs_vm *vms;
	size_t n;
	qstor_vm_info *out;
	int r = qs_cat_vm_list(q->db, &vms, &n, err);

	if (r < 0)
		return r;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(vms);
		return qs_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		vm_to_info(&vms[i], qs_vm_running(q, &vms[i]), &out[i]);
	free(vms);
	*ret = out;
	*ret_n = n;
	return 0;
}

int qstor_vm_get(qstor *q, const char *name, qstor_vm_info *ret, qstor_error *err)
{
	struct qs_vm vm;
	int r;

	if ((r = qstor_check_name("vm", name, err)) < 0)
		return r;
	if ((r = qs_cat_vm_get(q->db, name, &vm, err)) < 0)
		return r;
	vm_to_info(&vm, qs_vm_running(q, &vm), ret);
	return 0;
}

int qstor_vm_start(qstor *q, const char *name, qstor_device **ret, size_t *ret_n,
		   qstor_error *err)
{
	struct qs_vm vm;
	struct qs_vol *vols = NULL;
	qstor_device *devs = NULL;
	struct qs_pool *pool;
	size_t n = 0, started = 0;
	int r, lock = -1;

	if ((r = vm_begin(q, name, &vm, &lock, err)) < 0)
		return r;
	if (qs_vm_running(q, &vm)) {
		r = qs_err(err, -EBUSY, "cannot start '%s': vm is already running", name);
		goto out;
	}
	if (half_made(&vm)) {
		r = refuse_half_made(&vm, "start", err);
		goto out;
	}
	if ((r = qs_cat_vol_list(q->db, name, NULL, &vols, &n, err)) < 0)
		goto out;
	if ((r = qs_pool_get(q, vm.pool, &pool, err)) < 0 ||
	    (r = qs_reserve_check(pool, 0, "start vm", err)) < 0)
		goto out;
	devs = calloc(n ? n : 1, sizeof(*devs));
	if (!devs) {
		r = qs_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = qs_cat_vm_set_state(q->db, name, QS_STATE_STARTING, q->boot_id, err)) < 0)
		goto out;
	for (; started < n; started++) {
		r = qs_vol_fixup(q, &vols[started], false, NULL, err);
		if (r < 0)
			break;
		r = qs_vol_start(q, &vols[started], &devs[started], err);
		if (r < 0)
			break;
	}
	if (r < 0) {
		for (size_t i = 0; i <= started && i < n; i++)
			qs_vol_unstart(q, &vols[i]);
		qs_cat_vm_set_state(q->db, name, QS_STATE_STOPPED, "", NULL);
		goto out;
	}
	qs_crash_point("start.before-running");
	if ((r = qs_cat_vm_set_state(q->db, name, QS_STATE_RUNNING, q->boot_id, err)) < 0)
		goto out;
	*ret = TAKE_PTR(devs);
	*ret_n = n;
out:
	free(devs);
	free(vols);
	qs_unlock(&lock);
	return r;
}

/* Stop every volume of vm (lock held). Also what recover does for a VM a
 * crash left half-started or half-stopped. */
static int stop_locked(qstor *q, const struct qs_vm *vm, unsigned *ret_fixed, qstor_error *err)
{
	struct qs_vol *vols = NULL;
	size_t n = 0;
	int r;

	if ((r = qs_cat_vol_list(q->db, vm->name, NULL, &vols, &n, err)) < 0)
		return r;
	if (strcmp(vm->state, QS_STATE_STOPPED) != 0 &&
	    (r = qs_cat_vm_set_state(q->db, vm->name, QS_STATE_STOPPING, vm->boot_id, err)) < 0)
		goto out;
	/* the VM's own data first: a failure on one volume does not keep the
	 * others from being committed */
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		r = qs_vol_fixup(q, &vols[i], true, ret_fixed, err);
		if (r >= 0)
			r = qs_vol_stop(q, &vols[i], err);
		if (r < 0 && first == 0)
			first = r;
		if (r >= 0)
			r = qs_vol_fixup(q, &vols[i], false, ret_fixed, err);
		if (r < 0 && first == 0)
			first = r;
	}
	r = first;
	if (r >= 0)
		r = qs_cat_vm_set_state(q->db, vm->name, QS_STATE_STOPPED, "", err);
out:
	free(vols);
	return r;
}

int qstor_vm_stop(qstor *q, const char *name, qstor_error *err)
{
	struct qs_vm vm;
	int r, lock = -1;

	if ((r = vm_begin(q, name, &vm, &lock, err)) < 0)
		return r;
	r = half_made(&vm) ? refuse_half_made(&vm, "stop", err) : stop_locked(q, &vm, NULL, err);
	qs_unlock(&lock);
	return r;
}

/* A create interrupted by a crash is rolled forward (its objects made or
 * adopted), a clone rolled back (its objects removed, the VM forgotten). */
static int finish_create(qstor *q, const struct qs_vm *vm, qstor_error *err)
{
	struct qs_vol *vols = NULL;
	size_t n = 0;
	bool adopted[8] = { false };
	int r;

	if ((r = qs_cat_vol_list(q->db, vm->name, NULL, &vols, &n, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = qs_vol_fixup(q, &vols[i], false, NULL, err);
	if (r >= 0 && strcmp(vm->state, QS_STATE_CREATING) == 0 && n <= ARRAY_SIZE(adopted)) {
		r = create_volumes(q, vm, vols, n, adopted, err);
	} else if (r >= 0) {
		for (size_t i = 0; r >= 0 && i < n; i++)
			r = qs_vol_destroy(q, &vols[i], err);
		if (r >= 0)
			r = forget(q, vm->name, err);
	}
	free(vols);
	return r;
}

int qstor_recover(qstor *q, unsigned *ret_fixed, qstor_error *err)
{
	struct qs_vm *vms = NULL;
	size_t n = 0;
	unsigned fixed = 0;
	int r, first = 0;

	if ((r = qs_cat_vm_list(q->db, &vms, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct qs_vm vm;
		int lock = -1;

		if ((r = qs_lock_vm(q, vms[i].name, false, &lock, err)) < 0)
			goto next;
		if ((r = qs_cat_vm_get(q->db, vms[i].name, &vm, err)) < 0)
			goto next;
		if (half_made(&vm)) {
			r = finish_create(q, &vm, err);
			fixed++;
			goto next;
		}
		if (qs_vm_running(q, &vm)) {
			/* healthy and running: only clear leftovers of admin ops */
			struct qs_vol *vols = NULL;
			size_t nv = 0;

			if ((r = qs_cat_vol_list(q->db, vm.name, NULL, &vols, &nv, err)) >= 0)
				for (size_t j = 0; r >= 0 && j < nv; j++)
					r = qs_vol_fixup(q, &vols[j], true, &fixed, err);
			free(vols);
			goto next;
		}
		unsigned before = fixed;
		if (strcmp(vm.state, QS_STATE_STOPPED) != 0)
			fixed++;
		r = stop_locked(q, &vm, &fixed, err);
		(void)before;
next:
		qs_unlock(&lock);
		if (r < 0 && first == 0)
			first = r;
	}
	free(vms);
	if (first < 0)
		return first;
	if (ret_fixed)
		*ret_fixed = fixed;
	return 0;
}
