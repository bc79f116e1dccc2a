/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Crashes (SPEC 5). For each scenario of scenarios.h:
 *  - named points: the operation runs once with QSTOR_CRASH_LOG to learn
 *    the qs_crash_point() names it passes; then, for each name, a forked
 *    child runs it with QSTOR_CRASH_AT=<name> and dies there (exit 134);
 *  - driver calls: the child dies right after the k-th call that changes
 *    the pool (create, snapshot, rename, remove, resize), for every k: this
 *    reaches every state between two calls, also the second and later
 *    passes of a named point.
 * The parent then re-opens the handle, runs qstor_recover and checks (a)-(d)
 * of scenarios.h: old or new full state (new for a stop), no TMP/IMPORT
 * leftovers, a second recover fixes nothing and changes no file, every VM
 * starts and stops again.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef VALGRIND_CLO_CHANGE
#define VALGRIND_CLO_CHANGE(opt) ((void)0)
#endif

#include "fake-driver.h"
#include "scenarios.h"

/* ---- the fake driver, with a crash after the k-th mutating call ---- */

static struct qs_driver crash_driver;
static long mut_calls, crash_after = -1;

static void mutated(void)
{
	mut_calls++;
	if (crash_after > 0 && mut_calls == crash_after)
		_exit(134);
}

static int w_create(struct qs_pool *p, const struct qs_obj *o, uint64_t size, qstor_error *err)
{
	int r = fake_driver.create(p, o, size, err);
	mutated();
	return r;
}

static int w_snapshot(struct qs_pool *p, const struct qs_obj *s, const struct qs_obj *d,
		      qstor_error *err)
{
	int r = fake_driver.snapshot(p, s, d, err);
	mutated();
	return r;
}

static int w_rename(struct qs_pool *p, const struct qs_obj *f, const struct qs_obj *t,
		    qstor_error *err)
{
	int r = fake_driver.rename(p, f, t, err);
	mutated();
	return r;
}

static int w_remove(struct qs_pool *p, const struct qs_obj *o, size_t n, qstor_error *err)
{
	int r = fake_driver.remove(p, o, n, err);
	mutated();
	return r;
}

static int w_resize(struct qs_pool *p, const struct qs_obj *o, uint64_t size, qstor_error *err)
{
	int r = fake_driver.resize(p, o, size, err);
	mutated();
	return r;
}

/* ---- cases ---- */

#define MAX_POINTS 32

struct scen_points {
	char names[MAX_POINTS][64];
	unsigned n;
	long calls;
};

static struct scen_points found[32];

struct ccase {
	const struct scen *s;
	char point[64];   /* named point, or "" */
	long call;        /* driver call, or 0 */
	bool next_start;  /* before recover: the VM is started and stopped again */
	bool stop_only;   /* before recover: the VM is only stopped */
	char name[160];
	struct unit_env *e;
};

static struct ccase *cases;
static size_t n_cases;
static unsigned n_named, n_calls_total, n_restart;

/* ---- pass 1: learn the points ---- */

static struct unit_env *disc_env;

static void discover(void **state)
{
	const struct scen *s = *state;
	struct scen_points *sp = &found[s - scenarios];
	struct scen_state st;
	qstor_error err = { 0 };
	char log[700], line[128], what[128];
	FILE *f;
	int r;

	disc_env = scen_prepare(s, &st);
	snprintf(log, sizeof(log), "%s/crash.log", disc_env->root);
	setenv("QSTOR_CRASH_LOG", log, 1);
	mut_calls = 0;
	r = s->op(disc_env, &st, &err);
	sp->calls = mut_calls;
	unsetenv("QSTOR_CRASH_LOG");
	if (r < 0)
		fail_msg("%s: clean run failed: %s", s->name, err.msg);
	f = fopen(log, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			bool dup = false;

			line[strcspn(line, "\n")] = '\0';
			for (unsigned i = 0; i < sp->n; i++)
				dup |= strcmp(sp->names[i], line) == 0;
			if (!dup && sp->n < MAX_POINTS)
				snprintf(sp->names[sp->n++], 64, "%.63s", line);
		}
		fclose(f);
	}
	if (sp->n == 0)
		fail_msg("%s: passes no crash point", s->name);
	snprintf(what, sizeof(what), "%s (no crash)", s->name);
	scen_verify(disc_env, s, &st, what);
}

static int discover_teardown(void **state)
{
	unsetenv("QSTOR_CRASH_LOG");
	unit_env_free(disc_env);
	disc_env = NULL;
	return 0;
}

/* ---- pass 2: crash, recover, check ---- */

/* Someone starts a VM after the crash, before any recover. SPEC 5: after a
 * crash in a stop, the next start goes on with the VM's writes and the next
 * stop commits them. A half-made (creating, cloning) or half-removed VM may
 * refuse to start, but its start must not break what recover does next. */
static void restart_first(struct ccase *c, struct scen_state *st)
{
	const char *vm = c->s->restart_vm;
	qstor_error err = { 0 };
	qstor_device *d = NULL;
	size_t n = 0;

	if (c->stop_only) {
		/* e.g. the toolstack stopping every VM: a stopped VM's stop
		 * succeeds, a half-made one's may fail */
		qstor_vm_stop(c->e->q, vm, &err);
		return;
	}
	if (qstor_vm_start(c->e->q, vm, &d, &n, &err) < 0) {
		if (c->s->must_start)
			fail_msg("%s: start without recover: %s", c->name, err.msg);
		return;
	}
	for (size_t i = 0; i < st->nx; i++) {
		const struct scen_expect *x = &st->x[i];

		if (strcmp(x->vm, vm) != 0 || !x->must_new)
			continue;
		if (unit_checksum(unit_dev(d, n, x->vol)) != x->new_sum)
			fail_msg("%s: the restarted vm does not see its writes on '%s'", c->name,
				 x->vol);
	}
	free(d);
	if (qstor_vm_stop(c->e->q, vm, &err) < 0)
		fail_msg("%s: stop without recover: %s", c->name, err.msg);
	for (size_t i = 0; i < st->nx; i++) {
		const struct scen_expect *x = &st->x[i];
		char p[1024];

		if (x->must_new && strcmp(x->vm, vm) == 0 &&
		    unit_checksum(unit_obj_path(c->e, x->vm, x->vol, "committed", p, sizeof(p))) !=
			    x->new_sum)
			fail_msg("%s: '%s:%s' not committed by the next stop", c->name, x->vm, x->vol);
	}
}

static void crash_case(void **state)
{
	struct ccase *c = *state;
	struct scen_state st;
	int status;
	pid_t pid;

	c->e = scen_prepare(c->s, &st);
	unit_env_close(c->e);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		qstor_error err = { 0 };
		int devnull = open("/dev/null", O_WRONLY);

		/* Under valgrind (scripts/check-extra.sh): the child dies half-way
		 * through on purpose, what it holds then is no leak. */
		VALGRIND_CLO_CHANGE("--leak-check=no");

		if (devnull >= 0)
			dup2(devnull, 2);
		if (c->point[0])
			setenv("QSTOR_CRASH_AT", c->point, 1);
		else
			crash_after = c->call;
		mut_calls = 0;
		if (unit_env_reopen(c->e) < 0)
			_exit(2);
		_exit(c->s->op(c->e, &st, &err) < 0 ? 1 : 0);
	}
	assert_true(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 134)
		fail_msg("%s: the child did not crash there (status 0x%x)", c->name, status);
	assert_int_equal(unit_env_reopen(c->e), 0);
	if (c->next_start) {
		restart_first(c, &st);
		st.restarted = true;
	}
	scen_verify(c->e, c->s, &st, c->name);
}

static int case_teardown(void **state)
{
	struct ccase *c = *state;

	unit_env_free(c->e);
	c->e = NULL;
	return 0;
}

int main(void)
{
	struct CMUnitTest *t1, *t2;
	int failed;

	if (n_scenarios > 32)
		return 99;
	crash_driver = fake_driver;
	crash_driver.create = w_create;
	crash_driver.snapshot = w_snapshot;
	crash_driver.rename = w_rename;
	crash_driver.remove = w_remove;
	crash_driver.resize = w_resize;
	unit_driver = &crash_driver;

	t1 = calloc(n_scenarios, sizeof(*t1));
	for (unsigned i = 0; i < n_scenarios; i++)
		t1[i] = (struct CMUnitTest){ scenarios[i].name, discover, NULL, discover_teardown,
					     (void *)&scenarios[i] };
	failed = _cmocka_run_group_tests("crash-discovery", t1, n_scenarios, NULL, NULL);

	for (unsigned i = 0; i < n_scenarios; i++)
		n_cases += 3 * (found[i].n + (size_t)found[i].calls);
	cases = calloc(n_cases ? n_cases : 1, sizeof(*cases));
	t2 = calloc(n_cases ? n_cases : 1, sizeof(*t2));
	n_cases = 0;
	for (unsigned i = 0; i < n_scenarios; i++) {
		for (unsigned k = 0; k < found[i].n; k++) {
			struct ccase *c = &cases[n_cases];

			c->s = &scenarios[i];
			snprintf(c->point, sizeof(c->point), "%s", found[i].names[k]);
			snprintf(c->name, sizeof(c->name), "%s: crash at %s", scenarios[i].name,
				 c->point);
			t2[n_cases++] = (struct CMUnitTest){ c->name, crash_case, NULL, case_teardown, c };
			n_named++;
		}
		for (long k = 1; k <= found[i].calls; k++) {
			struct ccase *c = &cases[n_cases];

			c->s = &scenarios[i];
			c->call = k;
			snprintf(c->name, sizeof(c->name), "%s: crash after driver call %ld of %ld",
				 scenarios[i].name, k, found[i].calls);
			t2[n_cases++] = (struct CMUnitTest){ c->name, crash_case, NULL, case_teardown, c };
			n_calls_total++;
		}
	}
	/* a start (and stop), or only a stop, before recover */
	for (int mode = 0; mode < 2; mode++)
	for (unsigned i = 0; i < n_scenarios; i++) {
		const char *how = mode ? "stop" : "start";

		if (!scenarios[i].restart_vm)
			continue;
		for (long k = -(long)found[i].n; k <= found[i].calls; k++) {
			struct ccase *c = &cases[n_cases];

			if (k == 0)
				continue;
			c->s = &scenarios[i];
			c->next_start = true;
			c->stop_only = mode == 1;
			if (k < 0) {
				snprintf(c->point, sizeof(c->point), "%s", found[i].names[-k - 1]);
				snprintf(c->name, sizeof(c->name), "%s: crash at %s, then %s %s",
					 scenarios[i].name, c->point, how, scenarios[i].restart_vm);
			} else {
				c->call = k;
				snprintf(c->name, sizeof(c->name),
					 "%s: crash after driver call %ld of %ld, then %s %s",
					 scenarios[i].name, k, found[i].calls, how,
					 scenarios[i].restart_vm);
			}
			t2[n_cases++] = (struct CMUnitTest){ c->name, crash_case, NULL, case_teardown, c };
			n_restart++;
		}
	}
	failed += _cmocka_run_group_tests("crashes", t2, n_cases, NULL, NULL);
	{
		/* distinct point names over all scenarios */
		unsigned distinct = 0;

		for (unsigned i = 0; i < n_scenarios; i++)
			for (unsigned k = 0; k < found[i].n; k++) {
				bool seen = false;

				for (unsigned j = 0; j <= i && !seen; j++)
					for (unsigned m = 0; m < (j == i ? k : found[j].n); m++)
						if (!strcmp(found[j].names[m], found[i].names[k]))
							seen = true;
				distinct += !seen;
			}
		printf("crash: %u scenarios, %u distinct named points, %u named-point cases, "
		       "%u driver-call cases, %u cases with a start or stop before recover, "
		       "%zu cases in all\n", n_scenarios, distinct, n_named, n_calls_total, n_restart,
		       n_cases);
	}
	free(t1);
	free(t2);
	free(cases);
	return failed ? 1 : 0;
}
