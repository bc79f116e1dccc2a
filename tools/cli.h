/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cli.h - helpers shared by qstor, qvm-volume and qvm-pool: an option
 * scanner, error reporting, human sizes and JSON strings.
 *
 * Nothing here calls into the library beyond the parsing helpers of
 * src/validate.c, so the unit tests link it without the engine.
 */
#ifndef QSTOR_CLI_H
#define QSTOR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "esc.h"
#include "qstor.h"

/* ---- errors ----
 *
 * What a user typed is quoted only escaped: QS_ESC(arg) (src/esc.h), or
 * CLI_ESC_N(arg, n) for its first n bytes. */

/* Fill err with -EINVAL and a formatted one-line message; returns -EINVAL. */
int cli_errf(qstor_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The first n bytes of s escaped as QS_ESC does, in out. */
const char *cli_esc_n(const char *s, size_t n, char out[QS_ESC_BUF(64)]);
#define CLI_ESC_N(s, n) cli_esc_n((s), (n), (char[QS_ESC_BUF(64)]){ 0 })

/* Print "prog: message" on stderr (the library's message, else strerror of
 * r). Returns 1, the exit status of every failure. */
int cli_fail(const char *prog, int r, const qstor_error *err);

/* "prog: must be root" unless euid is 0 or allow_env is "1" (the tests run
 * as a user against fake drivers). Pure, for the tests. */
bool cli_root_allowed(uid_t euid, const char *allow_env);

/* Flush stdout; a failed write (full disk, closed pipe) is an error too, or
 * a script would take a truncated listing for a complete one. */
int cli_finish_stdout(const char *prog, int status);

/* ---- option scanning ----
 *
 * A small re-entrant scanner instead of getopt_long: the parsers must be
 * pure functions the tests can call many times, and the messages must name
 * the option exactly. Options and positionals may be interleaved; "--" ends
 * options; "-" and negative numbers ("-1") are positionals, since
 * "revisions_to_keep -1" is a valid command line. */

struct cli_opt {
	const char *name;    /* long name without "--", or NULL */
	char short_name;     /* 0 if none */
	bool has_arg;
	int id;              /* returned to the caller; > 0 */
};

/* Option ids every tool accepts, before or after the subcommand. */
enum {
	CLI_OPT_STATE_DIR = 1000,
	CLI_OPT_HELP,
	CLI_OPT_VERSION,
};
#define CLI_COMMON_OPTS \
	{ "state-dir", 0, true, CLI_OPT_STATE_DIR }, \
	{ "help", 'h', false, CLI_OPT_HELP }

struct cli_scan {
	int argc;
	char *const *argv;
	int i;               /* next argv index */
	bool only_pos;       /* after "--" */
};

enum cli_scan_result {
	CLI_END = 0,
	CLI_POS = 1,         /* *ret_arg: the positional */
	CLI_OPT = 2,         /* *ret_id, *ret_arg (NULL without argument) */
};

void cli_scan_init(struct cli_scan *s, int argc, char *const argv[], int first);
/* Returns a cli_scan_result, or -EINVAL with err filled. opts ends with an
 * entry whose id is 0. */
int cli_scan_next(struct cli_scan *s, const struct cli_opt *opts,
		  int *ret_id, const char **ret_arg, qstor_error *err);
/* Whether arg looks like an option (so it is not taken as a subcommand). */
bool cli_is_option(const char *arg);

/* ---- output helpers ---- */

#define CLI_SIZE_BUF 24
/* 0 -> "0B", 1536 -> "1.5KiB", 10 GiB -> "10GiB": IEC units, one decimal
 * below 10 units unless exact, else rounded to a whole number. */
const char *cli_human_size(uint64_t v, char buf[CLI_SIZE_BUF]);
/* s as a quoted JSON string (NULL as null). */
void cli_json_string(FILE *f, const char *s);

#endif
