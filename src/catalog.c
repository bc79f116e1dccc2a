/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalog in SQLite: WAL mode so readers never wait for the writer, a
 * busy timeout so two qstor processes serialize on writes instead of
 * failing. Disk is the truth for which objects exist; the catalog holds
 * what cannot be read off disk (VM classes, templates, flags, generations).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "internal.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS pools("
	"  name TEXT PRIMARY KEY, driver TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS pool_options("
	"  pool TEXT NOT NULL REFERENCES pools(name) ON DELETE CASCADE,"
	"  key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(pool, key));"
	"CREATE TABLE IF NOT EXISTS vms("
	"  name TEXT PRIMARY KEY, class TEXT NOT NULL, template TEXT NOT NULL DEFAULT '',"
	"  pool TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'stopped',"
	"  boot_id TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS volumes("
	"  vm TEXT NOT NULL REFERENCES vms(name) ON DELETE CASCADE, name TEXT NOT NULL,"
	"  pool TEXT NOT NULL, vid TEXT NOT NULL, size INTEGER NOT NULL,"
	"  rw INTEGER NOT NULL, snap_on_start INTEGER NOT NULL, save_on_stop INTEGER NOT NULL,"
	"  ephemeral INTEGER NOT NULL DEFAULT 0,"
	"  source_vm TEXT NOT NULL DEFAULT '', source_vol TEXT NOT NULL DEFAULT '',"
	"  rtk INTEGER, gen INTEGER NOT NULL DEFAULT 0,"
	"  precache_gen INTEGER NOT NULL DEFAULT -1, start_src_gen INTEGER NOT NULL DEFAULT -1,"
	"  PRIMARY KEY(vm, name));";

static int db_err(sqlite3 *db, qstor_error *err, const char *what)
{
	int rc = sqlite3_errcode(db);
	int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? -EBUSY :
		   (rc == SQLITE_FULL) ? -ENOSPC : (rc == SQLITE_READONLY) ? -EROFS : -EIO;

	return qs_err(err, code, "catalog: cannot %s: %s", what, sqlite3_errmsg(db));
}

int qs_cat_open(const char *path, sqlite3 **ret, qstor_error *err)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		int r = qs_err(err, -EIO, "cannot open catalog '%s': %s", QS_ESC_PATH(path),
			       db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return r;
	}
	sqlite3_busy_timeout(db, 60000);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "PRAGMA foreign_keys=ON;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		int r = qs_err(err, -EIO, "cannot initialise catalog '%s': %s", QS_ESC_PATH(path),
			       msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

void qs_cat_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int qs_cat_begin(sqlite3 *db, qstor_error *err)
{
	/* IMMEDIATE: take the write lock now, so the busy timeout applies
	 * here and not to a later statement that could then deadlock. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(db, err, "begin transaction");
	return 0;
}

int qs_cat_commit(sqlite3 *db, qstor_error *err)
{
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int r = db_err(db, err, "commit");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	return 0;
}

void qs_cat_rollback(sqlite3 *db)
{
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, qstor_error *err)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return db_err(db, err, "prepare statement");
	return 0;
}

/* A column as text: "" for NULL (a TEXT PRIMARY KEY admits NULL) and for
 * an empty blob, for which sqlite3_column_text returns NULL too. */
static const char *col_str(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? (const char *)t : "";
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	snprintf(dst, len, "%s", col_str(st, col));
}

static int exec_bound(sqlite3 *db, sqlite3_stmt *st, qstor_error *err, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, what);
	return 0;
}

void qs_kv_free(qstor_kv *kv, size_t n)
{
	if (!kv)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

/* ---- pools ---- */

int qs_cat_pool_get(sqlite3 *db, const char *name, char driver[32], qstor_kv **ret_opts,
		    size_t *ret_n, qstor_error *err)
{
	sqlite3_stmt *st;
	qstor_kv *kv = NULL;
	size_t n = 0;
	int r, rc;

	r = prepare(db, "SELECT driver FROM pools WHERE name = ?", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return qs_err(err, -ENOENT, "no such pool '%s'", QS_ESC(name));
		return db_err(db, err, "read pool");
	}
	if (driver)
		copy_col(driver, 32, st, 0);
	sqlite3_finalize(st);
	if (!ret_opts)
		return 0;

	r = prepare(db, "SELECT key, value FROM pool_options WHERE pool = ? ORDER BY key", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		qstor_kv *nkv = realloc(kv, (n + 1) * sizeof(*kv));

		if (!nkv)
			break;
		kv = nkv;
		kv[n].key = strdup(col_str(st, 0));
		kv[n].value = strdup(col_str(st, 1));
		n++;
		if (!kv[n - 1].key || !kv[n - 1].value)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		qs_kv_free(kv, n);
		return rc == SQLITE_ROW ? qs_err(err, -ENOMEM, "out of memory") :
					  db_err(db, err, "read pool options");
	}
	*ret_opts = kv;
	*ret_n = n;
	return 0;
}

int qs_cat_pool_put(sqlite3 *db, const char *name, const char *driver, const qstor_kv *opts,
		    size_t n, qstor_error *err)
{
	sqlite3_stmt *st;
	int r;

	r = prepare(db, "INSERT INTO pools(name, driver) VALUES(?, ?) "
		    "ON CONFLICT(name) DO UPDATE SET driver = excluded.driver", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, driver, -1, SQLITE_STATIC);
	r = exec_bound(db, st, err, "write pool");
	if (r < 0)
		return r;
	r = prepare(db, "DELETE FROM pool_options WHERE pool = ?", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = exec_bound(db, st, err, "write pool options");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = prepare(db, "INSERT INTO pool_options(pool, key, value) VALUES(?, ?, ?)", &st, err);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, opts[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, opts[i].value, -1, SQLITE_STATIC);
		r = exec_bound(db, st, err, "write pool options");
	}
	return r;
}

int qs_cat_pool_delete(sqlite3 *db, const char *name, qstor_error *err)
{
	sqlite3_stmt *st;
	int r = prepare(db, "DELETE FROM pools WHERE name = ?", &st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return exec_bound(db, st, err, "delete pool");
}

static int names_query(sqlite3 *db, const char *sql, char ***ret, size_t *ret_n, qstor_error *err)
{
	sqlite3_stmt *st;
	char **v = NULL;
	size_t n = 0;
	int rc, r = prepare(db, sql, &st, err);

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			break;
		v = nv;
		if (!(v[n] = strdup(col_str(st, 0))))
			break;
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		qstor_strv_free(v, n);
		/* a row left unread: out of memory, not an error of the catalog */
		return rc == SQLITE_ROW ? qs_err(err, -ENOMEM, "out of memory") :
					  db_err(db, err, "list");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int qs_cat_pool_names(sqlite3 *db, char ***ret, size_t *ret_n, qstor_error *err)
{
	return names_query(db, "SELECT name FROM pools ORDER BY name", ret, ret_n, err);
}

int qs_cat_pool_volume_count(sqlite3 *db, const char *pool, qstor_error *err)
{
	sqlite3_stmt *st;
	int count, r = prepare(db, "SELECT count(*) FROM volumes WHERE pool = ?", &st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_err(db, err, "count volumes");
	}
	count = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return count;
}

/* ---- VMs ---- */

#define VM_COLS "name, class, template, pool, state, boot_id"

static int vm_decode(sqlite3_stmt *st, struct qs_vm *vm)
{
	char klass[32];

	memset(vm, 0, sizeof(*vm));
	copy_col(vm->name, sizeof(vm->name), st, 0);
	copy_col(klass, sizeof(klass), st, 1);
	copy_col(vm->template_vm, sizeof(vm->template_vm), st, 2);
	copy_col(vm->pool, sizeof(vm->pool), st, 3);
	copy_col(vm->state, sizeof(vm->state), st, 4);
	copy_col(vm->boot_id, sizeof(vm->boot_id), st, 5);
	return qstor_class_parse(klass, &vm->klass);
}

int qs_cat_vm_get(sqlite3 *db, const char *name, struct qs_vm *ret, qstor_error *err)
{
	sqlite3_stmt *st;
	int rc, r = prepare(db, "SELECT " VM_COLS " FROM vms WHERE name = ?", &st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct qs_vm vm;

		r = vm_decode(st, &vm);
		sqlite3_finalize(st);
		if (r < 0)
			return qs_err(err, -EIO, "catalog: vm '%s' has an unknown class",
				      QS_ESC(name));
		*ret = vm;
		return 0;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return qs_err(err, -ENOENT, "no such vm '%s'", QS_ESC(name));
	return db_err(db, err, "read vm");
}

int qs_cat_vm_put(sqlite3 *db, const struct qs_vm *vm, qstor_error *err)
{
	sqlite3_stmt *st;
	int r = prepare(db, "INSERT OR REPLACE INTO vms(" VM_COLS ") VALUES(?, ?, ?, ?, ?, ?)",
			&st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vm->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, qstor_class_name(vm->klass), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, vm->template_vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, vm->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, vm->state[0] ? vm->state : QS_STATE_STOPPED, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, vm->boot_id, -1, SQLITE_STATIC);
	return exec_bound(db, st, err, "write vm");
}

int qs_cat_vm_delete(sqlite3 *db, const char *name, qstor_error *err)
{
	sqlite3_stmt *st;
	int r = prepare(db, "DELETE FROM vms WHERE name = ?", &st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return exec_bound(db, st, err, "delete vm");
}

int qs_cat_vm_list(sqlite3 *db, struct qs_vm **ret, size_t *ret_n, qstor_error *err)
{
	sqlite3_stmt *st;
	struct qs_vm *v = NULL;
	size_t n = 0;
	int rc, r = prepare(db, "SELECT " VM_COLS " FROM vms ORDER BY name", &st, err);

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct qs_vm *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			break;
		v = nv;
		if (vm_decode(st, &v[n]) == 0)
			n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return rc == SQLITE_ROW ? qs_err(err, -ENOMEM, "out of memory") :
					  db_err(db, err, "list vms");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int qs_cat_vm_set_state(sqlite3 *db, const char *name, const char *state, const char *boot_id,
			qstor_error *err)
{
	sqlite3_stmt *st;
	int r = prepare(db, "UPDATE vms SET state = ?, boot_id = ? WHERE name = ?", &st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, boot_id ? boot_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	return exec_bound(db, st, err, "write vm state");
}

/* ---- volumes ---- */

#define VOL_COLS "vm, name, pool, vid, size, rw, snap_on_start, save_on_stop, ephemeral, " \
		 "source_vm, source_vol, rtk, gen, precache_gen, start_src_gen"

static void vol_decode(sqlite3_stmt *st, struct qs_vol *v)
{
	memset(v, 0, sizeof(*v));
	copy_col(v->vm, sizeof(v->vm), st, 0);
	copy_col(v->name, sizeof(v->name), st, 1);
	copy_col(v->pool, sizeof(v->pool), st, 2);
	copy_col(v->vid, sizeof(v->vid), st, 3);
	v->size = (uint64_t)sqlite3_column_int64(st, 4);
	v->rw = sqlite3_column_int(st, 5) != 0;
	v->snap_on_start = sqlite3_column_int(st, 6) != 0;
	v->save_on_stop = sqlite3_column_int(st, 7) != 0;
	v->ephemeral = sqlite3_column_int(st, 8) != 0;
	copy_col(v->source_vm, sizeof(v->source_vm), st, 9);
	copy_col(v->source_vol, sizeof(v->source_vol), st, 10);
	v->rtk_set = sqlite3_column_type(st, 11) != SQLITE_NULL;
	v->rtk = v->rtk_set ? sqlite3_column_int(st, 11) : 0;
	v->gen = sqlite3_column_int64(st, 12);
	v->precache_gen = sqlite3_column_int64(st, 13);
	v->start_src_gen = sqlite3_column_int64(st, 14);
}

int qs_cat_vol_get(sqlite3 *db, const char *vm, const char *vol, struct qs_vol *ret,
		   qstor_error *err)
{
	sqlite3_stmt *st;
	int rc, r = prepare(db, "SELECT " VOL_COLS " FROM volumes WHERE vm = ? AND name = ?",
			    &st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vol, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		vol_decode(st, ret);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return qs_err(err, -ENOENT, "no such volume '%s:%s'", QS_ESC(vm), QS_ESC(vol));
	return db_err(db, err, "read volume");
}

int qs_cat_vol_put(sqlite3 *db, const struct qs_vol *v, qstor_error *err)
{
	sqlite3_stmt *st;
	int r = prepare(db, "INSERT OR REPLACE INTO volumes(" VOL_COLS ") "
			"VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, v->vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, v->vid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)v->size);
	sqlite3_bind_int(st, 6, v->rw);
	sqlite3_bind_int(st, 7, v->snap_on_start);
	sqlite3_bind_int(st, 8, v->save_on_stop);
	sqlite3_bind_int(st, 9, v->ephemeral);
	sqlite3_bind_text(st, 10, v->source_vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, v->source_vol, -1, SQLITE_STATIC);
	if (v->rtk_set)
		sqlite3_bind_int(st, 12, v->rtk);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_int64(st, 13, v->gen);
	sqlite3_bind_int64(st, 14, v->precache_gen);
	sqlite3_bind_int64(st, 15, v->start_src_gen);
	return exec_bound(db, st, err, "write volume");
}

static int vol_query(sqlite3 *db, sqlite3_stmt *st, struct qs_vol **ret, size_t *ret_n,
		     qstor_error *err)
{
	struct qs_vol *v = NULL;
	size_t n = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct qs_vol *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			break;
		v = nv;
		vol_decode(st, &v[n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return rc == SQLITE_ROW ? qs_err(err, -ENOMEM, "out of memory") :
					  db_err(db, err, "list volumes");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int qs_cat_vol_list(sqlite3 *db, const char *vm, const char *pool, struct qs_vol **ret,
		    size_t *ret_n, qstor_error *err)
{
	sqlite3_stmt *st;
	/* root, private, volatile, then anything else: the order of Qubes */
	int r = prepare(db, "SELECT " VOL_COLS " FROM volumes "
			"WHERE (?1 IS NULL OR vm = ?1) AND (?2 IS NULL OR pool = ?2) "
			"ORDER BY vm, CASE name WHEN 'root' THEN 0 WHEN 'private' THEN 1 "
			"WHEN 'volatile' THEN 2 WHEN 'kernel' THEN 3 ELSE 4 END, name", &st, err);

	if (r < 0)
		return r;
	if (vm)
		sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	if (pool)
		sqlite3_bind_text(st, 2, pool, -1, SQLITE_STATIC);
	return vol_query(db, st, ret, ret_n, err);
}

int qs_cat_vol_dependents(sqlite3 *db, const char *vm, const char *vol, struct qs_vol **ret,
			  size_t *ret_n, qstor_error *err)
{
	sqlite3_stmt *st;
	int r = prepare(db, "SELECT " VOL_COLS " FROM volumes WHERE source_vm = ?1 "
			"AND (?2 IS NULL OR source_vol = ?2) AND vm <> ?1 ORDER BY vm, name", &st, err);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	if (vol)
		sqlite3_bind_text(st, 2, vol, -1, SQLITE_STATIC);
	return vol_query(db, st, ret, ret_n, err);
}
