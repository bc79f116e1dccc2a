/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interrupted operations and the checks after recover (see scenarios.h). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenarios.h"

/* ---- helpers (cmocka: parent only) ---- */

static void must(int r, const qstor_error *err, const char *what)
{
	if (r < 0)
		fail_msg("%s failed (%d): %s", what, r, err->msg);
}

static void mk(struct unit_env *e, const char *name, qstor_vm_class k, const char *tpl)
{
	qstor_error err = { 0 };

	must(unit_create_vm(e, name, k, tpl, &err), &err, "create vm");
}

static void setp(struct unit_env *e, const char *vm, const char *vol, const char *prop,
		 const char *val)
{
	qstor_error err = { 0 };

	must(qstor_volume_set(e->q, vm, vol, prop, val, &err), &err, "set");
}

static qstor_device *start(struct unit_env *e, const char *vm, size_t *n)
{
	qstor_device *d = NULL;
	qstor_error err = { 0 };

	must(qstor_vm_start(e->q, vm, &d, n, &err), &err, "start");
	return d;
}

static void stop(struct unit_env *e, const char *vm)
{
	qstor_error err = { 0 };

	must(qstor_vm_stop(e->q, vm, &err), &err, "stop");
}

static void write_vol(const qstor_device *d, size_t n, const char *vol, size_t len, uint32_t seed)
{
	const char *p = unit_dev(d, n, vol);

	assert_true(*p);
	assert_int_equal(unit_write_pattern(p, 0, len, seed), 0);
}

static const char *const ROOT_PRIV[] = { "root", "private", NULL };
static const char *const PRIV[] = { "private", NULL };

static void cycle(struct unit_env *e, const char *vm, const char *const *vols, size_t len,
		  uint32_t seed)
{
	size_t n = 0;
	qstor_device *d = start(e, vm, &n);

	for (; *vols; vols++)
		write_vol(d, n, *vols, len, seed);
	free(d);
	stop(e, vm);
}

static uint64_t sum_of(uint64_t size, size_t len, uint32_t seed)
{
	unsigned char *b = calloc(1, size);
	uint64_t s;

	assert_non_null(b);
	unit_pattern(b, len, seed);
	s = unit_checksum_buf(b, size);
	free(b);
	return s;
}

static char *cpath(struct unit_env *e, const char *vm, const char *vol)
{
	static char b[4][1024];
	static unsigned k;

	return unit_obj_path(e, vm, vol, "committed", b[k++ % 4], 1024);
}

/* The committed bytes of vm:vol, resized to size (zero-extended or cut). */
static uint64_t sum_resized(struct unit_env *e, const char *vm, const char *vol, uint64_t size)
{
	unsigned char *buf, *b2;
	size_t len;
	uint64_t s;

	assert_int_equal(unit_read_file(cpath(e, vm, vol), &buf, &len), 0);
	b2 = calloc(1, size);
	assert_non_null(b2);
	memcpy(b2, buf, len < size ? len : size);
	s = unit_checksum_buf(b2, size);
	free(buf);
	free(b2);
	return s;
}

static struct scen_expect *expect(struct unit_env *e, struct scen_state *st, const char *vm,
				  const char *vol, uint64_t new_sum, uint64_t new_size, bool must_new)
{
	struct scen_expect *x = &st->x[st->nx++];
	const char *p = cpath(e, vm, vol);

	assert_true(st->nx <= 8);
	snprintf(x->vm, sizeof(x->vm), "%s", vm);
	snprintf(x->vol, sizeof(x->vol), "%s", vol);
	x->old_sum = unit_checksum(p);
	x->old_size = (uint64_t)unit_file_size(p);
	assert_true(x->old_sum != UNIT_NO_FILE);
	x->new_sum = new_sum;
	x->new_size = new_size ? new_size : x->old_size;
	x->must_new = must_new;
	return x;
}

static void expect_same(struct unit_env *e, struct scen_state *st, const char *vm, const char *vol)
{
	struct scen_expect *x = expect(e, st, vm, vol, 0, 0, false);

	x->new_sum = x->old_sum;
}

static bool vm_exists(struct unit_env *e, const char *vm)
{
	qstor_vm_info vi;

	return qstor_vm_get(e->q, vm, &vi, NULL) == 0;
}

static int rev_sums(struct unit_env *e, const char *vm, const char *vol, uint64_t *s)
{
	int n = unit_rev_sums(e, vm, vol, s, 32);

	assert_true(n >= 0);
	return n;
}

/* ---- scenarios ---- */

/* stop of a standalone whose origins keep N revisions, all kept already */
static void setup_stop_rtk(struct unit_env *e, struct scen_state *st, int keep)
{
	char v[8];
	size_t n = 0;
	qstor_device *d;

	mk(e, "sa", QSTOR_CLASS_STANDALONE, NULL);
	snprintf(v, sizeof(v), "%d", keep);
	setp(e, "sa", "root", "revisions_to_keep", v);
	setp(e, "sa", "private", "revisions_to_keep", v);
	for (int c = 0; c <= keep; c++)
		cycle(e, "sa", ROOT_PRIV, 4096, 10 + (uint32_t)c);
	d = start(e, "sa", &n);
	write_vol(d, n, "root", 5000, 50);
	write_vol(d, n, "private", 6000, 51);
	free(d);
	expect(e, st, "sa", "root", sum_of(UNIT_ROOT_SIZE, 5000, 50), 0, true);
	expect(e, st, "sa", "private", sum_of(UNIT_PRIV_SIZE, 6000, 51), 0, true);
	st->v[0] = (uint64_t)keep;
}

static void setup_stop_rtk0(struct unit_env *e, struct scen_state *st) { setup_stop_rtk(e, st, 0); }
static void setup_stop_rtk1(struct unit_env *e, struct scen_state *st) { setup_stop_rtk(e, st, 1); }
static void setup_stop_rtk2(struct unit_env *e, struct scen_state *st) { setup_stop_rtk(e, st, 2); }

static int op_stop_sa(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_vm_stop(e->q, "sa", err);
}

/* the revisions after the stop: exactly keep, the newest the replaced
 * state (the commit finished without inventing one). After a restart
 * (start + stop without writes) the newest may be the VM's state, and the
 * one before it then the replaced state. */
static void check_stop_rtk(struct unit_env *e, struct scen_state *st)
{
	uint64_t s[32];

	for (size_t i = 0; i < st->nx; i++) {
		const struct scen_expect *x = &st->x[i];
		int n = rev_sums(e, "sa", x->vol, s);

		if (n != (int)st->v[0])
			fail_msg("sa:%s has %d revisions, expected %d", x->vol, n, (int)st->v[0]);
		if (n == 0 || s[n - 1] == x->old_sum)
			continue;
		if (st->restarted && s[n - 1] == x->new_sum && (n < 2 || s[n - 2] == x->old_sum))
			continue;
		fail_msg("sa:%s: the newest revisions are not the replaced state", x->vol);
	}
}

static void setup_stop_app(struct unit_env *e, struct scen_state *st)
{
	size_t n = 0;
	qstor_device *d;

	mk(e, "tpl", QSTOR_CLASS_TEMPLATE, NULL);
	mk(e, "work", QSTOR_CLASS_APP, "tpl");
	cycle(e, "tpl", ROOT_PRIV, 3000, 20);
	cycle(e, "work", PRIV, 3000, 21);
	d = start(e, "work", &n);
	write_vol(d, n, "root", 2000, 22);
	write_vol(d, n, "private", 3000, 23);
	write_vol(d, n, "volatile", 2000, 24);
	free(d);
	expect(e, st, "work", "private", sum_of(UNIT_PRIV_SIZE, 3000, 23), 0, true);
	expect_same(e, st, "tpl", "root");
	expect_same(e, st, "tpl", "private");
}

static int op_stop_work(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_vm_stop(e->q, "work", err);
}

/* a template update while its app VM holds a precache of the old state */
static void setup_stop_tpl_app(struct unit_env *e, struct scen_state *st)
{
	size_t n = 0;
	qstor_device *d;

	mk(e, "tpl", QSTOR_CLASS_TEMPLATE, NULL);
	mk(e, "work", QSTOR_CLASS_APP, "tpl");
	cycle(e, "tpl", ROOT_PRIV, 3000, 25);
	cycle(e, "work", PRIV, 3000, 26);
	d = start(e, "tpl", &n);
	write_vol(d, n, "root", 3000, 27);
	free(d);
	expect(e, st, "tpl", "root", sum_of(UNIT_ROOT_SIZE, 3000, 27), 0, true);
	expect_same(e, st, "tpl", "private");
	expect_same(e, st, "work", "private");
}

static int op_stop_tpl(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_vm_stop(e->q, "tpl", err);
}

static void setup_start_tpl(struct unit_env *e, struct scen_state *st)
{
	mk(e, "tpl", QSTOR_CLASS_TEMPLATE, NULL);
	cycle(e, "tpl", ROOT_PRIV, 3000, 30);
	expect_same(e, st, "tpl", "root");
	expect_same(e, st, "tpl", "private");
}

static int op_start_tpl(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	qstor_device *d = NULL;
	size_t n;
	int r = qstor_vm_start(e->q, "tpl", &d, &n, err);

	free(d);
	return r;
}

static void setup_start_app(struct unit_env *e, struct scen_state *st, bool stale)
{
	mk(e, "tpl", QSTOR_CLASS_TEMPLATE, NULL);
	mk(e, "work", QSTOR_CLASS_APP, "tpl");
	cycle(e, "tpl", ROOT_PRIV, 3000, 31);
	cycle(e, "work", PRIV, 3000, 32);
	if (stale)
		cycle(e, "tpl", ROOT_PRIV, 3000, 33);
	expect_same(e, st, "tpl", "root");
	expect_same(e, st, "work", "private");
}

static void setup_start_app_pc(struct unit_env *e, struct scen_state *st) { setup_start_app(e, st, false); }
static void setup_start_app_stale(struct unit_env *e, struct scen_state *st) { setup_start_app(e, st, true); }

static int op_start_work(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	qstor_device *d = NULL;
	size_t n;
	int r = qstor_vm_start(e->q, "work", &d, &n, err);

	free(d);
	return r;
}

/* revert: committed B, revisions [zeros, A]; new state A */
static void setup_revert(struct unit_env *e, struct scen_state *st)
{
	mk(e, "sa", QSTOR_CLASS_STANDALONE, NULL);
	setp(e, "sa", "private", "revisions_to_keep", "2");
	cycle(e, "sa", PRIV, 7000, 40);
	cycle(e, "sa", PRIV, 7000, 41);
	st->v[0] = sum_of(UNIT_PRIV_SIZE, 7000, 40);
	st->v[1] = sum_of(UNIT_PRIV_SIZE, 7000, 41);
	expect(e, st, "sa", "private", st->v[0], 0, false);
}

static int op_revert(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_volume_revert(e->q, "sa", "private", NULL, err);
}

/* both states stay reachable: committed or a revision */
static void check_revert(struct unit_env *e, struct scen_state *st)
{
	uint64_t s[32];
	int n = rev_sums(e, "sa", "private", s);
	bool a = false, b = false;

	s[n++] = unit_checksum(cpath(e, "sa", "private"));
	for (int i = 0; i < n; i++) {
		a |= s[i] == st->v[0];
		b |= s[i] == st->v[1];
	}
	if (!a || !b)
		fail_msg("revert: state %s was lost (neither committed nor a revision)",
			 !a ? "A (the target)" : "B (the replaced one)");
}

/* import / clear into sa:private (committed B) */
static void setup_import_common(struct unit_env *e, struct scen_state *st, uint64_t size,
				bool zeros)
{
	unsigned char *d = calloc(1, size);

	mk(e, "sa", QSTOR_CLASS_STANDALONE, NULL);
	cycle(e, "sa", PRIV, 9000, 60);
	assert_non_null(d);
	if (!zeros)
		unit_pattern(d, size, 61);
	snprintf(st->data, sizeof(st->data), "%s/import.data", e->root);
	assert_int_equal(unit_write_file(st->data, d, size), 0);
	expect(e, st, "sa", "private", unit_checksum_buf(d, size), size, false);
	free(d);
}

static void setup_import(struct unit_env *e, struct scen_state *st)
{
	setup_import_common(e, st, UNIT_PRIV_SIZE, false);
}

static void setup_import_resize(struct unit_env *e, struct scen_state *st)
{
	setup_import_common(e, st, 2 * UNIT_PRIV_SIZE, false);
}

static void setup_clear(struct unit_env *e, struct scen_state *st)
{
	setup_import_common(e, st, UNIT_PRIV_SIZE, true);
}

/* revisions_to_keep 0: the replaced state is not kept, but must not be lost
 * before the new one is in place */
static void setup_import_rtk0(struct unit_env *e, struct scen_state *st)
{
	setup_import_common(e, st, UNIT_PRIV_SIZE, false);
	setp(e, "sa", "private", "revisions_to_keep", "0");
}

static int op_import_fd(struct unit_env *e, struct scen_state *st, uint64_t size, bool resize,
			qstor_error *err)
{
	int fd = open(st->data, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = qstor_volume_import(e->q, "sa", "private", fd, size, resize, err);
	close(fd);
	return r;
}

static int op_import(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return op_import_fd(e, st, 0, false, err);
}

static int op_import_resize(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return op_import_fd(e, st, 2 * UNIT_PRIV_SIZE, true, err);
}

static int op_clear(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_volume_clear(e->q, "sa", "private", err);
}

/* the replaced state is the newest revision once the new one is committed */
static void check_replaced_is_rev(struct unit_env *e, struct scen_state *st)
{
	const struct scen_expect *x = &st->x[0];
	uint64_t s[32];
	int n;

	if (unit_checksum(cpath(e, x->vm, x->vol)) != x->new_sum)
		return;
	n = rev_sums(e, x->vm, x->vol, s);
	if (n < 1 || s[n - 1] != x->old_sum)
		fail_msg("%s:%s: the replaced state is not the newest revision", x->vm, x->vol);
}

static void setup_clone(struct unit_env *e, struct scen_state *st)
{
	mk(e, "s1", QSTOR_CLASS_STANDALONE, NULL);
	mk(e, "s2", QSTOR_CLASS_STANDALONE, NULL);
	cycle(e, "s1", PRIV, 8000, 70);
	cycle(e, "s2", PRIV, 8000, 71);
	expect(e, st, "s2", "private", sum_of(UNIT_PRIV_SIZE, 8000, 70), 0, false);
	expect_same(e, st, "s1", "private");
}

static void setup_clone_rtk0(struct unit_env *e, struct scen_state *st)
{
	setup_clone(e, st);
	setp(e, "s2", "private", "revisions_to_keep", "0");
}

static int op_clone(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_volume_clone(e->q, "s1", "private", "s2", "private", err);
}

static void setup_resize(struct unit_env *e, struct scen_state *st, uint64_t size)
{
	mk(e, "sa", QSTOR_CLASS_STANDALONE, NULL);
	cycle(e, "sa", PRIV, 9000, 80);
	expect(e, st, "sa", "private", sum_resized(e, "sa", "private", size), size, false);
	st->v[0] = size;
}

static void setup_resize_grow(struct unit_env *e, struct scen_state *st)
{
	setup_resize(e, st, 2 * UNIT_PRIV_SIZE);
}

static void setup_resize_shrink(struct unit_env *e, struct scen_state *st)
{
	setup_resize(e, st, UNIT_PRIV_SIZE / 2);
}

static int op_resize(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_volume_resize(e->q, "sa", "private", st->v[0], st->v[0] < UNIT_PRIV_SIZE, err);
}

static void setup_resize_running(struct unit_env *e, struct scen_state *st)
{
	size_t n = 0;
	qstor_device *d;

	mk(e, "tpl", QSTOR_CLASS_TEMPLATE, NULL);
	cycle(e, "tpl", ROOT_PRIV, 3000, 85);
	d = start(e, "tpl", &n);
	write_vol(d, n, "root", 1000, 86);
	free(d);
	expect_same(e, st, "tpl", "root");
}

static int op_resize_running(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_volume_resize(e->q, "tpl", "root", 2 * UNIT_ROOT_SIZE, false, err);
}

static void check_resize_running(struct unit_env *e, struct scen_state *st)
{
	qstor_vm_info vi;

	/* a crash of qstor is not a crash of the VM: it keeps running */
	assert_int_equal(qstor_vm_get(e->q, "tpl", &vi, NULL), 0);
	assert_true(vi.running);
}

static void setup_vmcreate(struct unit_env *e, struct scen_state *st)
{
	mk(e, "tpl", QSTOR_CLASS_TEMPLATE, NULL);
	cycle(e, "tpl", ROOT_PRIV, 3000, 90);
	expect_same(e, st, "tpl", "root");
}

static int op_vmcreate(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return unit_create_vm(e, "neo", QSTOR_CLASS_STANDALONE, NULL, err);
}

static void check_vmcreate(struct unit_env *e, struct scen_state *st)
{
	qstor_error err = { 0 };

	/* either it exists, or creating it again works */
	if (!vm_exists(e, "neo"))
		must(unit_create_vm(e, "neo", QSTOR_CLASS_STANDALONE, NULL, &err), &err,
		     "create again after the interrupted create");
	for (int k = 0; k < 2; k++) {
		const char *vol = k ? "private" : "root";
		uint64_t size = k ? UNIT_PRIV_SIZE : UNIT_ROOT_SIZE;

		if (!unit_exists(cpath(e, "neo", vol)))
			fail_msg("vm 'neo' exists without a committed %s (a half-made vm kept as "
				 "a complete one)", vol);
		assert_true(unit_all_zero(cpath(e, "neo", vol)));
		assert_int_equal(unit_file_size(cpath(e, "neo", vol)), size);
	}
}

static void setup_vmclone(struct unit_env *e, struct scen_state *st)
{
	mk(e, "tpl", QSTOR_CLASS_TEMPLATE, NULL);
	cycle(e, "tpl", ROOT_PRIV, 3000, 95);
	expect_same(e, st, "tpl", "root");
	expect_same(e, st, "tpl", "private");
}

static int op_vmclone(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_vm_clone(e->q, "tpl", "tpl2", NULL, err);
}

static void check_vmclone(struct unit_env *e, struct scen_state *st)
{
	qstor_error err = { 0 };

	/* either the clone is complete, or cloning again works */
	if (!vm_exists(e, "tpl2"))
		must(qstor_vm_clone(e->q, "tpl", "tpl2", NULL, &err), &err,
		     "clone again after the interrupted clone");
	for (int k = 0; k < 2; k++) {
		uint64_t got = unit_checksum(cpath(e, "tpl2", st->x[k].vol));

		if (got != st->x[k].old_sum)
			fail_msg("vm 'tpl2' exists, its %s %s (a half-made clone kept as a complete "
				 "one)", st->x[k].vol, got == UNIT_NO_FILE ? "has no committed state" :
				 "differs from the source");
	}
}

static void setup_vmremove(struct unit_env *e, struct scen_state *st)
{
	mk(e, "tpl", QSTOR_CLASS_TEMPLATE, NULL);
	mk(e, "work", QSTOR_CLASS_APP, "tpl");
	cycle(e, "tpl", ROOT_PRIV, 3000, 97);
	cycle(e, "work", ROOT_PRIV, 3000, 98);
	cycle(e, "work", ROOT_PRIV, 3000, 99);
	expect_same(e, st, "tpl", "root");
	expect_same(e, st, "tpl", "private");
}

static int op_vmremove(struct unit_env *e, struct scen_state *st, qstor_error *err)
{
	return qstor_vm_remove(e->q, "work", err);
}

static void check_vmremove(struct unit_env *e, struct scen_state *st)
{
	qstor_error err = { 0 };
	struct unit_files f;

	/* either it is gone, or removing it again works */
	if (vm_exists(e, "work"))
		must(qstor_vm_remove(e->q, "work", &err), &err,
		     "remove again after the interrupted remove");
	assert_int_equal(unit_list_files(e->pool_dir, &f), 0);
	if (unit_files_count_substr(&f, "work/")) {
		unit_files_dump(&f, "pool");
		fail_msg("objects of the removed vm are left");
	}
	unit_files_free(&f);
}

const struct scen scenarios[] = {
	{ "stop-rtk0", setup_stop_rtk0, op_stop_sa, check_stop_rtk, "sa", true, false },
	{ "stop-rtk1", setup_stop_rtk1, op_stop_sa, check_stop_rtk, "sa", true, false },
	{ "stop-rtk2", setup_stop_rtk2, op_stop_sa, check_stop_rtk, "sa", true, false },
	{ "stop-app", setup_stop_app, op_stop_work, NULL, "work", true, false },
	{ "stop-template-app", setup_stop_tpl_app, op_stop_tpl, NULL, "tpl", true, false },
	{ "start-template", setup_start_tpl, op_start_tpl, NULL, NULL, false, false },
	{ "start-app-precache", setup_start_app_pc, op_start_work, NULL, NULL, false, false },
	{ "start-app-stale", setup_start_app_stale, op_start_work, NULL, NULL, false, false },
	{ "revert", setup_revert, op_revert, check_revert, NULL, false, false },
	{ "import", setup_import, op_import, check_replaced_is_rev, NULL, false, false },
	{ "import-resize", setup_import_resize, op_import_resize, check_replaced_is_rev, NULL, false, false },
	{ "import-rtk0", setup_import_rtk0, op_import, NULL, NULL, false, false },
	{ "clear", setup_clear, op_clear, check_replaced_is_rev, NULL, false, false },
	{ "clone", setup_clone, op_clone, check_replaced_is_rev, NULL, false, false },
	{ "clone-rtk0", setup_clone_rtk0, op_clone, NULL, NULL, false, false },
	{ "resize-grow", setup_resize_grow, op_resize, NULL, NULL, false, false },
	{ "resize-shrink", setup_resize_shrink, op_resize, NULL, NULL, false, false },
	{ "resize-running", setup_resize_running, op_resize_running, check_resize_running, NULL, false, false },
	/* Regression test (fixed): qstor_vm_stop of a VM left "creating"/"cloning" by a crash
	 * is not refused (qstor_vm_start is, src/vm.c:472): stop_locked sets it
	 * "stopping" then "stopped" (vm.c:527, 545), so recover (vm.c:608) never
	 * finishes or rolls it back: it stays without committed objects. */
	{ "vm-create", setup_vmcreate, op_vmcreate, check_vmcreate, "neo", false, true },
	{ "vm-clone", setup_vmclone, op_vmclone, check_vmclone, "tpl2", false, true },
	{ "vm-remove", setup_vmremove, op_vmremove, check_vmremove, "work", false, false },
};
const unsigned n_scenarios = sizeof(scenarios) / sizeof(scenarios[0]);

const struct scen *scen_find(const char *name)
{
	for (unsigned i = 0; i < n_scenarios; i++)
		if (strcmp(scenarios[i].name, name) == 0)
			return &scenarios[i];
	return NULL;
}

struct unit_env *scen_prepare(const struct scen *s, struct scen_state *st)
{
	struct unit_env *e = unit_env_new();

	assert_non_null(e);
	memset(st, 0, sizeof(*st));
	s->setup(e, st);
	return e;
}

/* ---- the checks after recover ---- */

static void check_leftovers(struct unit_env *e, const char *what)
{
	struct unit_files f;

	assert_int_equal(unit_list_files(e->pool_dir, &f), 0);
	if (unit_files_count_suffix(&f, ".tmp") || unit_files_count_suffix(&f, ".import")) {
		unit_files_dump(&f, "pool");
		fail_msg("%s: TMP or IMPORT objects left after recover", what);
	}
	unit_files_free(&f);
}

/* catalog and disk agree: sizes; stopped VMs hold no running copy */
static void check_consistent(struct unit_env *e, const char *what)
{
	qstor_volume_info *v = NULL;
	size_t n = 0;
	qstor_error err = { 0 };

	if (qstor_volume_list(e->q, NULL, NULL, &v, &n, &err) < 0)
		fail_msg("%s: volume list: %s", what, err.msg);
	for (size_t i = 0; i < n; i++) {
		char run[1024];
		const char *c = cpath(e, v[i].vm, v[i].name);
		int64_t size = unit_file_size(c);

		/* (a running volume's size is its running copy's) */
		if (v[i].save_on_stop && !v[i].running && size >= 0 && (uint64_t)size != v[i].size)
			fail_msg("%s: %s:%s: catalog size %llu, committed object %lld bytes", what,
				 v[i].vm, v[i].name, (unsigned long long)v[i].size, (long long)size);
		if (v[i].is_dirty)
			fail_msg("%s: %s:%s is still dirty after recover", what, v[i].vm, v[i].name);
		unit_obj_path(e, v[i].vm, v[i].name, "running", run, sizeof(run));
		if (!v[i].running && unit_exists(run))
			fail_msg("%s: %s:%s: a running copy is left of a stopped vm", what, v[i].vm,
				 v[i].name);
	}
	qstor_volume_infos_free(v, n);
}

/* (d): every VM starts on its committed state and stops again */
static void check_restart(struct unit_env *e, const char *what)
{
	qstor_vm_info *vms = NULL;
	size_t n = 0;
	qstor_error err = { 0 };

	if (qstor_vm_list(e->q, &vms, &n, &err) < 0)
		fail_msg("%s: vm list: %s", what, err.msg);
	for (size_t i = 0; i < n; i++)
		if (vms[i].running && qstor_vm_stop(e->q, vms[i].name, &err) < 0)
			fail_msg("%s: stop '%s': %s", what, vms[i].name, err.msg);
	/* dependents first: a start and stop of a template or app VM commits
	 * its volumes again, which would hide a stale precache of theirs */
	for (size_t j = 0; j < n; j++) {
		static const qstor_vm_class order[] = { QSTOR_CLASS_DISPOSABLE, QSTOR_CLASS_APP,
							QSTOR_CLASS_STANDALONE, QSTOR_CLASS_TEMPLATE };
		size_t i = 0, seen = 0;

		/* the j-th VM in class order */
		for (unsigned c = 0; c < 4; c++)
			for (size_t k = 0; k < n; k++)
				if (vms[k].klass == order[c] && seen++ == j)
					i = k;
		const char *vm = vms[i].name;
		const char *vols[] = { "root", "private" };
		uint64_t sums[2];
		qstor_device *d = NULL;
		size_t nd = 0;

		uint64_t src[2] = { UNIT_NO_FILE, UNIT_NO_FILE };

		for (int k = 0; k < 2; k++) {
			qstor_volume_info vi;

			sums[k] = unit_checksum(cpath(e, vm, vols[k]));
			/* a snapshot volume starts on its source's committed state */
			if (qstor_volume_info_get(e->q, vm, vols[k], &vi, NULL) == 0) {
				char svm[QSTOR_NAME_MAX + 1], svol[QSTOR_NAME_MAX + 1];

				if (vi.snap_on_start && qstor_parse_vmvol(vi.source, svm, svol, NULL) == 0)
					src[k] = unit_checksum(cpath(e, svm, svol));
				qstor_volume_info_free(&vi);
			}
		}
		if (qstor_vm_start(e->q, vm, &d, &nd, &err) < 0)
			fail_msg("%s: start '%s' after recover: %s", what, vm, err.msg);
		for (int k = 0; k < 2; k++) {
			if (sums[k] != UNIT_NO_FILE && unit_checksum(unit_dev(d, nd, vols[k])) != sums[k])
				fail_msg("%s: '%s:%s' started on other bytes than its committed state",
					 what, vm, vols[k]);
			if (src[k] != UNIT_NO_FILE && unit_checksum(unit_dev(d, nd, vols[k])) != src[k])
				fail_msg("%s: '%s:%s' started on other bytes than its source's committed "
					 "state (stale precache?)", what, vm, vols[k]);
		}
		free(d);
		if (qstor_vm_stop(e->q, vm, &err) < 0)
			fail_msg("%s: stop '%s' after recover: %s", what, vm, err.msg);
		for (int k = 0; k < 2; k++)
			if (sums[k] != UNIT_NO_FILE && unit_checksum(cpath(e, vm, vols[k])) != sums[k])
				fail_msg("%s: '%s:%s' changed by a start and stop", what, vm, vols[k]);
	}
	free(vms);
	check_consistent(e, what);
}

void scen_verify(struct unit_env *e, const struct scen *s, struct scen_state *st, const char *what)
{
	qstor_error err = { 0 };
	unsigned fixed = 0;
	struct unit_files a, b;
	char why[512];

	if (qstor_recover(e->q, &fixed, &err) < 0)
		fail_msg("%s: recover: %s", what, err.msg);
	/* (b) */
	check_leftovers(e, what);
	/* (a) */
	for (size_t i = 0; i < st->nx; i++) {
		const struct scen_expect *x = &st->x[i];
		uint64_t got = unit_checksum(cpath(e, x->vm, x->vol));

		if (got == x->new_sum)
			continue;
		if (got == x->old_sum && !x->must_new)
			continue;
		fail_msg("%s: %s:%s holds %s", what, x->vm, x->vol,
			 got == UNIT_NO_FILE ? "no committed state" :
			 got == x->old_sum ? "its old state: the VM's writes are lost" :
			 "neither its old nor its new state");
	}
	check_consistent(e, what);
	/* (c) */
	assert_int_equal(unit_list_files(e->pool_dir, &a), 0);
	fixed = 0;
	if (qstor_recover(e->q, &fixed, &err) < 0)
		fail_msg("%s: second recover: %s", what, err.msg);
	assert_int_equal(unit_list_files(e->pool_dir, &b), 0);
	if (fixed != 0)
		fail_msg("%s: second recover fixed %u volumes", what, fixed);
	if (!unit_files_equal(&a, &b, why, sizeof(why))) {
		unit_files_dump(&a, "after the first recover");
		unit_files_dump(&b, "after the second recover");
		fail_msg("%s: second recover changed the pool: %s", what, why);
	}
	unit_files_free(&a);
	unit_files_free(&b);
	if (s->check)
		s->check(e, st);
	/* (d) */
	check_restart(e, what);
	check_leftovers(e, what);
}
