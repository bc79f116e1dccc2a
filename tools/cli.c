/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the three tools; see cli.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_errf(qstor_error *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = -EINVAL;
	}
	return -EINVAL;
}

const char *cli_esc_n(const char *s, size_t n, char out[QS_ESC_BUF(64)])
{
	char part[66];   /* one byte past what is shown, for the "..." */

	snprintf(part, sizeof(part), "%.*s", (int)(n < 65 ? n : 65), s ? s : "");
	return qs_esc(part, 64, out, QS_ESC_BUF(64));
}

int cli_fail(const char *prog, int r, const qstor_error *err)
{
	if (err && err->msg[0])
		fprintf(stderr, "%s: %s\n", prog, err->msg);
	else
		fprintf(stderr, "%s: %s\n", prog, strerror(r < 0 ? -r : (r ? r : EIO)));
	return 1;
}

bool cli_root_allowed(uid_t euid, const char *allow_env)
{
	return euid == 0 || (allow_env && strcmp(allow_env, "1") == 0);
}

int cli_finish_stdout(const char *prog, int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
		return 1;
	}
	return status;
}

/* ---- option scanning ---- */

void cli_scan_init(struct cli_scan *s, int argc, char *const argv[], int first)
{
	s->argc = argc;
	s->argv = argv;
	s->i = first;
	s->only_pos = false;
}

bool cli_is_option(const char *arg)
{
	/* "-" is stdin and "-1" a value, not options */
	return arg[0] == '-' && arg[1] != '\0' && !isdigit((unsigned char)arg[1]);
}

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t len)
{
	for (; opts->id; opts++)
		if (opts->name && strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
	for (; opts->id; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

int cli_scan_next(struct cli_scan *s, const struct cli_opt *opts,
		  int *ret_id, const char **ret_arg, qstor_error *err)
{
	const struct cli_opt *o;
	const char *arg, *val = NULL;

	if (s->i >= s->argc)
		return CLI_END;
	arg = s->argv[s->i++];

	if (!s->only_pos && strcmp(arg, "--") == 0) {
		s->only_pos = true;
		if (s->i >= s->argc)
			return CLI_END;
		arg = s->argv[s->i++];
	}
	if (s->only_pos || !cli_is_option(arg)) {
		*ret_arg = arg;
		return CLI_POS;
	}

	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		o = find_long(opts, name, len);
		if (!o)
			return cli_errf(err, "unknown option '--%s'", CLI_ESC_N(name, len));
		if (eq && !o->has_arg)
			return cli_errf(err, "option '--%s' takes no argument", o->name);
		if (eq)
			val = eq + 1;
	} else {
		o = find_short(opts, arg[1]);
		if (!o || (arg[2] && !o->has_arg))
			return cli_errf(err, "unknown option '%s'", QS_ESC(arg));
		if (arg[2])
			val = arg + 2;   /* "-pPOOL" */
	}

	if (o->has_arg && !val) {
		if (s->i >= s->argc) {
			if (o->name)
				return cli_errf(err, "option '--%s' requires an argument", o->name);
			return cli_errf(err, "option '-%c' requires an argument", o->short_name);
		}
		val = s->argv[s->i++];
	}
	*ret_id = o->id;
	*ret_arg = val;
	return CLI_OPT;
}

/* ---- output helpers ---- */

const char *cli_human_size(uint64_t v, char buf[CLI_SIZE_BUF])
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	const unsigned last = sizeof(units) / sizeof(units[0]) - 1;
	unsigned k = 0;
	uint64_t u = 1;
	unsigned __int128 tenths, whole;

	while (k < last && v >= u * 1024) {
		u *= 1024;
		k++;
	}
	if (k == 0 || v % u == 0) {
		snprintf(buf, CLI_SIZE_BUF, "%llu%s", (unsigned long long)(v / u), units[k]);
		return buf;
	}
	tenths = ((unsigned __int128)v * 10 + u / 2) / u;
	if (tenths < 100) {
		snprintf(buf, CLI_SIZE_BUF, "%u.%u%s", (unsigned)(tenths / 10),
			 (unsigned)(tenths % 10), units[k]);
		return buf;
	}
	whole = ((unsigned __int128)v + u / 2) / u;
	if (whole >= 1024 && k < last)   /* 1023.6MiB rounds up into the next unit */
		snprintf(buf, CLI_SIZE_BUF, "1.0%s", units[k + 1]);
	else
		snprintf(buf, CLI_SIZE_BUF, "%llu%s", (unsigned long long)whole, units[k]);
	return buf;
}

void cli_json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}
