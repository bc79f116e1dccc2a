/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disk use per VM, from the pool itself (driver usage op: thin metadata or
 * extent maps). Per volume: size, mapped and exclusive of its current state
 * (the running copy while running, else the committed state). Per VM:
 * vm_exclusive, what removing the VM with all its objects would free,
 * counted over the set of its objects.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static int du_vm(qstor *q, const struct qs_vm *vm, qstor_du_vm *ret, qstor_error *err)
{
	struct qs_vol *vols = NULL;
	size_t n = 0;
	struct qs_obj all[256];
	size_t nall = 0;
	struct qs_pool *pool = NULL;
	qstor_du_vm d;
	int r;

	memset(&d, 0, sizeof(d));
	snprintf(d.vm, sizeof(d.vm), "%s", vm->name);
	if ((r = qs_cat_vol_list(q->db, vm->name, NULL, &vols, &n, err)) < 0)
		return r;
	d.volumes = calloc(n ? n : 1, sizeof(*d.volumes));
	if (!d.volumes) {
		free(vols);
		return qs_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		qstor_du_volume *dv = &d.volumes[d.n_volumes++];
		struct qs_objs o;
		const struct qs_objinfo *cur;

		snprintf(dv->vm, sizeof(dv->vm), "%s", vm->name);
		snprintf(dv->volume, sizeof(dv->volume), "%s", vols[i].name);
		snprintf(dv->pool, sizeof(dv->pool), "%s", vols[i].pool);
		dv->size = vols[i].size;
		if ((r = qs_pool_get(q, vols[i].pool, &pool, err)) < 0 ||
		    (r = qs_objs_read(pool, vols[i].vid, &o, err)) < 0)
			goto out;
		cur = qs_objs_find(&o, QS_RUNNING);
		if (!cur)
			cur = qs_objs_find(&o, QS_COMMITTED);
		if (cur && cur->size)
			dv->size = cur->size;
		if (cur && pool->drv->usage) {
			struct qs_obj x = { .vid = vols[i].vid, .role = cur->role };
			struct qs_usage u = { 0 };

			if (pool->drv->usage(pool, &x, 1, &u, NULL, NULL) == 0) {
				dv->mapped = u.mapped;
				dv->exclusive = u.exclusive;
				dv->shared = u.mapped > u.exclusive ? u.mapped - u.exclusive : 0;
			}
		}
		for (size_t k = 0; k < o.n && nall < ARRAY_SIZE(all); k++) {
			/* the vid strings live in vols[], which outlives all[] */
			all[nall++] = (struct qs_obj){ .vid = vols[i].vid, .role = o.v[k].role,
						       .rev_key = o.v[k].rev_key,
						       .rev_time = o.v[k].rev_time };
		}
		qs_objs_free(&o);
		d.size += dv->size;
		d.mapped += dv->mapped;
		d.exclusive += dv->exclusive;
		d.shared += dv->shared;
	}
	if (pool && pool->drv->usage && nall) {
		struct qs_usage *u = calloc(nall, sizeof(*u));
		uint64_t set = 0;

		if (u && pool->drv->usage(pool, all, nall, u, &set, NULL) == 0)
			d.vm_exclusive = set;
		free(u);
	}
	r = 0;
	*ret = d;
	d.volumes = NULL;
out:
	free(d.volumes);
	free(vols);
	return r;
}

int qstor_du(qstor *q, const char *const *names, size_t n, qstor_du_vm **ret, size_t *ret_n,
	     qstor_error *err)
{
	struct qs_vm *vms = NULL;
	size_t nvms = 0;
	qstor_du_vm *out;
	size_t m = 0;
	int r;

	if (names && n) {
		vms = calloc(n, sizeof(*vms));
		if (!vms)
			return qs_err(err, -ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			if ((r = qstor_check_name("vm", names[i], err)) < 0 ||
			    (r = qs_cat_vm_get(q->db, names[i], &vms[i], err)) < 0) {
				free(vms);
				return r;
			}
		}
		nvms = n;
	} else if ((r = qs_cat_vm_list(q->db, &vms, &nvms, err)) < 0) {
		return r;
	}
	out = calloc(nvms ? nvms : 1, sizeof(*out));
	if (!out) {
		free(vms);
		return qs_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nvms; i++) {
		if ((r = du_vm(q, &vms[i], &out[m], err)) < 0) {
			qstor_du_free(out, m);
			free(vms);
			return r;
		}
		m++;
	}
	free(vms);
	*ret = out;
	*ret_n = m;
	return 0;
}

void qstor_du_free(qstor_du_vm *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].volumes);
	free(v);
}
