/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The core's own declarations: the handle, pools, locks, the state machine. */
#ifndef QSTOR_CORE_H
#define QSTOR_CORE_H

#include <sqlite3.h>

#include "catalog.h"
#include "driver.h"
#include "internal.h"

#define QS_MAX_POOLS 32

struct qstor {
	char *state_dir;
	sqlite3 *db;
	struct qs_pool *pools[QS_MAX_POOLS];  /* opened on first use */
	size_t n_pools;
	char boot_id[40];
};

/* ---- pools (pool.c) ---- */
int qs_pool_get(qstor *q, const char *name, struct qs_pool **ret, qstor_error *err);
/* Refuse when the pool's free data (after need more bytes) or metadata
 * would fall under its reserve. what: the operation, for the message. */
int qs_reserve_check(struct qs_pool *pool, uint64_t need, const char *what, qstor_error *err);
/* Refuse a volume size the pool can never hold. */
int qs_size_check(struct qs_pool *pool, uint64_t size, const char *what, qstor_error *err);

/* ---- locks (lock.c): one flock per VM ---- */
int qs_lock_vm(qstor *q, const char *vm, bool shared, int *ret_fd, qstor_error *err);
void qs_unlock(int *fd);

/* ---- the volume state machine (volume.c) ---- */

/* What is on disk for one volume, read once per operation. */
struct qs_objs {
	struct qs_objinfo *v;
	size_t n;
};
int qs_objs_read(struct qs_pool *pool, const char *vid, struct qs_objs *ret, qstor_error *err);
void qs_objs_free(struct qs_objs *o);
const struct qs_objinfo *qs_objs_find(const struct qs_objs *o, enum qs_role role);
const struct qs_objinfo *qs_objs_newest_rev(const struct qs_objs *o);

int qs_vol_rtk(const struct qs_pool *pool, const struct qs_vol *v);

/* Clean temporaries and leftovers of an interrupted admin operation, and
 * bring back a missing committed state. Never touches a running copy of an
 * origin (that is the VM's data: start reuses it, stop or recover commits
 * it). vm_running: the VM is started. ret_fixed: incremented per repair. */
int qs_vol_fixup(qstor *q, struct qs_vol *v, bool vm_running, unsigned *ret_fixed,
		 qstor_error *err);
int qs_vol_create(qstor *q, struct qs_vol *v, bool *ret_adopted, qstor_error *err);
int qs_vol_start(qstor *q, struct qs_vol *v, qstor_device *ret, qstor_error *err);
/* Undo a start that failed half-way: drop what start made. */
void qs_vol_unstart(qstor *q, struct qs_vol *v);
int qs_vol_stop(qstor *q, struct qs_vol *v, qstor_error *err);
int qs_vol_destroy(qstor *q, struct qs_vol *v, qstor_error *err);
/* Commit role `from` (RUNNING, IMPORT, TMP) as the new committed state:
 * committed -> revision (or removed when keep is 0), from -> committed,
 * prune. phase names the crash points ("stop", "import", "clone"). */
int qs_vol_commit(qstor *q, struct qs_pool *pool, struct qs_vol *v, enum qs_role from,
		  const char *phase, qstor_error *err);
/* Copy src's committed state into dst's TMP object: a CoW snapshot within
 * one pool, a sparse copy across pools. */
int qs_vol_copy_committed(qstor *q, const struct qs_vol *src, const struct qs_vol *dst,
			  qstor_error *err);

/* catalog helpers */
int qs_vol_bump_gen(qstor *q, struct qs_vol *v, qstor_error *err);

/* Ephemeral volatile volumes (ephemeral.c): a dm-crypt mapping with a random
 * key over dev; ret_path gets /dev/mapper/... . close: absent is fine. */
int qs_eph_open(const char *vm, const char *vol, const char *dev, char *ret_path, size_t len,
		qstor_error *err);
int qs_eph_close(const char *vm, const char *vol, qstor_error *err);

/* libblkid: what a device or image holds ("ext4", "swap", "gpt", "empty") */
void qs_probe_content(const char *path, char *buf, size_t len);

/* The VM is started, in this boot (a VM marked running in an earlier boot
 * was left so by a host crash). */
bool qs_vm_running(const qstor *q, const struct qs_vm *vm);

/* boot id of this host boot (recover tells a crash from a running VM) */
void qs_read_boot_id(char buf[40]);

#endif
