/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qstor: VM storage for the toolstack (scripts depend on its commands and
 * output; see doc/qstor.1). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* `qstor bench ARGS`: the benchmark is a script, qstor-bench (see
 * qstor-bench(1)), run from the directory of this binary or else from PATH,
 * with ARGS and QSTOR_BIN set to this binary's directory so that it
 * measures this qstor. Returns only on failure. */
static int exec_bench(int argc, char *argv[])
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	char **args;
	char *slash;
	ssize_t n;
	int i = 1, k = 0;

	/* skip the common options before the command word, as the parser did */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		i += strcmp(argv[i], "--state-dir") == 0 ? 2 : 1;
	}
	if (i >= argc || strcmp(argv[i], "bench") != 0) {
		fprintf(stderr, "%s: bench: cannot find the command word\n", prog);
		return 1;
	}
	args = calloc((size_t)(argc - i) + 1, sizeof(*args));
	if (!args) {
		fprintf(stderr, "%s: bench: out of memory\n", prog);
		return 1;
	}
	args[k++] = (char *)"qstor-bench";
	for (i++; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			setenv("QSTOR_BIN", self[0] ? self : "/", 1);
			snprintf(path, sizeof(path), "%s/qstor-bench", self);
			if (access(path, X_OK) == 0)
				execv(path, args);
		}
	}
	execvp("qstor-bench", args);
	fprintf(stderr, "%s: bench: cannot run qstor-bench (looked beside %s and in PATH): %s\n",
		prog, n > 0 ? QS_ESC_PATH(self) : "qstor", strerror(errno));
	free(args);
	return 1;
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
		qstorcmd_free(&a);
		return exec_bench(argc, argv);
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
