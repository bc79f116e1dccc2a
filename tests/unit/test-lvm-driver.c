/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lvm_thin ops against a fake LVM: lvt_run() interprets the command
 * lines the driver builds against a model VG (and prints its report the
 * way lvm 2.03 does), device-mapper and the PV seqno come from the same
 * model. Checks what each op runs, how often (the cost in lvm2_run calls),
 * the report cache, hostile names, and error messages. Activation and
 * reset open /dev/mapper nodes and are tested in the VM instead.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lvm2cmd.h>

#include "driver.h"
#include "dmstatus.h"
#include "lvmcmd.h"
#include "names.h"
#include "thinls.h"
#include "vgseqno.h"

/* ---- the model ---- */

#define EXTENT (4u << 20)
#define MAX_LVS 128

struct flv {
	char name[LVT_NAME_MAX + 1];
	uint64_t size;
	int64_t thin_id;
	char origin[LVT_NAME_MAX + 1];
	bool active;
	uint64_t mapped;
};

static struct {
	char vg[64];
	char pool[64];
	bool pool_active;
	struct flv lvs[MAX_LVS];
	size_t n;
	uint64_t seqno;
	int64_t next_id;
	char cmds[256][LVT_CMD_LEN];
	size_t ncmds;
	int fail_rc;            /* next command fails with this rc ... */
	char fail_msg[256];     /* ... and this error line */
	bool thin_ls_missing;   /* lvt_thin_ls_usage() -> -ENOENT */
} m;

static struct flv *find(const char *name)
{
	for (size_t i = 0; i < m.n; i++)
		if (strcmp(m.lvs[i].name, name) == 0)
			return &m.lvs[i];
	return NULL;
}

static struct flv *add(const char *name, uint64_t size, const char *origin, bool active)
{
	struct flv *l = &m.lvs[m.n++];

	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->size = (size + EXTENT - 1) / EXTENT * EXTENT;
	l->thin_id = m.next_id++;
	snprintf(l->origin, sizeof(l->origin), "%s", origin ? origin : "");
	l->active = active;
	return l;
}

static void model_reset(void)
{
	memset(&m, 0, sizeof(m));
	strcpy(m.vg, "qubes_dom0");
	strcpy(m.pool, "vm-pool");
	m.seqno = 10;
	m.next_id = 1;
}

/* ---- fakes of the seams ---- */

static unsigned long runs;

int lvt_lvm_init(void)
{
	return 0;
}

unsigned long lvt_run_count(void)
{
	return runs;
}

static void out_line(struct lvt_out *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	o->report = realloc(o->report, o->report_len + n + 2);
	memcpy(o->report + o->report_len, line, n);
	o->report_len += n;
	o->report[o->report_len++] = '\n';
	o->report[o->report_len] = '\0';
}

static int error(struct lvt_out *o, int rc, const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(o->errors);

	va_start(ap, fmt);
	if (!o->error[0])
		vsnprintf(o->error, sizeof(o->error), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	if (used)
		o->errors[used++] = '\n';
	vsnprintf(o->errors + used, sizeof(o->errors) - used, fmt, ap);
	va_end(ap);
	return rc;
}

/* "VG/LV" -> LV, checking the VG */
static const char *lv_of(struct lvt_out *o, const char *arg, int *rc)
{
	size_t n = strlen(m.vg);

	if (strncmp(arg, m.vg, n) != 0 || arg[n] != '/') {
		*rc = error(o, LVM2_PROCESSING_FAILED, "Volume group \"%.*s\" not found",
			    (int)(strchr(arg, '/') ? strchr(arg, '/') - arg : 0), arg);
		return NULL;
	}
	return arg + n + 1;
}

static void report(struct lvt_out *o)
{
	out_line(o, "{");
	out_line(o, "    \"report\": [");
	out_line(o, "        {");
	out_line(o, "            \"lv\": [");
	out_line(o, "                {\"lv_name\":\"%s\", \"lv_attr\":\"twi-%ctz--\", \"lv_size\":\"%u\", "
		 "\"pool_lv\":\"\", \"origin\":\"\", \"thin_id\":\"\", \"vg_seqno\":\"%" PRIu64 "\", "
		 "\"vg_extent_size\":\"%u\", \"devices\":\"%s_tdata(0)\"},", m.pool,
		 m.pool_active ? 'a' : '-', 64 * EXTENT, m.seqno, EXTENT, m.pool);
	out_line(o, "                {\"lv_name\":\"[%s_tmeta]\", \"lv_attr\":\"ewi-ao----\", "
		 "\"lv_size\":\"%u\", \"pool_lv\":\"\", \"origin\":\"\", \"thin_id\":\"\", "
		 "\"vg_seqno\":\"%" PRIu64 "\", \"vg_extent_size\":\"%u\", "
		 "\"devices\":\"/dev/fakepv(0)\"}%s", m.pool, EXTENT, m.seqno, EXTENT,
		 m.n ? "," : "");
	for (size_t i = 0; i < m.n; i++)
		out_line(o, "                {\"lv_name\":\"%s\", \"lv_attr\":\"Vwi-%ctz--\", "
			 "\"lv_size\":\"%" PRIu64 "\", \"pool_lv\":\"%s\", \"origin\":\"%s\", "
			 "\"thin_id\":\"%" PRId64 "\", \"vg_seqno\":\"%" PRIu64 "\", "
			 "\"vg_extent_size\":\"%u\", \"devices\":\"\"}%s",
			 m.lvs[i].name, m.lvs[i].active ? 'a' : '-', m.lvs[i].size, m.pool,
			 m.lvs[i].origin, m.lvs[i].thin_id, m.seqno, EXTENT,
			 i + 1 < m.n ? "," : "");
	out_line(o, "            ]");
	out_line(o, "        }");
	out_line(o, "    ]");
	out_line(o, "}");
}

static int interpret(char **a, int n, struct lvt_out *o)
{
	int rc = LVM2_COMMAND_SUCCEEDED;
	const char *lv, *src;
	struct flv *l;

	if (strcmp(a[0], "lvs") == 0) {
		if (strcmp(a[n - 1], m.vg) != 0)
			return error(o, LVM2_PROCESSING_FAILED, "Volume group \"%s\" not found",
				     a[n - 1]);
		report(o);
		return rc;
	}
	if (strcmp(a[0], "lvcreate") == 0 && strcmp(a[3], "-s") != 0) {
		/* lvcreate -q -y -an|-ay -V <n>b -T VG/POOL -n LV */
		if (!(lv = lv_of(o, a[7], &rc)))
			return rc;
		if (find(a[9]))
			return error(o, LVM2_PROCESSING_FAILED, "Logical Volume \"%s\" already "
				     "exists in volume group \"%s\"", a[9], m.vg);
		add(a[9], strtoull(a[5], NULL, 10), NULL, strcmp(a[3], "-ay") == 0);
		m.seqno += 2;  /* lvm 2.03 commits a thin create twice */
		return rc;
	}
	if (strcmp(a[0], "lvcreate") == 0) {
		/* lvcreate -q -y -s -kn|-ky -ay|-an VG/SRC -n DST */
		if (!(src = lv_of(o, a[6], &rc)))
			return rc;
		if (!(l = find(src)))
			return error(o, LVM2_PROCESSING_FAILED,
				     "Failed to find logical volume \"%s/%s\"", m.vg, src);
		if (find(a[8]))
			return error(o, LVM2_PROCESSING_FAILED, "Logical Volume \"%s\" already "
				     "exists in volume group \"%s\"", a[8], m.vg);
		add(a[8], l->size, src, strcmp(a[5], "-ay") == 0);
		m.seqno += 2;
		return rc;
	}
	if (strcmp(a[0], "lvrename") == 0) {
		if (!(l = find(a[3])))
			return error(o, LVM2_PROCESSING_FAILED, "Existing logical volume \"%s\" "
				     "not found in volume group \"%s\"", a[3], m.vg);
		if (find(a[4]))
			return error(o, LVM2_PROCESSING_FAILED, "Logical Volume \"%s\" already "
				     "exists in volume group \"%s\"", a[4], m.vg);
		strcpy(l->name, a[4]);
		m.seqno++;
		return rc;
	}
	if (strcmp(a[0], "lvremove") == 0) {
		for (int i = 3; i < n; i++) {
			if (!(lv = lv_of(o, a[i], &rc)))
				continue;
			if (!(l = find(lv))) {
				rc = error(o, LVM2_PROCESSING_FAILED,
					   "Failed to find logical volume \"%s\"", a[i]);
				continue;
			}
			*l = m.lvs[--m.n];
			m.seqno += 2;  /* and a thin remove twice */
		}
		return rc;
	}
	if (strcmp(a[0], "lvresize") == 0) {
		uint64_t size = strtoull(a[4], NULL, 10);

		if (!(lv = lv_of(o, a[5], &rc)))
			return rc;
		if (!(l = find(lv)))
			return error(o, LVM2_PROCESSING_FAILED, "Failed to find logical volume "
				     "\"%s\"", a[5]);
		size = (size + EXTENT - 1) / EXTENT * EXTENT;
		if (size == l->size)
			return error(o, LVM2_PROCESSING_FAILED, "New size (%" PRIu64 " extents) "
				     "matches existing size (%" PRIu64 " extents).",
				     size / EXTENT, size / EXTENT);
		l->size = size;
		m.seqno++;
		return rc;
	}
	if (strcmp(a[0], "lvchange") == 0) {
		bool on = strcmp(a[2], "-ay") == 0;

		for (int i = on ? 4 : 3; i < n; i++) {
			if (!(lv = lv_of(o, a[i], &rc)))
				continue;
			if (strcmp(lv, m.pool) == 0) {
				m.pool_active = on;
				continue;
			}
			if (!(l = find(lv))) {
				rc = error(o, LVM2_PROCESSING_FAILED,
					   "Failed to find logical volume \"%s\"", a[i]);
				continue;
			}
			l->active = on;
		}
		return rc;
	}
	return error(o, LVM2_NO_SUCH_COMMAND, "no such command %s", a[0]);
}

int lvt_run(const char *cmdline, struct lvt_out *out)
{
	struct lvt_out scratch = { 0 };
	struct lvt_out *o = out ? out : &scratch;
	char copy[LVT_CMD_LEN], *a[80], *save = NULL;
	int n = 0, rc;

	runs++;
	snprintf(m.cmds[m.ncmds++ % 256], LVT_CMD_LEN, "%s", cmdline);
	o->error[0] = o->errors[0] = '\0';
	o->report_len = 0;
	if (o->report)
		o->report[0] = '\0';
	snprintf(copy, sizeof(copy), "%s", cmdline);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		a[n++] = t;
	if (m.fail_rc) {
		rc = error(o, m.fail_rc, "%s", m.fail_msg);
		m.fail_rc = 0;
	} else {
		rc = interpret(a, n, o);
	}
	lvt_out_free(&scratch);
	return lvt_rc_to_errno(rc, o->errors);
}

/* device-mapper: the pool's -tpool exists while any thin LV or the pool is
 * active; thin devices while their LV is. */
static bool tpool_active(void)
{
	if (m.pool_active)
		return true;
	for (size_t i = 0; i < m.n; i++)
		if (m.lvs[i].active)
			return true;
	return false;
}

static struct flv *by_dm(const char *dm)
{
	char name[LVT_DM_NAME_MAX + 1];

	for (size_t i = 0; i < m.n; i++)
		if (lvt_dm_name(m.vg, m.lvs[i].name, NULL, name, sizeof(name)) == 0 &&
		    strcmp(name, dm) == 0)
			return &m.lvs[i];
	return NULL;
}

static bool is_tpool(const char *dm)
{
	char name[LVT_DM_NAME_MAX + 1];

	return lvt_dm_name(m.vg, m.pool, "tpool", name, sizeof(name)) == 0 &&
	       strcmp(name, dm) == 0;
}

int lvt_dm_info(const char *dm, bool *ret_exists, unsigned *ret_major, unsigned *ret_minor)
{
	struct flv *l = by_dm(dm);

	*ret_exists = is_tpool(dm) ? tpool_active() : l && l->active;
	if (ret_major)
		*ret_major = 253;
	if (ret_minor)
		*ret_minor = 0;
	return 0;
}

int lvt_dm_params(const char *dm, bool table, char *target, size_t tlen, char *params,
		  size_t plen)
{
	struct flv *l = by_dm(dm);

	if (is_tpool(dm) && tpool_active()) {
		snprintf(target, tlen, "thin-pool");
		/* the pool's transaction id moves with every thin create and
		 * remove: the seqno stands in for it */
		if (table)
			snprintf(params, plen, "253:0 253:1 128 0 1 skip_block_zeroing");
		else
			snprintf(params, plen, "%" PRIu64 " 100/1024 2000/16384 - rw "
				 "discard_passdown queue_if_no_space - 1024", m.seqno);
		return 0;
	}
	if (l && l->active) {
		snprintf(target, tlen, "thin");
		snprintf(params, plen, table ? "253:2 %" PRId64 : "%" PRIu64 " -",
			 table ? (uint64_t)l->thin_id : l->mapped / 512);
		return 0;
	}
	return -ENXIO;
}

int lvt_dm_message(const char *dm, const char *msg)
{
	(void)dm;
	(void)msg;
	return 0;
}

const char *lvt_dm_last_error(void)
{
	return "";
}

static unsigned meta_reads;  /* VG seqno reads from the PV */

int lvt_vg_meta_read(const char *pv_path, const char *vg, uint64_t *ret, char *id,
		     size_t idlen)
{
	meta_reads++;
	if (id)
		snprintf(id, idlen, "fake-vg-uuid");
	if (strcmp(pv_path, "/dev/fakepv") != 0)
		return -ENOENT;
	if (strcmp(vg, m.vg) != 0)
		return -ENOENT;
	*ret = m.seqno;
	return 0;
}

int lvt_thin_ls_usage(const char *vg, const char *pool, const char *tpool,
		      struct lvt_thin_usage **ret, size_t *ret_n, qstor_error *err)
{
	struct lvt_thin_usage *u;

	(void)vg;
	(void)pool;
	(void)tpool;
	if (m.thin_ls_missing)
		return qs_err(err, -ENOENT, "no thin_ls");
	u = calloc(m.n ? m.n : 1, sizeof(*u));
	for (size_t i = 0; i < m.n; i++) {
		u[i].dev_id = (uint64_t)m.lvs[i].thin_id;
		u[i].mapped = m.lvs[i].mapped;
		u[i].exclusive = m.lvs[i].mapped / 4;
		u[i].shared = u[i].mapped - u[i].exclusive;
	}
	*ret = u;
	*ret_n = m.n;
	return 0;
}

/* The metadata read (metasnap.c, thinmeta.c): each asked id's LV maps
 * one range of its mapped bytes at (thin id) GiB, shared when odd. */
static uint64_t meta_ids[16];
static size_t meta_n;

int lvt_thin_meta_extents(const char *vg, const char *pool, const char *tpool,
			  const uint64_t *ids, size_t n, qs_extent_cb cb, void *ctx,
			  qstor_error *err)
{
	(void)vg;
	(void)pool;
	(void)err;
	assert_true(is_tpool(tpool));
	meta_n = n;
	for (size_t i = 0; i < n; i++) {
		meta_ids[i < 16 ? i : 15] = ids[i];
		for (size_t k = 0; k < m.n; k++) {
			int r;

			if ((uint64_t)m.lvs[k].thin_id != ids[i] || !m.lvs[k].mapped)
				continue;
			r = cb(ctx, i, 0, ids[i] << 30, m.lvs[k].mapped,
			       (ids[i] & 1) ? QS_EXTENT_SHARED : 0);
			if (r)
				return r;
		}
	}
	return 0;
}

/* the core's */
const char *qs_pool_opt(const struct qs_pool *pool, const char *key)
{
	for (size_t i = 0; i < pool->n_options; i++)
		if (strcmp(pool->options[i].key, key) == 0)
			return pool->options[i].value;
	return NULL;
}

/* ---- helpers ---- */

static qstor_kv opts[4];
static struct qs_pool pool;
static qstor_error err;

static int open_pool(const char *vg, const char *tp, const char *dor, bool setup)
{
	size_t n = 0;

	if (pool.priv) {
		qs_driver_lvm_thin.pool_close(&pool);
		free(pool.priv);
	}
	memset(&pool, 0, sizeof(pool));
	strcpy(pool.name, "lvm");
	pool.drv = &qs_driver_lvm_thin;
	if (vg)
		opts[n++] = (qstor_kv){ "volume_group", (char *)vg };
	if (tp)
		opts[n++] = (qstor_kv){ "thin_pool", (char *)tp };
	if (dor)
		opts[n++] = (qstor_kv){ "discard_on_remove", (char *)dor };
	pool.options = opts;
	pool.n_options = n;
	pool.priv = calloc(1, qs_driver_lvm_thin.instance_size);
	memset(&err, 0, sizeof(err));
	return qs_driver_lvm_thin.pool_open(&pool, setup, &err);
}

static int setup(void **state)
{
	(void)state;
	setenv("QSTOR_LVM_CACHE_DIR", "", 1);  /* no copy across processes */
	model_reset();
	runs = 0;
	return open_pool("qubes_dom0", "vm-pool", NULL, false);
}

static int teardown(void **state)
{
	(void)state;
	if (pool.priv) {
		qs_driver_lvm_thin.pool_close(&pool);
		free(pool.priv);
		pool.priv = NULL;
	}
	return 0;
}

static struct qs_obj obj(const char *vid, enum qs_role role, uint64_t key)
{
	return (struct qs_obj){ .vid = vid, .role = role, .rev_key = key,
				.rev_time = (int64_t)key };
}

static const char *last_cmd(void)
{
	return m.ncmds ? m.cmds[(m.ncmds - 1) % 256] : "";
}

static const struct qs_objinfo *role_of(const struct qs_objinfo *v, size_t n,
					enum qs_role role, uint64_t key)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].role == role && (role != QS_REVISION || v[i].rev_key == key))
			return &v[i];
	return NULL;
}

/* ---- tests ---- */

static void test_pool_open(void **state)
{
	(void)state;
	/* not setup: no LVM at all */
	assert_int_equal(open_pool("qubes_dom0", "vm-pool", "yes", false), 0);
	assert_int_equal(runs, 0);

	assert_int_equal(open_pool("qubes_dom0", "vm-pool", NULL, true), 0);
	assert_int_equal(runs, 1);
	assert_string_equal(last_cmd(), "lvs -a --reportformat json -o lv_name,lv_attr,lv_size,"
			    "pool_lv,origin,thin_id,vg_seqno,vg_extent_size,devices --units b "
			    "--nosuffix qubes_dom0");

	assert_int_equal(open_pool("nosuch", "vm-pool", NULL, true), -ENOENT);
	assert_string_equal(err.msg, "volume group 'nosuch' not found");
	assert_int_equal(open_pool("qubes_dom0", "pool00", NULL, true), -ENOENT);
	assert_string_equal(err.msg, "thin pool 'qubes_dom0/pool00' not found");
	add("vm-a-root", EXTENT, NULL, false);
	assert_int_equal(open_pool("qubes_dom0", "vm-a-root", NULL, true), -EINVAL);
	assert_string_equal(err.msg, "'qubes_dom0/vm-a-root' is not a thin pool");

	assert_int_equal(open_pool(NULL, "vm-pool", NULL, false), -EINVAL);
	assert_string_equal(err.msg, "option 'volume_group' is required");
	assert_int_equal(open_pool("qubes_dom0", NULL, NULL, false), -EINVAL);
	assert_string_equal(err.msg, "option 'thin_pool' is required");
	assert_int_equal(open_pool("qubes dom0", "vm-pool", NULL, false), -EINVAL);
	assert_string_equal(err.msg, "invalid volume_group 'qubes dom0'");
	assert_int_equal(open_pool("qubes_dom0", "-pool", NULL, false), -EINVAL);
	assert_string_equal(err.msg, "invalid thin_pool '-pool'");
	assert_int_equal(open_pool("qubes_dom0", "vm-pool", "maybe", false), -EINVAL);
	assert_string_equal(err.msg, "invalid discard_on_remove 'maybe': expected yes or no");

	/* the table: only our keys, precache unused, time revisions */
	assert_string_equal(qs_driver_lvm_thin.name, "lvm_thin");
	assert_string_equal(qs_driver_lvm_thin.options[0], "volume_group");
	assert_string_equal(qs_driver_lvm_thin.options[1], "thin_pool");
	assert_string_equal(qs_driver_lvm_thin.options[2], "discard_on_remove");
	assert_null(qs_driver_lvm_thin.options[3]);
	assert_string_equal(qs_driver_lvm_thin.required[1], "thin_pool");
	assert_null(qs_driver_lvm_thin.required[2]);
	assert_true(qs_driver_lvm_thin.rev_key_is_time);
	assert_false(qs_driver_lvm_thin.wants_precache);
}

static void test_make_vid(void **state)
{
	char vid[256], vm[65];

	(void)state;
	assert_int_equal(qs_driver_lvm_thin.make_vid(&pool, "work", "private", false, vid,
						     sizeof(vid), &err), 0);
	assert_string_equal(vid, "qubes_dom0/vm-work-private");
	assert_int_equal(qs_driver_lvm_thin.make_vid(&pool, "fedora-38", "root", true, vid,
						     sizeof(vid), &err), 0);
	assert_string_equal(vid, "qubes_dom0/vm-fedora-38-root");
	assert_int_equal(qs_driver_lvm_thin.make_vid(&pool, "a b", "root", false, vid,
						     sizeof(vid), &err), -EINVAL);
	/* 64 dashes: the device-mapper name of a revision would not fit */
	memset(vm, '-', 64);
	vm[0] = 'x';
	vm[64] = '\0';
	assert_int_equal(qs_driver_lvm_thin.make_vid(&pool, vm, "private", false, vid,
						     sizeof(vid), &err), -ENAMETOOLONG);
	assert_non_null(strstr(err.msg, "too long for lvm"));
	assert_int_equal(qs_driver_lvm_thin.make_vid(&pool, "work", "private", false, vid, 10,
						     &err), -ENAMETOOLONG);
	assert_int_equal(runs, 0);
}

static void test_list_qubes_vg(void **state)
{
	struct qs_objinfo *v = NULL;
	const struct qs_objinfo *o;
	size_t n = 0;

	(void)state;
	/* a VG made by Qubes OS, with a VM "x" and a VM "x-root" */
	add("vm-x-root", 10ull << 30, NULL, false);
	add("vm-x-root-snap", 10ull << 30, "vm-x-root", true);
	add("vm-x-root-1700000000-back", 10ull << 30, NULL, false);
	add("vm-x-root-1700000500-back", 10ull << 30, NULL, false);
	add("vm-x-root-0123-back", EXTENT, NULL, false);     /* not ours */
	add("vm-x-root-private", 2ull << 30, NULL, false);   /* VM x-root */
	add("vm-x-root-private-snap", 2ull << 30, NULL, true);
	add("vm-x-rootfs", EXTENT, NULL, false);
	add("vm-x-private", 2ull << 30, NULL, false);

	assert_int_equal(qs_driver_lvm_thin.list(&pool, "qubes_dom0/vm-x-root", &v, &n, &err), 0);
	assert_int_equal(runs, 1);  /* the one report */
	assert_int_equal(n, 4);
	o = role_of(v, n, QS_COMMITTED, 0);
	assert_non_null(o);
	assert_true(o->size == 10ull << 30);
	assert_false(o->active);
	o = role_of(v, n, QS_RUNNING, 0);
	assert_non_null(o);
	assert_true(o->active);
	o = role_of(v, n, QS_REVISION, 1700000000);
	assert_non_null(o);
	assert_string_equal(o->rev_id, "1700000000-back");
	assert_true(o->rev_time == 1700000000);
	assert_non_null(role_of(v, n, QS_REVISION, 1700000500));
	free(v);

	assert_int_equal(qs_driver_lvm_thin.list(&pool, "qubes_dom0/vm-x-root-private", &v, &n,
						 &err), 0);
	assert_int_equal(runs, 1);  /* cached: the seqno did not move */
	assert_int_equal(n, 2);
	assert_non_null(role_of(v, n, QS_COMMITTED, 0));
	assert_non_null(role_of(v, n, QS_RUNNING, 0));
	free(v);

	assert_int_equal(qs_driver_lvm_thin.list(&pool, "qubes_dom0/vm-nothing-root", &v, &n,
						 &err), 0);
	assert_int_equal(n, 0);
	assert_null(v);

	/* another process changes the VG: the next list reloads once */
	add("vm-x-root-tmp", EXTENT, NULL, false);
	m.seqno++;
	assert_int_equal(qs_driver_lvm_thin.list(&pool, "qubes_dom0/vm-x-root", &v, &n, &err), 0);
	assert_int_equal(runs, 2);
	assert_int_equal(n, 5);
	assert_non_null(role_of(v, n, QS_TMP, 0));
	free(v);

	assert_int_equal(qs_driver_lvm_thin.list(&pool, "other_vg/vm-x-root", &v, &n, &err),
			 -EXDEV);
	assert_int_equal(qs_driver_lvm_thin.list(&pool, "bad vid", &v, &n, &err), -EINVAL);
}

static void test_own_changes_keep_cache(void **state)
{
	struct qs_obj c = obj("qubes_dom0/vm-work-private", QS_COMMITTED, 0);
	struct qs_obj r = obj("qubes_dom0/vm-work-private", QS_RUNNING, 0);
	struct qs_obj rev = obj("qubes_dom0/vm-work-private", QS_REVISION, 1700000000);
	struct qs_objinfo *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(qs_driver_lvm_thin.list(&pool, c.vid, &v, &n, &err), 0);
	assert_int_equal(runs, 1);
	assert_int_equal(n, 0);

	/* create: one command; the size as LVM rounds it */
	assert_int_equal(qs_driver_lvm_thin.create(&pool, &c, 1000000000, &err), 0);
	assert_int_equal(runs, 2);
	assert_string_equal(last_cmd(), "lvcreate -q -y -an -V 1000000000b -T "
			    "qubes_dom0/vm-pool -n vm-work-private");
	/* start: snapshot to the running copy, active, skip off */
	assert_int_equal(qs_driver_lvm_thin.snapshot(&pool, &c, &r, &err), 0);
	assert_int_equal(runs, 3);
	assert_string_equal(last_cmd(), "lvcreate -q -y -s -kn -ay qubes_dom0/vm-work-private "
			    "-n vm-work-private-snap");
	/* stop: committed -> revision, running -> committed */
	assert_int_equal(qs_driver_lvm_thin.rename(&pool, &c, &rev, &err), 0);
	assert_string_equal(last_cmd(), "lvrename -q qubes_dom0 vm-work-private "
			    "vm-work-private-1700000000-back");
	assert_int_equal(qs_driver_lvm_thin.rename(&pool, &r, &c, &err), 0);
	assert_int_equal(runs, 5);

	/* all known without another report */
	assert_int_equal(qs_driver_lvm_thin.list(&pool, c.vid, &v, &n, &err), 0);
	assert_int_equal(runs, 5);
	assert_int_equal(n, 2);
	assert_true(role_of(v, n, QS_COMMITTED, 0)->size == 1002438656);  /* 239 extents */
	assert_true(role_of(v, n, QS_REVISION, 1700000000)->size == 1002438656);
	free(v);

	/* resize to the size it has: lvm refuses, we do not */
	assert_int_equal(qs_driver_lvm_thin.resize(&pool, &c, 1002438656, &err), 0);
	assert_int_equal(runs, 6);
	assert_int_equal(qs_driver_lvm_thin.resize(&pool, &c, 2ull << 30, &err), 0);
	assert_string_equal(last_cmd(), "lvresize -q -f -L 2147483648b qubes_dom0/vm-work-private");
	assert_int_equal(qs_driver_lvm_thin.list(&pool, c.vid, &v, &n, &err), 0);
	assert_int_equal(runs, 7);
	assert_true(role_of(v, n, QS_COMMITTED, 0)->size == 2ull << 30);
	free(v);
	assert_int_equal(qs_driver_lvm_thin.resize(&pool, &c, 511, &err), 0);
	assert_string_equal(last_cmd(), "lvresize -q -f -L 512b qubes_dom0/vm-work-private");
}

static void test_remove(void **state)
{
	struct qs_obj objs[3] = {
		obj("qubes_dom0/vm-w-root", QS_REVISION, 1700000000),
		obj("qubes_dom0/vm-w-root", QS_REVISION, 1700000100),  /* absent */
		obj("qubes_dom0/vm-w-root", QS_TMP, 0),
	};
	struct qs_obj many[50];
	char vids[50][32];

	(void)state;
	add("vm-w-root-1700000000-back", EXTENT, NULL, false);
	add("vm-w-root-tmp", EXTENT, NULL, true);
	add("vm-w-root", EXTENT, NULL, false);
	assert_int_equal(qs_driver_lvm_thin.remove(&pool, objs, 3, &err), 0);
	assert_int_equal(runs, 2);  /* report + one lvremove of the two that exist */
	assert_string_equal(last_cmd(), "lvremove -q -f qubes_dom0/vm-w-root-1700000000-back "
			    "qubes_dom0/vm-w-root-tmp");
	assert_int_equal(m.n, 1);
	/* nothing left to remove: no command */
	assert_int_equal(qs_driver_lvm_thin.remove(&pool, objs, 3, &err), 0);
	assert_int_equal(runs, 2);
	assert_int_equal(qs_driver_lvm_thin.remove(&pool, objs, 0, &err), 0);

	/* 50 revisions: two commands (48 + 2) */
	for (int i = 0; i < 50; i++) {
		char lv[64];

		snprintf(vids[i], sizeof(vids[i]), "qubes_dom0/vm-v%d-root", i);
		snprintf(lv, sizeof(lv), "vm-v%d-root", i);
		add(lv, EXTENT, NULL, false);
		many[i] = obj(vids[i], QS_COMMITTED, 0);
	}
	m.seqno++;
	runs = 0;
	assert_int_equal(qs_driver_lvm_thin.remove(&pool, many, 50, &err), 0);
	assert_int_equal(runs, 3);  /* report (seqno moved) + 2 */
	assert_int_equal(m.n, 1);
}

static void test_discard_on_remove(void **state)
{
	struct qs_obj objs[2] = {
		obj("qubes_dom0/vm-w-volatile", QS_COMMITTED, 0),
		obj("qubes_dom0/vm-w-volatile", QS_RUNNING, 0),
	};

	(void)state;
	assert_int_equal(open_pool("qubes_dom0", "vm-pool", "yes", false), 0);
	add("vm-w-volatile", EXTENT, NULL, false);
	add("vm-w-volatile-snap", EXTENT, NULL, true);
	assert_int_equal(qs_driver_lvm_thin.remove(&pool, objs, 2, &err), 0);
	/* report, activate the inactive one (to discard it), remove both */
	assert_int_equal(runs, 3);
	assert_string_equal(m.cmds[1], "lvchange -q -ay -K qubes_dom0/vm-w-volatile");
	assert_string_equal(m.cmds[2], "lvremove -q -f qubes_dom0/vm-w-volatile "
			    "qubes_dom0/vm-w-volatile-snap");
}

static void test_errors(void **state)
{
	struct qs_obj t = obj("qubes_dom0/vm-t-root", QS_COMMITTED, 0);
	struct qs_obj a = obj("qubes_dom0/vm-a-root", QS_RUNNING, 0);
	struct qs_obj p = obj("qubes_dom0/vm-a-root", QS_PRECACHE, 0);
	struct qs_obj b = obj("qubes_dom0/vm-b-root", QS_RUNNING, 0);
	struct qs_obj c = obj("qubes_dom0/vm-c-root", QS_RUNNING, 0);
	struct qs_obj other = obj("vg2/vm-a-root", QS_COMMITTED, 0);
	struct qs_objinfo *v = NULL;
	size_t n;

	(void)state;
	add("vm-t-root", EXTENT, NULL, false);
	add("vm-a-root-snap", EXTENT, NULL, false);

	assert_int_equal(qs_driver_lvm_thin.create(&pool, &t, EXTENT, &err), -EEXIST);
	assert_string_equal(err.msg, "cannot create 'qubes_dom0/vm-t-root': logical Volume "
			    "\"vm-t-root\" already exists in volume group \"qubes_dom0\"");
	assert_int_equal(runs, 1);  /* nothing to clean up after EEXIST */

	assert_int_equal(qs_driver_lvm_thin.snapshot(&pool, &t, &a, &err), -EEXIST);
	assert_int_equal(runs, 2);
	/* a missing source: no clean-up either */
	m.lvs[0].name[3] = 'T';
	assert_int_equal(qs_driver_lvm_thin.snapshot(&pool, &t, &b, &err), -ENOENT);
	assert_string_equal(err.msg, "cannot snapshot 'qubes_dom0/vm-t-root' to "
			    "'qubes_dom0/vm-b-root-snap': failed to find logical volume "
			    "\"qubes_dom0/vm-t-root\"");
	assert_int_equal(runs, 3);
	m.lvs[0].name[3] = 't';

	/* any other failure may leave the LV: remove it, forget the cache */
	m.fail_rc = LVM2_PROCESSING_FAILED;
	snprintf(m.fail_msg, sizeof(m.fail_msg), "Failed to activate new LV.");
	assert_int_equal(qs_driver_lvm_thin.snapshot(&pool, &t, &c, &err), -EIO);
	assert_string_equal(err.msg, "cannot snapshot 'qubes_dom0/vm-t-root' to "
			    "'qubes_dom0/vm-c-root-snap': failed to activate new LV");
	assert_int_equal(runs, 5);
	assert_string_equal(last_cmd(), "lvremove -q -f qubes_dom0/vm-c-root-snap");
	assert_int_equal(qs_driver_lvm_thin.list(&pool, t.vid, &v, &n, &err), 0);
	assert_int_equal(runs, 6);  /* reloaded */
	free(v);

	assert_int_equal(qs_driver_lvm_thin.rename(&pool, &t, &a, &err), -EEXIST);
	assert_string_equal(err.msg, "cannot rename 'qubes_dom0/vm-t-root' to 'vm-a-root-snap': "
			    "logical Volume \"vm-a-root-snap\" already exists in volume group "
			    "\"qubes_dom0\"");

	assert_int_equal(qs_driver_lvm_thin.create(&pool, &p, EXTENT, &err), -EOPNOTSUPP);
	assert_string_equal(err.msg, "cannot create 'qubes_dom0/vm-a-root': lvm_thin keeps no "
			    "precache object");
	assert_int_equal(qs_driver_lvm_thin.create(&pool, &other, EXTENT, &err), -EXDEV);
	assert_string_equal(err.msg, "cannot create 'vg2/vm-a-root': not in volume group "
			    "'qubes_dom0'");
	assert_int_equal(qs_driver_lvm_thin.create(&pool, &t, 0, &err), -EINVAL);
}

static void test_app_vm_start_stop_cost(void **state)
{
	struct qs_obj troot = obj("qubes_dom0/vm-fedora-root", QS_COMMITTED, 0);
	struct qs_obj root = obj("qubes_dom0/vm-work-root", QS_RUNNING, 0);
	struct qs_obj priv_c = obj("qubes_dom0/vm-work-private", QS_COMMITTED, 0);
	struct qs_obj priv_r = obj("qubes_dom0/vm-work-private", QS_RUNNING, 0);
	struct qs_obj priv_rev = obj("qubes_dom0/vm-work-private", QS_REVISION, 1700000000);
	struct qs_obj vol = obj("qubes_dom0/vm-work-volatile", QS_RUNNING, 0);
	struct qs_objinfo *v;
	size_t n;

	(void)state;
	add("vm-fedora-root", 10ull << 30, NULL, false);
	add("vm-work-private", 2ull << 30, NULL, false);

	/* list the three volumes: one report for the process */
	assert_int_equal(qs_driver_lvm_thin.list(&pool, root.vid, &v, &n, &err), 0);
	free(v);
	assert_int_equal(qs_driver_lvm_thin.list(&pool, priv_c.vid, &v, &n, &err), 0);
	free(v);
	assert_int_equal(qs_driver_lvm_thin.list(&pool, vol.vid, &v, &n, &err), 0);
	free(v);
	assert_int_equal(runs, 1);
	/* start: two snapshots and the volatile volume, created active */
	assert_int_equal(qs_driver_lvm_thin.snapshot(&pool, &troot, &root, &err), 0);
	assert_int_equal(qs_driver_lvm_thin.snapshot(&pool, &priv_c, &priv_r, &err), 0);
	assert_int_equal(qs_driver_lvm_thin.create(&pool, &vol, 10ull << 30, &err), 0);
	assert_string_equal(last_cmd(), "lvcreate -q -y -ay -V 10737418240b -T "
			    "qubes_dom0/vm-pool -n vm-work-volatile-snap");
	assert_int_equal(runs, 4);
	/* stop: root discarded, private committed, volatile discarded */
	assert_int_equal(qs_driver_lvm_thin.rename(&pool, &priv_c, &priv_rev, &err), 0);
	assert_int_equal(qs_driver_lvm_thin.rename(&pool, &priv_r, &priv_c, &err), 0);
	{
		struct qs_obj gone[2] = { root, vol };

		assert_int_equal(qs_driver_lvm_thin.remove(&pool, gone, 2, &err), 0);
	}
	assert_int_equal(runs, 7);
	/* deactivating what remove already took away costs nothing */
	assert_int_equal(qs_driver_lvm_thin.deactivate(&pool, &root, &err), 0);
	assert_int_equal(runs, 7);
	/* the committed private (formerly -snap) is still active: one lvchange */
	assert_int_equal(qs_driver_lvm_thin.deactivate(&pool, &priv_c, &err), 0);
	assert_int_equal(runs, 8);
	assert_string_equal(last_cmd(), "lvchange -q -an qubes_dom0/vm-work-private");
}

/* du's read batch: the VG seqno is read once for all the lists, not once
 * a list; outside the batch every list checks it again */
static void test_read_batch(void **state)
{
	static const char *const vids[] = { "qubes_dom0/vm-a-root", "qubes_dom0/vm-a-private",
					    "qubes_dom0/vm-b-private", "qubes_dom0/vm-c-private" };
	struct qs_objinfo *v;
	size_t n;
	unsigned before;

	(void)state;
	add("vm-a-root", EXTENT, NULL, false);
	add("vm-a-private", EXTENT, NULL, false);
	add("vm-b-private", EXTENT, NULL, false);
	add("vm-c-private", EXTENT, NULL, false);
	assert_int_equal(qs_driver_lvm_thin.list(&pool, vids[0], &v, &n, &err), 0);
	free(v);
	assert_int_equal(runs, 1);

	/* outside a batch: a seqno read per list */
	before = meta_reads;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(qs_driver_lvm_thin.list(&pool, vids[i], &v, &n, &err), 0);
		assert_int_equal(n, 1);
		free(v);
	}
	assert_true(meta_reads - before >= 4);

	/* in a batch: one */
	qs_driver_lvm_thin.read_batch(&pool, true);
	before = meta_reads;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(qs_driver_lvm_thin.list(&pool, vids[i], &v, &n, &err), 0);
		assert_int_equal(n, 1);
		free(v);
	}
	assert_true(meta_reads - before <= 1);
	assert_int_equal(runs, 1);
	qs_driver_lvm_thin.read_batch(&pool, false);

	/* after it, a change by another process is seen at the next list */
	add("vm-a-private-snap", EXTENT, "vm-a-private", true);
	m.seqno += 2;
	assert_int_equal(qs_driver_lvm_thin.list(&pool, vids[1], &v, &n, &err), 0);
	assert_int_equal(n, 2);
	free(v);
	assert_int_equal(runs, 2);
}

static void test_pool_usage(void **state)
{
	struct qs_pool_usage u;

	(void)state;
	/* inactive pool: activate it once, then the kernel's figures */
	assert_int_equal(qs_driver_lvm_thin.pool_usage(&pool, &u, &err), 0);
	assert_int_equal(runs, 1);
	assert_string_equal(last_cmd(), "lvchange -q -ay -K qubes_dom0/vm-pool");
	assert_true(u.data_size == 16384ull * 128 * 512);
	assert_true(u.data_used == 2000ull * 128 * 512);
	assert_true(u.meta_size == 1024ull * 4096);
	assert_true(u.meta_used == 100ull * 4096);
	assert_int_equal(qs_driver_lvm_thin.pool_usage(&pool, &u, &err), 0);
	assert_int_equal(runs, 1);
}

static void test_usage(void **state)
{
	struct qs_obj o[3] = {
		obj("qubes_dom0/vm-u-private", QS_COMMITTED, 0),
		obj("qubes_dom0/vm-u-private", QS_REVISION, 1700000000),
		obj("qubes_dom0/vm-u-private", QS_RUNNING, 0),  /* absent */
	};
	struct qs_usage u[3];
	uint64_t set = 0;

	(void)state;
	add("vm-u-private", 1ull << 30, NULL, true)->mapped = 400ull << 20;
	add("vm-u-private-1700000000-back", 1ull << 30, NULL, false)->mapped = 200ull << 20;
	assert_int_equal(qs_driver_lvm_thin.usage(&pool, o, 3, u, &set, &err), 0);
	assert_true(u[0].mapped == 400ull << 20);
	assert_true(u[0].exclusive == 100ull << 20);
	assert_true(u[1].mapped == 200ull << 20);
	assert_true(u[1].exclusive == 50ull << 20);
	assert_true(u[2].mapped == 0);
	assert_true(set == 150ull << 20);
	assert_int_equal(runs, 1);  /* the report; dm and thin_ls are not LVM */

	/* an LV we made ourselves active: its thin id from its dm table */
	assert_int_equal(qs_driver_lvm_thin.create(&pool, &o[2], 1ull << 30, &err), 0);
	assert_int_equal(runs, 2);
	assert_int_equal(qs_driver_lvm_thin.usage(&pool, o, 3, u, &set, &err), 0);
	assert_int_equal(runs, 2);
	assert_true(u[2].mapped == 0);
	/* made inactive: no thin id until a report, one reload */
	{
		struct qs_obj imp = obj("qubes_dom0/vm-u-root", QS_COMMITTED, 0);

		assert_int_equal(qs_driver_lvm_thin.create(&pool, &imp, 1ull << 30, &err), 0);
		assert_int_equal(runs, 3);
		assert_int_equal(qs_driver_lvm_thin.usage(&pool, &imp, 1, u, &set, &err), 0);
		assert_int_equal(runs, 4);
	}

	/* one thin_ls serves while the pool shows no change */
	m.thin_ls_missing = true;
	assert_int_equal(qs_driver_lvm_thin.usage(&pool, o, 3, u, &set, &err), 0);
	assert_true(u[0].exclusive == 100ull << 20);

	/* without thin_ls: mapped of active devices from dm, exclusive 0 */
	m.seqno++;  /* a new transaction in the pool */
	assert_int_equal(qs_driver_lvm_thin.usage(&pool, o, 3, u, &set, &err), 0);
	assert_true(u[0].mapped == 400ull << 20);
	assert_true(u[0].exclusive == 0);
	assert_true(u[1].mapped == 0);  /* inactive: unknown to the kernel */
	assert_true(set == 0);
}

struct got {
	size_t obj;
	uint64_t logical, phys, len;
	unsigned flags;
};

static struct got got[16];
static size_t n_got;

static int got_cb(void *ctx, size_t obj, uint64_t logical, uint64_t phys, uint64_t len,
		  unsigned flags)
{
	(void)ctx;
	if (n_got == 16)
		return -E2BIG;
	got[n_got++] = (struct got){ obj, logical, phys, len, flags };
	return 0;
}

static void test_extents(void **state)
{
	struct qs_obj o[3] = {
		obj("qubes_dom0/vm-u-private", QS_REVISION, 1700000000),
		obj("qubes_dom0/vm-u-private", QS_RUNNING, 0),  /* absent */
		obj("qubes_dom0/vm-u-private", QS_COMMITTED, 0),
	};
	struct flv *c, *r;

	(void)state;
	c = add("vm-u-private", 1ull << 30, NULL, true);
	c->mapped = 400ull << 20;
	r = add("vm-u-private-1700000000-back", 1ull << 30, NULL, false);
	r->mapped = 200ull << 20;
	assert_int_equal(qs_driver_lvm_thin.extents(&pool, o, 3, got_cb, NULL, &err), 0);
	/* the objects' thin ids, in objs order; none for the absent one */
	assert_int_equal(meta_n, 3);
	assert_true(meta_ids[0] == (uint64_t)r->thin_id);
	assert_true(meta_ids[1] == UINT64_MAX);
	assert_true(meta_ids[2] == (uint64_t)c->thin_id);
	assert_int_equal(n_got, 2);
	assert_true(got[0].obj == 0 && got[0].len == 200ull << 20 &&
		    got[0].phys == (uint64_t)r->thin_id << 30);
	assert_true(got[1].obj == 2 && got[1].len == 400ull << 20);
	assert_true(got[0].flags == ((r->thin_id & 1) ? QS_EXTENT_SHARED : 0u));
	assert_int_equal(runs, 1);  /* the report only */

	/* the callback's error comes back as is */
	n_got = 16;
	assert_int_equal(qs_driver_lvm_thin.extents(&pool, o, 3, got_cb, NULL, &err), -E2BIG);
	/* nothing asked: nothing done */
	meta_n = 99;
	assert_int_equal(qs_driver_lvm_thin.extents(&pool, o, 0, got_cb, NULL, &err), 0);
	assert_int_equal(meta_n, 99);
	/* not an lvm_thin vid */
	o[0].vid = "nope";
	assert_int_equal(qs_driver_lvm_thin.extents(&pool, o, 1, got_cb, NULL, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pool_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_make_vid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_qubes_vg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_changes_keep_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_on_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_vm_start_stop_cost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extents, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
