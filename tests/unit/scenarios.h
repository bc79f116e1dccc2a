/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Operations interrupted by a driver fault (test-fault.c) or a crash
 * (test-crash.c): each scenario builds a state, names the operation, and
 * says which bytes every committed volume may hold afterwards. The checks
 * after qstor_recover are shared (SPEC 5):
 *  (a) every committed volume holds its old or its new full state (the new
 *      one for a stop: the VM's writes are never lost), and the catalog's
 *      size is the committed object's;
 *  (b) no TMP or IMPORT object is left;
 *  (c) a second recover fixes nothing and changes no file;
 *  (d) every VM then starts on its committed state and stops again.
 */
#ifndef QSTOR_UNIT_SCENARIOS_H
#define QSTOR_UNIT_SCENARIOS_H

#include <stdbool.h>
#include <stdint.h>

#include "unit-env.h"

struct scen_expect {
	char vm[QSTOR_NAME_MAX + 1];
	char vol[QSTOR_NAME_MAX + 1];
	uint64_t old_sum, old_size;  /* read at setup */
	uint64_t new_sum, new_size;  /* what a completed operation leaves */
	bool must_new;               /* only the new state is acceptable */
};

struct scen_state {
	struct scen_expect x[8];
	size_t nx;
	char data[700];              /* import: the data file */
	uint64_t v[8];               /* scenario-specific values */
	bool restarted;              /* the VM was started and stopped after the
				      * interruption (no recover in between) */
};

struct scen {
	const char *name;
	/* Build the state (in the parent, with cmocka asserts). */
	void (*setup)(struct unit_env *e, struct scen_state *st);
	/* The operation; may run in a forked child: no cmocka here. */
	int (*op)(struct unit_env *e, struct scen_state *st, qstor_error *err);
	/* Optional checks after the first recover (cmocka asserts). */
	void (*check)(struct unit_env *e, struct scen_state *st);
	/* The VM someone starts after the interruption, before any recover
	 * (test-crash); NULL: not tried. must_start: that start must work
	 * (SPEC 5: after a crash in a stop the next start goes on). */
	const char *restart_vm;
	bool must_start;
	/* the cases with a start or stop before recover show a known core bug
	 * (see scenarios.c): skipped with UNIT_SKIP_KNOWN_BUGS=1 */
	bool restart_known_bug;   /* was a known bug: stop of a half-made VM (now refused until recover) */
};

extern const struct scen scenarios[];
extern const unsigned n_scenarios;

/* Look one up by name; NULL if none. */
const struct scen *scen_find(const char *name);

/* Fresh env + setup. */
struct unit_env *scen_prepare(const struct scen *s, struct scen_state *st);

/* After the interrupted operation (handle open): recover and check (a)-(d).
 * what names the case in failure messages. */
void scen_verify(struct unit_env *e, const struct scen *s, struct scen_state *st,
		 const char *what);

#endif
