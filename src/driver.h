/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver.h - the ops table a storage driver implements.
 *
 * The volume state machine (what start, stop, revert, import, clone mean)
 * lives once, in src/volume.c. A driver only knows how to name, create,
 * snapshot, rename, remove, resize, list and activate *objects*.
 *
 * An object is one state of a volume, addressed by the volume's vid (the
 * driver made it with make_vid, e.g. "qubes_dom0/vm-work-private" or
 * "appvms/work/private") and a role:
 *
 *   role          lvm_thin LV name            file-reflink file
 *   COMMITTED     vm-NAME-VOL                 VOL.img
 *   RUNNING       vm-NAME-VOL-snap            VOL-dirty.img
 *   IMPORT        vm-NAME-VOL-import          VOL-import.img
 *   REVISION      vm-NAME-VOL-<key>-back      VOL.img.<key>@<iso time>
 *   PRECACHE      (not used)                  VOL-precache.img
 *   TMP           vm-NAME-VOL-tmp             VOL.img~tmp
 *
 * Every op returns 0 or a negative errno, and on failure fills err (may be
 * NULL) with a message naming the object. Ops are called with the VM's lock
 * held; drivers need no locking of their own except for process-wide
 * resources (the liblvm2cmd handle, the loop-control race).
 */
#ifndef QSTOR_DRIVER_H
#define QSTOR_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "qstor.h"

enum qs_role {
	QS_COMMITTED,
	QS_RUNNING,
	QS_IMPORT,
	QS_REVISION,
	QS_PRECACHE,
	QS_TMP,
};

struct qs_obj {
	const char *vid;
	enum qs_role role;
	uint64_t rev_key;   /* REVISION: ordering key (lvm: unix time; reflink: N) */
	int64_t rev_time;   /* REVISION: unix time (reflink encodes it in the name) */
};

/* One object found on disk for a vid. */
struct qs_objinfo {
	enum qs_role role;
	uint64_t rev_key;
	int64_t rev_time;
	char rev_id[64];      /* REVISION: user-facing id ("1700000000-back", "3") */
	uint64_t size;        /* virtual bytes */
	bool active;          /* has a block device now */
};

/* Usage of one object, from the pool itself (thin metadata / extent maps). */
struct qs_usage {
	uint64_t mapped;      /* bytes referenced */
	uint64_t exclusive;   /* bytes referenced by no other object in the pool */
};

struct qs_pool_usage {
	uint64_t data_size, data_used;
	uint64_t meta_size, meta_used;   /* 0, 0 where the driver has none */
};

struct qs_pool;

/* One range objs[obj] references, for the extents op. */
#define QS_EXTENT_SHARED 1u
typedef int (*qs_extent_cb)(void *ctx, size_t obj, uint64_t logical, uint64_t phys,
			    uint64_t len, unsigned flags);

struct qs_driver {
	const char *name;                 /* "file-reflink", "lvm_thin" */
	size_t instance_size;             /* bytes of pool->priv, zeroed by core */
	const char *const *options;       /* every option key it knows, NULL-terminated */
	const char *const *required;      /* keys that must be given */
	bool wants_precache;              /* clones cost O(extents): prepare at stop */
	bool rev_key_is_time;             /* new revision key = max(now, last + 1) */
	bool volatile_stays_active;       /* stop leaves a volatile's emptied device
					   * active (free to keep; saves the
					   * deactivate at stop and the activate
					   * at the next start) */

	/* Parse and check pool->options. setup=true when the pool is being
	 * added or changed: check it really exists and is usable (VG and thin
	 * pool exist; directory exists and has reflinks). Must not create
	 * anything on disk except the pool's own directory skeleton. */
	int (*pool_open)(struct qs_pool *pool, bool setup, qstor_error *err);
	void (*pool_close)(struct qs_pool *pool);
	int (*pool_usage)(struct qs_pool *pool, struct qs_pool_usage *ret, qstor_error *err);
	/* Optional: make space that removals already gave back visible to
	 * pool_usage (filesystems free unlinked files' blocks in the
	 * background). Called only before a "pool is full" refusal. */
	void (*pool_settle)(struct qs_pool *pool);

	/* The vid of a volume; template VMs may live elsewhere (reflink:
	 * vm-templates/ vs appvms/). Pure function of its arguments. */
	int (*make_vid)(struct qs_pool *pool, const char *vm, const char *vol,
			bool is_template, char *buf, size_t len, qstor_error *err);

	/* Every object of vid (temporaries as role TMP), any order; *ret is
	 * malloc'd (NULL when none). Must never report another volume's objects
	 * (VM "x-root" is not VM "x"'s root). */
	int (*list)(struct qs_pool *pool, const char *vid, struct qs_objinfo **ret,
		    size_t *ret_n, qstor_error *err);

	/* New empty (all-zero) object. Fails with -EEXIST if it exists. */
	int (*create)(struct qs_pool *pool, const struct qs_obj *obj, uint64_t size,
		      qstor_error *err);
	/* Copy-on-write copy of src (which may be another vid, even another
	 * VM's) to dst. dst must not exist. Durable on return. Removes any
	 * partial dst on error. */
	int (*snapshot)(struct qs_pool *pool, const struct qs_obj *src,
			const struct qs_obj *dst, qstor_error *err);
	/* Atomic rename; to must not exist (-EEXIST). Durable on return. */
	int (*rename)(struct qs_pool *pool, const struct qs_obj *from,
		      const struct qs_obj *to, qstor_error *err);
	/* Remove objs (deactivating them first); absent ones are not an error.
	 * Several at once so a driver can batch (one lvremove). */
	int (*remove)(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		      qstor_error *err);
	/* New virtual size; obj may be active (then the device grows too). */
	int (*resize)(struct qs_pool *pool, const struct qs_obj *obj, uint64_t size,
		      qstor_error *err);
	/* Make obj a block device; path written on success. Idempotent. */
	int (*activate)(struct qs_pool *pool, const struct qs_obj *obj, bool rw,
			char *path, size_t len, qstor_error *err);
	/* Release the block device; not active is not an error. */
	int (*deactivate)(struct qs_pool *pool, const struct qs_obj *obj,
			  qstor_error *err);
	/* Optional: make an object all zeros again, cheaper than remove +
	 * create (lvm: discard all blocks). NULL: core removes and creates. */
	int (*reset)(struct qs_pool *pool, const struct qs_obj *obj, uint64_t size,
		     qstor_error *err);
	/* Optional: usage of each obj from the pool itself; exclusive counted
	 * against every other object in the pool. set_exclusive: bytes that
	 * no object outside objs references (what removing them all frees). */
	int (*usage)(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		     struct qs_usage *ret, uint64_t *ret_set_exclusive,
		     qstor_error *err);
	/* Optional: a path that reads the object (export, probe) without
	 * activating it for a VM; NULL: core uses activate(rw=false). */
	int (*path)(struct qs_pool *pool, const struct qs_obj *obj, char *buf,
		    size_t len, qstor_error *err);
	/* Optional (du): cb(i, logical, phys, len, flags) for every range
	 * objs[i] references, objs[0]'s first, then objs[1]'s...; phys in one
	 * address space per pool, all objs seen at one time if the pool can
	 * (lvm: one metadata snapshot); QS_EXTENT_SHARED: the pool says
	 * something else (maybe another of objs) references it too. Role TMP:
	 * all temporaries of the vid. Absent: no ranges. A non-zero cb return
	 * stops the walk and is returned. */
	int (*extents)(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		       qs_extent_cb cb, void *ctx, qstor_error *err);
	/* Optional: between read_batch(true) and read_batch(false) the core
	 * only reads (du lists every volume of the pool, then its extents):
	 * the driver may check once that its view of the pool is current
	 * instead of at every call (lvm: the VG seqno on disk). */
	void (*read_batch)(struct qs_pool *pool, bool on);
};

struct qs_pool {
	char name[QSTOR_NAME_MAX + 1];
	const struct qs_driver *drv;
	qstor_kv *options;
	size_t n_options;
	int revisions_to_keep;       /* pool default, option revisions_to_keep */
	double reserve_data;         /* fraction kept free, option reserve_data */
	double reserve_meta;         /* option reserve_metadata */
	bool ephemeral_volatile;     /* option ephemeral_volatile: volatiles default to ephemeral */
	void *priv;                  /* drv->instance_size bytes */
};

/* Value of option key, NULL if not given. */
const char *qs_pool_opt(const struct qs_pool *pool, const char *key);

/* Fill err (if non-NULL) with code and a formatted message; returns code. */
int qs_err(qstor_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Named crash point for fault tests: if $QSTOR_CRASH_AT equals name, the
 * process aborts here; if $QSTOR_CRASH_LOG names a file, name is appended. */
void qs_crash_point(const char *name);

/* Registered drivers (src/drivers.c) */
extern const struct qs_driver qs_driver_file_reflink;
extern const struct qs_driver qs_driver_lvm_thin;
const struct qs_driver *qs_driver_find(const char *name);

#endif
