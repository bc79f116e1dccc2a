/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The report cache: when it reloads (seqno moved, no readable PV, a
 * dropped cache) and when it does not, and its in-memory edits.
 * lvt_run() and lvt_vg_meta_read() are fakes here. Also the copy kept
 * across processes (lvt_cache_save/restore) in a scratch dir.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "lvmcmd.h"
#include "vgseqno.h"

static unsigned runs;
static uint64_t disk_seqno = 7;
static int seqno_err;           /* lvt_vg_meta_read() fails with this */
static const char *disk_id = "vg-uuid-1";
static const char *report_json;
static int run_err;

int lvt_lvm_init(void)
{
	return 0;
}

unsigned long lvt_run_count(void)
{
	return runs;
}

int lvt_run(const char *cmdline, struct lvt_out *out)
{
	runs++;
	assert_string_equal(cmdline, "lvs -a --reportformat json -o lv_name,lv_attr,lv_size,"
			    "pool_lv,origin,thin_id,vg_seqno,vg_extent_size,devices --units b "
			    "--nosuffix vg");
	out->error[0] = out->errors[0] = '\0';
	if (run_err) {
		snprintf(out->error, sizeof(out->error), "Volume group \"vg\" not found");
		snprintf(out->errors, sizeof(out->errors), "%s", out->error);
		return run_err;
	}
	free(out->report);
	out->report = strdup(report_json);
	out->report_len = strlen(report_json);
	return 0;
}

int lvt_vg_meta_read(const char *pv_path, const char *vg, uint64_t *ret, char *id,
		     size_t idlen)
{
	assert_string_equal(vg, "vg");
	if (strcmp(pv_path, "/dev/vdb") != 0)
		return -ENOENT;  /* only the second PV is readable */
	if (seqno_err)
		return seqno_err;
	*ret = disk_seqno;
	if (id)
		snprintf(id, idlen, "%s", disk_id);
	return 0;
}

static const char two_pvs[] =
	"{\"report\":[{\"lv\":[\n"
	"{\"lv_name\":\"pool\",\"lv_attr\":\"twi-aotz--\",\"lv_size\":\"1073741824\","
	"\"vg_seqno\":\"7\",\"vg_extent_size\":\"4194304\",\"devices\":\"pool_tdata(0)\"},\n"
	"{\"lv_name\":\"[pool_tdata]\",\"lv_size\":\"1073741824\",\"vg_seqno\":\"7\","
	"\"devices\":\"/dev/vda(10),/dev/vdb(0)\"},\n"
	"{\"lv_name\":\"vm-a-root\",\"lv_attr\":\"Vwi---tz--\",\"lv_size\":\"4194304\","
	"\"pool_lv\":\"pool\",\"thin_id\":\"1\",\"vg_seqno\":\"7\"},\n"
	"{\"lv_name\":\"vm-a-root-snap\",\"lv_attr\":\"Vwi-a-tz--\",\"lv_size\":\"4194304\","
	"\"pool_lv\":\"pool\",\"origin\":\"vm-a-root\",\"thin_id\":\"2\",\"vg_seqno\":\"7\"}\n"
	"]}]}";

static int reset(void **state)
{
	(void)state;
	runs = 0;
	disk_seqno = 7;
	seqno_err = 0;
	run_err = 0;
	disk_id = "vg-uuid-1";
	report_json = two_pvs;
	setenv("QSTOR_LVM_CACHE_DIR", "", 1);  /* no copy across processes */
	return 0;
}

static void test_fresh(void **state)
{
	struct lvt_cache c = { 0 };
	qstor_error err = { 0 };

	(void)state;
	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(runs, 1);
	assert_true(c.loaded);
	assert_true(c.seqno_known);
	assert_true(c.seqno == 7);
	assert_int_equal(c.rep.n_pvs, 2);
	/* unchanged on disk: no report */
	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(runs, 1);
	/* changed by someone else */
	disk_seqno = 9;
	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(runs, 2);
	/* (the report still says 7: what it says wins, and the disk moved
	 * again relative to it, so the next use reloads again) */
	assert_true(c.seqno == 7);
	/* the PV cannot be read: always reload */
	seqno_err = -EIO;
	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(runs, 4);
	assert_int_equal(c.loads, 4);
	lvt_cache_free(&c);
	assert_false(c.loaded);
}

static void test_load_errors(void **state)
{
	struct lvt_cache c = { 0 };
	qstor_error err = { 0 };

	(void)state;
	run_err = -ENOENT;
	assert_int_equal(lvt_cache_load(&c, "vg", &err), -ENOENT);
	assert_string_equal(err.msg, "volume group 'vg' not found");
	assert_false(c.loaded);
	run_err = -EIO;
	assert_int_equal(lvt_cache_load(&c, "vg", &err), -EIO);
	assert_string_equal(err.msg, "cannot list 'vg': volume group \"vg\" not found");
	run_err = 0;
	report_json = "{\"report\":[{\"lv\":[{\"lv_name\":\"x\",\"lv_size\":\"1";
	assert_int_equal(lvt_cache_load(&c, "vg", &err), -EBADMSG);
	assert_string_equal(err.msg, "cannot list 'vg': unexpected lvs output "
			    "(unterminated string)");
	assert_false(c.loaded);
	assert_int_equal(lvt_cache_load(&c, "bad vg", &err), -EINVAL);
}

static void test_edits(void **state)
{
	struct lvt_cache c = { 0 };
	qstor_error err = { 0 };
	struct lvt_lv e = { .thin_id = -1, .size = 8388608 };

	(void)state;
	/* edits of an unloaded cache do nothing */
	strcpy(e.name, "vm-b-root");
	assert_false(lvt_cache_add(&c, &e));
	assert_false(lvt_cache_rename(&c, "a", "b"));
	assert_false(lvt_cache_resize(&c, "a", 1));
	lvt_cache_remove(&c, "a");
	assert_true(lvt_cache_round(&c, 1) == 512);  /* extent unknown: sectors */

	assert_int_equal(lvt_cache_load(&c, "vg", &err), 0);
	assert_true(lvt_cache_round(&c, 1) == 4194304);
	assert_true(lvt_cache_round(&c, 4194304) == 4194304);
	assert_true(lvt_cache_round(&c, 4194305) == 8388608);

	assert_true(lvt_cache_add(&c, &e));
	assert_non_null(lvt_cache_find(&c, "vm-b-root"));
	/* an LV we believed absent but is there: the cache was stale */
	assert_false(lvt_cache_add(&c, &e));
	assert_false(c.loaded);

	assert_int_equal(lvt_cache_load(&c, "vg", &err), 0);
	/* renaming an origin carries its snapshots along */
	assert_true(lvt_cache_rename(&c, "vm-a-root", "vm-a-root-1700000000-back"));
	assert_null(lvt_cache_find(&c, "vm-a-root"));
	assert_string_equal(lvt_cache_find(&c, "vm-a-root-snap")->origin,
			    "vm-a-root-1700000000-back");
	assert_true(lvt_cache_rename(&c, "vm-a-root-snap", "vm-a-root"));
	assert_true(lvt_cache_find(&c, "vm-a-root")->thin_id == 2);
	assert_true(lvt_cache_resize(&c, "vm-a-root", 8388608));
	assert_true(lvt_cache_find(&c, "vm-a-root")->size == 8388608);
	lvt_cache_remove(&c, "vm-a-root-1700000000-back");
	assert_null(lvt_cache_find(&c, "vm-a-root-1700000000-back"));
	assert_string_equal(lvt_cache_find(&c, "vm-a-root")->origin, "");
	lvt_cache_remove(&c, "vm-a-root-1700000000-back");  /* absent: fine */
	assert_true(c.loaded);

	/* our command moved the seqno by its step: adopt it, no reload */
	disk_seqno = 8;
	lvt_cache_adopt(&c, "vg", LVT_STEP_RENAME);
	assert_true(c.seqno == 8);
	/* by more than its step: someone else committed too, dropped */
	disk_seqno = 11;
	lvt_cache_adopt(&c, "vg", LVT_STEP_CREATE);
	assert_false(c.loaded);
	assert_int_equal(lvt_cache_load(&c, "vg", &err), 0);
	assert_int_equal(runs, 3);
	disk_seqno = 8;
	c.seqno = 8;
	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(runs, 3);

	/* renames onto a known name, or of an unknown one: stale, dropped */
	assert_false(lvt_cache_rename(&c, "pool", "vm-a-root"));
	assert_false(c.loaded);
	assert_int_equal(lvt_cache_load(&c, "vg", &err), 0);
	assert_false(lvt_cache_rename(&c, "nosuch", "x"));
	assert_false(c.loaded);
	assert_int_equal(lvt_cache_load(&c, "vg", &err), 0);
	assert_false(lvt_cache_resize(&c, "nosuch", 1));
	assert_false(c.loaded);

	/* adopt without a readable PV drops it */
	assert_int_equal(lvt_cache_load(&c, "vg", &err), 0);
	seqno_err = -EIO;
	lvt_cache_adopt(&c, "vg", LVT_STEP_RENAME);
	assert_false(c.loaded);
	lvt_cache_free(&c);
}

static void test_empty_vg(void **state)
{
	struct lvt_cache c = { 0 };
	qstor_error err = { 0 };

	(void)state;
	/* no rows, so no vg_seqno and no PV in the report */
	report_json = "{\"report\":[{\"lv\":[]}]}";
	assert_int_equal(lvt_cache_load(&c, "vg", &err), 0);
	assert_false(c.seqno_known);
	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(runs, 2);
	lvt_cache_free(&c);
}

/* The copy kept across processes: read back instead of a report while its
 * seqno and VG uuid are those on disk. */
static void test_persist(void **state)
{
	char dir[] = "/tmp/qstor-lvm-cache-test.XXXXXX", path[256];
	struct lvt_cache c = { 0 }, d = { 0 };
	qstor_error err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("QSTOR_LVM_CACHE_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/vg.cache", dir);

	assert_int_equal(lvt_cache_fresh(&c, "vg", &err), 0);
	assert_int_equal(runs, 1);
	assert_int_equal(access(path, F_OK), 0);
	/* another process: no report */
	assert_int_equal(lvt_cache_fresh(&d, "vg", &err), 0);
	assert_int_equal(runs, 1);
	assert_true(d.seqno == 7);
	assert_string_equal(d.id, "vg-uuid-1");
	assert_int_equal(d.rep.n_pvs, 2);
	assert_true(lvt_cache_find(&d, "vm-a-root")->size == 4194304);
	assert_string_equal(lvt_cache_find(&d, "vm-a-root-snap")->origin, "vm-a-root");
	assert_true(lvt_cache_find(&d, "vm-a-root-snap")->thin_id == 2);
	assert_true(lvt_cache_find(&d, "pool")->thin_id == -1);
	assert_string_equal(lvt_cache_find(&d, "pool")->pool, "");
	assert_true(d.rep.extent_size == 4194304);
	lvt_cache_free(&d);

	/* our own change is saved with the adopted seqno */
	assert_true(lvt_cache_rename(&c, "vm-a-root-snap", "vm-a-root-tmp"));
	disk_seqno = 8;
	lvt_cache_adopt(&c, "vg", LVT_STEP_RENAME);
	assert_true(c.loaded);
	assert_int_equal(lvt_cache_fresh(&d, "vg", &err), 0);
	assert_int_equal(runs, 1);
	assert_non_null(lvt_cache_find(&d, "vm-a-root-tmp"));
	assert_null(lvt_cache_find(&d, "vm-a-root-snap"));
	lvt_cache_free(&d);

	/* the disk moved on: a report */
	disk_seqno = 9;
	assert_int_equal(lvt_cache_restore(&d, "vg"), -ESTALE);
	assert_false(d.loaded);
	assert_int_equal(lvt_cache_fresh(&d, "vg", &err), 0);
	assert_int_equal(runs, 2);
	lvt_cache_free(&d);

	/* the VG made again under its name, same seqno: a report */
	disk_seqno = 7;
	assert_int_equal(lvt_cache_load(&c, "vg", &err), 0);
	assert_int_equal(runs, 3);
	disk_id = "vg-uuid-2";
	assert_int_equal(lvt_cache_restore(&d, "vg"), -ESTALE);
	assert_int_equal(lvt_cache_fresh(&d, "vg", &err), 0);
	assert_int_equal(runs, 4);
	lvt_cache_free(&d);

	/* a damaged file is not trusted */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("qstor-lvm-cache 1\nvg vg\nid vg-uuid-2\nseqno 7\nlv x\n", f);
	fclose(f);
	assert_int_equal(lvt_cache_restore(&d, "vg"), -EBADMSG);
	assert_false(d.loaded);

	lvt_cache_free(&c);
	unlink(path);
	rmdir(dir);
	setenv("QSTOR_LVM_CACHE_DIR", "", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fresh, reset),
		cmocka_unit_test_setup(test_load_errors, reset),
		cmocka_unit_test_setup(test_edits, reset),
		cmocka_unit_test_setup(test_empty_vg, reset),
		cmocka_unit_test_setup(test_persist, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
