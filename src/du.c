/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disk use per VM, volume and pool, from the pools themselves.
 *
 * Exact path (drivers with the extents op): for every pool involved, the
 * physical ranges of ALL objects (committed, running, revisions, precache,
 * temporaries) of ALL volumes the catalog has in that pool, every VM,
 * including those not asked about: sharing with them matters. Each object
 * is tagged (volume, VM). One sweep over the sorted ranges splits the
 * address space into elementary segments, each with the set of objects
 * referencing it, and gives exactly:
 *
 *   volume mapped     bytes of the union of its objects' ranges
 *   volume exclusive  of those, referenced by no other volume's object
 *   VM mapped         union over its volumes (not the sum)
 *   VM vm_exclusive   bytes of that union no other VM's object references:
 *                     what removing the VM with everything it has frees
 *   pool mapped       union of everything; pool shared: what all VMs'
 *                     vm_exclusive leave (data of two VMs or more)
 *
 * A segment that exactly one object references although the pool flags it
 * shared (QS_EXTENT_SHARED) is held by something outside the catalog too
 * (a file copied with reflinks by hand, another pool on the filesystem, a
 * btrfs snapshot, the rest of a btrfs data extent): it is mapped, but
 * exclusive to nobody.
 *
 * Scale: the ranges of an object are sorted and merged, and objects with
 * the very same ranges (the precaches of 300 app VMs, all reflinks of one
 * template root) are stored once, as one group owning several objects.
 * The sweep works on groups; the set of groups over a segment is hashed
 * (Zobrist) and the length accumulated per distinct set, so the owners are
 * visited once per distinct set, not once per segment. Cost: the extent
 * walks, plus O(d log d) for d distinct ranges.
 *
 * reclaimable: for a volume whose committed state holds ext2/3/4 at offset
 * 0 (libblkid), the bytes of that object's mapped ranges whose filesystem
 * block is free in the block bitmaps (libext2fs, read-only): what an
 * fstrim inside the VM would give back. 0 when unknown (other content, a
 * journal that needs recovery, no extents op).
 *
 * Fallback (a driver without the extents op): its per-object usage op, for
 * the volume's current state (running copy while running, else committed),
 * and its set_exclusive for the VM's objects; pool totals are then only
 * the pool's own data and metadata figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ext2fs/ext2fs.h>

#include "core.h"

/* ===================== the accumulator (pure) ===================== */

#define DU_NONE UINT32_MAX

struct du_rng {
	uint64_t start, end;
	uint32_t flags;
};

struct du_group {        /* one distinct list of ranges */
	size_t off, n;       /* into acc->rng */
	uint64_t hash;
	uint32_t first_obj;  /* owners: objects linked through du_obj.next */
};

struct du_obj {
	uint32_t vol;
	uint32_t next;
};

struct du_acc {
	size_t n_vols, n_vms;
	const uint32_t *vol_vm;     /* VM of each volume */
	struct du_obj *objs;
	size_t n_objs, cap_objs;
	struct du_rng *cur;         /* the object being collected */
	size_t n_cur, cap_cur;
	uint32_t cur_vol;
	struct du_rng *rng;         /* ranges of the groups, sorted, merged */
	size_t n_rng, cap_rng;
	struct du_group *groups;
	size_t n_groups, cap_groups;
	uint32_t *gtab;             /* hash table: group index + 1, 0 empty */
	size_t gtab_size;
};

struct du_result {
	uint64_t *vol_mapped, *vol_excl;  /* n_vols each */
	uint64_t *vm_mapped, *vm_excl;    /* n_vms each */
	uint64_t pool_mapped, pool_shared;
};

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void du_acc_init(struct du_acc *a, size_t n_vols, const uint32_t *vol_vm, size_t n_vms)
{
	memset(a, 0, sizeof(*a));
	a->n_vols = n_vols;
	a->vol_vm = vol_vm;
	a->n_vms = n_vms;
}

static void du_acc_free(struct du_acc *a)
{
	free(a->objs);
	free(a->cur);
	free(a->rng);
	free(a->groups);
	free(a->gtab);
	memset(a, 0, sizeof(*a));
}

static void du_acc_begin(struct du_acc *a, uint32_t vol)
{
	a->cur_vol = vol;
	a->n_cur = 0;
}

static int du_acc_add(struct du_acc *a, uint64_t phys, uint64_t len, unsigned flags)
{
	if (len == 0)
		return 0;
	if (phys > UINT64_MAX - len)
		len = UINT64_MAX - phys;
	if (qs_grow((void **)&a->cur, &a->cap_cur, a->n_cur + 1, sizeof(*a->cur)) < 0)
		return -ENOMEM;
	a->cur[a->n_cur++] = (struct du_rng){ phys, phys + len, flags & QS_EXTENT_SHARED };
	return 0;
}

static int rng_cmp(const void *x, const void *y)
{
	const struct du_rng *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->end < b->end ? -1 : a->end > b->end;
}

static bool same_ranges(const struct du_rng *a, const struct du_rng *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].start != b[i].start || a[i].end != b[i].end || a[i].flags != b[i].flags)
			return false;
	return true;
}

static int gtab_grow(struct du_acc *a)
{
	size_t size = a->gtab_size ? 2 * a->gtab_size : 1024;
	uint32_t *t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t g = 0; g < a->n_groups; g++) {
		size_t i = a->groups[g].hash & (size - 1);

		while (t[i])
			i = (i + 1) & (size - 1);
		t[i] = (uint32_t)g + 1;
	}
	free(a->gtab);
	a->gtab = t;
	a->gtab_size = size;
	return 0;
}

/* The object collected since du_acc_begin is complete: canonicalise its
 * ranges (sorted by address, overlaps and same-flag neighbours merged)
 * and file it under the group with the very same ranges. */
static int du_acc_end(struct du_acc *a)
{
	struct du_rng *c = a->cur;
	uint64_t h = 0x51ed270b27e0d5a3ULL;
	size_t n = 0, i;
	uint32_t g;
	bool sorted = true;

	if (a->n_cur == 0)
		return 0;  /* references nothing */
	for (i = 1; i < a->n_cur && sorted; i++)
		sorted = rng_cmp(&c[i - 1], &c[i]) <= 0;
	if (!sorted)
		qsort(c, a->n_cur, sizeof(*c), rng_cmp);
	for (i = 0; i < a->n_cur; i++) {
		if (n && (c[i].start < c[n - 1].end ||
			  (c[i].start == c[n - 1].end && c[i].flags == c[n - 1].flags))) {
			/* a file referencing a block twice: it is shared (the
			 * pool flags both), so or-ing flags loses nothing */
			if (c[i].end > c[n - 1].end)
				c[n - 1].end = c[i].end;
			c[n - 1].flags |= c[i].flags;
		} else {
			c[n++] = c[i];
		}
	}
	for (i = 0; i < n; i++)
		h = mix64(h ^ c[i].start) ^ mix64(c[i].end + c[i].flags);
	if (2 * (a->n_groups + 1) > a->gtab_size && gtab_grow(a) < 0)
		return -ENOMEM;
	for (i = h & (a->gtab_size - 1);; i = (i + 1) & (a->gtab_size - 1)) {
		struct du_group *gr;

		if (!a->gtab[i]) {
			if (a->n_groups >= DU_NONE - 1 ||
			    qs_grow((void **)&a->groups, &a->cap_groups, a->n_groups + 1,
				 sizeof(*a->groups)) < 0 ||
			    qs_grow((void **)&a->rng, &a->cap_rng, a->n_rng + n, sizeof(*a->rng)) < 0)
				return -ENOMEM;
			g = (uint32_t)a->n_groups++;
			a->groups[g] = (struct du_group){ .off = a->n_rng, .n = n, .hash = h,
							  .first_obj = DU_NONE };
			memcpy(a->rng + a->n_rng, c, n * sizeof(*c));
			a->n_rng += n;
			a->gtab[i] = g + 1;
			break;
		}
		gr = &a->groups[a->gtab[i] - 1];
		if (gr->hash == h && gr->n == n && same_ranges(a->rng + gr->off, c, n)) {
			g = a->gtab[i] - 1;
			break;
		}
	}
	if (a->n_objs >= DU_NONE - 1 ||
	    qs_grow((void **)&a->objs, &a->cap_objs, a->n_objs + 1, sizeof(*a->objs)) < 0)
		return -ENOMEM;
	a->objs[a->n_objs] = (struct du_obj){ .vol = a->cur_vol, .next = a->groups[g].first_obj };
	a->groups[g].first_obj = (uint32_t)a->n_objs++;
	a->n_cur = 0;
	return 0;
}

struct du_ev {
	uint64_t pos;
	uint32_t g;
	uint32_t kind;  /* bit 0: start; bit 1: the range is flagged shared */
};

static int ev_cmp(const void *x, const void *y)
{
	const struct du_ev *a = x, *b = y;

	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

struct du_set {          /* one distinct set of groups over some segments */
	uint64_t hash, len;
	size_t off;          /* into members: group << 1 | shared */
	uint32_t n;
};

struct du_sweep {
	uint32_t *cnt, *shc, *lpos;  /* per group: active ranges, shared ones, place in alist */
	uint32_t *alist;
	size_t n_active;
	uint64_t z;                  /* Zobrist hash of the active (group, shared) set */
	struct du_set *sets;
	size_t n_sets, cap_sets;
	uint32_t *members;
	size_t n_members, cap_members;
	uint32_t *stab;              /* hash table: set index + 1 */
	size_t stab_size;
};

static unsigned gstate(const struct du_sweep *s, uint32_t g)
{
	return s->cnt[g] == 0 ? 0 : s->shc[g] ? 2 : 1;
}

static uint64_t zkey(uint32_t g, unsigned st)
{
	return st ? mix64(((uint64_t)g << 2) | st) : 0;
}

static void sweep_apply(struct du_sweep *s, const struct du_ev *e)
{
	uint32_t g = e->g;
	unsigned old = gstate(s, g), now;

	if (e->kind & 1) {
		s->cnt[g]++;
		s->shc[g] += (e->kind >> 1) & 1;
	} else {
		s->cnt[g]--;
		s->shc[g] -= (e->kind >> 1) & 1;
	}
	now = gstate(s, g);
	if (old == now)
		return;
	s->z ^= zkey(g, old) ^ zkey(g, now);
	if (!old) {
		s->lpos[g] = (uint32_t)s->n_active;
		s->alist[s->n_active++] = g;
	} else if (!now) {
		uint32_t last = s->alist[--s->n_active];

		s->alist[s->lpos[g]] = last;
		s->lpos[last] = s->lpos[g];
	}
}

static int stab_grow(struct du_sweep *s)
{
	size_t size = s->stab_size ? 2 * s->stab_size : 1024;
	uint32_t *t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t k = 0; k < s->n_sets; k++) {
		size_t i = s->sets[k].hash & (size - 1);

		while (t[i])
			i = (i + 1) & (size - 1);
		t[i] = (uint32_t)k + 1;
	}
	free(s->stab);
	s->stab = t;
	s->stab_size = size;
	return 0;
}

/* The set entry for the active set now; -ENOMEM or its index. */
static int64_t sweep_set(struct du_sweep *s)
{
	size_t i;

	if (2 * (s->n_sets + 1) > s->stab_size && stab_grow(s) < 0)
		return -ENOMEM;
	for (i = s->z & (s->stab_size - 1);; i = (i + 1) & (s->stab_size - 1)) {
		const struct du_set *e;
		bool same;

		if (!s->stab[i])
			break;
		e = &s->sets[s->stab[i] - 1];
		same = e->hash == s->z && e->n == s->n_active;
		for (uint32_t k = 0; same && k < e->n; k++) {
			uint32_t m = s->members[e->off + k];

			same = gstate(s, m >> 1) == ((m & 1) ? 2u : 1u);
		}
		if (same)
			return s->stab[i] - 1;
	}
	if (s->n_sets >= DU_NONE - 1 ||
	    qs_grow((void **)&s->sets, &s->cap_sets, s->n_sets + 1, sizeof(*s->sets)) < 0 ||
	    qs_grow((void **)&s->members, &s->cap_members, s->n_members + s->n_active,
		 sizeof(*s->members)) < 0)
		return -ENOMEM;
	s->sets[s->n_sets] = (struct du_set){ .hash = s->z, .off = s->n_members,
					      .n = (uint32_t)s->n_active };
	for (size_t k = 0; k < s->n_active; k++) {
		uint32_t g = s->alist[k];

		s->members[s->n_members++] = g << 1 | (gstate(s, g) == 2);
	}
	s->stab[i] = (uint32_t)s->n_sets + 1;
	return (int64_t)s->n_sets++;
}

static void sweep_free(struct du_sweep *s)
{
	free(s->cnt);
	free(s->shc);
	free(s->lpos);
	free(s->alist);
	free(s->sets);
	free(s->members);
	free(s->stab);
}

/* Give each distinct set's length to the volumes and VMs owning it. */
static int du_distribute(const struct du_acc *a, const struct du_sweep *s, struct du_result *res)
{
	_cleanup_free_ uint32_t *vstamp = calloc(a->n_vols ? a->n_vols : 1, sizeof(uint32_t));
	_cleanup_free_ uint32_t *mstamp = calloc(a->n_vms ? a->n_vms : 1, sizeof(uint32_t));
	_cleanup_free_ uint32_t *vlist = malloc((a->n_vols ? a->n_vols : 1) * sizeof(uint32_t));
	_cleanup_free_ uint32_t *mlist = malloc((a->n_vms ? a->n_vms : 1) * sizeof(uint32_t));

	if (!vstamp || !mstamp || !vlist || !mlist)
		return -ENOMEM;
	for (size_t k = 0; k < s->n_sets; k++) {
		const struct du_set *e = &s->sets[k];
		uint32_t stamp = (uint32_t)k + 1;
		size_t nv = 0, nm = 0, nobj = 0;
		bool shared = false, outside;

		if (!e->len)
			continue;
		for (uint32_t i = 0; i < e->n; i++) {
			uint32_t m = s->members[e->off + i];

			shared |= m & 1;
			for (uint32_t o = a->groups[m >> 1].first_obj; o != DU_NONE;
			     o = a->objs[o].next) {
				uint32_t v = a->objs[o].vol, vm = a->vol_vm[v];

				nobj++;
				if (vstamp[v] != stamp) {
					vstamp[v] = stamp;
					vlist[nv++] = v;
				}
				if (mstamp[vm] != stamp) {
					mstamp[vm] = stamp;
					mlist[nm++] = vm;
				}
			}
		}
		outside = shared && nobj == 1;
		res->pool_mapped += e->len;
		if (nm > 1 || outside)
			res->pool_shared += e->len;
		for (size_t i = 0; i < nv; i++) {
			res->vol_mapped[vlist[i]] += e->len;
			if (nv == 1 && !outside)
				res->vol_excl[vlist[i]] += e->len;
		}
		for (size_t i = 0; i < nm; i++) {
			res->vm_mapped[mlist[i]] += e->len;
			if (nm == 1 && !outside)
				res->vm_excl[mlist[i]] += e->len;
		}
	}
	return 0;
}

/* res: arrays zeroed by the caller, n_vols and n_vms long. */
static int du_acc_sweep(const struct du_acc *a, struct du_result *res)
{
	_cleanup_free_ struct du_ev *ev = NULL;
	struct du_sweep s = { 0 };
	size_t n_ev = 2 * a->n_rng, i = 0;
	int64_t cur = -1;
	bool changed = true;
	int r = -ENOMEM;

	res->pool_mapped = res->pool_shared = 0;
	if (!a->n_rng)
		return 0;
	ev = malloc(n_ev * sizeof(*ev));
	s.cnt = calloc(a->n_groups, sizeof(uint32_t));
	s.shc = calloc(a->n_groups, sizeof(uint32_t));
	s.lpos = calloc(a->n_groups, sizeof(uint32_t));
	s.alist = calloc(a->n_groups, sizeof(uint32_t));
	if (!ev || !s.cnt || !s.shc || !s.lpos || !s.alist)
		goto out;
	for (size_t g = 0; g < a->n_groups; g++)
		for (size_t k = 0; k < a->groups[g].n; k++) {
			const struct du_rng *x = &a->rng[a->groups[g].off + k];

			ev[i++] = (struct du_ev){ x->start, (uint32_t)g, 1u | x->flags << 1 };
			ev[i++] = (struct du_ev){ x->end, (uint32_t)g, x->flags << 1 };
		}
	qsort(ev, n_ev, sizeof(*ev), ev_cmp);
	for (i = 0; i < n_ev;) {
		uint64_t pos = ev[i].pos;

		for (; i < n_ev && ev[i].pos == pos; i++) {
			sweep_apply(&s, &ev[i]);
			changed = true;
		}
		if (i == n_ev || !s.n_active)
			continue;
		if (changed) {
			cur = sweep_set(&s);
			if (cur < 0)
				goto out;
			changed = false;
		}
		s.sets[cur].len += ev[i].pos - pos;
	}
	r = du_distribute(a, &s, res);
out:
	sweep_free(&s);
	return r;
}

/* ===================== ext4: reclaimable ===================== */

struct du_ext4 {
	unsigned char *bits;  /* block bitmap: bit i is block first + i, 1 used */
	uint64_t bs;
	uint64_t first, n;    /* blocks the bitmap covers */
	uint64_t free_bytes;
};

/* Read the block bitmaps of path's ext2/3/4 (at offset 0), read-only, and
 * close it again (300 VMs must not mean 300 open filesystems); false when
 * it holds none, or one whose bitmaps cannot be trusted as they are on
 * disk (a journal to replay) or read simply (bigalloc). */
static bool du_ext4_open(const char *path, struct du_ext4 *e)
{
	ext2_filsys fs = NULL;
	char content[32];
	bool ok = false;

	memset(e, 0, sizeof(*e));
	qs_probe_content(path, content, sizeof(content));
	if (strcmp(content, "ext4") && strcmp(content, "ext3") && strcmp(content, "ext2"))
		return false;
	if (ext2fs_open2(path, NULL, EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0, 0,
			 unix_io_manager, &fs))
		return false;
	if (ext2fs_has_feature_journal_needs_recovery(fs->super) ||
	    ext2fs_has_feature_bigalloc(fs->super) || ext2fs_read_block_bitmap(fs))
		goto out;
	e->bs = fs->blocksize;
	e->first = fs->super->s_first_data_block;
	if (ext2fs_blocks_count(fs->super) <= e->first)
		goto out;
	e->n = ext2fs_blocks_count(fs->super) - e->first;
	e->bits = malloc((e->n + 7) / 8);
	if (!e->bits)
		goto out;
	if (ext2fs_get_block_bitmap_range2(fs->block_map, e->first, e->n, e->bits)) {
		free(e->bits);
		e->bits = NULL;
		goto out;
	}
	ok = true;
out:
	ext2fs_close_free(&fs);
	return ok;
}

static void du_ext4_close(struct du_ext4 *e)
{
	free(e->bits);
	e->bits = NULL;
}

/* Bytes of [lo, hi) (offsets in the volume) whose block is free. */
static void du_ext4_count(struct du_ext4 *e, uint64_t lo, uint64_t hi)
{
	uint64_t i, last;

	if (lo < e->first * e->bs)
		lo = e->first * e->bs;
	if (hi > (e->first + e->n) * e->bs)
		hi = (e->first + e->n) * e->bs;
	if (lo >= hi)
		return;
	last = (hi - 1) / e->bs - e->first;
	for (i = lo / e->bs - e->first; i <= last;) {
		uint64_t a, b;

		if (!(i & 7) && i + 7 <= last && e->bits[i >> 3] == 0xff) {
			i += 8;  /* all used */
			continue;
		}
		if (!(e->bits[i >> 3] & (1u << (i & 7)))) {
			a = (e->first + i) * e->bs;
			b = a + e->bs;
			e->free_bytes += (b < hi ? b : hi) - (a > lo ? a : lo);
		}
		i++;
	}
}

/* ===================== the pools ===================== */

/* One pool's objects, for the extents op and its callback. */
struct du_walk {
	struct du_acc *acc;
	uint32_t *vol_of;        /* per object: the volume (index in the pool) */
	struct du_ext4 **ext4;   /* per object: non-NULL to count reclaimable */
	size_t cur;              /* the object being collected, SIZE_MAX none */
	struct du_rec *rec;      /* per object: kept ranges, for its aliases */
};

/* The ranges of an object other objects are known to equal (a precache is
 * a clone of its source's committed state, never written): walked once,
 * replayed for each alias. Saves a FIEMAP walk per stopped app VM. */
struct du_rec {
	bool keep;
	struct du_rng *v;
	size_t n, cap;
};

struct du_alias {
	uint32_t vol;            /* the alias's volume (index in the pool) */
	size_t src;              /* index of the object it equals */
};

static int du_walk_cb(void *p, size_t obj, uint64_t logical, uint64_t phys, uint64_t len,
		      unsigned flags)
{
	struct du_walk *w = p;
	int r;

	if (obj != w->cur) {
		/* the driver reports objects in order, each in one go */
		if (w->cur != SIZE_MAX) {
			if (obj < w->cur)
				return -EINVAL;
			if ((r = du_acc_end(w->acc)) < 0)
				return r;
		}
		du_acc_begin(w->acc, w->vol_of[obj]);
		w->cur = obj;
	}
	if (w->ext4[obj])
		du_ext4_count(w->ext4[obj], logical, logical + len);
	if (w->rec[obj].keep) {
		struct du_rec *k = &w->rec[obj];

		if (qs_grow((void **)&k->v, &k->cap, k->n + 1, sizeof(*k->v)) < 0)
			return -ENOMEM;
		k->v[k->n++] = (struct du_rng){ phys, phys + len, flags & QS_EXTENT_SHARED };
	}
	return du_acc_add(w->acc, phys, len, flags);
}

/* What du knows of the catalog: every volume (ordered by VM), and which VM
 * (run of volumes) each belongs to. */
struct du_ctx {
	qstor *q;
	struct qs_vol *vols;
	size_t n_vols;
	uint32_t *vm_of;        /* per volume: index of its VM's run */
	size_t n_vms;           /* runs */
	qstor_du_volume **out;  /* per volume: its result, NULL if not asked */
	uint64_t *vm_mapped, *vm_excl;  /* per run, summed over pools */
};

static void set_size(qstor_du_volume *dv, const struct qs_objs *o)
{
	const struct qs_objinfo *cur = qs_objs_find(o, QS_RUNNING);

	if (!cur)
		cur = qs_objs_find(o, QS_COMMITTED);
	if (cur && cur->size)
		dv->size = cur->size;
}

struct du_objs {
	struct qs_obj *v;
	uint32_t *vol_of;
	struct du_ext4 **ext4;
	size_t n, cap, cap_vol, cap_ext4;
};

static void du_objs_free(struct du_objs *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->ext4[i]) {
			du_ext4_close(o->ext4[i]);
			free(o->ext4[i]);
		}
	free(o->v);
	free(o->vol_of);
	free(o->ext4);
}

/* The exact path: every object of every volume in pool, in one call. */
static int du_pool_exact(struct du_ctx *c, struct qs_pool *pool, qstor_du_pool *tot,
			 qstor_error *err)
{
	_cleanup_free_ size_t *idx = calloc(c->n_vols ? c->n_vols : 1, sizeof(size_t));
	_cleanup_free_ uint32_t *vol_vm = NULL;
	struct du_objs objs = { 0 };
	struct du_result res = { 0 };
	struct du_walk w;
	struct du_acc acc;
	struct du_alias *aliases = NULL;
	struct du_rec *rec = NULL;
	size_t n = 0, n_alias = 0, cap_alias = 0, n_walked = 0;
	int r = -ENOMEM;

	if (!idx)
		return qs_err(err, -ENOMEM, "out of memory");
	/* only reads from here on: one check that the driver's view is current */
	if (pool->drv->read_batch)
		pool->drv->read_batch(pool, true);
	for (size_t i = 0; i < c->n_vols; i++)
		if (strcmp(c->vols[i].pool, pool->name) == 0)
			idx[n++] = i;
	vol_vm = calloc(n ? n : 1, sizeof(*vol_vm));
	res.vol_mapped = calloc(n ? n : 1, sizeof(uint64_t));
	res.vol_excl = calloc(n ? n : 1, sizeof(uint64_t));
	res.vm_mapped = calloc(c->n_vms ? c->n_vms : 1, sizeof(uint64_t));
	res.vm_excl = calloc(c->n_vms ? c->n_vms : 1, sizeof(uint64_t));
	du_acc_init(&acc, n, vol_vm, c->n_vms);
	if (!vol_vm || !res.vol_mapped || !res.vol_excl || !res.vm_mapped || !res.vm_excl)
		goto nomem;
	/* the objects: one list per volume; the temporaries of a vid are one
	 * object; the ext4 of committed states asked about, opened first */
	for (size_t k = 0; k < n; k++) {
		const struct qs_vol *v = &c->vols[idx[k]];
		qstor_du_volume *dv = c->out[idx[k]];
		struct qs_objs o;
		bool tmp_done = false;

		vol_vm[k] = c->vm_of[idx[k]];
		if ((r = qs_objs_read(pool, v->vid, &o, err)) < 0)
			goto out;
		if (dv)
			set_size(dv, &o);
		for (size_t j = 0; j < o.n; j++) {
			struct qs_obj x = { .vid = v->vid, .role = o.v[j].role,
					    .rev_key = o.v[j].rev_key, .rev_time = o.v[j].rev_time };
			struct du_ext4 *e4 = NULL;

			if (x.role == QS_TMP) {
				if (tmp_done)
					continue;
				tmp_done = true;
			}
			if (x.role == QS_PRECACHE && v->precache_gen >= 0) {
				/* resolved to an object index once all are listed */
				if (qs_grow((void **)&aliases, &cap_alias, n_alias + 1,
					 sizeof(*aliases)) < 0) {
					qs_objs_free(&o);
					goto nomem;
				}
				aliases[n_alias++] = (struct du_alias){ .vol = (uint32_t)k,
									.src = objs.n };
				/* listed like any object until resolved */
			}
			if (dv && x.role == QS_COMMITTED && pool->drv->path) {
				char path[4096];

				e4 = malloc(sizeof(*e4));
				if (!e4) {
					qs_objs_free(&o);
					goto nomem;
				}
				if (pool->drv->path(pool, &x, path, sizeof(path), NULL) < 0 ||
				    !du_ext4_open(path, e4)) {
					free(e4);
					e4 = NULL;
				}
			}
			if (qs_grow((void **)&objs.v, &objs.cap, objs.n + 1, sizeof(*objs.v)) < 0 ||
			    qs_grow((void **)&objs.vol_of, &objs.cap_vol, objs.n + 1,
				 sizeof(*objs.vol_of)) < 0 ||
			    qs_grow((void **)&objs.ext4, &objs.cap_ext4, objs.n + 1,
				 sizeof(*objs.ext4)) < 0) {
				if (e4) {
					du_ext4_close(e4);
					free(e4);
				}
				qs_objs_free(&o);
				goto nomem;
			}
			objs.v[objs.n] = x;  /* x.vid lives in c->vols */
			objs.vol_of[objs.n] = (uint32_t)k;
			objs.ext4[objs.n++] = e4;
		}
		qs_objs_free(&o);
	}
	/* a valid precache equals its source's committed object: drop it from
	 * the walk and replay the source's ranges for it */
	rec = calloc(objs.n ? objs.n : 1, sizeof(*rec));
	if (!rec)
		goto nomem;
	for (size_t a = 0; a < n_alias; a++) {
		const struct qs_vol *v = &c->vols[idx[aliases[a].vol]];
		const char *svid = NULL;

		if (v->save_on_stop && v->precache_gen == v->gen) {
			svid = v->vid;
		} else if (v->snap_on_start) {
			for (size_t k = 0; k < n; k++) {
				const struct qs_vol *sv = &c->vols[idx[k]];

				if (!strcmp(sv->vm, v->source_vm) && !strcmp(sv->name, v->source_vol) &&
				    v->precache_gen == sv->gen)
					svid = sv->vid;
			}
		}
		aliases[a].src = SIZE_MAX;
		for (size_t i = 0; svid && i < objs.n; i++)
			if (objs.v[i].role == QS_COMMITTED && !strcmp(objs.v[i].vid, svid))
				aliases[a].src = i;
	}
	{
		/* compact: remove resolved aliases' own precache objects */
		size_t m = 0, a = 0;
		size_t *newidx = calloc(objs.n ? objs.n : 1, sizeof(size_t));

		if (!newidx)
			goto nomem;
		for (size_t i = 0; i < objs.n; i++) {
			bool drop = false;

			for (a = 0; a < n_alias; a++)
				if (aliases[a].src != SIZE_MAX && objs.v[i].role == QS_PRECACHE &&
				    objs.vol_of[i] == aliases[a].vol)
					drop = true;
			newidx[i] = m;
			if (drop)
				continue;
			objs.v[m] = objs.v[i];
			objs.vol_of[m] = objs.vol_of[i];
			objs.ext4[m] = objs.ext4[i];
			m++;
		}
		for (a = 0; a < n_alias; a++)
			if (aliases[a].src != SIZE_MAX) {
				aliases[a].src = newidx[aliases[a].src];
				rec[aliases[a].src].keep = true;
			}
		objs.n = m;
		free(newidx);
	}
	w = (struct du_walk){ .acc = &acc, .vol_of = objs.vol_of, .ext4 = objs.ext4,
			      .cur = SIZE_MAX, .rec = rec };
	r = pool->drv->extents(pool, objs.v, objs.n, du_walk_cb, &w, err);
	if (r == 0 && w.cur != SIZE_MAX)
		r = du_acc_end(&acc);
	for (size_t a = 0; r == 0 && a < n_alias; a++) {
		const struct du_rec *k;

		if (aliases[a].src == SIZE_MAX)
			continue;
		k = &rec[aliases[a].src];
		du_acc_begin(&acc, aliases[a].vol);
		for (size_t i = 0; r == 0 && i < k->n; i++)
			r = du_acc_add(&acc, k->v[i].start, k->v[i].end - k->v[i].start, k->v[i].flags);
		if (r == 0)
			r = du_acc_end(&acc);
	}
	if (r == 0)
		r = du_acc_sweep(&acc, &res);
	if (r == -ENOMEM)
		goto nomem;
	if (r != 0) {
		/* the driver said why; a bad order from it is ours to say */
		if (r == -EINVAL && (!err || !err->code))
			qs_err(err, r, "cannot measure pool '%s': extents out of order",
			       pool->name);
		r = r < 0 ? r : -EIO;
		goto out;
	}
	for (size_t i = 0; i < objs.n; i++) {
		qstor_du_volume *dv = c->out[idx[objs.vol_of[i]]];

		if (objs.ext4[i] && dv)
			dv->reclaimable = objs.ext4[i]->free_bytes;
	}
	for (size_t k = 0; k < n; k++) {
		qstor_du_volume *dv = c->out[idx[k]];

		if (!dv)
			continue;
		dv->mapped = res.vol_mapped[k];
		dv->exclusive = res.vol_excl[k];
		dv->shared = dv->mapped - dv->exclusive;
	}
	for (size_t m = 0; m < c->n_vms; m++) {
		c->vm_mapped[m] += res.vm_mapped[m];
		c->vm_excl[m] += res.vm_excl[m];
		tot->vm_exclusive += res.vm_excl[m];
	}
	tot->exact = true;
	tot->mapped = res.pool_mapped;
	tot->shared = res.pool_shared;
	r = 0;
	goto out;
nomem:
	r = qs_err(err, -ENOMEM, "cannot measure pool '%s': %s", pool->name, strerror(ENOMEM));
out:
	n_walked = objs.n;
	for (size_t i = 0; rec && i < n_walked; i++)
		free(rec[i].v);
	free(rec);
	free(aliases);
	du_objs_free(&objs);
	du_acc_free(&acc);
	free(res.vol_mapped);
	free(res.vol_excl);
	free(res.vm_mapped);
	free(res.vm_excl);
	if (pool->drv->read_batch)
		pool->drv->read_batch(pool, false);
	return r;
}

/* The fallback: the driver's per-object usage, for the volumes asked
 * about; the VMs' set figures per run. */
static int du_pool_usage(struct du_ctx *c, struct qs_pool *pool, qstor_error *err)
{
	struct qs_obj *all = NULL;
	struct qs_usage *u = NULL;
	size_t n_all = 0, cap = 0;
	int r = 0;

	for (size_t i = 0; i <= c->n_vols; i++) {
		const struct qs_vol *v = i < c->n_vols ? &c->vols[i] : NULL;
		qstor_du_volume *dv = v ? c->out[i] : NULL;
		struct qs_objs o;

		/* end of a VM's run: its set figure over the objects gathered */
		if (n_all && (!v || c->vm_of[i] != c->vm_of[i - 1])) {
			uint64_t set = 0;

			free(u);
			u = calloc(n_all, sizeof(*u));
			if (!u) {
				r = qs_err(err, -ENOMEM, "out of memory");
				break;
			}
			if (pool->drv->usage(pool, all, n_all, u, &set, NULL) == 0)
				c->vm_excl[c->vm_of[i - 1]] += set;
			n_all = 0;
		}
		if (!dv || strcmp(v->pool, pool->name) != 0)
			continue;
		if ((r = qs_objs_read(pool, v->vid, &o, err)) < 0)
			break;
		set_size(dv, &o);
		{
			const struct qs_objinfo *cur = qs_objs_find(&o, QS_RUNNING);
			struct qs_usage one = { 0 };

			if (!cur)
				cur = qs_objs_find(&o, QS_COMMITTED);
			if (cur) {
				struct qs_obj x = { .vid = v->vid, .role = cur->role };

				if (pool->drv->usage(pool, &x, 1, &one, NULL, NULL) == 0) {
					dv->mapped = one.mapped;
					dv->exclusive = one.exclusive;
					dv->shared = one.mapped > one.exclusive ?
						     one.mapped - one.exclusive : 0;
				}
			}
		}
		c->vm_mapped[c->vm_of[i]] += dv->mapped;
		for (size_t k = 0; k < o.n && r == 0; k++) {
			/* the vid lives in c->vols, which outlives all[] */
			if (qs_grow((void **)&all, &cap, n_all + 1, sizeof(*all)) < 0) {
				r = qs_err(err, -ENOMEM, "out of memory");
				break;
			}
			all[n_all++] = (struct qs_obj){ .vid = v->vid, .role = o.v[k].role,
							.rev_key = o.v[k].rev_key,
							.rev_time = o.v[k].rev_time };
		}
		qs_objs_free(&o);
		if (r < 0)
			break;
	}
	free(all);
	free(u);
	return r;
}

static int du_pool(struct du_ctx *c, const char *name, qstor_du_pool *tot, qstor_error *err)
{
	struct qs_pool *pool;
	int r = qs_pool_get(c->q, name, &pool, err);

	if (r < 0)
		return r;
	memset(tot, 0, sizeof(*tot));
	snprintf(tot->pool, sizeof(tot->pool), "%s", name);
	if (pool->drv->pool_usage) {
		struct qs_pool_usage u = { 0 };

		if (pool->drv->pool_usage(pool, &u, NULL) == 0) {
			tot->data_size = u.data_size;
			tot->data_used = u.data_used;
			tot->meta_size = u.meta_size;
			tot->meta_used = u.meta_used;
		}
	}
	if (pool->drv->extents)
		return du_pool_exact(c, pool, tot, err);
	if (pool->drv->usage)
		return du_pool_usage(c, pool, err);
	return 0;
}

static int vm_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct qs_vol *)elem)->vm);
}

int qstor_du(qstor *q, const char *const *names, size_t n, qstor_du_vm **ret, size_t *ret_n,
	     qstor_error *err)
{
	struct qs_vm *vms = NULL;
	size_t nvms = 0, n_pools = 0;
	qstor_du_vm *out = NULL;
	qstor_du_pool *pools = NULL;
	struct du_ctx c = { .q = q };
	size_t *run_start = NULL;
	uint32_t *run_of_out = NULL;
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
	if ((r = qs_cat_vol_list(q->db, NULL, NULL, &c.vols, &c.n_vols, err)) < 0)
		goto out;
	out = calloc(nvms ? nvms : 1, sizeof(*out));
	run_of_out = calloc(nvms ? nvms : 1, sizeof(*run_of_out));
	c.vm_of = calloc(c.n_vols ? c.n_vols : 1, sizeof(*c.vm_of));
	c.out = calloc(c.n_vols ? c.n_vols : 1, sizeof(*c.out));
	run_start = calloc(c.n_vols + 1, sizeof(*run_start));
	pools = calloc(c.n_vols ? c.n_vols : 1, sizeof(*pools));
	if (!out || !run_of_out || !c.vm_of || !c.out || !run_start || !pools)
		goto nomem;
	/* the volumes come ordered by VM: one run per VM */
	for (size_t i = 0; i < c.n_vols; i++) {
		if (i && strcmp(c.vols[i].vm, c.vols[i - 1].vm) != 0)
			run_start[++c.n_vms] = i;
		c.vm_of[i] = (uint32_t)c.n_vms;
	}
	if (c.n_vols)
		c.n_vms++;
	run_start[c.n_vms] = c.n_vols;
	c.vm_mapped = calloc(c.n_vms ? c.n_vms : 1, sizeof(uint64_t));
	c.vm_excl = calloc(c.n_vms ? c.n_vms : 1, sizeof(uint64_t));
	if (!c.vm_mapped || !c.vm_excl)
		goto nomem;
	/* the results asked for, and the pools they are in */
	for (size_t i = 0; i < nvms; i++) {
		qstor_du_vm *d = &out[i];
		const struct qs_vol *first = NULL;
		size_t lo = 0, hi = 0;

		snprintf(d->vm, sizeof(d->vm), "%s", vms[i].name);
		/* SQLite orders names bytewise, as strcmp does */
		if (c.n_vols)
			first = bsearch(vms[i].name, c.vols, c.n_vols, sizeof(*c.vols),
					vm_name_cmp);
		if (first) {
			run_of_out[i] = c.vm_of[first - c.vols];
			lo = run_start[run_of_out[i]];
			hi = run_start[run_of_out[i] + 1];
		}
		d->volumes = calloc(hi - lo ? hi - lo : 1, sizeof(*d->volumes));
		if (!d->volumes)
			goto nomem;
		for (size_t k = lo; k < hi; k++) {
			qstor_du_volume *dv = &d->volumes[d->n_volumes++];
			bool seen = false;

			snprintf(dv->vm, sizeof(dv->vm), "%s", c.vols[k].vm);
			snprintf(dv->volume, sizeof(dv->volume), "%s", c.vols[k].name);
			snprintf(dv->pool, sizeof(dv->pool), "%s", c.vols[k].pool);
			dv->size = c.vols[k].size;
			c.out[k] = dv;
			for (size_t p = 0; p < n_pools && !seen; p++)
				seen = strcmp(pools[p].pool, c.vols[k].pool) == 0;
			if (!seen)
				snprintf(pools[n_pools++].pool, sizeof(pools->pool), "%s",
					 c.vols[k].pool);
		}
	}
	for (size_t p = 0; p < n_pools; p++) {
		char name[QSTOR_NAME_MAX + 1];

		snprintf(name, sizeof(name), "%s", pools[p].pool);
		if ((r = du_pool(&c, name, &pools[p], err)) < 0)
			goto out;
	}
	/* per VM: sums, the union and set figures of its run, its pools */
	for (size_t i = 0; i < nvms; i++) {
		qstor_du_vm *d = &out[i];

		if (!d->n_volumes)
			continue;
		d->pools = calloc(n_pools, sizeof(*d->pools));
		if (!d->pools)
			goto nomem;
		for (size_t k = 0; k < d->n_volumes; k++) {
			const qstor_du_volume *dv = &d->volumes[k];
			bool seen = false;

			d->size += dv->size;
			d->exclusive += dv->exclusive;
			for (size_t p = 0; p < d->n_pools && !seen; p++)
				seen = strcmp(d->pools[p].pool, dv->pool) == 0;
			for (size_t p = 0; p < n_pools && !seen; p++)
				if (strcmp(pools[p].pool, dv->pool) == 0) {
					d->pools[d->n_pools++] = pools[p];
					break;
				}
		}
		d->mapped = c.vm_mapped[run_of_out[i]];
		d->vm_exclusive = c.vm_excl[run_of_out[i]];
		d->shared = d->mapped > d->exclusive ? d->mapped - d->exclusive : 0;
	}
	*ret = out;
	*ret_n = nvms;
	out = NULL;
	r = 0;
	goto out;
nomem:
	r = qs_err(err, -ENOMEM, "out of memory");
out:
	qstor_du_free(out, nvms);
	free(pools);
	free(run_start);
	free(run_of_out);
	free(c.vm_of);
	free(c.out);
	free(c.vm_mapped);
	free(c.vm_excl);
	free(c.vols);
	free(vms);
	return r;
}

void qstor_du_free(qstor_du_vm *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].volumes);
		free(v[i].pools);
	}
	free(v);
}
