/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * args.h - the command lines of qvm-volume, qvm-pool and qstor, parsed into
 * structs by pure functions (no I/O, no library state), so the unit tests
 * can check every alias, missing argument and bad value.
 *
 * Each parser returns 0 or a negative errno (-EINVAL; -ERANGE for a size
 * too large) with a one-line message in err. Strings
 * in the structs point into argv unless said otherwise; free the struct
 * with its *_free function.
 */
#ifndef QSTOR_ARGS_H
#define QSTOR_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "qstor.h"

/* What every tool does before its subcommand. */
struct common_args {
	const char *state_dir;   /* --state-dir, NULL: $QSTOR_STATE_DIR or default */
	bool help;               /* print usage, exit 0 */
	bool version;
};

/* ---- qvm-volume ---- */

enum volcmd_cmd {
	VOLCMD_LIST,
	VOLCMD_INFO,
	VOLCMD_CONFIG,
	VOLCMD_RESIZE,
	VOLCMD_REVERT,
	VOLCMD_IMPORT,
	VOLCMD_CLONE,
	VOLCMD_CLEAR,
	VOLCMD_EXPORT,
};

struct volcmd {
	struct common_args common;
	enum volcmd_cmd cmd;
	/* list */
	const char **pools;      /* -p, repeatable, de-duplicated */
	size_t n_pools;
	const char **vms;        /* de-duplicated */
	size_t n_vms;
	bool full;
	/* the volume (clone: the source) */
	char vm[QSTOR_NAME_MAX + 1], vol[QSTOR_NAME_MAX + 1];
	/* clone: the destination */
	char dst_vm[QSTOR_NAME_MAX + 1], dst_vol[QSTOR_NAME_MAX + 1];
	const char *property;    /* info (NULL: all), config */
	const char *value;       /* config */
	const char *revision;    /* revert, NULL: newest */
	const char *path;        /* import: a file or "-" */
	uint64_t size;           /* resize; import --size */
	bool has_size;           /* import --size given */
	bool no_resize;          /* import --no-resize */
	bool force;              /* resize, clone, clear */
	bool end;                /* export --end */
};

int volcmd_parse(int argc, char *const argv[], struct volcmd *ret, qstor_error *err);
void volcmd_free(struct volcmd *a);
extern const char volcmd_usage[];

/* ---- qvm-pool ---- */

enum poolcmd_cmd {
	POOLCMD_LIST,
	POOLCMD_DRIVERS,
	POOLCMD_INFO,
	POOLCMD_ADD,
	POOLCMD_REMOVE,
	POOLCMD_SET,
};

struct poolcmd {
	struct common_args common;
	enum poolcmd_cmd cmd;
	const char **names;      /* info, remove: one or more; add, set: one */
	size_t n_names;
	const char *driver;      /* add */
	qstor_kv *options;       /* -o/--option, malloc'd copies; a later key wins */
	size_t n_options;
};

int poolcmd_parse(int argc, char *const argv[], struct poolcmd *ret, qstor_error *err);
void poolcmd_free(struct poolcmd *a);
extern const char poolcmd_usage[];

/* "k=v,k2=v2" appended to *opts. A comma starts a new pair only when what
 * follows it has an '=' of its own, so "dir_path=/a,b" keeps its comma. */
int poolcmd_parse_options(const char *s, qstor_kv **opts, size_t *n, qstor_error *err);

/* ---- qstor ---- */

enum qstorcmd_cmd {
	QSTORCMD_NONE,           /* only --help or --version */
	QSTORCMD_VM_CREATE,
	QSTORCMD_VM_CLONE,
	QSTORCMD_VM_REMOVE,
	QSTORCMD_VM_LIST,
	QSTORCMD_VM_START,
	QSTORCMD_VM_STOP,
	QSTORCMD_RECOVER,
	QSTORCMD_DU,
	QSTORCMD_BENCH,
};

struct qstorcmd {
	struct common_args common;
	enum qstorcmd_cmd cmd;
	const char *name;        /* vm create/remove/start/stop; clone: source */
	const char *dst;         /* vm clone */
	qstor_vm_class klass;    /* vm create */
	const char *template_vm; /* vm create --template */
	const char *pool;        /* vm create/clone --pool */
	uint64_t root_size, private_size, volatile_size;  /* 0: default */
	bool json;               /* vm list, vm start, du */
	bool bytes;              /* du --bytes */
	const char **vms;        /* du */
	size_t n_vms;
};

int qstorcmd_parse(int argc, char *const argv[], struct qstorcmd *ret, qstor_error *err);
void qstorcmd_free(struct qstorcmd *a);
extern const char qstorcmd_usage[];

#endif
