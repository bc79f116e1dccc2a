/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qstor: VM storage for the toolstack (scripts depend on its commands and
 * output; see doc/qstor.1). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "cli.h"
#include "format.h"
#include "session.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const char prog[] = "qstor";

static int do_create(qstor *q, const struct qstorcmd *a, qstor_error *err)
{
	const qstor_vm_spec spec = {
		.name = a->name,
		.klass = a->klass,
		.template_vm = a->template_vm,
		.pool = a->pool,
		.root_size = a->root_size,
		.private_size = a->private_size,
		.volatile_size = a->volatile_size,
	};

	return qstor_vm_create(q, &spec, err);
}

static int do_list(qstor *q, const struct qstorcmd *a)
{
	qstor_error err = { 0 };
	qstor_vm_info *v = NULL;
	size_t n = 0;
	int r = qstor_vm_list(q, &v, &n, &err);

	if (r < 0)
		return cli_fail(prog, r, &err);
	if (a->json)
		fmt_vm_list_json(stdout, v, n);
	else
		fmt_vm_list(stdout, v, n);
	free(v);
	return 0;
}

static int do_start(qstor *q, const struct qstorcmd *a)
{
	qstor_error err = { 0 };
	qstor_device *d = NULL;
	size_t n = 0;
	int r = qstor_vm_start(q, a->name, &d, &n, &err);

	if (r < 0)
		return cli_fail(prog, r, &err);
	if (a->json)
		fmt_devices_json(stdout, d, n);
	else
		fmt_devices(stdout, d, n);
	free(d);
	return 0;
}

static int do_recover(qstor *q)
{
	qstor_error err = { 0 };
	unsigned fixed = 0;
	int r = qstor_recover(q, &fixed, &err);

	if (r < 0)
		return cli_fail(prog, r, &err);
	printf("volumes repaired: %u\n", fixed);
	return 0;
}

static int do_du(qstor *q, const struct qstorcmd *a)
{
	qstor_error err = { 0 };
	qstor_du_vm *v = NULL;
	size_t n = 0;
	int r = qstor_du(q, a->n_vms ? (const char *const *)a->vms : NULL, a->n_vms, &v, &n, &err);

	if (r < 0)
		return cli_fail(prog, r, &err);
	if (a->json)
		fmt_du_json(stdout, v, n);
	else
		fmt_du(stdout, v, n, a->bytes);
	qstor_du_free(v, n);
	return 0;
}

static int run(qstor *q, const struct qstorcmd *a)
{
	qstor_error err = { 0 };
	int r;

	switch (a->cmd) {
	case QSTORCMD_VM_CREATE:
		r = do_create(q, a, &err);
		break;
	case QSTORCMD_VM_CLONE:
		r = qstor_vm_clone(q, a->name, a->dst, a->pool, &err);
		break;
	case QSTORCMD_VM_REMOVE:
		r = qstor_vm_remove(q, a->name, &err);
		break;
	case QSTORCMD_VM_LIST:
		return do_list(q, a);
	case QSTORCMD_VM_START:
		return do_start(q, a);
	case QSTORCMD_VM_STOP:
		r = qstor_vm_stop(q, a->name, &err);
		break;
	case QSTORCMD_RECOVER:
		return do_recover(q);
	case QSTORCMD_DU:
		return do_du(q, a);
	default:
		return cli_fail(prog, -EINVAL, NULL);
	}
	return r < 0 ? cli_fail(prog, r, &err) : 0;
}

int main(int argc, char *argv[])
{
	struct qstorcmd a;
	qstor_error err = { 0 };
	qstor *q;
	int status;

	if (qstorcmd_parse(argc, argv, &a, &err) < 0)
		return cli_fail(prog, -EINVAL, &err);
	if (a.common.help || a.common.version) {
		if (a.common.help)
			fputs(qstorcmd_usage, stdout);
		else
			printf("%s %s\n", prog, PACKAGE_VERSION);
		qstorcmd_free(&a);
		return cli_finish_stdout(prog, 0);
	}
	if (a.cmd == QSTORCMD_BENCH) {
		fprintf(stderr, "%s: bench: not implemented yet\n", prog);
		qstorcmd_free(&a);
		return 1;
	}
	if (cli_open(prog, a.common.state_dir, &q) < 0) {
		qstorcmd_free(&a);
		return 1;
	}
	status = run(q, &a);
	qstor_close(q);
	qstorcmd_free(&a);
	return cli_finish_stdout(prog, status);
}
