/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON report parser against lvm 2.03's output and broken variants. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"
#include "report.h"

/* What lvm 2.03.16 printed for a Qubes-style VG (captured through the log
 * callback on a loop device, device renamed to /dev/vda). */
static const char qubes_vg[] =
	"{\n"
	"    \"report\": [\n"
	"        {\n"
	"            \"lv\": [\n"
	"                {\"lv_name\":\"[lvol0_pmspare]\", \"lv_attr\":\"ewi-------\", \"lv_size\":\"8388608\", \"pool_lv\":\"\", \"origin\":\"\", \"thin_id\":\"\", \"vg_seqno\":\"3\", \"vg_extent_size\":\"4194304\", \"devices\":\"/dev/vda(34)\"},\n"
	"                {\"lv_name\":\"pool00\", \"lv_attr\":\"twi-aotz--\", \"lv_size\":\"134217728\", \"pool_lv\":\"\", \"origin\":\"\", \"thin_id\":\"\", \"vg_seqno\":\"3\", \"vg_extent_size\":\"4194304\", \"devices\":\"pool00_tdata(0)\"},\n"
	"                {\"lv_name\":\"[pool00_tdata]\", \"lv_attr\":\"Twi-ao----\", \"lv_size\":\"134217728\", \"pool_lv\":\"\", \"origin\":\"\", \"thin_id\":\"\", \"vg_seqno\":\"3\", \"vg_extent_size\":\"4194304\", \"devices\":\"/dev/vda(2)\"},\n"
	"                {\"lv_name\":\"[pool00_tmeta]\", \"lv_attr\":\"ewi-ao----\", \"lv_size\":\"8388608\", \"pool_lv\":\"\", \"origin\":\"\", \"thin_id\":\"\", \"vg_seqno\":\"3\", \"vg_extent_size\":\"4194304\", \"devices\":\"/dev/vda(0)\"},\n"
	"                {\"lv_name\":\"vm-work-private\", \"lv_attr\":\"Vwi-a-tz--\", \"lv_size\":\"2147483648\", \"pool_lv\":\"pool00\", \"origin\":\"\", \"thin_id\":\"1\", \"vg_seqno\":\"3\", \"vg_extent_size\":\"4194304\", \"devices\":\"\"},\n"
	"                {\"lv_name\":\"vm-work-private-1700000000-back\", \"lv_attr\":\"Vwi---tz--\", \"lv_size\":\"2147483648\", \"pool_lv\":\"pool00\", \"origin\":\"\", \"thin_id\":\"3\", \"vg_seqno\":\"3\", \"vg_extent_size\":\"4194304\", \"devices\":\"\"},\n"
	"                {\"lv_name\":\"vm-work-private-snap\", \"lv_attr\":\"Vwi-aotz--\", \"lv_size\":\"2147483648\", \"pool_lv\":\"pool00\", \"origin\":\"vm-work-private\", \"thin_id\":\"2\", \"vg_seqno\":\"3\", \"vg_extent_size\":\"4194304\", \"devices\":\"\"},\n"
	"                {\"lv_name\":\"vm-work-root-private\", \"lv_attr\":\"Vwi---tz--\", \"lv_size\":\"1073741824\", \"pool_lv\":\"pool00\", \"origin\":\"\", \"thin_id\":\"4\", \"vg_seqno\":\"3\", \"vg_extent_size\":\"4194304\", \"devices\":\"\"}\n"
	"            ]\n"
	"        }\n"
	"    ]\n"
	"}\n";

static void test_qubes_vg(void **state)
{
	struct lvt_report r;
	const struct lvt_lv *lv;
	char why[128] = "";

	(void)state;
	assert_int_equal(lvt_report_parse(qubes_vg, &r, why, sizeof(why)), 0);
	assert_int_equal(r.n_lvs, 8);
	assert_true(r.seqno == 3);
	assert_true(r.extent_size == 4194304);
	assert_int_equal(r.n_pvs, 1);  /* /dev/vda named three times */
	assert_string_equal(r.pvs[0], "/dev/vda");

	lv = lvt_report_find(&r, "pool00");
	assert_non_null(lv);
	assert_string_equal(lv->attr, "twi-aotz--");
	assert_int_equal(lv->attr[0], 't');
	assert_true(lv->size == 134217728);
	assert_true(lv->thin_id == -1);
	assert_string_equal(lv->pool, "");

	lv = lvt_report_find(&r, "vm-work-private-snap");
	assert_non_null(lv);
	assert_string_equal(lv->pool, "pool00");
	assert_string_equal(lv->origin, "vm-work-private");
	assert_true(lv->thin_id == 2);
	assert_true(lv->size == 2147483648ULL);
	assert_int_equal(lv->attr[4], 'a');

	lv = lvt_report_find(&r, "vm-work-root-private");
	assert_non_null(lv);
	assert_true(lv->size == 1073741824);
	assert_true(lv->thin_id == 4);
	assert_int_equal(lv->attr[4], '-');

	assert_non_null(lvt_report_find(&r, "[pool00_tmeta]"));
	assert_null(lvt_report_find(&r, "pool00_tmeta"));
	assert_null(lvt_report_find(&r, "vm-work"));
	lvt_report_free(&r);
	assert_null(r.lvs);
	assert_int_equal(r.n_lvs, 0);
}

static void test_empty_and_other_sections(void **state)
{
	struct lvt_report r;

	(void)state;
	assert_int_equal(lvt_report_parse("{\"report\": [{\"lv\": []}]}", &r, NULL, 0), 0);
	assert_int_equal(r.n_lvs, 0);
	assert_int_equal(r.n_pvs, 0);
	assert_true(r.seqno == 0);
	lvt_report_free(&r);

	/* report/command_log adds a "log" section; other reports may come */
	assert_int_equal(lvt_report_parse(
		"{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"lv_size\":\"512\"}]}],\n"
		" \"log\": [{\"log_seq_num\":\"1\", \"log_type\":\"status\", \"log_context\":"
		"\"shell\", \"log_object_type\":\"cmd\", \"log_message\":\"success\","
		" \"nested\": {\"x\": [1, 2, {\"y\": null}]}}]}", &r, NULL, 0), 0);
	assert_int_equal(r.n_lvs, 1);
	assert_string_equal(r.lvs[0].name, "a");
	assert_true(r.lvs[0].size == 512);
	assert_true(r.lvs[0].thin_id == -1);
	lvt_report_free(&r);

	assert_int_equal(lvt_report_parse(
		"{\"report\": [{\"vg\": [{\"vg_name\":\"x\"}]}, {\"lv\": [{\"lv_name\":\"b\"}]}]}",
		&r, NULL, 0), 0);
	assert_int_equal(r.n_lvs, 1);
	assert_string_equal(r.lvs[0].name, "b");
	lvt_report_free(&r);
}

static void test_json_std_and_escapes(void **state)
{
	struct lvt_report r;

	(void)state;
	/* newer lvm's json_std: numbers unquoted, undefined as null */
	assert_int_equal(lvt_report_parse(
		"{\"report\":[{\"lv\":[{\"lv_name\":\"vm-a-root\",\"lv_size\":1073741824,"
		"\"thin_id\":7,\"vg_seqno\":42,\"origin\":null,\"pool_lv\":\"p\"}]}]}",
		&r, NULL, 0), 0);
	assert_true(r.lvs[0].size == 1073741824);
	assert_true(r.lvs[0].thin_id == 7);
	assert_true(r.seqno == 42);
	assert_string_equal(r.lvs[0].origin, "");
	lvt_report_free(&r);

	/* lvm escapes '"' only; a backslash stays as it is */
	assert_int_equal(lvt_report_parse(
		"{\"report\":[{\"lv\":[{\"lv_name\":\"x\",\"lv_tags\":\"a\\\"b\\c\","
		"\"origin\":\"o\\u0041\"}]}]}", &r, NULL, 0), 0);
	assert_string_equal(r.lvs[0].origin, "oA");
	lvt_report_free(&r);

	/* a unit suffix (without --nosuffix) is tolerated for bytes */
	assert_int_equal(lvt_report_parse(
		"{\"report\":[{\"lv\":[{\"lv_name\":\"x\",\"lv_size\":\"4194304B\"}]}]}",
		&r, NULL, 0), 0);
	assert_true(r.lvs[0].size == 4194304);
	lvt_report_free(&r);
}

static void test_segments_merge(void **state)
{
	struct lvt_report r;

	(void)state;
	/* an LV on two segments is two rows; devices list PVs per segment */
	assert_int_equal(lvt_report_parse(
		"{\"report\":[{\"lv\":[\n"
		"{\"lv_name\":\"[p_tdata]\",\"lv_size\":\"8388608\",\"devices\":\"/dev/vda(2)\"},\n"
		"{\"lv_name\":\"[p_tdata]\",\"lv_size\":\"8388608\",\"devices\":\"/dev/vdb(0),/dev/vdc(0)\"},\n"
		"{\"lv_name\":\"[p_tmeta]\",\"lv_size\":\"4194304\",\"devices\":\"/dev/vdb(9)\"}\n"
		"]}]}", &r, NULL, 0), 0);
	assert_int_equal(r.n_lvs, 2);
	assert_int_equal(r.n_pvs, 3);
	assert_string_equal(r.pvs[0], "/dev/vda");
	assert_string_equal(r.pvs[1], "/dev/vdb");
	assert_string_equal(r.pvs[2], "/dev/vdc");
	lvt_report_free(&r);
}

static void expect_bad(const char *json, const char *why_part)
{
	struct lvt_report r = { .n_lvs = 12345 };
	char why[128] = "";

	assert_int_equal(lvt_report_parse(json, &r, why, sizeof(why)), -EBADMSG);
	assert_int_equal(r.n_lvs, 12345);  /* untouched on failure */
	if (why_part && !strstr(why, why_part))
		fail_msg("'%s': reason '%s' lacks '%s'", json, why, why_part);
}

static void test_malformed(void **state)
{
	char big[8192];

	(void)state;
	expect_bad("", "no json object");
	expect_bad(NULL, "no json object");
	expect_bad("[]", "no json object");
	expect_bad("{}", "no \"report\"");
	expect_bad("{\"report\": [", NULL);
	/* a report cut off in the middle (a lost line) */
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"lv_size\":\"1\"},\n", NULL);
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\"}]}]} trailing", "text after");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_size\":\"512\"}]}]}", "without lv_name");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"\"}]}]}", "bad lv_name");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"lv_size\":\"12x\"}]}]}", "bad lv_size");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"lv_size\":\"-1\"}]}]}", "bad lv_size");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"lv_size\":\"99999999999999999999999\"}]}]}",
		   "bad lv_size");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"thin_id\":\"x\"}]}]}", "bad thin_id");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"vg_seqno\":\"1.5\"}]}]}", "bad vg_seqno");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"devices\":\"/dev/vda\"}]}]}", "bad devices");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\" \"lv_size\":\"1\"}]}]}", NULL);
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\", \"x\": tru}]}]}", "bad literal");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\nb\"}]}]}", "control character");
	expect_bad("{\"report\": [{\"lv\": [{\"lv_name\":\"a\\u00zz\"}]}]}", "\\u escape");
	expect_bad("{\"report\": [{\"lv\": {\"lv_name\":\"a\"}}]}", "lv array");

	/* an LV name longer than lvm allows is not silently cut */
	memset(big, 0, sizeof(big));
	strcpy(big, "{\"report\": [{\"lv\": [{\"lv_name\":\"");
	memset(big + strlen(big), 'a', 200);
	strcat(big, "\"}]}]}");
	expect_bad(big, "bad lv_name");

	/* nesting bombs stop */
	memset(big, 0, sizeof(big));
	strcpy(big, "{\"report\": [], \"x\": ");
	for (int i = 0; i < 100; i++)
		strcat(big, "[");
	expect_bad(big, "nested too deep");
}

static void test_devices(void **state)
{
	char **pvs = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(lvt_devices_parse("/dev/vda(0)", &pvs, &n), 0);
	assert_int_equal(lvt_devices_parse("/dev/mapper/crypt-pv(1280),/dev/vda(17)", &pvs, &n), 0);
	assert_int_equal(lvt_devices_parse("pool00_tdata(0)", &pvs, &n), 0);  /* sub-LV */
	assert_int_equal(lvt_devices_parse("", &pvs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pvs[0], "/dev/vda");
	assert_string_equal(pvs[1], "/dev/mapper/crypt-pv");
	assert_int_equal(lvt_devices_parse("/dev/vda", &pvs, &n), -EBADMSG);
	assert_int_equal(lvt_devices_parse("/dev/vda(x)", &pvs, &n), -EBADMSG);
	assert_int_equal(lvt_devices_parse("(0)", &pvs, &n), -EBADMSG);
	assert_int_equal(lvt_devices_parse("/dev/vda(0),", &pvs, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		free(pvs[i]);
	free(pvs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qubes_vg),
		cmocka_unit_test(test_empty_and_other_sections),
		cmocka_unit_test(test_json_std_and_escapes),
		cmocka_unit_test(test_segments_merge),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
