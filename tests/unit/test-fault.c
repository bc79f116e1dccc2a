/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Driver faults: every driver call an operation makes (stop/commit, start,
 * revert, import, clear, clone, resize, vm create/clone/remove) is made to
 * fail in turn with -EIO. The operation must report the failure, and after
 * qstor_recover the checks of scenarios.h hold: no committed state lost or
 * mixed, no TMP/IMPORT leftovers, a second recover fixes nothing, and every
 * VM starts and stops again.
 *
 * First pass: one clean run per scenario counts the calls of each op.
 * Second pass: one cmocka test per (scenario, op, nth call).
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

#include "fake-driver.h"
#include "scenarios.h"

static const char *const OPS[] = { "create", "snapshot", "rename", "remove", "resize",
				   "activate", "deactivate" };
#define N_OPS (sizeof(OPS) / sizeof(OPS[0]))

static int counts[32][N_OPS];

struct fcase {
	const struct scen *s;
	unsigned op;
	int nth;
	char name[128];
	struct unit_env *e;
};

static struct fcase *cases;
static size_t n_cases;

/* ---- pass 1: count ---- */

static void count_calls(void **state)
{
	const struct scen *s = *state;
	unsigned idx = (unsigned)(s - scenarios);
	struct scen_state st;
	struct unit_env *e = scen_prepare(s, &st);
	qstor_error err = { 0 };
	char what[128];
	int r;

	fake_fail_reset();
	r = s->op(e, &st, &err);
	if (r < 0) {
		unit_env_free(e);
		fail_msg("%s: clean run failed: %s", s->name, err.msg);
	}
	for (unsigned i = 0; i < N_OPS; i++)
		counts[idx][i] = fake_calls(OPS[i]);
	/* the clean run leaves the new state, and recover keeps it */
	snprintf(what, sizeof(what), "%s (clean)", s->name);
	*state = e;
	scen_verify(e, s, &st, what);
}

static int count_teardown(void **state)
{
	/* count_calls replaced the state by its env once it made one */
	const struct scen *s = *state;

	if ((void *)s < (void *)scenarios || (void *)s >= (void *)(scenarios + n_scenarios))
		unit_env_free(*state);
	return 0;
}

/* ---- pass 2: one fault per case ---- */

static void fault_case(void **state)
{
	struct fcase *c = *state;
	struct scen_state st;
	qstor_error err = { 0 };
	int r;

	c->e = scen_prepare(c->s, &st);
	fake_fail_reset();
	fake_fail(OPS[c->op], c->nth, -EIO);
	r = c->s->op(c->e, &st, &err);
	fake_fail_reset();
	if (r >= 0)
		fail_msg("%s: the operation succeeded (the fault was ignored)", c->name);
	if (!err.msg[0] || err.code != r)
		fail_msg("%s: no error message (code %d, err.code %d)", c->name, r, err.code);
	scen_verify(c->e, c->s, &st, c->name);
}

static int case_teardown(void **state)
{
	struct fcase *c = *state;

	fake_fail_reset();
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
	t1 = calloc(n_scenarios, sizeof(*t1));
	for (unsigned i = 0; i < n_scenarios; i++)
		t1[i] = (struct CMUnitTest){ scenarios[i].name, count_calls, NULL, count_teardown,
					     (void *)&scenarios[i] };
	failed = _cmocka_run_group_tests("fault-discovery", t1, n_scenarios, NULL, NULL);

	for (unsigned i = 0; i < n_scenarios; i++)
		for (unsigned o = 0; o < N_OPS; o++)
			n_cases += (size_t)counts[i][o];
	cases = calloc(n_cases ? n_cases : 1, sizeof(*cases));
	t2 = calloc(n_cases ? n_cases : 1, sizeof(*t2));
	n_cases = 0;
	for (unsigned i = 0; i < n_scenarios; i++)
		for (unsigned o = 0; o < N_OPS; o++)
			for (int k = 1; k <= counts[i][o]; k++) {
				struct fcase *c = &cases[n_cases];

				c->s = &scenarios[i];
				c->op = o;
				c->nth = k;
				snprintf(c->name, sizeof(c->name), "%s: %s #%d fails", scenarios[i].name,
					 OPS[o], k);
				t2[n_cases] = (struct CMUnitTest){ c->name, fault_case, NULL,
								   case_teardown, c };
				n_cases++;
			}
	failed += _cmocka_run_group_tests("faults", t2, n_cases, NULL, NULL);
	printf("fault injection: %u scenarios, %zu cases (one failing driver call each)\n",
	       n_scenarios, n_cases);
	free(t1);
	free(t2);
	free(cases);
	return failed ? 1 : 0;
}
