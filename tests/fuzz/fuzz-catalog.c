/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalog's row decoding (src/catalog.c) on rows nobody checked: an
 * in-memory catalog is made with qs_cat_open, optionally has a table
 * replaced by one without types or constraints (an old or damaged
 * catalog), then gets rows the input describes, each column of any SQLite
 * type (NULL, integer, real, text, blob, including empty blobs and text
 * with NUL bytes) inserted with foreign keys off. Then every reader runs:
 * qs_cat_pool_names, qs_cat_pool_get, qs_cat_pool_volume_count,
 * qs_cat_vm_list, qs_cat_vm_get, qs_cat_vol_list, qs_cat_vol_get,
 * qs_cat_vol_dependents. None may crash or leak; what they return is
 * NUL-terminated within its fields, classes are known ones, errors are
 * negative errno with a one-line message, ret_* untouched on failure.
 *
 * Input: [damage byte] then rows: [table byte] [column values...], a
 * value being [type byte] + 8 bytes (integer, real) or [len] + len bytes
 * (text, blob).
 */
#include <errno.h>
#include <sqlite3.h>

#include "catalog.h"
#include "fuzz.h"

/* catalog.c lists names with it; the rest of pool.c is not linked */
void qstor_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

struct input {
	const uint8_t *p;
	size_t n;
};

static bool take(struct input *in, void *out, size_t k)
{
	if (in->n < k)
		return false;
	memcpy(out, in->p, k);
	in->p += k;
	in->n -= k;
	return true;
}

static const struct {
	const char *name;
	int cols;
} tables[] = {
	{ "pools", 2 }, { "pool_options", 3 }, { "vms", 6 }, { "volumes", 15 },
};

static const char *const damage[] = {
	NULL,
	"DROP TABLE vms; CREATE TABLE vms(name, class, template, pool, state, boot_id);",
	"DROP TABLE volumes; CREATE TABLE volumes(vm, name, pool, vid, size, rw, "
	"snap_on_start, save_on_stop, ephemeral, source_vm, source_vol, rtk, gen, "
	"precache_gen, start_src_gen);",
	"DROP TABLE pool_options; CREATE TABLE pool_options(pool, key, value);"
	"DROP TABLE pools; CREATE TABLE pools(name, driver);",
	"DROP TABLE volumes; CREATE TABLE volumes(vm, name);",
};

/* one value of any type into parameter i */
static bool bind_value(struct input *in, sqlite3_stmt *st, int i)
{
	uint8_t type, len;
	int64_t iv;
	double dv;
	uint8_t buf[256];

	if (!take(in, &type, 1))
		return false;
	switch (type % 6) {
	case 0:
		sqlite3_bind_null(st, i);
		return true;
	case 1:
		if (!take(in, &iv, sizeof(iv)))
			return false;
		sqlite3_bind_int64(st, i, iv);
		return true;
	case 2:
		if (!take(in, &dv, sizeof(dv)))
			return false;
		sqlite3_bind_double(st, i, dv);
		return true;
	case 3: /* small integer: flags, rtk, generations */
		if (!take(in, &len, 1))
			return false;
		sqlite3_bind_int(st, i, (int8_t)len);
		return true;
	case 4: /* text, NUL bytes included */
	case 5: /* blob, empty included */
		if (!take(in, &len, 1) || !take(in, buf, len))
			return false;
		if (type % 6 == 4)
			sqlite3_bind_text(st, i, (const char *)buf, len, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(st, i, buf, len, SQLITE_TRANSIENT);
		return true;
	}
	return false;
}

static void check_str(const char *s, size_t len)
{
	FUZZ_ASSERT(memchr(s, '\0', len) != NULL);
}

/* Messages here name what the damaged rows hold (a name with a newline
 * is printed as it is: only a damaged catalog has one, the API validates
 * every name it stores), so only the code and a message are checked. */
static void check_err(const qstor_error *err, int r)
{
	FUZZ_ASSERT(r < 0 && r >= -4095);
	FUZZ_ASSERT(err->code == r);
	FUZZ_ASSERT(memchr(err->msg, '\0', sizeof(err->msg)) && err->msg[0]);
}

static void check_vol(const struct qs_vol *v)
{
	check_str(v->vm, sizeof(v->vm));
	check_str(v->name, sizeof(v->name));
	check_str(v->pool, sizeof(v->pool));
	check_str(v->vid, sizeof(v->vid));
	check_str(v->source_vm, sizeof(v->source_vm));
	check_str(v->source_vol, sizeof(v->source_vol));
	FUZZ_ASSERT(v->rtk_set || v->rtk == 0);
	FUZZ_ASSERT(!v->made_running);
}

static void read_vols(sqlite3 *db, const char *vm, const char *pool)
{
	struct qs_vol *v = (struct qs_vol *)0x1;
	size_t n = 77;
	qstor_error err = { 0 };
	int r = qs_cat_vol_list(db, vm, pool, &v, &n, &err);

	if (r < 0) {
		check_err(&err, r);
		FUZZ_ASSERT(v == (struct qs_vol *)0x1 && n == 77);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct qs_vol one;
		struct qs_vol *deps = NULL;
		size_t nd = 0;
		qstor_error e2 = { 0 };
		int r2;

		check_vol(&v[i]);
		r2 = qs_cat_vol_get(db, v[i].vm, v[i].name, &one, &e2);
		if (r2 < 0)
			check_err(&e2, r2);
		else
			check_vol(&one);
		memset(&e2, 0, sizeof(e2));
		r2 = qs_cat_vol_dependents(db, v[i].vm, i % 2 ? v[i].name : NULL, &deps, &nd, &e2);
		if (r2 < 0)
			check_err(&e2, r2);
		for (size_t k = 0; r2 == 0 && k < nd; k++)
			check_vol(&deps[k]);
		if (r2 == 0)
			free(deps);
	}
	free(v);
}

static void read_all(sqlite3 *db)
{
	qstor_error err = { 0 };
	char **names = NULL;
	size_t n = 0;
	struct qs_vm *vms = NULL;
	int r;

	r = qs_cat_pool_names(db, &names, &n, &err);
	if (r < 0) {
		check_err(&err, r);
	} else {
		for (size_t i = 0; i < n; i++) {
			char driver[32];
			qstor_kv *kv = NULL;
			size_t nkv = 0;
			qstor_error e2 = { 0 };

			FUZZ_ASSERT(names[i] != NULL);
			r = qs_cat_pool_get(db, names[i], driver, &kv, &nkv, &e2);
			if (r < 0) {
				check_err(&e2, r);
			} else {
				check_str(driver, sizeof(driver));
				for (size_t k = 0; k < nkv; k++)
					FUZZ_ASSERT(kv[k].key && kv[k].value);
				qs_kv_free(kv, nkv);
			}
			memset(&e2, 0, sizeof(e2));
			r = qs_cat_pool_volume_count(db, names[i], &e2);
			if (r < 0)
				check_err(&e2, r);
			read_vols(db, NULL, names[i]);
		}
		qstor_strv_free(names, n);
	}

	memset(&err, 0, sizeof(err));
	r = qs_cat_vm_list(db, &vms, &n, &err);
	if (r < 0) {
		check_err(&err, r);
	} else {
		for (size_t i = 0; i < n; i++) {
			struct qs_vm vm, sentinel;
			qstor_error e2 = { 0 };

			check_str(vms[i].name, sizeof(vms[i].name));
			check_str(vms[i].template_vm, sizeof(vms[i].template_vm));
			check_str(vms[i].pool, sizeof(vms[i].pool));
			check_str(vms[i].state, sizeof(vms[i].state));
			check_str(vms[i].boot_id, sizeof(vms[i].boot_id));
			FUZZ_ASSERT((unsigned)vms[i].klass <= QSTOR_CLASS_DISPOSABLE);
			memset(&sentinel, 0x5a, sizeof(sentinel));
			vm = sentinel;
			r = qs_cat_vm_get(db, vms[i].name, &vm, &e2);
			if (r < 0) {
				check_err(&e2, r);
				FUZZ_ASSERT(memcmp(&vm, &sentinel, sizeof(vm)) == 0);
			} else {
				FUZZ_ASSERT((unsigned)vm.klass <= QSTOR_CLASS_DISPOSABLE);
				check_str(vm.name, sizeof(vm.name));
			}
			read_vols(db, vms[i].name, NULL);
		}
		free(vms);
	}
	read_vols(db, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	qstor_error err = { 0 };
	sqlite3 *db = NULL;
	uint8_t d = 0, t;
	int rows = 0;

	if (qs_cat_open(":memory:", &db, &err) < 0)
		abort();
	if (take(&in, &d, 1) && damage[d % 5])
		FUZZ_ASSERT(sqlite3_exec(db, damage[d % 5], NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);

	while (rows++ < 64 && take(&in, &t, 1)) {
		unsigned k = t % 4;
		char sql[160];
		sqlite3_stmt *st;
		size_t o;
		bool ok = true;

		o = (size_t)snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO %s VALUES(?",
				     tables[k].name);
		for (int c = 1; c < tables[k].cols; c++)
			o += (size_t)snprintf(sql + o, sizeof(sql) - o, ",?");
		snprintf(sql + o, sizeof(sql) - o, ")");
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			continue;  /* a damaged table with fewer columns */
		for (int c = 1; ok && c <= tables[k].cols; c++)
			ok = bind_value(&in, st, c);
		if (ok)
			sqlite3_step(st);
		sqlite3_finalize(st);
		if (!ok)
			break;
	}
	read_all(db);
	qs_cat_close(db);
	return 0;
}
