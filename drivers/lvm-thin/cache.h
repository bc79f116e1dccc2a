/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cache.h - the pool's LVs as the driver knows them, from ONE lvs report,
 * kept until the VG's metadata changes.
 *
 * - Loaded lazily by the first op that needs it (list, remove, usage, pool
 *   setup), by one lvm2_run of lvt_cmd_report().
 * - Valid while the VG's seqno on disk equals the seqno it reflects. The
 *   seqno is read straight from a PV's metadata area (vgseqno.h: three
 *   O_DIRECT reads, no LVM scan), using the PVs the report named. A change
 *   by another process (another VM's start, an admin's lvcreate) moves the
 *   seqno and the next use reloads the report.
 * - Our own changes do not reload it: after each successful lvm2_run the
 *   driver edits the entries (add, rename, remove, resize) and adopts the
 *   seqno now on disk. A command of another process that commits between
 *   our command and that read is missed until the seqno moves again; the
 *   VM lock keeps other processes away from this VM's own LVs, so what
 *   could be missed is another VM's change.
 *   Adopting is exact: LVM moves the seqno by a fixed step per command
 *   (lvm 2.03: create and snapshot 2, rename 1, resize 1, remove 2 per
 *   LV), so the seqno on disk must be ours plus that step; any other value
 *   means someone else committed too, and the cache is dropped.
 * - A failed command, or a PV we cannot read, drops the cache: the next use
 *   reloads (correct, only slower).
 * - The VG's uuid (from the same metadata text) is checked with the seqno:
 *   a VG made again under the same name starts its seqno afresh.
 * The cache lives in the pool's priv, and is kept across processes (each
 * qstor command is one) in $QSTOR_LVM_CACHE_DIR/VG.cache (default
 * /run/qstor-lvm; "" turns it off), written after each load and adopt, and
 * read back instead of a report when its seqno and uuid are those on disk.
 * So a VM's start or stop runs no report unless something else changed the
 * VG since the last qstor command.
 */
#ifndef LVT_CACHE_H
#define LVT_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "qstor.h"
#include "report.h"
#include "vgseqno.h"

struct lvt_cache {
	bool loaded;
	bool seqno_known;          /* false: no readable PV, reload on each use */
	uint64_t seqno;
	char id[LVT_VG_ID_LEN];    /* VG uuid, "" if unknown */
	struct lvt_report rep;
	unsigned long loads;       /* reports run (for tests and cost figures) */
};

/* Run the report now and replace the cache. err: "cannot list 'VG': ...";
 * -ENOENT when the VG does not exist. */
int lvt_cache_load(struct lvt_cache *c, const char *vg, qstor_error *err);
/* Make sure the cache reflects the disk: load it, or reload it when the
 * on-disk seqno moved. */
int lvt_cache_fresh(struct lvt_cache *c, const char *vg, qstor_error *err);
void lvt_cache_drop(struct lvt_cache *c);
void lvt_cache_free(struct lvt_cache *c);

const struct lvt_lv *lvt_cache_find(const struct lvt_cache *c, const char *lv);

/* After one of our own successful commands: edit the entries, then adopt
 * the seqno on disk (lvt_cache_adopt). Each returns false (and drops the
 * cache) when it cannot keep it exact. */
bool lvt_cache_add(struct lvt_cache *c, const struct lvt_lv *lv);
bool lvt_cache_rename(struct lvt_cache *c, const char *from, const char *to);
void lvt_cache_remove(struct lvt_cache *c, const char *lv);
bool lvt_cache_resize(struct lvt_cache *c, const char *lv, uint64_t size);
void lvt_cache_adopt(struct lvt_cache *c, const char *vg, unsigned step);

/* The seqno steps of our commands (see above). */
#define LVT_STEP_CREATE 2
#define LVT_STEP_RENAME 1
#define LVT_STEP_RESIZE 1
#define LVT_STEP_REMOVE 2   /* per LV */

/* size as LVM will make it: rounded up to the VG's extent size (known
 * from the report; sectors otherwise). */
uint64_t lvt_cache_round(const struct lvt_cache *c, uint64_t size);

/* The on-disk seqno (and uuid, id may be NULL) of vg read from the
 * report's PVs. */
int lvt_cache_disk_seqno(const struct lvt_cache *c, const char *vg, uint64_t *ret,
			 char *id, size_t idlen);

/* The file kept across processes: write the cache there / read it back
 * (0 only if its seqno and uuid are those on disk). */
void lvt_cache_save(const struct lvt_cache *c, const char *vg);
int lvt_cache_restore(struct lvt_cache *c, const char *vg);

#endif
