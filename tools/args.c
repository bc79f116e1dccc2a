/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The command lines of the three tools; see args.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "format.h"

/* ---- shared pieces ---- */

/* Common options ahead of the subcommand. Stops at the first argument that
 * is not one (the subcommand, or an option of the default subcommand). */
static int parse_common_prefix(int argc, char *const argv[], int *i,
			       struct common_args *c, qstor_error *err)
{
	static const struct cli_opt opts[] = {
		CLI_COMMON_OPTS,
		{ "version", 0, false, CLI_OPT_VERSION },
		{ 0 },
	};

	while (*i < argc && cli_is_option(argv[*i]) && strcmp(argv[*i], "--") != 0) {
		struct cli_scan s;
		const char *arg = NULL;
		int id = 0, r;

		/* peek: an option we do not know belongs to the subcommand */
		cli_scan_init(&s, argc, argv, *i);
		r = cli_scan_next(&s, opts, &id, &arg, NULL);
		if (r != CLI_OPT) {
			/* "--state-dir" without its DIR is ours, and an error */
			if (strcmp(argv[*i], "--state-dir") == 0)
				return cli_errf(err, "option '--state-dir' requires an argument");
			return 0;
		}
		if (id == CLI_OPT_STATE_DIR)
			c->state_dir = arg;
		else if (id == CLI_OPT_HELP)
			c->help = true;
		else if (id == CLI_OPT_VERSION)
			c->version = true;
		*i = s.i;
	}
	if (*i < argc && strcmp(argv[*i], "--") == 0)
		(*i)++;
	return 0;
}

/* An empty DIR would silently mean "the current directory" to some and
 * "the default" to others. */
static int check_common(const struct common_args *c, qstor_error *err)
{
	if (c->state_dir && !c->state_dir[0])
		return cli_errf(err, "option '--state-dir' needs a directory");
	return 0;
}

/* A common option met after the subcommand; false if id is not one. */
static bool take_common(struct common_args *c, int id, const char *arg)
{
	if (id == CLI_OPT_STATE_DIR) {
		c->state_dir = arg;
		return true;
	}
	if (id == CLI_OPT_HELP) {
		c->help = true;
		return true;
	}
	return false;
}

static const char **new_list(int argc)
{
	const char **l = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*l));

	return l;
}

static void add_unique(const char **list, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(list[i], s) == 0)
			return;
	list[(*n)++] = s;
}

/* Positionals of one subcommand, checked against min..max. names: what
 * each position is called in "missing" messages. */
static int check_count(const char *cmd, const char *const *pos, size_t n,
		       size_t min, size_t max, const char *const *names, qstor_error *err)
{
	if (n < min)
		return cli_errf(err, "%s: missing %s", cmd, names[n]);
	if (n > max)
		return cli_errf(err, "%s: unexpected argument '%s'", cmd, QS_ESC(pos[max]));
	return 0;
}

/* "cmd: message" */
static void prefix_err(qstor_error *err, const char *cmd)
{
	size_t cl, ml;

	if (!err)
		return;
	cl = strlen(cmd) + 2;   /* "cmd: "; cmd is a short subcommand word */
	if (cl >= sizeof(err->msg))
		return;
	ml = strnlen(err->msg, sizeof(err->msg) - 1);
	if (cl + ml >= sizeof(err->msg))
		ml = sizeof(err->msg) - 1 - cl;
	memmove(err->msg + cl, err->msg, ml);
	memcpy(err->msg, cmd, cl - 2);
	memcpy(err->msg + cl - 2, ": ", 2);
	err->msg[cl + ml] = '\0';
}

struct word {
	const char *name;
	int cmd;
};

static const struct word *find_word(const struct word *w, const char *s)
{
	for (; w->name; w++)
		if (strcmp(w->name, s) == 0)
			return w;
	return NULL;
}

/* ---- qvm-volume ---- */

const char volcmd_usage[] =
	"Usage: qvm-volume [--state-dir DIR] COMMAND [ARGS]\n"
	"\n"
	"Manage the volumes of VMs.\n"
	"\n"
	"Commands:\n"
	"  list|ls|l [-p POOL] [--full] [VM...]        list volumes (the default command)\n"
	"  info|i VM:VOLUME [PROPERTY]                 show the properties and revisions\n"
	"  config|c|set|s VM:VOLUME PROPERTY VALUE     set rw, revisions_to_keep or ephemeral\n"
	"  resize|extend [-f|--force] VM:VOLUME SIZE   change the size (shrinking needs -f)\n"
	"  revert|rv|r VM:VOLUME [REVISION]            go back to a revision (default: newest)\n"
	"  import [--size SIZE|--no-resize] VM:VOLUME PATH|-\n"
	"                                              replace the data with a file or stdin\n"
	"  clone [-f|--force] SRC:VOLUME DST:VOLUME    replace DST's data with SRC's\n"
	"  clear [-f|--force] VM:VOLUME                replace the data with zeros\n"
	"  export [--end] VM:VOLUME                    print a readable path of the data\n"
	"\n"
	"Options:\n"
	"  --state-dir DIR   state directory (default: $QSTOR_STATE_DIR or /var/lib/qstor)\n"
	"  -h, --help        show this help\n"
	"  --version         show the version\n"
	"\n"
	"SIZE is bytes or a number with K, M, G, T (x1000) or Ki, Mi, Gi, Ti (x1024).\n";

enum {
	VOPT_POOL = 1,
	VOPT_FULL,
	VOPT_FORCE,
	VOPT_SIZE,
	VOPT_NO_RESIZE,
	VOPT_END,
};

static const struct word vol_words[] = {
	{ "list", VOLCMD_LIST }, { "ls", VOLCMD_LIST }, { "l", VOLCMD_LIST },
	{ "info", VOLCMD_INFO }, { "i", VOLCMD_INFO },
	{ "config", VOLCMD_CONFIG }, { "c", VOLCMD_CONFIG },
	{ "set", VOLCMD_CONFIG }, { "s", VOLCMD_CONFIG },
	{ "resize", VOLCMD_RESIZE }, { "extend", VOLCMD_RESIZE },
	{ "revert", VOLCMD_REVERT }, { "rv", VOLCMD_REVERT }, { "r", VOLCMD_REVERT },
	{ "import", VOLCMD_IMPORT },
	{ "clone", VOLCMD_CLONE },
	{ "clear", VOLCMD_CLEAR },
	{ "export", VOLCMD_EXPORT },
	{ NULL, 0 },
};

static const struct cli_opt *vol_opts(enum volcmd_cmd cmd)
{
	static const struct cli_opt list[] = {
		CLI_COMMON_OPTS,
		{ "pool", 'p', true, VOPT_POOL },
		{ "full", 0, false, VOPT_FULL },
		{ 0 },
	};
	static const struct cli_opt forced[] = {
		CLI_COMMON_OPTS,
		{ "force", 'f', false, VOPT_FORCE },
		{ 0 },
	};
	static const struct cli_opt import[] = {
		CLI_COMMON_OPTS,
		{ "size", 0, true, VOPT_SIZE },
		{ "no-resize", 0, false, VOPT_NO_RESIZE },
		{ 0 },
	};
	static const struct cli_opt export[] = {
		CLI_COMMON_OPTS,
		{ "end", 0, false, VOPT_END },
		{ 0 },
	};
	static const struct cli_opt plain[] = {
		CLI_COMMON_OPTS,
		{ 0 },
	};

	switch (cmd) {
	case VOLCMD_LIST:
		return list;
	case VOLCMD_RESIZE:
	case VOLCMD_CLONE:
	case VOLCMD_CLEAR:
		return forced;
	case VOLCMD_IMPORT:
		return import;
	case VOLCMD_EXPORT:
		return export;
	default:
		return plain;
	}
}

static int vol_positionals(const char *w, struct volcmd *a, const char *const *pos,
			   size_t n, qstor_error *err)
{
	static const char *const one[] = { "VM:VOLUME", "?" };
	static const char *const config[] = { "VM:VOLUME", "PROPERTY", "VALUE", "?" };
	static const char *const resize[] = { "VM:VOLUME", "SIZE", "?" };
	static const char *const import[] = { "VM:VOLUME", "PATH (or - for standard input)", "?" };
	static const char *const clone[] = { "SRC:VOLUME", "DST:VOLUME", "?" };
	int r;

	switch (a->cmd) {
	case VOLCMD_LIST:
		for (size_t i = 0; i < n; i++) {
			if ((r = qstor_check_name("vm", pos[i], err)) < 0)
				return r;
			add_unique(a->vms, &a->n_vms, pos[i]);
		}
		return 0;
	case VOLCMD_INFO:
		r = check_count(w, pos, n, 1, 2, one, err);
		break;
	case VOLCMD_CONFIG:
		r = check_count(w, pos, n, 3, 3, config, err);
		break;
	case VOLCMD_RESIZE:
		r = check_count(w, pos, n, 2, 2, resize, err);
		break;
	case VOLCMD_REVERT:
		r = check_count(w, pos, n, 1, 2, one, err);
		break;
	case VOLCMD_IMPORT:
		r = check_count(w, pos, n, 2, 2, import, err);
		break;
	case VOLCMD_CLONE:
		r = check_count(w, pos, n, 2, 2, clone, err);
		break;
	default:   /* clear, export */
		r = check_count(w, pos, n, 1, 1, one, err);
		break;
	}
	if (r < 0)
		return r;
	if ((r = qstor_parse_vmvol(pos[0], a->vm, a->vol, err)) < 0)
		return r;

	switch (a->cmd) {
	case VOLCMD_INFO:
		if (n > 1 && !fmt_volume_property_known(pos[1]))
			return cli_errf(err, "%s: no such property '%s' (known: %s)", w, QS_ESC(pos[1]),
					fmt_volume_property_names());
		a->property = n > 1 ? pos[1] : NULL;
		break;
	case VOLCMD_CONFIG:
		if (strcmp(pos[1], "rw") != 0 && strcmp(pos[1], "revisions_to_keep") != 0 &&
		    strcmp(pos[1], "ephemeral") != 0)
			return cli_errf(err, "%s: invalid property '%s' (settable: rw, "
					"revisions_to_keep, ephemeral)", w, QS_ESC(pos[1]));
		a->property = pos[1];
		a->value = pos[2];
		break;
	case VOLCMD_RESIZE:
		if ((r = qstor_parse_size(pos[1], &a->size, err)) < 0)
			return r;
		break;
	case VOLCMD_REVERT:
		if (n > 1 && !pos[1][0])
			return cli_errf(err, "%s: empty revision", w);
		a->revision = n > 1 ? pos[1] : NULL;
		break;
	case VOLCMD_IMPORT:
		if (!pos[1][0])
			return cli_errf(err, "%s: empty PATH", w);
		a->path = pos[1];
		break;
	case VOLCMD_CLONE:
		if ((r = qstor_parse_vmvol(pos[1], a->dst_vm, a->dst_vol, err)) < 0)
			return r;
		if (strcmp(a->vm, a->dst_vm) == 0 && strcmp(a->vol, a->dst_vol) == 0)
			return cli_errf(err, "%s: cannot clone '%s' onto itself", w, pos[0]);
		break;
	default:
		break;
	}
	return 0;
}

int volcmd_parse(int argc, char *const argv[], struct volcmd *ret, qstor_error *err)
{
	struct volcmd a = { .cmd = VOLCMD_LIST };
	const char **pos = NULL;
	const char *w = "list";
	bool implicit = true;
	size_t npos = 0;
	struct cli_scan s;
	int i = 1, r;

	if ((r = parse_common_prefix(argc, argv, &i, &a.common, err)) < 0)
		return r;
	a.pools = new_list(argc);
	a.vms = new_list(argc);
	pos = new_list(argc);
	if (!a.pools || !a.vms || !pos) {
		r = -ENOMEM;
		cli_errf(err, "out of memory");
		goto fail;
	}

	/* No word, or an option first ("qvm-volume -p pool"): list, as Qubes'
	 * default action. A word we do not know is a typo, not a VM name. */
	if (i < argc && !cli_is_option(argv[i])) {
		const struct word *wd = find_word(vol_words, argv[i]);

		if (!wd) {
			r = cli_errf(err, "unknown command '%s'", QS_ESC(argv[i]));
			goto fail;
		}
		a.cmd = (enum volcmd_cmd)wd->cmd;
		w = argv[i++];
		implicit = false;
	}

	cli_scan_init(&s, argc, argv, i);
	for (;;) {
		const char *arg = NULL;
		int id = 0;

		r = cli_scan_next(&s, vol_opts(a.cmd), &id, &arg, err);
		if (r < 0) {
			if (!implicit)
				prefix_err(err, w);   /* "-f" is valid elsewhere: name the command */
			goto fail;
		}
		if (r == CLI_END)
			break;
		if (r == CLI_POS) {
			pos[npos++] = arg;
			continue;
		}
		if (take_common(&a.common, id, arg))
			continue;
		switch (id) {
		case VOPT_POOL:
			if ((r = qstor_check_name("pool", arg, err)) < 0)
				goto fail;
			add_unique(a.pools, &a.n_pools, arg);
			break;
		case VOPT_FULL:
			a.full = true;
			break;
		case VOPT_FORCE:
			a.force = true;
			break;
		case VOPT_SIZE:
			if ((r = qstor_parse_size(arg, &a.size, err)) < 0)
				goto fail;
			a.has_size = true;
			break;
		case VOPT_NO_RESIZE:
			a.no_resize = true;
			break;
		case VOPT_END:
			a.end = true;
			break;
		}
	}

	if ((r = check_common(&a.common, err)) < 0)
		goto fail;
	if (a.common.help || a.common.version)
		goto done;
	if (a.has_size && a.no_resize) {
		r = cli_errf(err, "%s: --size and --no-resize cannot be used together", w);
		goto fail;
	}
	if ((r = vol_positionals(w, &a, pos, npos, err)) < 0)
		goto fail;
done:
	free(pos);
	*ret = a;
	return 0;
fail:
	free(pos);
	volcmd_free(&a);
	return r < 0 ? r : -EINVAL;
}

void volcmd_free(struct volcmd *a)
{
	free(a->pools);
	free(a->vms);
	a->pools = a->vms = NULL;
	a->n_pools = a->n_vms = 0;
}

/* ---- qvm-pool ---- */

const char poolcmd_usage[] =
	"Usage: qvm-pool [--state-dir DIR] COMMAND [ARGS]\n"
	"\n"
	"Manage storage pools.\n"
	"\n"
	"Commands:\n"
	"  list|ls|l                          list pools (the default command)\n"
	"  drivers|d                          list drivers and the options they take\n"
	"  info|i POOL...                     show a pool's options, size and usage\n"
	"  add|a POOL DRIVER -o KEY=VALUE...  add a pool\n"
	"  remove|r|rm POOL...                remove pools that hold no volumes\n"
	"  set|s POOL -o KEY=VALUE...         change options of a pool\n"
	"\n"
	"Options:\n"
	"  -o, --option KEY=VALUE[,KEY=VALUE]  a driver option (repeatable)\n"
	"  --state-dir DIR   state directory (default: $QSTOR_STATE_DIR or /var/lib/qstor)\n"
	"  -h, --help        show this help\n"
	"  --version         show the version\n"
	"\n"
	"Drivers: file-reflink (dir_path=DIR), lvm_thin (volume_group=VG,thin_pool=POOL).\n"
	"Qubes' older forms -l, -i POOL, -a POOL DRIVER, -r POOL, -s POOL and\n"
	"--help-drivers are accepted too.\n";

enum {
	POPT_OPTION = 1,
	/* Qubes' legacy command flags */
	POPT_LIST,
	POPT_INFO,
	POPT_ADD,
	POPT_REMOVE,
	POPT_SET,
	POPT_DRIVERS,
};

static const struct word pool_words[] = {
	{ "list", POOLCMD_LIST }, { "ls", POOLCMD_LIST }, { "l", POOLCMD_LIST },
	{ "drivers", POOLCMD_DRIVERS }, { "d", POOLCMD_DRIVERS },
	{ "info", POOLCMD_INFO }, { "i", POOLCMD_INFO },
	{ "add", POOLCMD_ADD }, { "a", POOLCMD_ADD },
	{ "remove", POOLCMD_REMOVE }, { "r", POOLCMD_REMOVE }, { "rm", POOLCMD_REMOVE },
	{ "set", POOLCMD_SET }, { "s", POOLCMD_SET },
	{ NULL, 0 },
};

static int add_option(qstor_kv **opts, size_t *n, const char *k, size_t klen,
		      const char *v, size_t vlen, qstor_error *err)
{
	char *key, *value;
	qstor_kv *grown;

	if (klen == 0)
		return cli_errf(err, "invalid option '=%s': empty key", CLI_ESC_N(v, vlen));
	key = strndup(k, klen);
	value = strndup(v, vlen);
	if (!key || !value)
		goto oom;
	/* a later -o for the same key wins, as with Qubes' dict */
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*opts)[i].key, key) == 0) {
			free((*opts)[i].value);
			(*opts)[i].value = value;
			free(key);
			return 0;
		}
	grown = realloc(*opts, (*n + 1) * sizeof(**opts));
	if (!grown)
		goto oom;
	*opts = grown;
	(*opts)[*n].key = key;
	(*opts)[*n].value = value;
	(*n)++;
	return 0;
oom:
	free(key);
	free(value);
	return cli_errf(err, "out of memory");
}

int poolcmd_parse_options(const char *s, qstor_kv **opts, size_t *n, qstor_error *err)
{
	const char *p = s;

	if (!*s)
		return cli_errf(err, "invalid option '': expected KEY=VALUE");
	while (*p) {
		const char *eq = strchr(p, '='), *end, *c;
		int r;

		if (!eq || (strchr(p, ',') && strchr(p, ',') < eq))
			return cli_errf(err, "invalid option '%s': expected KEY=VALUE", QS_ESC(s));
		/* the value runs to the next comma that starts another pair */
		end = eq + 1;
		for (c = strchr(end, ','); c; c = strchr(c + 1, ',')) {
			const char *next_eq = strchr(c + 1, '=');
			const char *next_comma = strchr(c + 1, ',');

			if (next_eq && (!next_comma || next_eq < next_comma))
				break;
		}
		end = c ? c : eq + 1 + strlen(eq + 1);
		r = add_option(opts, n, p, (size_t)(eq - p), eq + 1, (size_t)(end - eq - 1), err);
		if (r < 0)
			return r;
		p = c ? c + 1 : end;
	}
	return 0;
}

int poolcmd_parse(int argc, char *const argv[], struct poolcmd *ret, qstor_error *err)
{
	static const struct cli_opt opts[] = {
		CLI_COMMON_OPTS,
		{ "version", 0, false, CLI_OPT_VERSION },
		{ "option", 'o', true, POPT_OPTION },
		{ "list", 'l', false, POPT_LIST },
		{ "info", 'i', false, POPT_INFO },
		{ "add", 'a', false, POPT_ADD },
		{ "remove", 'r', false, POPT_REMOVE },
		{ "set", 's', false, POPT_SET },
		{ "help-drivers", 0, false, POPT_DRIVERS },
		{ 0 },
	};
	struct poolcmd a = { .cmd = POOLCMD_LIST };
	bool have_cmd = false;
	const char *w = "list";
	struct cli_scan s;
	int r;

	a.names = new_list(argc);
	if (!a.names)
		return cli_errf(err, "out of memory");

	/* One pass: no subcommand has options of its own besides -o, and
	 * Qubes' legacy flags (-a NAME DRIVER) mix with -o in any order. */
	cli_scan_init(&s, argc, argv, 1);
	for (;;) {
		const char *arg = NULL;
		int id = 0;

		r = cli_scan_next(&s, opts, &id, &arg, err);
		if (r < 0)
			goto fail;
		if (r == CLI_END)
			break;
		if (r == CLI_POS) {
			if (!have_cmd) {
				const struct word *wd = find_word(pool_words, arg);

				if (!wd) {
					r = cli_errf(err, "unknown command '%s'", QS_ESC(arg));
					goto fail;
				}
				a.cmd = (enum poolcmd_cmd)wd->cmd;
				w = arg;
				have_cmd = true;
			} else {
				a.names[a.n_names++] = arg;
			}
			continue;
		}
		if (take_common(&a.common, id, arg))
			continue;
		if (id == CLI_OPT_VERSION) {
			a.common.version = true;
			continue;
		}
		if (id == POPT_OPTION) {
			if ((r = poolcmd_parse_options(arg, &a.options, &a.n_options, err)) < 0)
				goto fail;
			continue;
		}
		if (have_cmd) {
			r = cli_errf(err, "%s: unexpected option '%s'", w, QS_ESC(argv[s.i - 1]));
			goto fail;
		}
		have_cmd = true;
		w = argv[s.i - 1];
		a.cmd = id == POPT_LIST ? POOLCMD_LIST : id == POPT_INFO ? POOLCMD_INFO :
			id == POPT_ADD ? POOLCMD_ADD : id == POPT_REMOVE ? POOLCMD_REMOVE :
			id == POPT_SET ? POOLCMD_SET : POOLCMD_DRIVERS;
	}
	if ((r = check_common(&a.common, err)) < 0)
		goto fail;
	if (a.common.help || a.common.version)
		goto done;

	switch (a.cmd) {
	case POOLCMD_LIST:
	case POOLCMD_DRIVERS:
		if (a.n_names) {
			r = cli_errf(err, "%s: unexpected argument '%s'", w, QS_ESC(a.names[0]));
			goto fail;
		}
		break;
	case POOLCMD_INFO:
	case POOLCMD_REMOVE:
		if (!a.n_names) {
			r = cli_errf(err, "%s: missing POOL", w);
			goto fail;
		}
		break;
	case POOLCMD_ADD:
		if (a.n_names < 2) {
			r = cli_errf(err, "%s: missing %s", w, a.n_names ? "DRIVER" : "POOL");
			goto fail;
		}
		if (a.n_names > 2) {
			r = cli_errf(err, "%s: unexpected argument '%s'", w, QS_ESC(a.names[2]));
			goto fail;
		}
		a.driver = a.names[1];
		a.n_names = 1;
		break;
	case POOLCMD_SET:
		if (!a.n_names) {
			r = cli_errf(err, "%s: missing POOL", w);
			goto fail;
		}
		if (a.n_names > 1) {
			r = cli_errf(err, "%s: unexpected argument '%s'", w, QS_ESC(a.names[1]));
			goto fail;
		}
		if (!a.n_options) {
			r = cli_errf(err, "%s: missing -o KEY=VALUE", w);
			goto fail;
		}
		break;
	}
	if (a.n_options && a.cmd != POOLCMD_ADD && a.cmd != POOLCMD_SET) {
		r = cli_errf(err, "%s: -o is only for add and set", w);
		goto fail;
	}
	for (size_t i = 0; i < a.n_names; i++)
		if ((r = qstor_check_name("pool", a.names[i], err)) < 0)
			goto fail;
	if (a.cmd == POOLCMD_REMOVE || a.cmd == POOLCMD_INFO) {
		size_t n = a.n_names;

		a.n_names = 0;
		for (size_t i = 0; i < n; i++)
			add_unique(a.names, &a.n_names, a.names[i]);
	}
done:
	*ret = a;
	return 0;
fail:
	poolcmd_free(&a);
	return r < 0 ? r : -EINVAL;
}

void poolcmd_free(struct poolcmd *a)
{
	for (size_t i = 0; i < a->n_options; i++) {
		free(a->options[i].key);
		free(a->options[i].value);
	}
	free(a->options);
	free(a->names);
	a->options = NULL;
	a->names = NULL;
	a->n_options = a->n_names = 0;
}

/* ---- qstor ---- */

const char qstorcmd_usage[] =
	"Usage: qstor [--state-dir DIR] COMMAND [ARGS]\n"
	"\n"
	"Storage of VMs for the toolstack.\n"
	"\n"
	"Commands:\n"
	"  vm create NAME --class template|app|standalone|disposable [--template VM]\n"
	"            [--pool POOL] [--root-size SIZE] [--private-size SIZE]\n"
	"            [--volatile-size SIZE]             create a VM's volumes\n"
	"  vm clone SRC DST [--pool POOL]               copy a VM's volumes to a new VM\n"
	"  vm remove NAME                               remove a VM and all its data\n"
	"  vm list [--json]                             list VMs\n"
	"  vm start NAME [--json]                       start the volumes; prints\n"
	"                                               \"VOLUME DEVICE rw|ro\" lines\n"
	"  vm stop NAME                                 stop the volumes, commit the data\n"
	"  recover                                      after a crash: commit or clean up\n"
	"  du [--json] [--bytes] [VM...]                disk use per VM and volume\n"
	"  bench [OPTIONS]                              qstor against the usual way (qstor-bench)\n"
	"\n"
	"Options:\n"
	"  --state-dir DIR   state directory (default: $QSTOR_STATE_DIR or /var/lib/qstor)\n"
	"  -h, --help        show this help\n"
	"  --version         show the version\n"
	"\n"
	"SIZE is bytes or a number with K, M, G, T (x1000) or Ki, Mi, Gi, Ti (x1024).\n";

enum {
	QOPT_CLASS = 1,
	QOPT_TEMPLATE,
	QOPT_POOL,
	QOPT_ROOT_SIZE,
	QOPT_PRIVATE_SIZE,
	QOPT_VOLATILE_SIZE,
	QOPT_JSON,
	QOPT_BYTES,
};

static const struct word qstor_vm_words[] = {
	{ "create", QSTORCMD_VM_CREATE },
	{ "clone", QSTORCMD_VM_CLONE },
	{ "remove", QSTORCMD_VM_REMOVE },
	{ "list", QSTORCMD_VM_LIST },
	{ "start", QSTORCMD_VM_START },
	{ "stop", QSTORCMD_VM_STOP },
	{ NULL, 0 },
};

static const struct cli_opt *qstor_opts(enum qstorcmd_cmd cmd)
{
	static const struct cli_opt create[] = {
		CLI_COMMON_OPTS,
		{ "class", 0, true, QOPT_CLASS },
		{ "template", 0, true, QOPT_TEMPLATE },
		{ "pool", 0, true, QOPT_POOL },
		{ "root-size", 0, true, QOPT_ROOT_SIZE },
		{ "private-size", 0, true, QOPT_PRIVATE_SIZE },
		{ "volatile-size", 0, true, QOPT_VOLATILE_SIZE },
		{ 0 },
	};
	static const struct cli_opt clone[] = {
		CLI_COMMON_OPTS,
		{ "pool", 0, true, QOPT_POOL },
		{ 0 },
	};
	static const struct cli_opt json[] = {
		CLI_COMMON_OPTS,
		{ "json", 0, false, QOPT_JSON },
		{ 0 },
	};
	static const struct cli_opt du[] = {
		CLI_COMMON_OPTS,
		{ "json", 0, false, QOPT_JSON },
		{ "bytes", 0, false, QOPT_BYTES },
		{ 0 },
	};
	static const struct cli_opt plain[] = {
		CLI_COMMON_OPTS,
		{ 0 },
	};

	switch (cmd) {
	case QSTORCMD_VM_CREATE:
		return create;
	case QSTORCMD_VM_CLONE:
		return clone;
	case QSTORCMD_VM_LIST:
	case QSTORCMD_VM_START:
		return json;
	case QSTORCMD_DU:
		return du;
	default:
		return plain;
	}
}

static int qstor_positionals(const char *w, struct qstorcmd *a, const char *const *pos,
			     size_t n, qstor_error *err)
{
	static const char *const name[] = { "NAME", "?" };
	static const char *const clone[] = { "SRC", "DST", "?" };
	int r = 0;

	switch (a->cmd) {
	case QSTORCMD_VM_CREATE:
	case QSTORCMD_VM_REMOVE:
	case QSTORCMD_VM_START:
	case QSTORCMD_VM_STOP:
		if ((r = check_count(w, pos, n, 1, 1, name, err)) < 0)
			return r;
		a->name = pos[0];
		return qstor_check_name("vm", a->name, err);
	case QSTORCMD_VM_CLONE:
		if ((r = check_count(w, pos, n, 2, 2, clone, err)) < 0)
			return r;
		a->name = pos[0];
		a->dst = pos[1];
		if ((r = qstor_check_name("vm", a->name, err)) < 0 ||
		    (r = qstor_check_name("vm", a->dst, err)) < 0)
			return r;
		if (strcmp(a->name, a->dst) == 0)
			return cli_errf(err, "%s: cannot clone '%s' onto itself", w, a->name);
		return 0;
	case QSTORCMD_VM_LIST:
	case QSTORCMD_RECOVER:
		return check_count(w, pos, n, 0, 0, name, err);
	case QSTORCMD_DU:
		for (size_t i = 0; i < n; i++) {
			if ((r = qstor_check_name("vm", pos[i], err)) < 0)
				return r;
			add_unique(a->vms, &a->n_vms, pos[i]);
		}
		return 0;
	default:
		return 0;
	}
}

static int parse_create_class(const char *w, struct qstorcmd *a, const char *klass,
			      qstor_error *err)
{
	int r;

	if (!klass)
		return cli_errf(err, "%s: missing --class (template, app, standalone or disposable)", w);
	if (qstor_class_parse(klass, &a->klass) < 0)
		return cli_errf(err, "%s: invalid class '%s' (expected template, app, "
				"standalone or disposable)", w, QS_ESC(klass));
	if ((a->klass == QSTOR_CLASS_APP || a->klass == QSTOR_CLASS_DISPOSABLE) && !a->template_vm)
		return cli_errf(err, "%s: class '%s' needs --template (%s)", w, klass,
				a->klass == QSTOR_CLASS_APP ? "a template VM" : "an app VM");
	if (a->template_vm && (r = qstor_check_name("vm", a->template_vm, err)) < 0)
		return r;
	return 0;
}

int qstorcmd_parse(int argc, char *const argv[], struct qstorcmd *ret, qstor_error *err)
{
	struct qstorcmd a = { .cmd = QSTORCMD_NONE };
	const char **pos = NULL;
	const char *klass = NULL;
	char w[64] = "";
	size_t npos = 0;
	struct cli_scan s;
	int i = 1, r;

	if ((r = parse_common_prefix(argc, argv, &i, &a.common, err)) < 0 ||
	    (r = check_common(&a.common, err)) < 0)
		return r;
	if (i >= argc) {
		if (a.common.help || a.common.version)
			goto done_nofree;
		return cli_errf(err, "missing command (see 'qstor --help')");
	}
	if (cli_is_option(argv[i]))
		return cli_errf(err, "unknown option '%s'", QS_ESC(argv[i]));

	if (strcmp(argv[i], "vm") == 0) {
		const struct word *wd;

		if (++i >= argc || cli_is_option(argv[i])) {
			if (a.common.help || (i < argc && (strcmp(argv[i], "--help") == 0 ||
							   strcmp(argv[i], "-h") == 0))) {
				a.common.help = true;
				goto done_nofree;
			}
			return cli_errf(err, "vm: missing command (create, clone, remove, list, start, stop)");
		}
		wd = find_word(qstor_vm_words, argv[i]);
		if (!wd)
			return cli_errf(err, "vm: unknown command '%s'", QS_ESC(argv[i]));
		a.cmd = (enum qstorcmd_cmd)wd->cmd;
		snprintf(w, sizeof(w), "vm %s", wd->name);
	} else if (strcmp(argv[i], "recover") == 0) {
		a.cmd = QSTORCMD_RECOVER;
	} else if (strcmp(argv[i], "du") == 0) {
		a.cmd = QSTORCMD_DU;
	} else if (strcmp(argv[i], "bench") == 0) {
		a.cmd = QSTORCMD_BENCH;
		goto done_nofree;   /* reserved: its arguments are not defined yet */
	} else {
		return cli_errf(err, "unknown command '%s'", QS_ESC(argv[i]));
	}
	if (!w[0])
		snprintf(w, sizeof(w), "%s", argv[i]);
	i++;

	pos = new_list(argc);
	a.vms = new_list(argc);
	if (!pos || !a.vms) {
		r = cli_errf(err, "out of memory");
		goto fail;
	}
	cli_scan_init(&s, argc, argv, i);
	for (;;) {
		const char *arg = NULL;
		int id = 0;
		uint64_t *size = NULL;

		r = cli_scan_next(&s, qstor_opts(a.cmd), &id, &arg, err);
		if (r < 0) {
			prefix_err(err, w);
			goto fail;
		}
		if (r == CLI_END)
			break;
		if (r == CLI_POS) {
			pos[npos++] = arg;
			continue;
		}
		if (take_common(&a.common, id, arg))
			continue;
		switch (id) {
		case QOPT_CLASS:
			klass = arg;
			break;
		case QOPT_TEMPLATE:
			a.template_vm = arg;
			break;
		case QOPT_POOL:
			if ((r = qstor_check_name("pool", arg, err)) < 0)
				goto fail;
			a.pool = arg;
			break;
		case QOPT_ROOT_SIZE:
			size = &a.root_size;
			break;
		case QOPT_PRIVATE_SIZE:
			size = &a.private_size;
			break;
		case QOPT_VOLATILE_SIZE:
			size = &a.volatile_size;
			break;
		case QOPT_JSON:
			a.json = true;
			break;
		case QOPT_BYTES:
			a.bytes = true;
			break;
		}
		if (size && (r = qstor_parse_size(arg, size, err)) < 0) {
			prefix_err(err, w);
			goto fail;
		}
	}
	if ((r = check_common(&a.common, err)) < 0)
		goto fail;
	if (a.common.help || a.common.version)
		goto done;
	if ((r = qstor_positionals(w, &a, pos, npos, err)) < 0)
		goto fail;
	if (a.cmd == QSTORCMD_VM_CREATE && (r = parse_create_class(w, &a, klass, err)) < 0)
		goto fail;
done:
	free(pos);
done_nofree:
	*ret = a;
	return 0;
fail:
	free(pos);
	qstorcmd_free(&a);
	return r < 0 ? r : -EINVAL;
}

void qstorcmd_free(struct qstorcmd *a)
{
	free(a->vms);
	a->vms = NULL;
	a->n_vms = 0;
}
