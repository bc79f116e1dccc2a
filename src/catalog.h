/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The catalog: pools, VMs and volume configurations, in SQLite. */
#ifndef QSTOR_CATALOG_H
#define QSTOR_CATALOG_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "qstor.h"

/* VM run states. "starting" and "stopping" are left only by a crash. */
#define QS_STATE_STOPPED "stopped"
#define QS_STATE_STARTING "starting"
#define QS_STATE_RUNNING "running"
#define QS_STATE_STOPPING "stopping"
/* recorded before a create or clone makes objects: recover rolls a create
 * forward (adopting what is there) and a clone back */
#define QS_STATE_CREATING "creating"
#define QS_STATE_CLONING "cloning"

struct qs_vm {
	char name[QSTOR_NAME_MAX + 1];
	qstor_vm_class klass;
	char template_vm[QSTOR_NAME_MAX + 1];
	char pool[QSTOR_NAME_MAX + 1];
	char state[16];
	char boot_id[40];
};

struct qs_vol {
	char vm[QSTOR_NAME_MAX + 1];
	char name[QSTOR_NAME_MAX + 1];
	char pool[QSTOR_NAME_MAX + 1];
	char vid[256];
	uint64_t size;
	bool rw, snap_on_start, save_on_stop, ephemeral;
	char source_vm[QSTOR_NAME_MAX + 1];   /* "" if none */
	char source_vol[QSTOR_NAME_MAX + 1];
	bool rtk_set;            /* false: pool default */
	int rtk;
	int64_t gen;             /* bumped before every change of the committed state */
	int64_t precache_gen;    /* gen of the source the precache was made from; -1 none */
	int64_t start_src_gen;   /* source gen when started (is_outdated) */
	bool made_running;       /* not stored: this start made the running copy */
};

int qs_cat_open(const char *path, sqlite3 **ret, qstor_error *err);
void qs_cat_close(sqlite3 *db);
int qs_cat_begin(sqlite3 *db, qstor_error *err);
int qs_cat_commit(sqlite3 *db, qstor_error *err);
void qs_cat_rollback(sqlite3 *db);

/* pools; options are malloc'd kv arrays (free with qs_kv_free) */
int qs_cat_pool_get(sqlite3 *db, const char *name, char driver[32], qstor_kv **ret_opts,
		    size_t *ret_n, qstor_error *err);
int qs_cat_pool_put(sqlite3 *db, const char *name, const char *driver, const qstor_kv *opts,
		    size_t n, qstor_error *err);
int qs_cat_pool_delete(sqlite3 *db, const char *name, qstor_error *err);
int qs_cat_pool_names(sqlite3 *db, char ***ret, size_t *ret_n, qstor_error *err);
/* number of volumes recorded in pool */
int qs_cat_pool_volume_count(sqlite3 *db, const char *pool, qstor_error *err);
void qs_kv_free(qstor_kv *kv, size_t n);

/* VMs */
int qs_cat_vm_get(sqlite3 *db, const char *name, struct qs_vm *ret, qstor_error *err);
int qs_cat_vm_put(sqlite3 *db, const struct qs_vm *vm, qstor_error *err);
int qs_cat_vm_delete(sqlite3 *db, const char *name, qstor_error *err);
int qs_cat_vm_list(sqlite3 *db, struct qs_vm **ret, size_t *ret_n, qstor_error *err);
int qs_cat_vm_set_state(sqlite3 *db, const char *name, const char *state, const char *boot_id,
			qstor_error *err);

/* volumes */
int qs_cat_vol_get(sqlite3 *db, const char *vm, const char *vol, struct qs_vol *ret,
		   qstor_error *err);
int qs_cat_vol_put(sqlite3 *db, const struct qs_vol *v, qstor_error *err);
int qs_cat_vol_list(sqlite3 *db, const char *vm, const char *pool, struct qs_vol **ret,
		    size_t *ret_n, qstor_error *err);
/* volumes whose source is vm:vol (vol NULL: any of vm's volumes) */
int qs_cat_vol_dependents(sqlite3 *db, const char *vm, const char *vol, struct qs_vol **ret,
			  size_t *ret_n, qstor_error *err);

#endif
