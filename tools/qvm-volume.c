/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qvm-volume: the volumes of VMs, with the syntax and output of Qubes OS. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "format.h"
#include "session.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const char prog[] = "qvm-volume";

static int do_list(qstor *q, const struct volcmd *a)
{
	/* One library call per (VM, pool) pair asked for: the library then
	 * names an unknown VM or pool itself. */
	const char *const any[] = { NULL };
	const char *const *vms = a->n_vms ? (const char *const *)a->vms : any;
	const char *const *pools = a->n_pools ? (const char *const *)a->pools : any;
	size_t nv = a->n_vms ? a->n_vms : 1, np = a->n_pools ? a->n_pools : 1;
	struct chunk { qstor_volume_info *v; size_t n; } *chunks = calloc(nv * np, sizeof(*chunks));
	const qstor_volume_info **all = NULL;
	size_t total = 0, k = 0;
	qstor_error err = { 0 };
	int status = 0;

	if (!chunks)
		return cli_fail(prog, -ENOMEM, NULL);
	for (size_t i = 0; i < nv && !status; i++)
		for (size_t j = 0; j < np && !status; j++) {
			struct chunk *c = &chunks[i * np + j];
			int r = qstor_volume_list(q, pools[j], vms[i], &c->v, &c->n, &err);

			if (r < 0)
				status = cli_fail(prog, r, &err);
			else
				total += c->n;
		}
	if (!status) {
		all = calloc(total ? total : 1, sizeof(*all));
		if (!all)
			status = cli_fail(prog, -ENOMEM, NULL);
	}
	if (!status) {
		for (size_t c = 0; c < nv * np; c++)
			for (size_t i = 0; i < chunks[c].n; i++)
				all[k++] = &chunks[c].v[i];
		/* Qubes blanks repeated POOL:VOLUME cells only for a human at a
		 * terminal; pipes and --full get every cell */
		fmt_volume_list(stdout, all, total, isatty(STDOUT_FILENO) && !a->full);
	}
	for (size_t c = 0; c < nv * np; c++)
		if (chunks[c].v)
			qstor_volume_infos_free(chunks[c].v, chunks[c].n);
	free(chunks);
	free(all);
	return status;
}

static int do_info(qstor *q, const struct volcmd *a)
{
	qstor_volume_info v;
	qstor_error err = { 0 };
	int r = qstor_volume_info_get(q, a->vm, a->vol, &v, &err);

	if (r < 0)
		return cli_fail(prog, r, &err);
	if (a->property)
		fmt_volume_property(stdout, &v, a->property);  /* known: checked by the parser */
	else
		fmt_volume_info(stdout, &v);
	qstor_volume_info_free(&v);
	return 0;
}

/* Size of what import reads when neither --size nor --no-resize is given:
 * a file's or a block device's size; a pipe cannot tell. */
static int input_size(int fd, const char *name, uint64_t *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: cannot stat %s: %s\n", prog, name, strerror(errno));
		return -errno;
	}
	if (S_ISREG(st.st_mode)) {
		*ret = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, ret) < 0) {
			fprintf(stderr, "%s: cannot get the size of %s: %s\n", prog, name, strerror(errno));
			return -errno;
		}
	} else {
		fprintf(stderr, "%s: cannot tell the size of %s: give --size SIZE or --no-resize\n",
			prog, name);
		return -EINVAL;
	}
	if (*ret == 0) {
		/* size 0 would mean "the volume's size" to the library */
		fprintf(stderr, "%s: cannot import %s: it is empty\n", prog, name);
		return -EINVAL;
	}
	return 0;
}

static int do_import(qstor *q, const struct volcmd *a)
{
	bool from_stdin = strcmp(a->path, "-") == 0;
	char name[QS_ESC_BUF(128) + 2];   /* the path quoted and escaped */
	uint64_t size = 0;
	bool resize = false;
	qstor_error err = { 0 };
	int fd, r;

	if (from_stdin)
		snprintf(name, sizeof(name), "standard input");
	else
		snprintf(name, sizeof(name), "'%s'", QS_ESC_PATH(a->path));
	fd = from_stdin ? STDIN_FILENO : open(a->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, name, strerror(errno));
		return 1;
	}
	/* As Qubes: by default the volume takes the size of the data;
	 * --no-resize keeps the size and wants exactly that much data. */
	if (a->has_size) {
		size = a->size;
		resize = true;
	} else if (!a->no_resize) {
		if (input_size(fd, name, &size) < 0) {
			if (!from_stdin)
				close(fd);
			return 1;
		}
		resize = true;
	}
	r = qstor_volume_import(q, a->vm, a->vol, fd, size, resize, &err);
	if (!from_stdin)
		close(fd);
	return r < 0 ? cli_fail(prog, r, &err) : 0;
}

/* Qubes asks before clearing unless -f. Without a terminal to ask on (CI,
 * scripts) refuse instead of reading a script's stdin as the answer.
 * Returns 1 to go on, 0 when the user declined, -1 on refusal. */
static int confirm(const struct volcmd *a, const char *verb, const char *subject,
		   const char *warning, const char *cancelled)
{
	char line[64];

	if (a->force)
		return 1;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "%s: refusing to %s '%s' without --force (no terminal to ask on)\n",
			prog, verb, subject);
		return -1;
	}
	printf("%s\n", warning);
	printf("Are you sure? [y/N] ");
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) && (strcmp(line, "y\n") == 0 || strcmp(line, "Y\n") == 0))
		return 1;
	printf("%s\n", cancelled);
	return 0;
}

static int do_clear(qstor *q, const struct volcmd *a)
{
	qstor_error err = { 0 };
	int r;

	r = qstor_volume_clear(q, a->vm, a->vol, &err);
	return r < 0 ? cli_fail(prog, r, &err) : 0;
}

static int do_clone(qstor *q, const struct volcmd *a)
{
	qstor_error err = { 0 };
	int r;

	r = qstor_volume_clone(q, a->vm, a->vol, a->dst_vm, a->dst_vol, &err);
	return r < 0 ? cli_fail(prog, r, &err) : 0;
}

/* Before the state is opened: a refusal changes nothing. */
static int confirm_destructive(const struct volcmd *a)
{
	char subject[2 * QSTOR_NAME_MAX + 2], warning[512];

	if (a->cmd == VOLCMD_CLEAR) {
		snprintf(subject, sizeof(subject), "%s:%s", a->vm, a->vol);
		return confirm(a, "clear", subject,
			       "This will empty the volume! (Data may be preserved in a revision.)",
			       "Clear cancelled.");
	}
	if (a->cmd == VOLCMD_CLONE) {
		snprintf(subject, sizeof(subject), "%s:%s", a->dst_vm, a->dst_vol);
		snprintf(warning, sizeof(warning),
			 "This will replace the data of %s with that of %s:%s! "
			 "(Data may be preserved in a revision.)", subject, a->vm, a->vol);
		return confirm(a, "overwrite", subject, warning, "Clone cancelled.");
	}
	return 1;
}

static int do_export(qstor *q, const struct volcmd *a)
{
	qstor_error err = { 0 };
	char *path = NULL;
	int r;

	if (a->end) {
		r = qstor_volume_export_end(q, a->vm, a->vol, &err);
		return r < 0 ? cli_fail(prog, r, &err) : 0;
	}
	r = qstor_volume_export(q, a->vm, a->vol, &path, &err);
	if (r < 0)
		return cli_fail(prog, r, &err);
	printf("%s\n", path);
	free(path);
	return 0;
}

static int run(qstor *q, const struct volcmd *a)
{
	qstor_error err = { 0 };
	int r;

	switch (a->cmd) {
	case VOLCMD_LIST:
		return do_list(q, a);
	case VOLCMD_INFO:
		return do_info(q, a);
	case VOLCMD_CONFIG:
		r = qstor_volume_set(q, a->vm, a->vol, a->property, a->value, &err);
		break;
	case VOLCMD_RESIZE:
		r = qstor_volume_resize(q, a->vm, a->vol, a->size, a->force, &err);
		break;
	case VOLCMD_REVERT:
		r = qstor_volume_revert(q, a->vm, a->vol, a->revision, &err);
		break;
	case VOLCMD_IMPORT:
		return do_import(q, a);
	case VOLCMD_CLONE:
		return do_clone(q, a);
	case VOLCMD_CLEAR:
		return do_clear(q, a);
	case VOLCMD_EXPORT:
		return do_export(q, a);
	default:
		return cli_fail(prog, -EINVAL, NULL);
	}
	return r < 0 ? cli_fail(prog, r, &err) : 0;
}

int main(int argc, char *argv[])
{
	struct volcmd a;
	qstor_error err = { 0 };
	qstor *q;
	int status;

	if (volcmd_parse(argc, argv, &a, &err) < 0)
		return cli_fail(prog, -EINVAL, &err);
	if (a.common.help || a.common.version) {
		if (a.common.help)
			fputs(volcmd_usage, stdout);
		else
			printf("%s %s\n", prog, PACKAGE_VERSION);
		volcmd_free(&a);
		return cli_finish_stdout(prog, 0);
	}
	status = confirm_destructive(&a);
	if (status <= 0) {
		volcmd_free(&a);
		return cli_finish_stdout(prog, status < 0 ? 1 : 0);
	}
	if (cli_open(prog, a.common.state_dir, &q) < 0) {
		volcmd_free(&a);
		return 1;
	}
	status = run(q, &a);
	qstor_close(q);
	volcmd_free(&a);
	return cli_finish_stdout(prog, status);
}
