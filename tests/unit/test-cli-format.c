/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tools' exact output and argument parsing. Where Qubes' own tests
 * (qubesadmin/tests/tools) pin an output, the same data must give the same
 * text here, so admins' scripts keep working.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "cli.h"
#include "format.h"

/* ---- capturing a FILE * ---- */

struct cap {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *cap_open(struct cap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	return c->f;
}

static char *cap_close(struct cap *c)
{
	fclose(c->f);
	return c->buf;
}

#define assert_output(expected, call)                      \
	do {                                               \
		struct cap c_;                             \
		FILE *f = cap_open(&c_);                   \
		call;                                      \
		char *out_ = cap_close(&c_);               \
		assert_string_equal(out_, expected);       \
		free(out_);                                \
	} while (0)

/* ---- fixtures ---- */

static qstor_volume_info mkvol(const char *pool, const char *vid, const char *vm,
			       const char *name, size_t nrev)
{
	qstor_volume_info v;

	memset(&v, 0, sizeof(v));
	snprintf(v.pool, sizeof(v.pool), "%s", pool);
	snprintf(v.vid, sizeof(v.vid), "%s", vid);
	snprintf(v.vm, sizeof(v.vm), "%s", vm);
	snprintf(v.name, sizeof(v.name), "%s", name);
	v.n_revisions = nrev;
	if (nrev) {
		v.revisions = calloc(nrev, sizeof(*v.revisions));
		for (size_t i = 0; i < nrev; i++)
			snprintf(v.revisions[i].id, sizeof(v.revisions[i].id), "20%02zu01010000", i + 1);
	}
	return v;
}

/* ---- helpers ---- */

static void test_human_size(void **state)
{
	char b[CLI_SIZE_BUF];

	(void)state;
	assert_string_equal(cli_human_size(0, b), "0B");
	assert_string_equal(cli_human_size(1023, b), "1023B");
	assert_string_equal(cli_human_size(1024, b), "1KiB");
	assert_string_equal(cli_human_size(1536, b), "1.5KiB");
	assert_string_equal(cli_human_size(4194304, b), "4MiB");
	assert_string_equal(cli_human_size(1610612736, b), "1.5GiB");
	assert_string_equal(cli_human_size(10737418240ULL, b), "10GiB");
	assert_string_equal(cli_human_size(10737418240ULL + 1, b), "10GiB");
	assert_string_equal(cli_human_size(1024 * 1024 + 1, b), "1.0MiB");
	assert_string_equal(cli_human_size(12345678, b), "12MiB");
	/* 1023.6 MiB must not print as "1024MiB" */
	assert_string_equal(cli_human_size(1073322394, b), "1.0GiB");
	assert_string_equal(cli_human_size(UINT64_MAX, b), "16EiB");
}

static void test_json_string(void **state)
{
	(void)state;
	assert_output("\"a\\\"b\\\\c\\n\\t\\u0001\"", cli_json_string(f, "a\"b\\c\n\t\x01"));
	assert_output("null", cli_json_string(f, NULL));
	assert_output("\"/dev/loop0\"", cli_json_string(f, "/dev/loop0"));
}

static void test_root_allowed(void **state)
{
	(void)state;
	assert_true(cli_root_allowed(0, NULL));
	assert_false(cli_root_allowed(1000, NULL));
	assert_false(cli_root_allowed(1000, "0"));
	assert_false(cli_root_allowed(1000, "yes"));
	assert_true(cli_root_allowed(1000, "1"));
}

/* ---- qvm-volume output ---- */

static void test_volume_list_qubes(void **state)
{
	/* the data of Qubes' test_000_list, given in another order */
	qstor_volume_info v[4] = {
		mkvol("pool-file", "vm1-root", "vm1", "root", 0),
		mkvol("other-pool", "vm1-private", "vm1", "private", 1),
		mkvol("pool-file", "sys-net-root", "sys-net", "root", 0),
		mkvol("other-pool", "sys-net-private", "sys-net", "private", 1),
	};
	const qstor_volume_info *p[4] = { &v[0], &v[1], &v[2], &v[3] };

	(void)state;
	assert_output("POOL:VOLUME                 VMNAME   VOLUME_NAME  REVERT_POSSIBLE\n"
		      "other-pool:sys-net-private  sys-net  private      Yes\n"
		      "other-pool:vm1-private      vm1      private      Yes\n"
		      "pool-file:sys-net-root      sys-net  root         No\n"
		      "pool-file:vm1-root          vm1      root         No\n",
		      fmt_volume_list(f, p, 4, false));
	for (int i = 0; i < 4; i++)
		free(v[i].revisions);
}

static void test_volume_list_elide(void **state)
{
	/* two VMs naming one pool:vid: a terminal without --full blanks the repeat */
	qstor_volume_info v[2] = {
		mkvol("p", "shared", "b", "root", 0),
		mkvol("p", "shared", "a", "root", 0),
	};
	const qstor_volume_info *p[2] = { &v[0], &v[1] };

	(void)state;
	assert_output("POOL:VOLUME  VMNAME  VOLUME_NAME  REVERT_POSSIBLE\n"
		      "p:shared     a       root         No\n"
		      "             b       root         No\n",
		      fmt_volume_list(f, p, 2, true));
	assert_output("POOL:VOLUME  VMNAME  VOLUME_NAME  REVERT_POSSIBLE\n"
		      "p:shared     a       root         No\n"
		      "p:shared     b       root         No\n",
		      fmt_volume_list(f, p, 2, false));
	assert_output("POOL:VOLUME  VMNAME  VOLUME_NAME  REVERT_POSSIBLE\n",
		      fmt_volume_list(f, NULL, 0, false));
}

static void test_volume_info_qubes(void **state)
{
	/* Qubes' test_040_info, plus qstor's is_dirty line */
	qstor_volume_info v = mkvol("lvm", "qubes_dom0/vm-testvm-private", "testvm", "private", 3);

	(void)state;
	v.size = 2147483648ULL;
	v.usage = 10000000;
	v.rw = true;
	v.save_on_stop = true;
	v.revisions_to_keep = -1;
	assert_output("pool               lvm\n"
		      "vid                qubes_dom0/vm-testvm-private\n"
		      "rw                 True\n"
		      "source             \n"
		      "save_on_stop       True\n"
		      "snap_on_start      False\n"
		      "size               2147483648\n"
		      "usage              10000000\n"
		      "revisions_to_keep  -1 (snapshot disabled)\n"
		      "ephemeral          False\n"
		      "is_outdated        False\n"
		      "is_dirty           False\n"
		      "List of available revisions (for revert):\n"
		      "  200101010000\n"
		      "  200201010000\n"
		      "  200301010000\n",
		      fmt_volume_info(f, &v));

	/* single properties stay bare, for scripts */
	assert_output("-1\n", assert_int_equal(fmt_volume_property(f, &v, "revisions_to_keep"), 0));
	assert_output("10000000\n", fmt_volume_property(f, &v, "usage"));
	assert_output("True\n", fmt_volume_property(f, &v, "rw"));
	assert_output("200101010000\n200201010000\n200301010000\n",
		      fmt_volume_property(f, &v, "revisions"));
	assert_output("", assert_int_equal(fmt_volume_property(f, &v, "nope"), -EINVAL));
	free(v.revisions);
}

static void test_volume_info_no_revisions(void **state)
{
	/* Qubes' test_041: a snapshot volume shows its source's vid */
	qstor_volume_info v = mkvol("lvm", "qubes_dom0/vm-testvm-root", "testvm", "root", 0);

	(void)state;
	v.size = 2147483648ULL;
	v.usage = 10000000;
	v.rw = true;
	v.snap_on_start = true;
	v.ephemeral = true;
	v.is_outdated = true;
	v.is_dirty = true;
	snprintf(v.source, sizeof(v.source), "fedora-26:root");
	snprintf(v.source_vid, sizeof(v.source_vid), "qubes_dom0/vm-fedora-26-root");
	assert_output("pool               lvm\n"
		      "vid                qubes_dom0/vm-testvm-root\n"
		      "rw                 True\n"
		      "source             qubes_dom0/vm-fedora-26-root\n"
		      "save_on_stop       False\n"
		      "snap_on_start      True\n"
		      "size               2147483648\n"
		      "usage              10000000\n"
		      "revisions_to_keep  0\n"
		      "ephemeral          True\n"
		      "is_outdated        True\n"
		      "is_dirty           True\n"
		      "List of available revisions (for revert): none\n",
		      fmt_volume_info(f, &v));
	assert_output("", fmt_volume_property(f, &v, "revisions"));
	assert_output("True\n", fmt_volume_property(f, &v, "is_dirty"));
}

/* ---- qvm-pool output ---- */

static const char *const *fake_options(const char *driver)
{
	static const char *const file[] = { "dir_path", "revisions_to_keep", NULL };
	static const char *const lvm[] = { "volume_group", "thin_pool", "revisions_to_keep", NULL };

	return strcmp(driver, "file") == 0 ? file : lvm;
}

static void test_pool_list_and_drivers(void **state)
{
	qstor_pool_info p[2];
	const char *const drivers[] = { "lvm", "file", NULL };

	(void)state;
	memset(p, 0, sizeof(p));
	snprintf(p[0].name, sizeof(p[0].name), "pool-file");
	snprintf(p[0].driver, sizeof(p[0].driver), "file");
	snprintf(p[1].name, sizeof(p[1].name), "pool-lvm");
	snprintf(p[1].driver, sizeof(p[1].driver), "lvm");
	/* Qubes' test_000_list and test_010_drivers */
	assert_output("NAME       DRIVER\n"
		      "pool-file  file\n"
		      "pool-lvm   lvm\n",
		      fmt_pool_list(f, p, 2));
	assert_output("DRIVER  OPTIONS\n"
		      "file    dir_path, revisions_to_keep\n"
		      "lvm     volume_group, thin_pool, revisions_to_keep\n",
		      fmt_drivers(f, drivers, fake_options));
}

static void test_pool_info(void **state)
{
	qstor_kv lvm_opts[] = {
		{ "volume_group", "qubes_dom0" }, { "thin_pool", "pool00" },
		{ "revisions_to_keep", "9" },  /* the computed value wins */
	};
	qstor_kv file_opts[] = { { "dir_path", "/var/lib/qstor/pool" } };
	qstor_pool_info p[2];

	(void)state;
	memset(p, 0, sizeof(p));
	snprintf(p[0].name, sizeof(p[0].name), "pool-lvm");
	snprintf(p[0].driver, sizeof(p[0].driver), "lvm");
	p[0].options = lvm_opts;
	p[0].n_options = 3;
	p[0].revisions_to_keep = 1;
	/* Qubes' test_040_info (size unknown: no size/usage lines) */
	assert_output("name               pool-lvm\n"
		      "driver             lvm\n"
		      "revisions_to_keep  1\n"
		      "thin_pool          pool00\n"
		      "volume_group       qubes_dom0\n",
		      fmt_pool_info(f, p, NULL, 1));

	p[0].size = 107374182400ULL;
	p[0].usage = 5368709120ULL;
	p[0].metadata_size = 104857600;
	p[0].metadata_usage = 2097152;
	snprintf(p[1].name, sizeof(p[1].name), "default");
	snprintf(p[1].driver, sizeof(p[1].driver), "file-reflink");
	p[1].options = file_opts;
	p[1].n_options = 1;
	p[1].revisions_to_keep = 2;
	p[1].size = 1000;
	p[1].usage = 10;
	assert_output("name               pool-lvm\n"
		      "driver             lvm\n"
		      "metadata_size      104857600\n"
		      "metadata_usage     2097152\n"
		      "revisions_to_keep  1\n"
		      "size               107374182400\n"
		      "thin_pool          pool00\n"
		      "usage              5368709120\n"
		      "volume_group       qubes_dom0\n"
		      "\n"
		      "name               default\n"
		      "dir_path           /var/lib/qstor/pool\n"
		      "driver             file-reflink\n"
		      "revisions_to_keep  2\n"
		      "size               1000\n"
		      "usage              10\n",
		      fmt_pool_info(f, p, NULL, 2));

	/* with the exact disk use of the second pool (the first has none) */
	{
		qstor_du_pool d = { .exact = true, .mapped = 300, .vm_exclusive = 120,
				    .shared = 180 };
		const qstor_du_pool *du[2] = { NULL, &d };

		p[0].size = 0;
		p[0].metadata_size = 0;
		assert_output("name               pool-lvm\n"
			      "driver             lvm\n"
			      "revisions_to_keep  1\n"
			      "thin_pool          pool00\n"
			      "volume_group       qubes_dom0\n"
			      "\n"
			      "name               default\n"
			      "dir_path           /var/lib/qstor/pool\n"
			      "driver             file-reflink\n"
			      "revisions_to_keep  2\n"
			      "size               1000\n"
			      "usage              10\n"
			      "vms_exclusive      120\n"
			      "vms_mapped         300\n"
			      "vms_shared         180\n",
			      fmt_pool_info(f, p, du, 2));
		/* not exact (a driver without extent maps): no such rows */
		d.exact = false;
		assert_output("name               default\n"
			      "dir_path           /var/lib/qstor/pool\n"
			      "driver             file-reflink\n"
			      "revisions_to_keep  2\n"
			      "size               1000\n"
			      "usage              10\n",
			      fmt_pool_info(f, &p[1], &du[1], 1));
	}
}

/* ---- qstor output ---- */

static void test_vm_list(void **state)
{
	qstor_vm_info v[2];

	(void)state;
	memset(v, 0, sizeof(v));
	snprintf(v[0].name, sizeof(v[0].name), "work");
	v[0].klass = QSTOR_CLASS_APP;
	snprintf(v[0].template_vm, sizeof(v[0].template_vm), "fedora");
	snprintf(v[0].pool, sizeof(v[0].pool), "default");
	v[0].running = true;
	snprintf(v[1].name, sizeof(v[1].name), "fedora");
	v[1].klass = QSTOR_CLASS_TEMPLATE;
	snprintf(v[1].pool, sizeof(v[1].pool), "default");
	assert_output("NAME    CLASS     TEMPLATE  POOL     STATE\n"
		      "fedora  template  -         default  stopped\n"
		      "work    app       fedora    default  running\n",
		      fmt_vm_list(f, v, 2));
	assert_output("[{\"name\":\"fedora\",\"class\":\"template\",\"template\":null,"
		      "\"pool\":\"default\",\"running\":false},"
		      "{\"name\":\"work\",\"class\":\"app\",\"template\":\"fedora\","
		      "\"pool\":\"default\",\"running\":true}]\n",
		      fmt_vm_list_json(f, v, 2));
	assert_output("[]\n", fmt_vm_list_json(f, NULL, 0));
}

static void test_devices(void **state)
{
	qstor_device d[2];

	(void)state;
	memset(d, 0, sizeof(d));
	snprintf(d[0].volume, sizeof(d[0].volume), "root");
	snprintf(d[0].path, sizeof(d[0].path), "/dev/mapper/vg-vm--work--root--snap");
	d[0].rw = false;
	snprintf(d[1].volume, sizeof(d[1].volume), "private");
	snprintf(d[1].path, sizeof(d[1].path), "/dev/loop7");
	d[1].rw = true;
	assert_output("root /dev/mapper/vg-vm--work--root--snap ro\n"
		      "private /dev/loop7 rw\n",
		      fmt_devices(f, d, 2));
	assert_output("[{\"volume\":\"root\",\"device\":\"/dev/mapper/vg-vm--work--root--snap\","
		      "\"rw\":false},{\"volume\":\"private\",\"device\":\"/dev/loop7\",\"rw\":true}]\n",
		      fmt_devices_json(f, d, 2));
}

static void test_du(void **state)
{
	qstor_du_volume vols[2];
	qstor_du_vm vm;

	(void)state;
	memset(vols, 0, sizeof(vols));
	memset(&vm, 0, sizeof(vm));
	snprintf(vm.vm, sizeof(vm.vm), "work");
	snprintf(vols[0].volume, sizeof(vols[0].volume), "root");
	snprintf(vols[0].pool, sizeof(vols[0].pool), "default");
	vols[0].size = 10737418240ULL;
	vols[0].mapped = 1610612736ULL;
	vols[0].exclusive = 4194304;
	vols[0].shared = vols[0].mapped - vols[0].exclusive;
	snprintf(vols[1].volume, sizeof(vols[1].volume), "private");
	snprintf(vols[1].pool, sizeof(vols[1].pool), "default");
	vols[1].size = 2147483648ULL;
	vols[1].mapped = 8388608;
	vols[1].exclusive = 8388608;
	vols[1].reclaimable = 1048576;
	vm.volumes = vols;
	vm.n_volumes = 2;
	vm.size = vols[0].size + vols[1].size;
	vm.mapped = vols[0].mapped + vols[1].mapped;
	vm.exclusive = vols[0].exclusive + vols[1].exclusive;
	vm.shared = vols[0].shared;
	vm.vm_exclusive = 12582912;

	assert_output("VM    VOLUME   SIZE   MAPPED  EXCLUSIVE  SHARED  RECLAIMABLE  VM-EXCLUSIVE\n"
		      "work  root     10GiB  1.5GiB  4MiB       1.5GiB  0B           -\n"
		      "work  private  2GiB   8MiB    8MiB       0B      1MiB         -\n"
		      "work  (total)  12GiB  1.5GiB  12MiB      1.5GiB  1MiB         12MiB\n",
		      fmt_du(f, &vm, 1, false));
	assert_output("VM    VOLUME   SIZE         MAPPED      EXCLUSIVE  SHARED      RECLAIMABLE  VM-EXCLUSIVE\n"
		      "work  root     10737418240  1610612736  4194304    1606418432  0            -\n"
		      "work  private  2147483648   8388608     8388608    0           1048576      -\n"
		      "work  (total)  12884901888  1619001344  12582912   1606418432  1048576      12582912\n",
		      fmt_du(f, &vm, 1, true));
	assert_output("[{\"vm\":\"work\",\"size\":12884901888,\"mapped\":1619001344,"
		      "\"exclusive\":12582912,\"shared\":1606418432,\"reclaimable\":1048576,"
		      "\"vm_exclusive\":12582912,\"volumes\":["
		      "{\"volume\":\"root\",\"pool\":\"default\",\"size\":10737418240,"
		      "\"mapped\":1610612736,\"exclusive\":4194304,\"shared\":1606418432,"
		      "\"reclaimable\":0},"
		      "{\"volume\":\"private\",\"pool\":\"default\",\"size\":2147483648,"
		      "\"mapped\":8388608,\"exclusive\":8388608,\"shared\":0,"
		      "\"reclaimable\":1048576}]}]\n",
		      fmt_du_json(f, &vm, 1));
	assert_output("VM  VOLUME  SIZE  MAPPED  EXCLUSIVE  SHARED  RECLAIMABLE  VM-EXCLUSIVE\n",
		      fmt_du(f, NULL, 0, false));
}

/* pool totals: one line per pool after the VMs, each pool once; "-" where
 * the driver has no extent maps; a "pools" array in each VM's JSON */
static void test_du_pools(void **state)
{
	qstor_du_volume vols[3];
	qstor_du_pool pools[3];
	qstor_du_vm vm[2];

	(void)state;
	memset(vols, 0, sizeof(vols));
	memset(pools, 0, sizeof(pools));
	memset(vm, 0, sizeof(vm));
	snprintf(pools[0].pool, sizeof(pools[0].pool), "default");
	pools[0].data_size = 8ULL << 30;
	pools[0].data_used = 3ULL << 30;
	pools[0].exact = true;
	pools[0].mapped = 2ULL << 30;
	pools[0].vm_exclusive = 512ULL << 20;
	pools[0].shared = pools[0].mapped - pools[0].vm_exclusive;
	snprintf(pools[1].pool, sizeof(pools[1].pool), "lvm");
	pools[1].data_size = 1ULL << 30;
	pools[1].data_used = 1ULL << 20;
	pools[1].meta_size = 4ULL << 20;
	pools[1].meta_used = 1ULL << 20;
	pools[2] = pools[0];
	snprintf(vm[0].vm, sizeof(vm[0].vm), "a");
	snprintf(vols[0].volume, sizeof(vols[0].volume), "root");
	snprintf(vols[1].volume, sizeof(vols[1].volume), "private");
	vols[1].mapped = vols[1].exclusive = 4096;
	vm[0].volumes = vols;
	vm[0].n_volumes = 2;
	vm[0].mapped = vm[0].exclusive = vm[0].vm_exclusive = 4096;
	vm[0].pools = pools;
	vm[0].n_pools = 2;
	snprintf(vm[1].vm, sizeof(vm[1].vm), "b");
	snprintf(vols[2].volume, sizeof(vols[2].volume), "root");
	vm[1].volumes = &vols[2];
	vm[1].n_volumes = 1;
	vm[1].pools = &pools[2];
	vm[1].n_pools = 1;

	assert_output("VM      VOLUME   SIZE  MAPPED  EXCLUSIVE  SHARED  RECLAIMABLE  VM-EXCLUSIVE\n"
		      "a       root     0B    0B      0B         0B      0B           -\n"
		      "a       private  0B    4KiB    4KiB       0B      0B           -\n"
		      "a       (total)  0B    4KiB    4KiB       0B      0B           4KiB\n"
		      "b       root     0B    0B      0B         0B      0B           -\n"
		      "b       (total)  0B    0B      0B         0B      0B           0B\n"
		      "(pool)  default  8GiB  2GiB    -          1.5GiB  -            512MiB\n"
		      "(pool)  lvm      1GiB  -       -          -       -            -\n",
		      fmt_du(f, vm, 2, false));
	assert_output("[{\"vm\":\"b\",\"size\":0,\"mapped\":0,\"exclusive\":0,\"shared\":0,"
		      "\"reclaimable\":0,\"vm_exclusive\":0,\"volumes\":["
		      "{\"volume\":\"root\",\"pool\":\"\",\"size\":0,\"mapped\":0,"
		      "\"exclusive\":0,\"shared\":0,\"reclaimable\":0}],"
		      "\"pools\":[{\"pool\":\"default\",\"data_size\":8589934592,"
		      "\"data_used\":3221225472,\"meta_size\":0,\"meta_used\":0,\"exact\":true,"
		      "\"mapped\":2147483648,\"shared\":1610612736,\"vm_exclusive\":536870912}]}]\n",
		      fmt_du_json(f, &vm[1], 1));
}

/* ---- parsing ---- */

#define ARGC(av) ((int)(sizeof(av) / sizeof((av)[0])))

/* parse, expect success */
#define VOL_OK(a, ...)                                                            \
	do {                                                                      \
		char *av_[] = { "qvm-volume", __VA_ARGS__ };                      \
		qstor_error e_ = { 0 };                                           \
		int r_ = volcmd_parse(ARGC(av_), av_, &(a), &e_);                 \
		if (r_ < 0)                                                       \
			fail_msg("unexpected error: %s", e_.msg);                 \
	} while (0)
/* parse, expect this message */
/* the library's validation message (its wording is the library's): it
 * must at least name what was wrong */
#define VOL_BAD(subject, ...)                                                      \
	do {                                                                      \
		char *av_[] = { "qvm-volume", __VA_ARGS__ };                         \
		qstor_error e_ = { 0 };                                           \
		struct volcmd a_;                                                \
		assert_true(volcmd_parse(ARGC(av_), av_, &a_, &e_) < 0);      \
		if (!strstr(e_.msg, subject))                                     \
			fail_msg("'%s' does not name '%s'", e_.msg, subject);   \
	} while (0)
#define VOL_ERR(expected, ...)                                                         \
	do {                                                                      \
		char *av_[] = { "qvm-volume", __VA_ARGS__ };                      \
		qstor_error e_ = { 0 };                                           \
		struct volcmd a_;                                                 \
		assert_int_equal(volcmd_parse(ARGC(av_), av_, &a_, &e_), -EINVAL); \
		assert_string_equal(e_.msg, expected);                                 \
	} while (0)

static void test_volcmd_aliases(void **state)
{
	static const struct { const char *word; enum volcmd_cmd cmd; } w[] = {
		{ "info", VOLCMD_INFO }, { "i", VOLCMD_INFO },
		{ "revert", VOLCMD_REVERT }, { "rv", VOLCMD_REVERT }, { "r", VOLCMD_REVERT },
		{ "clear", VOLCMD_CLEAR }, { "export", VOLCMD_EXPORT },
	};
	struct volcmd a;
	char *none[] = { "qvm-volume" };

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		VOL_OK(a, (char *)w[i].word, "work:private");
		assert_int_equal(a.cmd, w[i].cmd);
		assert_string_equal(a.vm, "work");
		assert_string_equal(a.vol, "private");
		volcmd_free(&a);
	}
	for (const char *const *l = (const char *const[]){ "list", "ls", "l", NULL }; *l; l++) {
		VOL_OK(a, (char *)*l);
		assert_int_equal(a.cmd, VOLCMD_LIST);
		volcmd_free(&a);
	}
	for (const char *const *c = (const char *const[]){ "config", "c", "set", "s", NULL }; *c; c++) {
		VOL_OK(a, (char *)*c, "work:private", "rw", "False");
		assert_int_equal(a.cmd, VOLCMD_CONFIG);
		assert_string_equal(a.property, "rw");
		assert_string_equal(a.value, "False");
		volcmd_free(&a);
	}
	VOL_OK(a, "extend", "work:private", "10GiB");
	assert_int_equal(a.cmd, VOLCMD_RESIZE);
	assert_int_equal(a.size, 10737418240ULL);
	assert_false(a.force);
	volcmd_free(&a);

	/* no subcommand: list, as Qubes */
	assert_int_equal(volcmd_parse(1, none, &a, NULL), 0);
	assert_int_equal(a.cmd, VOLCMD_LIST);
	assert_null(a.common.state_dir);
	volcmd_free(&a);
}

static void test_volcmd_list(void **state)
{
	struct volcmd a;

	(void)state;
	VOL_OK(a, "--state-dir", "/tmp/s", "ls", "-p", "p1", "--pool=p2", "-pp1", "--full", "vm1", "vm2", "vm1");
	assert_string_equal(a.common.state_dir, "/tmp/s");
	assert_int_equal(a.n_pools, 2);
	assert_string_equal(a.pools[0], "p1");
	assert_string_equal(a.pools[1], "p2");
	assert_int_equal(a.n_vms, 2);
	assert_string_equal(a.vms[1], "vm2");
	assert_true(a.full);
	volcmd_free(&a);

	/* options first, no word: still list */
	VOL_OK(a, "-p", "p1");
	assert_int_equal(a.cmd, VOLCMD_LIST);
	assert_int_equal(a.n_pools, 1);
	volcmd_free(&a);

	VOL_ERR("unknown command 'lst'", "lst");
	VOL_ERR("unknown option '--bogus'", "--bogus");
	VOL_ERR("list: unknown option '-f'", "list", "-f");
	VOL_ERR("list: option '--pool' requires an argument", "list", "--pool");
	VOL_BAD("'a/b'", "list", "a/b");
	VOL_BAD("'-x'", "list", "--pool=-x");
	VOL_ERR("option '--state-dir' requires an argument", "--state-dir");
	VOL_ERR("option '--state-dir' needs a directory", "--state-dir=", "list");
	VOL_ERR("option '--state-dir' needs a directory", "info", "a:b", "--state-dir=");
}

static void test_volcmd_errors(void **state)
{
	struct volcmd a;

	(void)state;
	VOL_ERR("info: missing VM:VOLUME", "info");
	VOL_ERR("info: unexpected argument 'x'", "info", "work:root", "size", "x");
	VOL_BAD("'work'", "info", "work");
	VOL_BAD("volume", "info", "work:");
	VOL_BAD("vm", "i", ":root");
	VOL_BAD("'ro ot'", "info", "work:ro ot");
	VOL_BAD("'..'", "info", "..:root");
	VOL_ERR("i: no such property 'colour' (known: pool, vid, rw, source, save_on_stop, "
		"snap_on_start, size, usage, revisions_to_keep, ephemeral, is_outdated, is_dirty, "
		"revisions)", "i", "work:root", "colour");
	VOL_ERR("config: missing PROPERTY", "config", "work:root");
	VOL_ERR("set: missing VALUE", "set", "work:root", "rw");
	VOL_ERR("s: invalid property 'size' (settable: rw, revisions_to_keep, ephemeral)",
		"s", "work:root", "size", "1");
	VOL_ERR("resize: missing SIZE", "resize", "work:private");
	VOL_BAD("'0'", "resize", "work:private", "0");
	VOL_BAD("'-1'", "resize", "work:private", "-1");
	VOL_BAD("'ten'", "resize", "work:private", "ten");
	VOL_BAD("'10X'", "extend", "work:private", "10X");
	VOL_BAD("'99999999999999999999'", "resize", "work:private",
		"99999999999999999999");
	VOL_ERR("import: missing PATH (or - for standard input)", "import", "work:private");
	VOL_ERR("import: --size and --no-resize cannot be used together",
		"import", "--size", "1G", "--no-resize", "work:private", "-");
	VOL_ERR("import: unknown option '-f'", "import", "-f", "work:private", "-");
	VOL_BAD("size", "import", "--size=", "work:private", "-");
	VOL_ERR("clone: missing DST:VOLUME", "clone", "-f", "a:private");
	VOL_ERR("clone: cannot clone 'a:private' onto itself", "clone", "-f", "a:private", "a:private");
	VOL_ERR("clear: option '--force' takes no argument", "clear", "--force=yes", "a:private");
	VOL_ERR("revert: unexpected argument 'z'", "revert", "a:private", "1", "z");

	/* help wins over missing arguments */
	VOL_OK(a, "resize", "--help");
	assert_true(a.common.help);
	volcmd_free(&a);
}

static void test_volcmd_values(void **state)
{
	struct volcmd a;

	(void)state;
	/* a negative number is a value, not an option */
	VOL_OK(a, "config", "work:private", "revisions_to_keep", "-1");
	assert_string_equal(a.value, "-1");
	volcmd_free(&a);

	VOL_OK(a, "resize", "work:private", "-f", "1Gi");
	assert_true(a.force);
	assert_int_equal(a.size, 1073741824ULL);
	volcmd_free(&a);

	VOL_OK(a, "revert", "work:private");
	assert_null(a.revision);
	volcmd_free(&a);
	VOL_OK(a, "rv", "work:private", "1700000000-back");
	assert_string_equal(a.revision, "1700000000-back");
	volcmd_free(&a);

	VOL_OK(a, "import", "--size=1M", "work:private", "-");
	assert_true(a.has_size);
	assert_int_equal(a.size, 1000000);
	assert_string_equal(a.path, "-");
	volcmd_free(&a);
	VOL_OK(a, "import", "--no-resize", "work:private", "/tmp/x.img");
	assert_true(a.no_resize);
	assert_false(a.has_size);
	assert_string_equal(a.path, "/tmp/x.img");
	volcmd_free(&a);
	/* after "--" a file named like an option is a path */
	VOL_OK(a, "import", "work:private", "--", "--odd-name");
	assert_string_equal(a.path, "--odd-name");
	volcmd_free(&a);

	VOL_OK(a, "clone", "src:private", "dst:private", "--force");
	assert_int_equal(a.cmd, VOLCMD_CLONE);
	assert_string_equal(a.vm, "src");
	assert_string_equal(a.dst_vm, "dst");
	assert_string_equal(a.dst_vol, "private");
	assert_true(a.force);
	volcmd_free(&a);

	VOL_OK(a, "clear", "work:private");
	assert_false(a.force);
	volcmd_free(&a);

	VOL_OK(a, "export", "--end", "work:private");
	assert_true(a.end);
	volcmd_free(&a);

	VOL_OK(a, "info", "work:private", "--state-dir=/s");
	assert_string_equal(a.common.state_dir, "/s");
	assert_null(a.property);
	volcmd_free(&a);
}

#define POOL_OK(a, ...)                                                           \
	do {                                                                      \
		char *av_[] = { "qvm-pool", __VA_ARGS__ };                        \
		qstor_error e_ = { 0 };                                           \
		if (poolcmd_parse(ARGC(av_), av_, &(a), &e_) < 0)                 \
			fail_msg("unexpected error: %s", e_.msg);                 \
	} while (0)
/* the library's validation message (its wording is the library's): it
 * must at least name what was wrong */
#define POOL_BAD(subject, ...)                                                      \
	do {                                                                      \
		char *av_[] = { "qvm-pool", __VA_ARGS__ };                         \
		qstor_error e_ = { 0 };                                           \
		struct poolcmd a_;                                                \
		assert_true(poolcmd_parse(ARGC(av_), av_, &a_, &e_) < 0);      \
		if (!strstr(e_.msg, subject))                                     \
			fail_msg("'%s' does not name '%s'", e_.msg, subject);   \
	} while (0)
#define POOL_ERR(expected, ...)                                                        \
	do {                                                                      \
		char *av_[] = { "qvm-pool", __VA_ARGS__ };                        \
		qstor_error e_ = { 0 };                                           \
		struct poolcmd a_;                                                \
		assert_int_equal(poolcmd_parse(ARGC(av_), av_, &a_, &e_), -EINVAL); \
		assert_string_equal(e_.msg, expected);                                 \
	} while (0)

static void test_poolcmd(void **state)
{
	static const struct { const char *word; enum poolcmd_cmd cmd; } w[] = {
		{ "list", POOLCMD_LIST }, { "ls", POOLCMD_LIST }, { "l", POOLCMD_LIST },
		{ "drivers", POOLCMD_DRIVERS }, { "d", POOLCMD_DRIVERS },
		{ "--help-drivers", POOLCMD_DRIVERS }, { "-l", POOLCMD_LIST },
	};
	struct poolcmd a;
	char *none[] = { "qvm-pool" };

	(void)state;
	assert_int_equal(poolcmd_parse(1, none, &a, NULL), 0);
	assert_int_equal(a.cmd, POOLCMD_LIST);
	poolcmd_free(&a);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		POOL_OK(a, (char *)w[i].word);
		assert_int_equal(a.cmd, w[i].cmd);
		poolcmd_free(&a);
	}
	for (const char *const *x = (const char *const[]){ "info", "i", "-i", NULL }; *x; x++) {
		POOL_OK(a, (char *)*x, "p1", "p2", "p1");
		assert_int_equal(a.cmd, POOLCMD_INFO);
		assert_int_equal(a.n_names, 2);
		poolcmd_free(&a);
	}
	for (const char *const *x = (const char *const[]){ "remove", "r", "rm", "--remove", NULL }; *x; x++) {
		POOL_OK(a, (char *)*x, "p1");
		assert_int_equal(a.cmd, POOLCMD_REMOVE);
		assert_string_equal(a.names[0], "p1");
		poolcmd_free(&a);
	}
	for (const char *const *x = (const char *const[]){ "add", "a", "-a", NULL }; *x; x++) {
		POOL_OK(a, (char *)*x, "p1", "lvm_thin", "-o", "volume_group=vg,thin_pool=tp",
			"--option", "revisions_to_keep=2", "-o", "thin_pool=tp2");
		assert_int_equal(a.cmd, POOLCMD_ADD);
		assert_string_equal(a.names[0], "p1");
		assert_int_equal(a.n_names, 1);
		assert_string_equal(a.driver, "lvm_thin");
		assert_int_equal(a.n_options, 3);
		assert_string_equal(a.options[0].key, "volume_group");
		assert_string_equal(a.options[0].value, "vg");
		assert_string_equal(a.options[1].key, "thin_pool");
		assert_string_equal(a.options[1].value, "tp2");   /* a later key wins */
		assert_string_equal(a.options[2].value, "2");
		poolcmd_free(&a);
	}
	/* legacy order: -o before the command */
	POOL_OK(a, "-o", "dir_path=/x", "--add", "p", "file-reflink");
	assert_int_equal(a.cmd, POOLCMD_ADD);
	assert_string_equal(a.options[0].value, "/x");
	poolcmd_free(&a);
	for (const char *const *x = (const char *const[]){ "set", "s", NULL }; *x; x++) {
		POOL_OK(a, (char *)*x, "p1", "-o", "revisions_to_keep=3");
		assert_int_equal(a.cmd, POOLCMD_SET);
		poolcmd_free(&a);
	}

	POOL_ERR("unknown command 'lst'", "lst");
	POOL_ERR("info: missing POOL", "info");
	POOL_ERR("add: missing POOL", "add");
	POOL_ERR("add: missing DRIVER", "add", "p1");
	POOL_ERR("add: unexpected argument 'x'", "add", "p1", "drv", "x");
	POOL_ERR("set: missing -o KEY=VALUE", "set", "p1");
	POOL_ERR("set: unexpected argument 'p2'", "set", "p1", "p2", "-o", "a=b");
	POOL_ERR("list: unexpected argument 'x'", "list", "x");
	POOL_ERR("remove: -o is only for add and set", "remove", "p", "-o", "a=b");
	POOL_ERR("option '--option' requires an argument", "add", "p", "d", "--option");
	POOL_ERR("invalid option 'novalue': expected KEY=VALUE", "add", "p", "d", "-o", "novalue");
	POOL_ERR("invalid option '=v': empty key", "add", "p", "d", "-o", "=v");
	POOL_BAD("'a b'", "remove", "a b");
	POOL_ERR("-a: unexpected option '-r'", "-a", "p", "d", "-r");
	POOL_ERR("unknown option '-x'", "-x");
	POOL_ERR("option '--state-dir' needs a directory", "--state-dir=");
}

static void test_pool_options_commas(void **state)
{
	qstor_kv *o = NULL;
	size_t n = 0;
	qstor_error e = { 0 };

	(void)state;
	/* a comma starts a new pair only if an '=' follows before the next one */
	assert_int_equal(poolcmd_parse_options("dir_path=/a,b,revisions_to_keep=2", &o, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(o[0].key, "dir_path");
	assert_string_equal(o[0].value, "/a,b");
	assert_string_equal(o[1].key, "revisions_to_keep");
	assert_string_equal(o[1].value, "2");
	assert_int_equal(poolcmd_parse_options("x=", &o, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(o[2].value, "");
	assert_int_equal(poolcmd_parse_options("k=a=b", &o, &n, &e), 0);
	assert_string_equal(o[3].value, "a=b");
	assert_int_equal(poolcmd_parse_options("", &o, &n, &e), -EINVAL);
	assert_int_equal(poolcmd_parse_options("a,b=c", &o, &n, &e), -EINVAL);
	assert_string_equal(e.msg, "invalid option 'a,b=c': expected KEY=VALUE");
	for (size_t i = 0; i < n; i++) {
		free(o[i].key);
		free(o[i].value);
	}
	free(o);
}

#define QS_OK(a, ...)                                                             \
	do {                                                                      \
		char *av_[] = { "qstor", __VA_ARGS__ };                           \
		qstor_error e_ = { 0 };                                           \
		if (qstorcmd_parse(ARGC(av_), av_, &(a), &e_) < 0)                \
			fail_msg("unexpected error: %s", e_.msg);                 \
	} while (0)
/* the library's validation message (its wording is the library's): it
 * must at least name what was wrong */
#define QS_BAD(subject, ...)                                                      \
	do {                                                                      \
		char *av_[] = { "qstor", __VA_ARGS__ };                         \
		qstor_error e_ = { 0 };                                           \
		struct qstorcmd a_;                                                \
		assert_true(qstorcmd_parse(ARGC(av_), av_, &a_, &e_) < 0);      \
		if (!strstr(e_.msg, subject))                                     \
			fail_msg("'%s' does not name '%s'", e_.msg, subject);   \
	} while (0)
#define QS_ERR(expected, ...)                                                          \
	do {                                                                      \
		char *av_[] = { "qstor", __VA_ARGS__ };                           \
		qstor_error e_ = { 0 };                                           \
		struct qstorcmd a_;                                               \
		assert_int_equal(qstorcmd_parse(ARGC(av_), av_, &a_, &e_), -EINVAL); \
		assert_string_equal(e_.msg, expected);                                 \
	} while (0)

static void test_qstorcmd(void **state)
{
	struct qstorcmd a;
	char *none[] = { "qstor" };
	qstor_error e = { 0 };

	(void)state;
	QS_OK(a, "--state-dir", "/s", "vm", "create", "work", "--class", "app", "--template", "fedora",
	      "--pool=p", "--root-size", "20Gi", "--private-size=4G", "--volatile-size", "1Ti");
	assert_int_equal(a.cmd, QSTORCMD_VM_CREATE);
	assert_string_equal(a.common.state_dir, "/s");
	assert_string_equal(a.name, "work");
	assert_int_equal(a.klass, QSTOR_CLASS_APP);
	assert_string_equal(a.template_vm, "fedora");
	assert_string_equal(a.pool, "p");
	assert_int_equal(a.root_size, 20ULL << 30);
	assert_int_equal(a.private_size, 4000000000ULL);
	assert_int_equal(a.volatile_size, 1ULL << 40);
	qstorcmd_free(&a);

	QS_OK(a, "vm", "create", "t", "--class", "template");
	assert_int_equal(a.klass, QSTOR_CLASS_TEMPLATE);
	assert_null(a.template_vm);
	assert_int_equal(a.root_size, 0);
	qstorcmd_free(&a);

	QS_OK(a, "vm", "clone", "a", "b", "--pool", "p2");
	assert_int_equal(a.cmd, QSTORCMD_VM_CLONE);
	assert_string_equal(a.dst, "b");
	qstorcmd_free(&a);
	QS_OK(a, "vm", "list", "--json");
	assert_int_equal(a.cmd, QSTORCMD_VM_LIST);
	assert_true(a.json);
	qstorcmd_free(&a);
	QS_OK(a, "vm", "start", "work", "--json", "--state-dir", "/t");
	assert_int_equal(a.cmd, QSTORCMD_VM_START);
	assert_string_equal(a.common.state_dir, "/t");
	qstorcmd_free(&a);
	QS_OK(a, "vm", "stop", "work");
	assert_int_equal(a.cmd, QSTORCMD_VM_STOP);
	qstorcmd_free(&a);
	QS_OK(a, "vm", "remove", "work");
	assert_int_equal(a.cmd, QSTORCMD_VM_REMOVE);
	qstorcmd_free(&a);
	QS_OK(a, "recover");
	assert_int_equal(a.cmd, QSTORCMD_RECOVER);
	qstorcmd_free(&a);
	QS_OK(a, "du", "--bytes", "b", "a", "b");
	assert_int_equal(a.cmd, QSTORCMD_DU);
	assert_true(a.bytes);
	assert_false(a.json);
	assert_int_equal(a.n_vms, 2);
	qstorcmd_free(&a);
	QS_OK(a, "bench", "--anything");
	assert_int_equal(a.cmd, QSTORCMD_BENCH);
	qstorcmd_free(&a);
	QS_OK(a, "--help");
	assert_true(a.common.help);
	qstorcmd_free(&a);
	QS_OK(a, "vm", "create", "--help");
	assert_true(a.common.help);
	qstorcmd_free(&a);

	assert_int_equal(qstorcmd_parse(1, none, &a, &e), -EINVAL);
	assert_string_equal(e.msg, "missing command (see 'qstor --help')");
	QS_ERR("unknown command 'vms'", "vms");
	QS_ERR("option '--state-dir' needs a directory", "--state-dir=", "recover");
	QS_ERR("option '--state-dir' needs a directory", "recover", "--state-dir", "");
	QS_ERR("unknown option '--jsn'", "--jsn");
	QS_ERR("vm: missing command (create, clone, remove, list, start, stop)", "vm");
	QS_ERR("vm: unknown command 'boot'", "vm", "boot");
	QS_ERR("vm create: missing NAME", "vm", "create", "--class", "template");
	QS_ERR("vm create: missing --class (template, app, standalone or disposable)",
	       "vm", "create", "x");
	QS_ERR("vm create: invalid class 'AppVM' (expected template, app, standalone or disposable)",
	       "vm", "create", "x", "--class", "AppVM");
	QS_ERR("vm create: class 'app' needs --template (a template VM)",
	       "vm", "create", "x", "--class", "app");
	QS_ERR("vm create: class 'disposable' needs --template (an app VM)",
	       "vm", "create", "x", "--class", "disposable");
	QS_BAD("vm create: invalid size '0'", "vm", "create", "x", "--class", "template",
	       "--root-size", "0");
	QS_BAD("vm create: invalid size '1Q'", "vm", "create", "x",
	       "--class", "template", "--private-size=1Q");
	QS_ERR("vm create: option '--volatile-size' requires an argument", "vm", "create", "x",
	       "--class", "template", "--volatile-size");
	QS_BAD("'x y'", "vm", "create", "x y", "--class", "template");
	QS_BAD("'-x'", "vm", "create", "x", "--class", "app",
	       "--template=-x");
	QS_ERR("vm list: unknown option '--bytes'", "vm", "list", "--bytes");
	QS_ERR("vm list: unexpected argument 'x'", "vm", "list", "x");
	QS_ERR("vm clone: missing DST", "vm", "clone", "a");
	QS_ERR("vm clone: cannot clone 'a' onto itself", "vm", "clone", "a", "a");
	QS_ERR("vm start: missing NAME", "vm", "start");
	QS_ERR("vm stop: unexpected argument 'b'", "vm", "stop", "a", "b");
	QS_ERR("recover: unexpected argument 'now'", "recover", "now");
	QS_BAD("'a/b'", "du", "a/b");
}

/* ---- what users typed, quoted back escaped ---- */

/* A message quotes a hostile argument escaped: one line, no control
 * character, no raw C1 control or bidi override, and needle in it. */
static void assert_escaped(const char *msg, const char *needle)
{
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("message '%s' has control character 0x%02x", msg, *p);
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fail_msg("message '%s' has a raw C1 control", msg);
		if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae)
			fail_msg("message '%s' has a raw bidi override", msg);
	}
	if (!strstr(msg, needle))
		fail_msg("message '%s' does not show '%s'", msg, needle);
}

#define HOSTILE(parse, type, prog, needle, ...)                                         \
	do {                                                                      \
		char *av_[] = { prog, __VA_ARGS__ };                              \
		qstor_error e_ = { 0 };                                           \
		struct type a_;                                                   \
		int r_ = parse(ARGC(av_), av_, &a_, &e_);                         \
		assert_true(r_ < 0);                                              \
		assert_int_equal(r_, e_.code);                                    \
		assert_escaped(e_.msg, needle);                                   \
	} while (0)
#define VOL_HOSTILE(needle, ...) HOSTILE(volcmd_parse, volcmd, "qvm-volume", needle, __VA_ARGS__)
#define POOL_HOSTILE(needle, ...) HOSTILE(poolcmd_parse, poolcmd, "qvm-pool", needle, __VA_ARGS__)
#define QS_HOSTILE(needle, ...) HOSTILE(qstorcmd_parse, qstorcmd, "qstor", needle, __VA_ARGS__)

/* Every argument position the parsers quote, with an escape sequence, a
 * newline, a tab, a C1 CSI and a right-to-left override. */
static void test_hostile_args_escaped(void **state)
{
	static const struct { const char *raw, *shown; } v[] = {
		{ "\x1b[31m", "\\x1b[31m" },
		{ "a\nb", "a\\x0ab" },
		{ "a\tb", "a\\x09b" },
		{ "\xc2\x9b" "2J", "\\xc2\\x9b2J" },
		{ "\xe2\x80\xae" "evil", "\\xe2\\x80\\xaeevil" },
	};
	char lng[4097], sixty4[128];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *x = (char *)v[i].raw, opt[64], kv[64], vmvol[64];
		const char *e = v[i].shown;
		char want[128];

		snprintf(opt, sizeof(opt), "--%s", x);
		snprintf(kv, sizeof(kv), "=%s", x);
		snprintf(vmvol, sizeof(vmvol), "work:%s", x);

		VOL_HOSTILE(e, x);                                   /* command */
		VOL_HOSTILE(e, opt);                                 /* long option */
		VOL_HOSTILE(e, "list", opt);
		VOL_HOSTILE(e, "list", "-p", x);
		VOL_HOSTILE(e, "list", x);                           /* VM */
		VOL_HOSTILE(e, "info", x);                           /* VM:VOLUME */
		VOL_HOSTILE(e, "info", vmvol);
		VOL_HOSTILE(e, "info", "work:root", x);              /* property */
		VOL_HOSTILE(e, "info", "work:root", "size", x);      /* one too many */
		VOL_HOSTILE(e, "config", "work:root", x, "1");
		VOL_HOSTILE(e, "resize", "work:root", x);            /* size */
		VOL_HOSTILE(e, "import", "--size", x, "work:root", "-");
		VOL_HOSTILE(e, "clone", "work:root", vmvol);
		VOL_HOSTILE(e, "revert", "work:root", "1", x);

		POOL_HOSTILE(e, x);
		POOL_HOSTILE(e, opt);
		POOL_HOSTILE(e, "info", x);
		POOL_HOSTILE(e, "list", x);
		POOL_HOSTILE(e, "add", x, "drv", "-o", "a=b");
		POOL_HOSTILE(e, "add", "p", "drv", x);
		POOL_HOSTILE(e, "add", "p", "drv", "-o", x);         /* no '=' */
		POOL_HOSTILE(e, "add", "p", "drv", "-o", kv);        /* empty key */
		POOL_HOSTILE(e, "set", "p", x, "-o", "a=b");

		QS_HOSTILE(e, x);
		QS_HOSTILE(e, opt);
		QS_HOSTILE(e, "vm", x);
		QS_HOSTILE(e, "vm", "start", x);
		QS_HOSTILE(e, "vm", "list", opt);
		QS_HOSTILE(e, "vm", "stop", "a", x);
		QS_HOSTILE(e, "vm", "clone", "a", x);
		QS_HOSTILE(e, "vm", "create", x, "--class", "template");
		QS_HOSTILE(e, "vm", "create", "x", "--class", x);
		QS_HOSTILE(e, "vm", "create", "x", "--class", "app", "--template", x);
		QS_HOSTILE(e, "vm", "create", "x", "--class", "template", "--pool", x);
		QS_HOSTILE(e, "vm", "create", "x", "--class", "template", "--root-size", x);
		QS_HOSTILE(e, "du", x);
		QS_HOSTILE(e, "recover", x);

		/* the exact form of the commonest ones */
		snprintf(want, sizeof(want), "unknown command '%s'", e);
		VOL_ERR(want, x);
		snprintf(want, sizeof(want), "invalid option '=%s': empty key", e);
		POOL_ERR(want, "add", "p", "d", "-o", kv);
		snprintf(want, sizeof(want), "vm: unknown command '%s'", e);
		QS_ERR(want, "vm", x);
	}
	/* an option's name is shown without its value; the empty key's value
	 * up to the next pair */
	VOL_ERR("unknown option '--a\\x0ab'", "--a\nb=\x1b[31m");
	POOL_ERR("invalid option '=\\x1b': empty key", "add", "p", "d", "-o", "=\x1b,k=v");
	/* a 4 kB argument is shown up to 64 bytes */
	memset(lng, 'n', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	snprintf(sixty4, sizeof(sixty4), "unknown command '%.64s...'", lng);
	VOL_ERR(sixty4, lng);
	snprintf(sixty4, sizeof(sixty4), "unknown option '--%.64s...'", lng);
	memcpy(lng, "--", 2);
	POOL_ERR(sixty4, lng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human_size),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_root_allowed),
		cmocka_unit_test(test_volume_list_qubes),
		cmocka_unit_test(test_volume_list_elide),
		cmocka_unit_test(test_volume_info_qubes),
		cmocka_unit_test(test_volume_info_no_revisions),
		cmocka_unit_test(test_pool_list_and_drivers),
		cmocka_unit_test(test_pool_info),
		cmocka_unit_test(test_vm_list),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_du),
		cmocka_unit_test(test_du_pools),
		cmocka_unit_test(test_volcmd_aliases),
		cmocka_unit_test(test_volcmd_list),
		cmocka_unit_test(test_volcmd_errors),
		cmocka_unit_test(test_volcmd_values),
		cmocka_unit_test(test_poolcmd),
		cmocka_unit_test(test_pool_options_commas),
		cmocka_unit_test(test_qstorcmd),
		cmocka_unit_test(test_hostile_args_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
