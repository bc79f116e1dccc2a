/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pool's LV list from one report, kept while the VG seqno stands. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	c->id[0] = '\0';
}

void lvt_cache_drop(struct lvt_cache *c)
{
	lvt_cache_free(c);
}

int lvt_cache_disk_seqno(const struct lvt_cache *c, const char *vg, uint64_t *ret,
			 char *id, size_t idlen)
{
	int r = -ENOENT;

	for (size_t i = 0; i < c->rep.n_pvs; i++) {
		r = lvt_vg_meta_read(c->rep.pvs[i], vg, ret, id, idlen);
		if (r == 0)
			return 0;
	}
	return r;
}

/* ---- kept across processes ---- */

static const char *persist_dir(void)
{
	const char *d = getenv("QSTOR_LVM_CACHE_DIR");

	return d ? d : "/run/qstor-lvm";
}

static int persist_path(const char *vg, char *buf, size_t len)
{
	const char *d = persist_dir();
	int n;

	if (!*d)
		return -ENOENT;
	n = snprintf(buf, len, "%s/%s.cache", d, vg);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static const char *dash(const char *s)
{
	return *s ? s : "-";
}

void lvt_cache_save(const struct lvt_cache *c, const char *vg)
{
	char path[4096], tmp[4200];
	FILE *f;
	int fd, ok;

	if (!c->loaded || !c->seqno_known || !c->id[0] || persist_path(vg, path, sizeof(path)) < 0)
		return;
	if (mkdir(persist_dir(), 0700) < 0 && errno != EEXIST)
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return;
	}
	fprintf(f, "qstor-lvm-cache 1\nvg %s\nid %s\nseqno %" PRIu64 "\nextent %" PRIu64 "\n",
		vg, c->id, c->seqno, c->rep.extent_size);
	for (size_t i = 0; i < c->rep.n_pvs; i++)
		fprintf(f, "pv %s\n", c->rep.pvs[i]);
	for (size_t i = 0; i < c->rep.n_lvs; i++) {
		const struct lvt_lv *l = &c->rep.lvs[i];

		fprintf(f, "lv %s %s %" PRIu64 " %s %s %" PRId64 "\n", l->name, dash(l->attr),
			l->size, dash(l->pool), dash(l->origin), l->thin_id);
	}
	ok = fflush(f) == 0 && !ferror(f);
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

/* one word of a line, "-" read as "" */
static bool word(char **p, char *out, size_t len)
{
	char *s = *p, *e;
	size_t n;

	while (*s == ' ')
		s++;
	e = s;
	while (*e && *e != ' ' && *e != '\n')
		e++;
	n = (size_t)(e - s);
	if (n == 0 || n >= len || memchr(s, '/', n) != NULL)
		return false;
	if (n == 1 && *s == '-')
		n = 0;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e;
	return true;
}

static bool number(char **p, bool sign, uint64_t *ret)
{
	char *e;
	unsigned long long v;

	errno = 0;
	if (sign) {
		long long x = strtoll(*p, &e, 10);

		v = (unsigned long long)x;
	} else {
		v = strtoull(*p, &e, 10);
	}
	if (errno || e == *p || (*e && *e != ' ' && *e != '\n'))
		return false;
	*ret = v;
	*p = e;
	return true;
}

int lvt_cache_restore(struct lvt_cache *c, const char *vg)
{
	char path[4096], line[1024], id[LVT_VG_ID_LEN], disk_id[LVT_VG_ID_LEN];
	struct lvt_report rep = { 0 };
	uint64_t seqno = 0, disk = 0;
	bool head = false, have_vg = false, have_seqno = false;
	FILE *f;
	int r = -EBADMSG;

	id[0] = '\0';
	if (persist_path(vg, path, sizeof(path)) < 0)
		return -ENOENT;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		if (!strchr(line, '\n'))
			goto out;  /* too long */
		if (!head) {
			if (strcmp(line, "qstor-lvm-cache 1\n") != 0)
				goto out;
			head = true;
		} else if (strncmp(line, "vg ", 3) == 0) {
			char v[LVT_NAME_MAX + 1];

			p += 3;
			if (!word(&p, v, sizeof(v)) || strcmp(v, vg) != 0)
				goto out;
			have_vg = true;
		} else if (strncmp(line, "id ", 3) == 0) {
			p += 3;
			if (!word(&p, id, sizeof(id)) || !*id)
				goto out;
		} else if (strncmp(line, "seqno ", 6) == 0) {
			p += 6;
			if (!number(&p, false, &seqno))
				goto out;
			have_seqno = true;
		} else if (strncmp(line, "extent ", 7) == 0) {
			p += 7;
			if (!number(&p, false, &rep.extent_size))
				goto out;
		} else if (strncmp(line, "pv ", 3) == 0) {
			char **v, *pv;
			size_t n = strcspn(line + 3, "\n");

			if (n == 0 || line[3] != '/' || !(pv = strndup(line + 3, n)))
				goto out;
			v = realloc(rep.pvs, (rep.n_pvs + 1) * sizeof(*v));
			if (!v) {
				free(pv);
				goto out;
			}
			rep.pvs = v;
			rep.pvs[rep.n_pvs++] = pv;
		} else if (strncmp(line, "lv ", 3) == 0) {
			struct lvt_lv lv = { 0 }, *v;
			uint64_t size, tid;

			p += 3;
			if (!word(&p, lv.name, sizeof(lv.name)) || !*lv.name ||
			    !word(&p, lv.attr, sizeof(lv.attr)) || !number(&p, false, &size) ||
			    !word(&p, lv.pool, sizeof(lv.pool)) ||
			    !word(&p, lv.origin, sizeof(lv.origin)) || !number(&p, true, &tid))
				goto out;
			lv.size = size;
			lv.thin_id = (int64_t)tid;
			if (lvt_report_find(&rep, lv.name))
				goto out;
			v = realloc(rep.lvs, (rep.n_lvs + 1) * sizeof(*v));
			if (!v)
				goto out;
			rep.lvs = v;
			rep.lvs[rep.n_lvs++] = lv;
		} else {
			goto out;
		}
	}
	if (!head || !have_vg || !have_seqno || !id[0] || rep.n_pvs == 0)
		goto out;
	rep.seqno = seqno;
	lvt_cache_free(c);
	c->rep = rep;
	memset(&rep, 0, sizeof(rep));
	/* valid only if it is what the disk says now */
	if (lvt_cache_disk_seqno(c, vg, &disk, disk_id, sizeof(disk_id)) < 0 ||
	    disk != seqno || strcmp(disk_id, id) != 0) {
		lvt_cache_free(c);
		r = -ESTALE;
		goto out;
	}
	c->loaded = true;
	c->seqno_known = true;
	c->seqno = seqno;
	snprintf(c->id, sizeof(c->id), "%s", id);
	r = 0;
out:
	fclose(f);
	lvt_report_free(&rep);
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
	 * there is none, so take the disk's. The uuid comes from the disk
	 * (it changes only when the VG is made again). */
	if (lvt_cache_disk_seqno(c, vg, &disk, c->id, sizeof(c->id)) < 0)
		c->id[0] = '\0';
	if (rep.n_lvs > 0) {
		c->seqno = rep.seqno;
		c->seqno_known = rep.n_pvs > 0;
	} else if (c->id[0]) {
		c->seqno = disk;
		c->seqno_known = true;
	}
	lvt_cache_save(c, vg);
	return 0;
}

int lvt_cache_fresh(struct lvt_cache *c, const char *vg, qstor_error *err)
{
	char id[LVT_VG_ID_LEN];
	uint64_t disk;

	if (!c->loaded && lvt_cache_restore(c, vg) == 0)
		return 0;  /* just checked against the disk */
	if (c->loaded && c->seqno_known &&
	    lvt_cache_disk_seqno(c, vg, &disk, id, sizeof(id)) == 0 && disk == c->seqno &&
	    (!c->id[0] || strcmp(id, c->id) == 0))
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

void lvt_cache_adopt(struct lvt_cache *c, const char *vg, unsigned step)
{
	char id[LVT_VG_ID_LEN];
	uint64_t disk;

	if (!c->loaded)
		return;
	if (!c->seqno_known || lvt_cache_disk_seqno(c, vg, &disk, id, sizeof(id)) < 0 ||
	    disk != c->seqno + step || (c->id[0] && strcmp(id, c->id) != 0)) {
		/* another command committed too (or we cannot tell) */
		lvt_cache_drop(c);
		return;
	}
	c->seqno = disk;
	lvt_cache_save(c, vg);
}

uint64_t lvt_cache_round(const struct lvt_cache *c, uint64_t size)
{
	uint64_t unit = c->loaded && c->rep.extent_size ? c->rep.extent_size : 512;

	if (size % unit)
		size += unit - size % unit;
	return size;
}
