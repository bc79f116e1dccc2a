/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm_thin names: role suffixes, strict parsing, device-mapper names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"

static void test_name_ok(void **state)
{
	(void)state;
	assert_true(lvt_name_ok("qubes_dom0"));
	assert_true(lvt_name_ok("vm-work-private"));
	assert_true(lvt_name_ok("a.b+c_d-e"));
	assert_false(lvt_name_ok(""));
	assert_false(lvt_name_ok(NULL));
	assert_false(lvt_name_ok("-x"));          /* would be an option */
	assert_false(lvt_name_ok("a b"));         /* lvm2_run splits on spaces */
	assert_false(lvt_name_ok("a\tb"));
	assert_false(lvt_name_ok("a/b"));
	assert_false(lvt_name_ok("#x"));          /* lvm_split: rest is a comment */
	assert_false(lvt_name_ok("x'y"));
	assert_false(lvt_name_ok("x\"y"));
	assert_false(lvt_name_ok("x;rm"));
	assert_false(lvt_name_ok("x\n"));

	char long_ok[LVT_NAME_MAX + 1], too_long[LVT_NAME_MAX + 2];

	memset(long_ok, 'a', LVT_NAME_MAX);
	long_ok[LVT_NAME_MAX] = '\0';
	memset(too_long, 'a', LVT_NAME_MAX + 1);
	too_long[LVT_NAME_MAX + 1] = '\0';
	assert_true(lvt_name_ok(long_ok));
	assert_false(lvt_name_ok(too_long));
}

static void test_vid_split(void **state)
{
	char vg[LVT_NAME_MAX + 1], base[LVT_NAME_MAX + 1];

	(void)state;
	assert_int_equal(lvt_vid_split("qubes_dom0/vm-work-private", vg, base), 0);
	assert_string_equal(vg, "qubes_dom0");
	assert_string_equal(base, "vm-work-private");
	assert_int_equal(lvt_vid_split("noslash", vg, base), -EINVAL);
	assert_int_equal(lvt_vid_split("/vm-x-root", vg, base), -EINVAL);
	assert_int_equal(lvt_vid_split("vg/", vg, base), -EINVAL);
	assert_int_equal(lvt_vid_split("vg/a/b", vg, base), -EINVAL);
	assert_int_equal(lvt_vid_split("vg/-x", vg, base), -EINVAL);
	assert_int_equal(lvt_vid_split("v g/x", vg, base), -EINVAL);
}

static void test_obj_lv(void **state)
{
	char buf[LVT_NAME_MAX + 1];

	(void)state;
	assert_int_equal(lvt_obj_lv("vm-work-private", QS_COMMITTED, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vm-work-private");
	assert_int_equal(lvt_obj_lv("vm-work-private", QS_RUNNING, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vm-work-private-snap");
	assert_int_equal(lvt_obj_lv("vm-work-private", QS_IMPORT, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vm-work-private-import");
	assert_int_equal(lvt_obj_lv("vm-work-private", QS_TMP, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vm-work-private-tmp");
	assert_int_equal(lvt_obj_lv("vm-work-private", QS_REVISION, 1700000000, buf,
				    sizeof(buf)), 0);
	assert_string_equal(buf, "vm-work-private-1700000000-back");
	assert_int_equal(lvt_obj_lv("vm-work-private", QS_PRECACHE, 0, buf, sizeof(buf)),
			 -EOPNOTSUPP);
	assert_int_equal(lvt_obj_lv("bad name", QS_COMMITTED, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(lvt_obj_lv("vm-work-private", QS_RUNNING, 0, buf, 10), -ENAMETOOLONG);

	/* 110 + "-18446744073709551615-back" > 127: too long for LVM */
	char base[111];

	memset(base, 'b', 110);
	base[110] = '\0';
	assert_int_equal(lvt_obj_lv(base, QS_REVISION, UINT64_MAX, buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_int_equal(lvt_obj_lv(base, QS_RUNNING, 0, buf, sizeof(buf)), 0);
}

static void expect_role(const char *base, const char *lv, enum qs_role role, uint64_t key)
{
	enum qs_role r = QS_PRECACHE;
	uint64_t k = 99;

	assert_int_equal(lvt_lv_role(base, lv, &r, &k), 1);
	assert_int_equal(r, role);
	assert_true(k == key);
}

static void expect_not(const char *base, const char *lv)
{
	enum qs_role r = QS_PRECACHE;
	uint64_t k = 99;

	assert_int_equal(lvt_lv_role(base, lv, &r, &k), 0);
	assert_int_equal(r, QS_PRECACHE);  /* untouched */
	assert_true(k == 99);
}

static void test_lv_role(void **state)
{
	(void)state;
	expect_role("vm-work-private", "vm-work-private", QS_COMMITTED, 0);
	expect_role("vm-work-private", "vm-work-private-snap", QS_RUNNING, 0);
	expect_role("vm-work-private", "vm-work-private-import", QS_IMPORT, 0);
	expect_role("vm-work-private", "vm-work-private-tmp", QS_TMP, 0);
	expect_role("vm-work-private", "vm-work-private-1700000000-back", QS_REVISION,
		    1700000000);
	expect_role("vm-work-private", "vm-work-private-0-back", QS_REVISION, 0);
	expect_role("vm-work-private", "vm-work-private-18446744073709551615-back",
		    QS_REVISION, UINT64_MAX);

	/* VM "x-root" is not VM "x"'s root, and the reverse */
	expect_not("vm-x-root", "vm-x-root-private");
	expect_not("vm-x-root", "vm-x-root-private-snap");
	expect_not("vm-x-root", "vm-x-root-private-1700000000-back");
	expect_not("vm-x-root-private", "vm-x-root");
	expect_not("vm-x-root-private", "vm-x-root-snap");
	expect_not("vm-x", "vm-x-root");
	/* a prefix that is not followed by '-' */
	expect_not("vm-x-root", "vm-x-rootfs");
	expect_not("vm-x-root", "vm-x-rootsnap");
	/* suffixes that only look like ours */
	expect_not("vm-x-root", "vm-x-root-snap2");
	expect_not("vm-x-root", "vm-x-root-SNAP");
	expect_not("vm-x-root", "vm-x-root-snap-");
	expect_not("vm-x-root", "vm-x-root-");
	expect_not("vm-x-root", "vm-x-root-back");
	expect_not("vm-x-root", "vm-x-root--back");
	expect_not("vm-x-root", "vm-x-root-12a-back");
	expect_not("vm-x-root", "vm-x-root-0123-back");    /* not how %llu prints */
	expect_not("vm-x-root", "vm-x-root-+12-back");
	expect_not("vm-x-root", "vm-x-root--12-back");
	expect_not("vm-x-root", "vm-x-root-12-backup");
	expect_not("vm-x-root", "vm-x-root-12-back-snap");
	expect_not("vm-x-root", "vm-x-root-18446744073709551616-back"); /* overflow */
	expect_not("vm-x-root", "[vm-x-root_tmeta]");
	expect_not("vm-x-root", "vm-x-roo");
	expect_not("", "vm-x-root");
}

static void test_rev_id(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(lvt_rev_id(1700000000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1700000000-back");
	assert_int_equal(lvt_rev_id(1700000000, buf, 8), -ENAMETOOLONG);
}

static void test_dm_name(void **state)
{
	char buf[LVT_DM_NAME_MAX + 1];

	(void)state;
	assert_int_equal(lvt_dm_name("qubes_dom0", "vm-work-private", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "qubes_dom0-vm--work--private");
	assert_int_equal(lvt_dm_name("qubes_dom0", "pool00", "tpool", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "qubes_dom0-pool00-tpool");
	assert_int_equal(lvt_dm_name("my-vg", "vm-pool", "tpool", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "my--vg-vm--pool-tpool");
	assert_int_equal(lvt_dm_name("vg", "pool_tmeta", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vg-pool_tmeta");
	assert_int_equal(lvt_dm_name("vg", "a-b-c", NULL, buf, 10), -ENAMETOOLONG);
	assert_int_equal(lvt_dm_name("vg", "a-b-c", NULL, buf, 11), 0);
	assert_string_equal(buf, "vg-a--b--c");

	/* 127 bytes is the device-mapper limit even with a bigger buffer */
	char lv[80], big[300];

	memset(lv, '-', 79);
	lv[0] = 'a';
	lv[79] = '\0';
	assert_int_equal(lvt_dm_name("vg", lv, NULL, big, sizeof(big)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_vid_split),
		cmocka_unit_test(test_obj_lv),
		cmocka_unit_test(test_lv_role),
		cmocka_unit_test(test_rev_id),
		cmocka_unit_test(test_dm_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
