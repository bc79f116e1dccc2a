/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening the state for a tool; see session.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "session.h"

int cli_open(const char *prog, const char *state_dir, qstor **ret)
{
	qstor_error err = { 0 };
	int r;

	/* Checked before touching anything: a user's qstor_open would create
	 * a state dir of its own (or fail half-way on /var/lib/qstor), and
	 * every driver needs root anyway (loop devices, LVM). */
	if (!cli_root_allowed(geteuid(), getenv("QSTOR_ALLOW_NONROOT"))) {
		fprintf(stderr, "%s: must be root\n", prog);
		return -EPERM;
	}
	r = qstor_open(state_dir, ret, &err);
	if (r < 0) {
		cli_fail(prog, r, &err);
		return r;
	}
	return 0;
}
