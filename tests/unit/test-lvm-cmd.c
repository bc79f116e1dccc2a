/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lvm_thin command lines: exact strings from the builders, refusal of
 * hostile names, lvm2_run return codes -> errno, and (with the installed
 * liblvm2cmd, no device needed) that lvm parses every line we build and
 * that the report reaches us through the log callback.
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
#include <lvm2cmd.h>

#include "lvmcmd.h"
#include "names.h"

static char buf[LVT_CMD_LEN];

static void test_create(void **state)
{
	(void)state;
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "qubes_dom0", "vm-pool",
					"vm-work-private", 2147483648ULL, false), 0);
	assert_string_equal(buf, "lvcreate -q -y -an -V 2147483648b -T qubes_dom0/vm-pool "
			    "-n vm-work-private");
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "vg", "pool00",
					"vm-disp1-volatile-snap", 512, true), 0);
	assert_string_equal(buf, "lvcreate -q -y -ay -V 512b -T vg/pool00 -n vm-disp1-volatile-snap");
	/* sizes lvm would refuse ("Size is not a multiple of 512") */
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "vg", "p", "x", 0, false), -EINVAL);
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "vg", "p", "x", 1000, false), -EINVAL);
	/* hostile names never reach a command line */
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "vg", "p", "x -an", 512, false), -EINVAL);
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "vg", "p", "-x", 512, false), -EINVAL);
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "v g", "p", "x", 512, false), -EINVAL);
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "vg", "p#", "x", 512, false), -EINVAL);
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "vg", "p", "x'y", 512, false), -EINVAL);
	assert_int_equal(lvt_cmd_create(buf, sizeof(buf), "vg", "p", "", 512, false), -EINVAL);
	assert_int_equal(lvt_cmd_create(buf, 20, "vg", "p", "x", 512, false), -ENAMETOOLONG);
	assert_string_equal(buf, "");
}

static void test_snapshot(void **state)
{
	(void)state;
	assert_int_equal(lvt_cmd_snapshot(buf, sizeof(buf), "qubes_dom0", "vm-fedora-root",
					  "vm-work-root-snap", true), 0);
	assert_string_equal(buf, "lvcreate -q -y -s -kn -ay qubes_dom0/vm-fedora-root "
			    "-n vm-work-root-snap");
	assert_int_equal(lvt_cmd_snapshot(buf, sizeof(buf), "qubes_dom0", "vm-work-private",
					  "vm-clone-private", false), 0);
	assert_string_equal(buf, "lvcreate -q -y -s -ky -an qubes_dom0/vm-work-private "
			    "-n vm-clone-private");
	assert_int_equal(lvt_cmd_snapshot(buf, sizeof(buf), "vg", "a b", "c", true), -EINVAL);
	assert_int_equal(lvt_cmd_snapshot(buf, sizeof(buf), "vg", "a", "--help", true), -EINVAL);
	assert_int_equal(lvt_cmd_snapshot(buf, sizeof(buf), "vg", "a", "c\n", true), -EINVAL);
}

static void test_rename_resize(void **state)
{
	(void)state;
	assert_int_equal(lvt_cmd_rename(buf, sizeof(buf), "qubes_dom0", "vm-work-private",
					"vm-work-private-1700000000-back"), 0);
	assert_string_equal(buf, "lvrename -q qubes_dom0 vm-work-private "
			    "vm-work-private-1700000000-back");
	assert_int_equal(lvt_cmd_rename(buf, sizeof(buf), "vg", "a", "b c"), -EINVAL);
	assert_int_equal(lvt_cmd_rename(buf, sizeof(buf), "vg", "-a", "b"), -EINVAL);

	assert_int_equal(lvt_cmd_resize(buf, sizeof(buf), "qubes_dom0", "vm-work-private-snap",
					10737418240ULL), 0);
	assert_string_equal(buf, "lvresize -q -f -L 10737418240b qubes_dom0/vm-work-private-snap");
	assert_int_equal(lvt_cmd_resize(buf, sizeof(buf), "vg", "x", 513), -EINVAL);
	assert_int_equal(lvt_cmd_resize(buf, sizeof(buf), "vg", "x", 0), -EINVAL);
	assert_int_equal(lvt_cmd_resize(buf, sizeof(buf), "vg", "x/y", 512), -EINVAL);
}

static void test_batch(void **state)
{
	const char *three[] = { "vm-work-private-1700000000-back",
				"vm-work-private-1700000100-back", "vm-work-private-tmp" };
	const char *bad[] = { "vm-ok", "vm bad" };
	const char *many[LVT_CMD_MAX_LVS + 1];
	char names[LVT_CMD_MAX_LVS + 1][16];

	(void)state;
	assert_int_equal(lvt_cmd_remove(buf, sizeof(buf), "qubes_dom0", three, 3), 0);
	assert_string_equal(buf, "lvremove -q -f qubes_dom0/vm-work-private-1700000000-back "
			    "qubes_dom0/vm-work-private-1700000100-back "
			    "qubes_dom0/vm-work-private-tmp");
	assert_int_equal(lvt_cmd_remove(buf, sizeof(buf), "vg", bad, 2), -EINVAL);
	assert_int_equal(lvt_cmd_remove(buf, sizeof(buf), "vg", three, 0), -EINVAL);

	assert_int_equal(lvt_cmd_activate(buf, sizeof(buf), "vg", three, 1), 0);
	assert_string_equal(buf, "lvchange -q -ay -K vg/vm-work-private-1700000000-back");
	assert_int_equal(lvt_cmd_deactivate(buf, sizeof(buf), "vg", three + 2, 1), 0);
	assert_string_equal(buf, "lvchange -q -an vg/vm-work-private-tmp");
	assert_int_equal(lvt_cmd_activate(buf, sizeof(buf), "vg", bad, 2), -EINVAL);

	/* lvm2_run splits into at most 64 words */
	for (int i = 0; i <= LVT_CMD_MAX_LVS; i++) {
		snprintf(names[i], sizeof(names[i]), "lv%d", i);
		many[i] = names[i];
	}
	assert_int_equal(lvt_cmd_remove(buf, sizeof(buf), "vg", many, LVT_CMD_MAX_LVS), 0);
	{
		int words = 0;

		for (char *p = buf; *p; p++)
			words += *p != ' ' && (p == buf || p[-1] == ' ');
		assert_int_equal(words, 3 + LVT_CMD_MAX_LVS);
		assert_true(words < 64);
	}
	assert_int_equal(lvt_cmd_remove(buf, sizeof(buf), "vg", many, LVT_CMD_MAX_LVS + 1), -E2BIG);
	assert_string_equal(buf, "");
}

static void test_report(void **state)
{
	(void)state;
	assert_int_equal(lvt_cmd_report(buf, sizeof(buf), "qubes_dom0"), 0);
	assert_string_equal(buf, "lvs -a --reportformat json -o lv_name,lv_attr,lv_size,pool_lv,"
			    "origin,thin_id,vg_seqno,vg_extent_size,devices --units b "
			    "--nosuffix qubes_dom0");
	assert_int_equal(lvt_cmd_report(buf, sizeof(buf), "qubes dom0"), -EINVAL);
}

static void test_rc(void **state)
{
	(void)state;
	assert_int_equal(lvt_rc_to_errno(LVM2_COMMAND_SUCCEEDED, ""), 0);
	assert_int_equal(lvt_rc_to_errno(LVM2_COMMAND_SUCCEEDED, "Volume group \"x\" not found"), 0);
	assert_int_equal(lvt_rc_to_errno(LVM2_NO_SUCH_COMMAND, ""), -ENOSYS);
	assert_int_equal(lvt_rc_to_errno(LVM2_INVALID_PARAMETERS,
					 "Error during parsing of command line."), -EINVAL);
	assert_int_equal(lvt_rc_to_errno(LVM2_INIT_FAILED, ""), -EIO);
	assert_int_equal(lvt_rc_to_errno(LVM2_PROCESSING_FAILED,
					 "Logical Volume \"vm-x-root\" already exists in volume "
					 "group \"vg\""), -EEXIST);
	assert_int_equal(lvt_rc_to_errno(LVM2_PROCESSING_FAILED,
					 "Volume group \"nosuchvg\" not found\n"
					 "Cannot process volume group nosuchvg"), -ENOENT);
	assert_int_equal(lvt_rc_to_errno(LVM2_PROCESSING_FAILED,
					 "Failed to find logical volume \"vg/x\""), -ENOENT);
	assert_int_equal(lvt_rc_to_errno(LVM2_PROCESSING_FAILED,
					 "Insufficient free space: 10 extents needed, but only 2 "
					 "available"), -ENOSPC);
	assert_int_equal(lvt_rc_to_errno(LVM2_PROCESSING_FAILED,
					 "Logical volume vg/x in use."), -EIO);
	assert_int_equal(lvt_rc_to_errno(LVM2_PROCESSING_FAILED, NULL), -EIO);
	assert_int_equal(lvt_rc_to_errno(42, ""), -EIO);
}

static void test_reason(void **state)
{
	struct lvt_out out = { 0 };
	char r[256];

	(void)state;
	snprintf(out.error, sizeof(out.error), "Volume group \"vg\" not found.");
	assert_string_equal(lvt_out_reason(&out, r, sizeof(r)), "volume group \"vg\" not found");
	snprintf(out.error, sizeof(out.error), "LV vg/x is used by another device.");
	assert_string_equal(lvt_out_reason(&out, r, sizeof(r)), "LV vg/x is used by another device");
	out.error[0] = '\0';
	assert_string_equal(lvt_out_reason(&out, r, sizeof(r)), "lvm command failed");
	assert_string_equal(lvt_out_reason(NULL, r, sizeof(r)), "lvm command failed");
}

/* ---- with the real liblvm2cmd: a private configuration that sees no
 * device, so nothing on this machine is read or changed ---- */

static char lvmdir[64];

static int lvm_setup(void **state)
{
	char path[128];
	FILE *f;

	(void)state;
	snprintf(lvmdir, sizeof(lvmdir), "/tmp/qstor-lvmcmd-XXXXXX");
	if (!mkdtemp(lvmdir))
		return -1;
	snprintf(path, sizeof(path), "%s/lvm.conf", lvmdir);
	if (!(f = fopen(path, "w")))
		return -1;
	fprintf(f,
		"devices {\n global_filter = [ \"r|.*|\" ]\n obtain_device_list_from_udev = 0\n"
		" use_devicesfile = 0\n}\n"
		"activation {\n udev_sync = 0\n udev_rules = 0\n monitoring = 0\n}\n"
		"global {\n locking_dir = \"%s\"\n}\n"
		"backup {\n backup = 0\n archive = 0\n}\n", lvmdir);
	fclose(f);
	setenv("LVM_SYSTEM_DIR", lvmdir, 1);
	return 0;
}

static int lvm_teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", lvmdir);
	return system(cmd) == 0 ? 0 : -1;
}

static bool parse_error(const struct lvt_out *o)
{
	return strstr(o->errors, "parsing of command line") || strstr(o->errors, "Invalid argument") ||
	       strstr(o->errors, "does not accept") || strstr(o->errors, "nrecogni") ||
	       strstr(o->errors, "Incorrect syntax") || strstr(o->errors, "No command with matching");
}

static void test_lvm_parses_our_lines(void **state)
{
	const char *two[] = { "vm-a-root-1700000000-back", "vm-a-root-tmp" };
	struct lvt_out out = { 0 };
	int r;

	(void)state;
	if (lvt_lvm_init() < 0)
		skip();

	/* a line lvm rejects while parsing: the detector works */
	r = lvt_run("lvcreate -q -V 1000b -T qstor_nosuchvg/pool -n x", &out);
	assert_int_equal(r, -EINVAL);
	assert_true(parse_error(&out));
	assert_non_null(strstr(out.error, "not a multiple of 512"));

#define PARSES(builder_call)                                                \
	do {                                                                \
		assert_int_equal(builder_call, 0);                          \
		r = lvt_run(buf, &out);                                     \
		assert_true(r < 0); /* no such VG here */                   \
		if (parse_error(&out))                                      \
			fail_msg("lvm cannot parse '%s': %s", buf, out.errors); \
	} while (0)

	PARSES(lvt_cmd_create(buf, sizeof(buf), "qstor_nosuchvg", "pool", "vm-a-root",
			      1073741824, false));
	PARSES(lvt_cmd_create(buf, sizeof(buf), "qstor_nosuchvg", "pool", "vm-a-volatile-snap",
			      1073741824, true));
	PARSES(lvt_cmd_snapshot(buf, sizeof(buf), "qstor_nosuchvg", "vm-t-root", "vm-a-root-snap",
				true));
	PARSES(lvt_cmd_snapshot(buf, sizeof(buf), "qstor_nosuchvg", "vm-t-root", "vm-b-root",
				false));
	PARSES(lvt_cmd_rename(buf, sizeof(buf), "qstor_nosuchvg", "vm-a-root",
			      "vm-a-root-1700000000-back"));
	PARSES(lvt_cmd_remove(buf, sizeof(buf), "qstor_nosuchvg", two, 2));
	PARSES(lvt_cmd_resize(buf, sizeof(buf), "qstor_nosuchvg", "vm-a-root", 2147483648ULL));
	PARSES(lvt_cmd_activate(buf, sizeof(buf), "qstor_nosuchvg", two, 2));
	PARSES(lvt_cmd_deactivate(buf, sizeof(buf), "qstor_nosuchvg", two, 2));
	PARSES(lvt_cmd_report(buf, sizeof(buf), "qstor_nosuchvg"));
	/* the report of a missing VG: ENOENT, and the first error names it */
	assert_int_equal(r, -ENOENT);
	assert_string_equal(out.error, "Volume group \"qstor_nosuchvg\" not found");
	lvt_out_free(&out);
}

static void test_lvm_report_reaches_us(void **state)
{
	struct lvt_out out = { 0 };
	unsigned long before;

	(void)state;
	if (lvt_lvm_init() < 0)
		skip();
	before = lvt_run_count();
	/* every VG (none here): an empty report, printed only to us */
	assert_int_equal(lvt_run("lvs --reportformat json -o lv_name --units b --nosuffix", &out), 0);
	assert_non_null(out.report);
	assert_string_equal(out.report,
			    "{\n"
			    "    \"report\": [\n"
			    "        {\n"
			    "            \"lv\": [\n"
			    "            ]\n"
			    "        }\n"
			    "    ]\n"
			    "}\n");
	assert_string_equal(out.error, "");
	assert_int_equal(lvt_run_count(), before + 1);
	/* the same capture is reused and reset */
	assert_int_equal(lvt_run("lvs --bogus-option", &out), -EINVAL);
	assert_string_equal(out.report, "");
	lvt_out_free(&out);
	assert_null(out.report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_rename_resize),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_rc),
		cmocka_unit_test(test_reason),
	};
	const struct CMUnitTest lvm_tests[] = {
		cmocka_unit_test(test_lvm_parses_our_lines),
		cmocka_unit_test(test_lvm_report_reaches_us),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	return r | cmocka_run_group_tests(lvm_tests, lvm_setup, lvm_teardown);
}
