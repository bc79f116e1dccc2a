/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Real LVM without device-mapper: a VG on a loop device, given a thin pool
 * and Qubes-named thin LVs by vgcfgrestore (metadata only, no activation),
 * then read the driver's way: the report through liblvm2cmd's log callback,
 * its parser, the cache, and the seqno straight from the PV. Everything
 * runs in this process (lvm2_run), in a private LVM_SYSTEM_DIR whose
 * filter accepts only our loop device. Skips (77) unless root with loop
 * devices. What needs dm-thin (create, snapshot, rename, remove, resize,
 * activation) is left to the VM tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "lvmcmd.h"
#include "names.h"
#include "report.h"
#include "vgseqno.h"

static char dir[64], img[96], loopdev[32], vg[64], conf[96];
static int loop_fd = -1;

static int attach_loop(void)
{
	int ctl, img_fd, n;

	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	img_fd = open(img, O_RDWR | O_CLOEXEC);
	if (img_fd < 0) {
		close(ctl);
		return -errno;
	}
	for (int tries = 0; tries < 20; tries++) {
		struct loop_config cfg = { .fd = (unsigned)img_fd,
					   .info = { .lo_flags = LO_FLAGS_AUTOCLEAR } };

		if ((n = ioctl(ctl, LOOP_CTL_GET_FREE)) < 0)
			break;
		snprintf(loopdev, sizeof(loopdev), "/dev/loop%d", n);
		loop_fd = open(loopdev, O_RDWR | O_CLOEXEC);
		if (loop_fd < 0)
			break;
		if (ioctl(loop_fd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		close(loop_fd);
		loop_fd = -1;
		if (errno != EBUSY)  /* someone took it first: try the next */
			break;
	}
	close(img_fd);
	close(ctl);
	return loop_fd >= 0 ? 0 : -ENODEV;
}

static void run_ok(const char *fmt, ...)
{
	char cmd[1024];
	struct lvt_out out = { 0 };
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = lvt_run(cmd, &out);
	if (r < 0)
		fail_msg("'%s': %d: %s", cmd, r, out.errors);
	lvt_out_free(&out);
}

static const char *lv_block(const char *name, const char *body, int visible)
{
	static char buf[1024];
	static unsigned id;

	snprintf(buf, sizeof(buf),
		 "\t\t%s {\n\t\t\tid = \"aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-%06u\"\n"
		 "\t\t\tstatus = [\"READ\", \"WRITE\"%s]\n\t\t\tflags = []\n"
		 "\t\t\tcreation_time = 1700000000\n\t\t\tcreation_host = \"qstor\"\n"
		 "\t\t\tsegment_count = 1\n\t\t\tsegment1 {\n%s\t\t\t}\n\t\t}\n",
		 name, ++id, visible ? ", \"VISIBLE\"" : "", body);
	return buf;
}

static void thin_lv(char *text, const char *name, int extents, int id, const char *origin)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = %d\n\t\t\t\ttype = \"thin\"\n"
		 "\t\t\t\tthin_pool = \"pool00\"\n\t\t\t\ttransaction_id = %d\n"
		 "\t\t\t\tdevice_id = %d\n%s%s%s", extents, id, id,
		 origin ? "\t\t\t\torigin = \"" : "", origin ? origin : "", origin ? "\"\n" : "");
	strcat(text, lv_block(name, body, 1));
}

static void linear_lv(char *text, const char *name, int start, int extents)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = %d\n\t\t\t\ttype = \"striped\"\n"
		 "\t\t\t\tstripe_count = 1\n\t\t\t\tstripes = [\n\t\t\t\t\t\"pv0\", %d\n"
		 "\t\t\t\t]\n", extents, start);
	strcat(text, lv_block(name, body, 0));
}

/* Give the VG a thin pool and Qubes-named thin LVs, metadata only. */
static void restore_thin_vg(void)
{
	char path[128], *text, *end;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/vg.txt", dir);
	run_ok("vgcfgbackup -q -f %s %s", path, vg);
	f = fopen(path, "r");
	assert_non_null(f);
	text = calloc(1, 65536);
	n = (long)fread(text, 1, 32768, f);
	fclose(f);
	assert_true(n > 0);
	end = strrchr(text, '}');   /* the end of the VG section */
	assert_non_null(end);
	*end = '\0';
	strcat(text, "\tlogical_volumes {\n");
	strcat(text, lv_block("pool00",
			      "\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = 8\n"
			      "\t\t\t\ttype = \"thin-pool\"\n\t\t\t\tmetadata = \"pool00_tmeta\"\n"
			      "\t\t\t\tpool = \"pool00_tdata\"\n\t\t\t\ttransaction_id = 6\n"
			      "\t\t\t\tchunk_size = 128\n\t\t\t\tdiscards = \"passdown\"\n"
			      "\t\t\t\tzero_new_blocks = 1\n", 1));
	thin_lv(text, "vm-x-root", 256, 1, NULL);
	thin_lv(text, "vm-x-root-snap", 256, 2, "vm-x-root");
	thin_lv(text, "vm-x-root-1700000000-back", 256, 3, NULL);
	thin_lv(text, "vm-x-root-0123-back", 256, 4, NULL);
	thin_lv(text, "vm-x-root-private", 128, 5, NULL);
	thin_lv(text, "vm-x-rootfs", 128, 6, NULL);
	linear_lv(text, "pool00_tmeta", 0, 1);
	linear_lv(text, "pool00_tdata", 1, 8);
	linear_lv(text, "lvol0_pmspare", 9, 1);
	strcat(text, "\t}\n}\n");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(text);
	run_ok("vgcfgrestore -q --force -f %s %s", path, vg);
}

static int setup(void **state)
{
	FILE *f;
	int fd;

	(void)state;
	if (geteuid() != 0 || access("/dev/loop-control", F_OK) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/qstor-hostvg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(img, sizeof(img), "%s/pv.img", dir);
	fd = open(img, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 64 << 20) < 0)
		return -1;
	close(fd);
	if (attach_loop() < 0)
		return -1;
	snprintf(vg, sizeof(vg), "qstor_hostvg_%d", (int)getpid());
	snprintf(conf, sizeof(conf), "%s/lvm.conf", dir);
	if (!(f = fopen(conf, "w")))
		return -1;
	fprintf(f,
		"devices {\n global_filter = [ \"a|^%s$|\", \"r|.*|\" ]\n"
		" obtain_device_list_from_udev = 0\n use_devicesfile = 0\n"
		" scan = [ \"/dev\" ]\n}\n"
		"activation {\n udev_sync = 0\n udev_rules = 0\n monitoring = 0\n}\n"
		"global {\n locking_dir = \"%s\"\n}\n"
		"backup {\n backup = 0\n archive = 0\n}\n", loopdev, dir);
	fclose(f);
	setenv("LVM_SYSTEM_DIR", dir, 1);
	if (lvt_lvm_init() < 0)
		return -1;
	run_ok("pvcreate -q -y %s", loopdev);
	run_ok("vgcreate -q -s 1m %s %s", vg, loopdev);
	restore_thin_vg();
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	/* the metadata lives on the image only: detach and delete it */
	if (loop_fd >= 0) {
		ioctl(loop_fd, LOOP_CLR_FD, 0);
		close(loop_fd);
	}
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static void test_report_and_cache(void **state)
{
	struct lvt_cache c = { 0 };
	qstor_error err = { 0 };
	const struct lvt_lv *lv;
	uint64_t disk = 0;
	unsigned long before;

	(void)state;
	assert_int_equal(lvt_cache_load(&c, vg, &err), 0);
	assert_int_equal(c.rep.n_lvs, 10);  /* 7 visible + tmeta, tdata, pmspare */
	assert_int_equal(c.rep.n_pvs, 1);
	assert_string_equal(c.rep.pvs[0], loopdev);
	assert_true(c.rep.extent_size == 1 << 20);

	lv = lvt_cache_find(&c, "pool00");
	assert_non_null(lv);
	assert_int_equal(lv->attr[0], 't');
	lv = lvt_cache_find(&c, "vm-x-root-snap");
	assert_non_null(lv);
	assert_int_equal(lv->attr[0], 'V');
	assert_string_equal(lv->pool, "pool00");
	assert_string_equal(lv->origin, "vm-x-root");
	assert_true(lv->thin_id == 2);
	assert_true(lv->size == 256ull << 20);
	assert_non_null(lvt_cache_find(&c, "[pool00_tmeta]"));

	/* the seqno on the PV is the report's */
	assert_int_equal(lvt_vg_seqno_read(loopdev, vg, &disk), 0);
	assert_true(disk == c.seqno);
	assert_true(c.seqno_known);
	assert_int_equal(lvt_vg_seqno_read(loopdev, "qstor_other_vg", &disk), -ENOENT);

	/* unchanged: no LVM command */
	before = lvt_run_count();
	assert_int_equal(lvt_cache_fresh(&c, vg, &err), 0);
	assert_int_equal(lvt_run_count(), before);

	/* a metadata change by "someone else": one reload, and it shows */
	run_ok("lvchange -q --addtag qstor %s/vm-x-rootfs", vg);
	assert_int_equal(lvt_vg_seqno_read(loopdev, vg, &disk), 0);
	assert_true(disk == c.seqno + 1);
	before = lvt_run_count();
	assert_int_equal(lvt_cache_fresh(&c, vg, &err), 0);
	assert_int_equal(lvt_run_count(), before + 1);
	assert_true(c.seqno == disk);
	lvt_cache_free(&c);
}

static void test_roles_of_a_qubes_vg(void **state)
{
	struct lvt_cache c = { 0 };
	qstor_error err = { 0 };
	int committed = 0, running = 0, revisions = 0, others = 0;

	(void)state;
	assert_int_equal(lvt_cache_load(&c, vg, &err), 0);
	for (size_t i = 0; i < c.rep.n_lvs; i++) {
		enum qs_role role;
		uint64_t key;

		if (!lvt_lv_role("vm-x-root", c.rep.lvs[i].name, &role, &key)) {
			others++;
			continue;
		}
		committed += role == QS_COMMITTED;
		running += role == QS_RUNNING;
		if (role == QS_REVISION) {
			revisions++;
			assert_true(key == 1700000000);
		}
	}
	assert_int_equal(committed, 1);
	assert_int_equal(running, 1);
	assert_int_equal(revisions, 1);
	/* pool00, 3 hidden, -0123-back, -private (VM x-root), vm-x-rootfs */
	assert_int_equal(others, 7);
	lvt_cache_free(&c);
}

static void test_missing_vg(void **state)
{
	struct lvt_cache c = { 0 };
	qstor_error err = { 0 };

	(void)state;
	assert_int_equal(lvt_cache_load(&c, "qstor_no_such_vg", &err), -ENOENT);
	assert_string_equal(err.msg, "volume group 'qstor_no_such_vg' not found");
	assert_false(c.loaded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_and_cache),
		cmocka_unit_test(test_roles_of_a_qubes_vg),
		cmocka_unit_test(test_missing_vg),
	};

	if (geteuid() != 0 || access("/dev/loop-control", F_OK) != 0) {
		printf("skip: needs root and loop devices\n");
		return 77;
	}
	setenv("QSTOR_LVM_CACHE_DIR", "", 1);  /* no copy across processes */
	return cmocka_run_group_tests(tests, setup, teardown);
}
