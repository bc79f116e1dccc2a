/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pool's LV list from one report, kept while the VG seqno stands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "driver.h"
#include "lvmcmd.h"
#include "vgseqno.h"

void lvt_cache_free(struct lvt_cache *c)
{
	lvt_report_free(&c->rep);
	c->loaded = false;
	c->seqno_known = false;
	c->seqno = 0;
}

void lvt_cache_drop(struct lvt_cache *c)
{
	lvt_cache_free(c);
}

int lvt_cache_disk_seqno(const struct lvt_cache *c, const char *vg, uint64_t *ret)
{
	int r = -ENOENT;

	for (size_t i = 0; i < c->rep.n_pvs; i++) {
		r = lvt_vg_seqno_read(c->rep.pvs[i], vg, ret);
		if (r == 0)
			return 0;
	}
	return r;
}

int lvt_cache_load(struct lvt_cache *c, const char *vg, qstor_error *err)
{
	char cmd[LVT_CMD_LEN], why[256], reason[256];
	struct lvt_out out = { 0 };
	struct lvt_report rep;
	uint64_t disk;
	int r;

	lvt_cache_drop(c);
	r = lvt_cmd_report(cmd, sizeof(cmd), vg);
	if (r < 0)
		return qs_err(err, r, "cannot list '%s': invalid volume group name", vg);
	r = lvt_run(cmd, &out);
	if (r < 0) {
		if (r == -ENOENT)
			qs_err(err, r, "volume group '%s' not found", vg);
		else
			qs_err(err, r, "cannot list '%s': %s", vg,
			       lvt_out_reason(&out, reason, sizeof(reason)));
		lvt_out_free(&out);
		return r;
	}
	r = lvt_report_parse(out.report, &rep, why, sizeof(why));
	lvt_out_free(&out);
	if (r < 0)
		return qs_err(err, r, "cannot list '%s': unexpected lvs output (%s)", vg, why);
	c->rep = rep;
	c->loaded = true;
	c->loads++;
	/* The report's vg_seqno is consistent with its rows; without rows
	 * there is none, so take the disk's. */
	if (rep.n_lvs > 0) {
		c->seqno = rep.seqno;
		c->seqno_known = rep.n_pvs > 0;
	} else if (lvt_cache_disk_seqno(c, vg, &disk) == 0) {
		c->seqno = disk;
		c->seqno_known = true;
	}
	return 0;
}

int lvt_cache_fresh(struct lvt_cache *c, const char *vg, qstor_error *err)
{
	uint64_t disk;

	if (c->loaded && c->seqno_known &&
	    lvt_cache_disk_seqno(c, vg, &disk) == 0 && disk == c->seqno)
		return 0;
	return lvt_cache_load(c, vg, err);
}

const struct lvt_lv *lvt_cache_find(const struct lvt_cache *c, const char *lv)
{
	return c->loaded ? lvt_report_find(&c->rep, lv) : NULL;
}

static struct lvt_lv *find_mut(struct lvt_cache *c, const char *lv)
{
	return (struct lvt_lv *)lvt_cache_find(c, lv);
}

bool lvt_cache_add(struct lvt_cache *c, const struct lvt_lv *lv)
{
	struct lvt_lv *v;

	if (!c->loaded)
		return false;
	if (find_mut(c, lv->name)) {  /* we did not know it: stale */
		lvt_cache_drop(c);
		return false;
	}
	v = realloc(c->rep.lvs, (c->rep.n_lvs + 1) * sizeof(*v));
	if (!v) {
		lvt_cache_drop(c);
		return false;
	}
	c->rep.lvs = v;
	v[c->rep.n_lvs++] = *lv;
	return true;
}

bool lvt_cache_rename(struct lvt_cache *c, const char *from, const char *to)
{
	struct lvt_lv *v;

	if (!c->loaded)
		return false;
	v = find_mut(c, from);
	if (!v || find_mut(c, to) || strlen(to) >= sizeof(v->name)) {
		lvt_cache_drop(c);
		return false;
	}
	strcpy(v->name, to);
	/* thin snapshots name their origin: follow the rename */
	for (size_t i = 0; i < c->rep.n_lvs; i++)
		if (strcmp(c->rep.lvs[i].origin, from) == 0)
			strcpy(c->rep.lvs[i].origin, to);
	return true;
}

void lvt_cache_remove(struct lvt_cache *c, const char *lv)
{
	struct lvt_lv *v;

	if (!c->loaded || !(v = find_mut(c, lv)))
		return;
	*v = c->rep.lvs[--c->rep.n_lvs];
	for (size_t i = 0; i < c->rep.n_lvs; i++)
		if (strcmp(c->rep.lvs[i].origin, lv) == 0)
			c->rep.lvs[i].origin[0] = '\0';
}

bool lvt_cache_resize(struct lvt_cache *c, const char *lv, uint64_t size)
{
	struct lvt_lv *v;

	if (!c->loaded)
		return false;
	if (!(v = find_mut(c, lv))) {
		lvt_cache_drop(c);
		return false;
	}
	v->size = size;
	return true;
}

void lvt_cache_adopt(struct lvt_cache *c, const char *vg)
{
	uint64_t disk;

	if (!c->loaded)
		return;
	if (!c->seqno_known || lvt_cache_disk_seqno(c, vg, &disk) < 0) {
		lvt_cache_drop(c);
		return;
	}
	c->seqno = disk;
}

uint64_t lvt_cache_round(const struct lvt_cache *c, uint64_t size)
{
	uint64_t unit = c->loaded && c->rep.extent_size ? c->rep.extent_size : 512;

	if (size % unit)
		size += unit - size % unit;
	return size;
}
