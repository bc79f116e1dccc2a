/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Thin-pool/thin status and table lines, and thin_ls output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dmstatus.h"
#include "thinls.h"

static void test_pool_status(void **state)
{
	struct lvt_pool_status st;

	(void)state;
	/* linux 6.1 dm-thin, healthy pool */
	assert_int_equal(lvt_parse_pool_status("12 1356/4161600 49152/131072 - rw "
					       "discard_passdown queue_if_no_space - 1024", &st), 0);
	assert_true(st.transaction_id == 12);
	assert_true(st.meta_used == 1356);
	assert_true(st.meta_total == 4161600);
	assert_true(st.data_used == 49152);
	assert_true(st.data_total == 131072);
	assert_false(st.held_root);
	assert_false(st.read_only);
	assert_false(st.out_of_data_space);
	assert_false(st.needs_check);

	/* a metadata snapshot held, pool out of data space, needs check */
	assert_int_equal(lvt_parse_pool_status("7 20/1024 100/100 553 out_of_data_space "
					       "no_discard_passdown error_if_no_space needs_check 256",
					       &st), 0);
	assert_true(st.held_root);
	assert_true(st.out_of_data_space);
	assert_true(st.read_only);
	assert_true(st.needs_check);
	assert_true(st.data_used == st.data_total);

	/* older kernels print fewer fields */
	assert_int_equal(lvt_parse_pool_status("0 9/1024 0/800 -", &st), 0);
	assert_true(st.data_total == 800);
	assert_int_equal(lvt_parse_pool_status("0 9/1024 0/800 - ro", &st), 0);
	assert_true(st.read_only);

	assert_int_equal(lvt_parse_pool_status("Fail", &st), -EIO);
	assert_int_equal(lvt_parse_pool_status("", &st), -EBADMSG);
	assert_int_equal(lvt_parse_pool_status("12 1356/4161600 49152/131072", &st), -EBADMSG);
	assert_int_equal(lvt_parse_pool_status("12 1356-4161600 49152/131072 -", &st), -EBADMSG);
	assert_int_equal(lvt_parse_pool_status("12 5/4 49152/131072 -", &st), -EBADMSG);
	assert_int_equal(lvt_parse_pool_status("x 1/4 1/2 -", &st), -EBADMSG);
	assert_int_equal(lvt_parse_pool_status("1 1/4 1/2 root", &st), -EBADMSG);
	assert_int_equal(lvt_parse_pool_status(NULL, &st), -EBADMSG);
}

static void test_pool_table(void **state)
{
	struct lvt_pool_table t;

	(void)state;
	/* as lvm loads it: 64 KiB blocks, skip_block_zeroing */
	assert_int_equal(lvt_parse_pool_table("253:0 253:1 128 0 1 skip_block_zeroing", &t), 0);
	assert_int_equal(t.meta_major, 253);
	assert_int_equal(t.meta_minor, 0);
	assert_int_equal(t.data_major, 253);
	assert_int_equal(t.data_minor, 1);
	assert_true(t.block_sectors == 128);
	assert_int_equal(lvt_parse_pool_table("254:12 254:13 2048 3276", &t), 0);
	assert_true(t.block_sectors == 2048);
	assert_int_equal(t.meta_minor, 12);

	assert_int_equal(lvt_parse_pool_table("253:0 253:1 0 0", &t), -EBADMSG);
	assert_int_equal(lvt_parse_pool_table("/dev/vda 253:1 128 0", &t), -EBADMSG);
	assert_int_equal(lvt_parse_pool_table("253:0 253:1 128", &t), -EBADMSG);
	assert_int_equal(lvt_parse_pool_table("253:0 253:x 128 0", &t), -EBADMSG);
}

static void test_thin_status(void **state)
{
	uint64_t m = 7;

	(void)state;
	assert_int_equal(lvt_parse_thin_status("0 -", &m), 0);
	assert_true(m == 0);
	assert_int_equal(lvt_parse_thin_status("2097152 4194303", &m), 0);
	assert_true(m == 2097152);
	assert_int_equal(lvt_parse_thin_status("Fail", &m), -EIO);
	assert_int_equal(lvt_parse_thin_status("12", &m), -EBADMSG);
	assert_int_equal(lvt_parse_thin_status("12 x", &m), -EBADMSG);
	assert_int_equal(lvt_parse_thin_status("12 5 6", &m), -EBADMSG);
	assert_int_equal(lvt_parse_thin_status("-1 5", &m), -EBADMSG);
}

static void test_thin_ls(void **state)
{
	struct lvt_thin_usage *u = NULL;
	size_t n = 99;

	(void)state;
	/* thin_ls 0.9 pads columns to the widest value, with a trailing blank */
	assert_int_equal(lvt_thin_ls_parse(
		"1 2147483648 1073741824 1073741824 \n"
		"2    1048576          0    1048576 \n"
		"7          0          0          0 \n", &u, &n), 0);
	assert_int_equal(n, 3);
	assert_true(u[0].dev_id == 1);
	assert_true(u[0].mapped == 2147483648ULL);
	assert_true(u[0].exclusive == 1073741824);
	assert_true(u[0].shared == 1073741824);
	assert_true(u[1].dev_id == 2);
	assert_true(u[1].exclusive == 0);
	assert_true(u[2].dev_id == 7);
	assert_true(u[2].mapped == 0);
	free(u);

	assert_int_equal(lvt_thin_ls_parse("", &u, &n), 0);
	assert_int_equal(n, 0);
	free(u);
	assert_int_equal(lvt_thin_ls_parse("\n\n", &u, &n), 0);
	assert_int_equal(n, 0);
	free(u);

	/* headers (someone dropped --no-headers), short rows, human units */
	assert_int_equal(lvt_thin_ls_parse("DEV MAPPED_BYTES EXCLUSIVE_BYTES SHARED_BYTES\n",
					   &u, &n), -EBADMSG);
	assert_int_equal(lvt_thin_ls_parse("1 2 3\n", &u, &n), -EBADMSG);
	assert_int_equal(lvt_thin_ls_parse("1 2GiB 1 1\n", &u, &n), -EBADMSG);
	assert_int_equal(lvt_thin_ls_parse("1 2 1 1 5\n", &u, &n), -EBADMSG);
	assert_int_equal(lvt_thin_ls_parse("1 2 3 0\n", &u, &n), -EBADMSG); /* excl > mapped */
	assert_int_equal(lvt_thin_ls_parse("1 99999999999999999999999 0 0\n", &u, &n), -EBADMSG);
}

/* thin table, as the kernel prints it for an LVM thin LV */
static void test_thin_table(void **state)
{
	uint64_t id = 0;

	(void)state;
	assert_int_equal(lvt_parse_thin_table("253:2 1", &id), 0);
	assert_true(id == 1);
	assert_int_equal(lvt_parse_thin_table("253:2 16777215 8:16", &id), 0);
	assert_true(id == 16777215);
	assert_int_equal(lvt_parse_thin_table("253:2 16777216", &id), -EBADMSG);
	assert_int_equal(lvt_parse_thin_table("253:2", &id), -EBADMSG);
	assert_int_equal(lvt_parse_thin_table("pool 1", &id), -EBADMSG);
	assert_int_equal(lvt_parse_thin_table("253:2 x", &id), -EBADMSG);
	assert_int_equal(lvt_parse_thin_table("253:2 1 8:16 extra", &id), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_status),
		cmocka_unit_test(test_pool_table),
		cmocka_unit_test(test_thin_status),
		cmocka_unit_test(test_thin_table),
		cmocka_unit_test(test_thin_ls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
