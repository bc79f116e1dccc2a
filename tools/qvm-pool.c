/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qvm-pool: storage pools, with the syntax and output of Qubes OS. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "format.h"
#include "session.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const char prog[] = "qvm-pool";

static int do_list(qstor *q)
{
	qstor_error err = { 0 };
	qstor_pool_info *infos;
	char **names = NULL;
	size_t n = 0;
	int status = 0, r;

	r = qstor_pool_list(q, &names, &n, &err);
	if (r < 0)
		return cli_fail(prog, r, &err);
	infos = calloc(n ? n : 1, sizeof(*infos));
	if (!infos) {
		qstor_strv_free(names, n);
		return cli_fail(prog, -ENOMEM, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		/* One broken pool (its disk gone) must not hide the others:
		 * list it with an unknown driver, say why, and fail at the end. */
		r = qstor_pool_info_get(q, names[i], &infos[i], &err);
		if (r < 0) {
			status = cli_fail(prog, r, &err);
			memset(&infos[i], 0, sizeof(infos[i]));
			snprintf(infos[i].name, sizeof(infos[i].name), "%s", names[i]);
			snprintf(infos[i].driver, sizeof(infos[i].driver), "?");
		}
	}
	fmt_pool_list(stdout, infos, n);
	for (size_t i = 0; i < n; i++)
		qstor_pool_info_free(&infos[i]);
	free(infos);
	qstor_strv_free(names, n);
	return status;
}

static int do_info(qstor *q, const struct poolcmd *a)
{
	qstor_pool_info *infos = calloc(a->n_names, sizeof(*infos));
	qstor_error err = { 0 };
	size_t got = 0;
	int status = 0;

	if (!infos)
		return cli_fail(prog, -ENOMEM, NULL);
	for (; got < a->n_names; got++) {
		int r = qstor_pool_info_get(q, a->names[got], &infos[got], &err);

		if (r < 0) {
			status = cli_fail(prog, r, &err);
			break;
		}
	}
	if (!status) {
		const qstor_du_pool **du = calloc(got ? got : 1, sizeof(*du));
		qstor_du_vm *vms = NULL;
		size_t nvms = 0;

		if (!du) {
			status = cli_fail(prog, -ENOMEM, NULL);
			goto out;
		}
		/* the pools' exact disk use: one measure of every VM */
		if (qstor_du(q, NULL, 0, &vms, &nvms, &err) < 0) {
			fprintf(stderr, "%s: disk use not measured: %s\n", prog, err.msg);
			nvms = 0;
		}
		for (size_t i = 0; i < got; i++)
			for (size_t v = 0; v < nvms && !du[i]; v++)
				for (size_t k = 0; k < vms[v].n_pools; k++)
					if (strcmp(vms[v].pools[k].pool, infos[i].name) == 0) {
						du[i] = &vms[v].pools[k];
						break;
					}
		fmt_pool_info(stdout, infos, du, got);
		qstor_du_free(vms, nvms);
		free(du);
	}
out:
	for (size_t i = 0; i < got; i++)
		qstor_pool_info_free(&infos[i]);
	free(infos);
	return status;
}

static int do_remove(qstor *q, const struct poolcmd *a)
{
	int status = 0;

	/* as Qubes: try every pool, report each failure, fail at the end */
	for (size_t i = 0; i < a->n_names; i++) {
		qstor_error err = { 0 };
		int r = qstor_pool_remove(q, a->names[i], &err);

		if (r < 0)
			status = cli_fail(prog, r, &err);
	}
	return status;
}

static int run(qstor *q, const struct poolcmd *a)
{
	qstor_error err = { 0 };
	int r;

	switch (a->cmd) {
	case POOLCMD_LIST:
		return do_list(q);
	case POOLCMD_INFO:
		return do_info(q, a);
	case POOLCMD_ADD:
		r = qstor_pool_add(q, a->names[0], a->driver, a->options, a->n_options, &err);
		break;
	case POOLCMD_REMOVE:
		return do_remove(q, a);
	case POOLCMD_SET:
		r = qstor_pool_set(q, a->names[0], a->options, a->n_options, &err);
		break;
	default:
		return cli_fail(prog, -EINVAL, NULL);
	}
	return r < 0 ? cli_fail(prog, r, &err) : 0;
}

int main(int argc, char *argv[])
{
	struct poolcmd a;
	qstor_error err = { 0 };
	qstor *q;
	int status;

	if (poolcmd_parse(argc, argv, &a, &err) < 0)
		return cli_fail(prog, -EINVAL, &err);
	if (a.common.help || a.common.version) {
		if (a.common.help)
			fputs(poolcmd_usage, stdout);
		else
			printf("%s %s\n", prog, PACKAGE_VERSION);
		poolcmd_free(&a);
		return cli_finish_stdout(prog, 0);
	}
	if (a.cmd == POOLCMD_DRIVERS) {
		/* compiled in: no state, so no root needed */
		fmt_drivers(stdout, qstor_drivers(), qstor_driver_options);
		poolcmd_free(&a);
		return cli_finish_stdout(prog, 0);
	}
	if (cli_open(prog, a.common.state_dir, &q) < 0) {
		poolcmd_free(&a);
		return 1;
	}
	status = run(q, &a);
	qstor_close(q);
	poolcmd_free(&a);
	return cli_finish_stdout(prog, status);
}
