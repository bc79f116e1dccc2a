/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every output of the tools; see format.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "format.h"

/* ---- a `column -t` table ---- */

struct table {
	size_t ncols, nrows, cap;
	char **cells;        /* nrows * ncols, row-major; NULL prints as "" */
	bool *blank;         /* rows printed as an empty line */
};

static void table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

/* Formatting cannot fail halfway with a partial table that a script would
 * take for the real one: out of memory, the tool says so and exits 1, the
 * exit status of every failure, without flushing what stdout holds. */
static _Noreturn void out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
	_exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		out_of_memory();
	return d;
}

/* cells: ncols strings, copied */
static void table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
		t->blank = xrealloc(t->blank, t->cap * sizeof(bool));
	}
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = cells ? xstrdup(cells[c]) : NULL;
	t->blank[t->nrows] = !cells;
	t->nrows++;
}

static void table_print(const struct table *t, FILE *f)
{
	size_t *w = xrealloc(NULL, t->ncols * sizeof(size_t));

	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = 0;
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t len = s ? strlen(s) : 0;

			if (len > w[c])
				w[c] = len;
		}
	}
	for (size_t r = 0; r < t->nrows; r++) {
		if (t->blank[r]) {
			fputc('\n', f);
			continue;
		}
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 < t->ncols)
				fprintf(f, "%-*s  ", (int)w[c], s ? s : "");
			else
				fputs(s ? s : "", f);
		}
		fputc('\n', f);
	}
	free(w);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->blank);
	memset(t, 0, sizeof(*t));
}

static const char *pybool(bool b)
{
	/* Qubes prints Python's str(bool); scripts grep for these */
	return b ? "True" : "False";
}

/* ---- qvm-volume ---- */

static int cmp_volume(const void *a, const void *b)
{
	const qstor_volume_info *x = *(const qstor_volume_info *const *)a;
	const qstor_volume_info *y = *(const qstor_volume_info *const *)b;
	int r;

	if ((r = strcmp(x->pool, y->pool)) != 0)
		return r;
	if ((r = strcmp(x->vid, y->vid)) != 0)
		return r;
	if ((r = strcmp(x->vm, y->vm)) != 0)
		return r;
	return strcmp(x->name, y->name);
}

void fmt_volume_list(FILE *f, const qstor_volume_info *const *v, size_t n,
		     bool elide_repeats)
{
	static const char *const head[] = { "POOL:VOLUME", "VMNAME", "VOLUME_NAME", "REVERT_POSSIBLE" };
	const qstor_volume_info **sorted = xrealloc(NULL, n * sizeof(*sorted));
	struct table t;

	if (n)
		memcpy(sorted, v, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_volume);
	table_init(&t, 4);
	table_add(&t, head);
	for (size_t i = 0; i < n; i++) {
		const qstor_volume_info *x = sorted[i];
		char id[2 * sizeof(x->pool) + sizeof(x->vid)];
		bool repeat = i > 0 && strcmp(x->pool, sorted[i - 1]->pool) == 0 &&
			      strcmp(x->vid, sorted[i - 1]->vid) == 0;
		const char *row[4];

		snprintf(id, sizeof(id), "%s:%s", x->pool, x->vid);
		row[0] = repeat && elide_repeats ? "" : id;
		row[1] = x->vm;
		row[2] = x->name;
		row[3] = x->n_revisions ? "Yes" : "No";
		table_add(&t, row);
	}
	table_print(&t, f);
	table_free(&t);
	free(sorted);
}

/* The order of Qubes' `qvm-volume info`, then what qstor adds (is_dirty). */
static const char *const volume_props[] = {
	"pool", "vid", "rw", "source", "save_on_stop", "snap_on_start", "size",
	"usage", "revisions_to_keep", "ephemeral", "is_outdated", "is_dirty",
};
#define N_VOLUME_PROPS (sizeof(volume_props) / sizeof(volume_props[0]))

bool fmt_volume_property_known(const char *prop)
{
	if (strcmp(prop, "revisions") == 0)
		return true;
	for (size_t i = 0; i < N_VOLUME_PROPS; i++)
		if (strcmp(prop, volume_props[i]) == 0)
			return true;
	return false;
}

const char *fmt_volume_property_names(void)
{
	return "pool, vid, rw, source, save_on_stop, snap_on_start, size, usage, "
	       "revisions_to_keep, ephemeral, is_outdated, is_dirty, revisions";
}

/* value of one scalar property; buf for numbers */
static const char *volume_prop(const qstor_volume_info *v, const char *prop,
			       char *buf, size_t len)
{
	if (strcmp(prop, "pool") == 0)
		return v->pool;
	if (strcmp(prop, "vid") == 0)
		return v->vid;
	if (strcmp(prop, "rw") == 0)
		return pybool(v->rw);
	if (strcmp(prop, "source") == 0)
		/* Qubes shows the source volume's vid */
		return v->source_vid[0] ? v->source_vid : v->source;
	if (strcmp(prop, "save_on_stop") == 0)
		return pybool(v->save_on_stop);
	if (strcmp(prop, "snap_on_start") == 0)
		return pybool(v->snap_on_start);
	if (strcmp(prop, "size") == 0) {
		snprintf(buf, len, "%" PRIu64, v->size);
		return buf;
	}
	if (strcmp(prop, "usage") == 0) {
		snprintf(buf, len, "%" PRIu64, v->usage);
		return buf;
	}
	if (strcmp(prop, "revisions_to_keep") == 0) {
		snprintf(buf, len, "%d", v->revisions_to_keep);
		return buf;
	}
	if (strcmp(prop, "ephemeral") == 0)
		return pybool(v->ephemeral);
	if (strcmp(prop, "is_outdated") == 0)
		return pybool(v->is_outdated);
	if (strcmp(prop, "is_dirty") == 0)
		return pybool(v->is_dirty);
	return NULL;
}

void fmt_volume_info(FILE *f, const qstor_volume_info *v)
{
	struct table t;

	table_init(&t, 2);
	for (size_t i = 0; i < N_VOLUME_PROPS; i++) {
		char buf[32];
		const char *row[2] = { volume_props[i], volume_prop(v, volume_props[i], buf, sizeof(buf)) };

		/* the table only; `info VM:VOL revisions_to_keep` stays bare */
		if (strcmp(volume_props[i], "revisions_to_keep") == 0 && v->revisions_to_keep == -1)
			row[1] = "-1 (snapshot disabled)";
		table_add(&t, row);
	}
	table_print(&t, f);
	table_free(&t);
	if (!v->n_revisions) {
		fputs("List of available revisions (for revert): none\n", f);
		return;
	}
	fputs("List of available revisions (for revert):\n", f);
	for (size_t i = 0; i < v->n_revisions; i++)
		fprintf(f, "  %s\n", v->revisions[i].id);
}

int fmt_volume_property(FILE *f, const qstor_volume_info *v, const char *prop)
{
	char buf[32];
	const char *s;

	if (strcmp(prop, "revisions") == 0) {
		for (size_t i = 0; i < v->n_revisions; i++)
			fprintf(f, "%s\n", v->revisions[i].id);
		return 0;
	}
	s = volume_prop(v, prop, buf, sizeof(buf));
	if (!s)
		return -EINVAL;
	fprintf(f, "%s\n", s);
	return 0;
}

/* ---- qvm-pool ---- */

void fmt_pool_list(FILE *f, const qstor_pool_info *p, size_t n)
{
	static const char *const head[] = { "NAME", "DRIVER" };
	struct table t;

	table_init(&t, 2);
	table_add(&t, head);
	for (size_t i = 0; i < n; i++) {
		const char *row[2] = { p[i].name, p[i].driver };

		table_add(&t, row);
	}
	table_print(&t, f);
	table_free(&t);
}

struct kv_view {
	const char *key;
	const char *value;
};

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct kv_view *)a)->key, ((const struct kv_view *)b)->key);
}

/* Keys the info computes itself; a configured option of that name would
 * only repeat (or contradict) it. */
static bool computed_key(const char *k)
{
	static const char *const keys[] = { "name", "driver", "revisions_to_keep", "size",
					    "usage", "metadata_size", "metadata_usage",
					    "vms_mapped", "vms_exclusive", "vms_shared" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static void pool_info_rows(struct table *t, const qstor_pool_info *p,
			   const qstor_du_pool *du)
{
	char rtk[16], size[24], usage[24], msize[24], musage[24];
	char dmapped[24], dexcl[24], dshared[24];
	size_t n = 0, cap = p->n_options + 11;
	struct kv_view *kv = xrealloc(NULL, cap * sizeof(*kv));
	const char *row[2] = { "name", p->name };

	snprintf(rtk, sizeof(rtk), "%d", p->revisions_to_keep);
	snprintf(size, sizeof(size), "%" PRIu64, p->size);
	snprintf(usage, sizeof(usage), "%" PRIu64, p->usage);
	snprintf(msize, sizeof(msize), "%" PRIu64, p->metadata_size);
	snprintf(musage, sizeof(musage), "%" PRIu64, p->metadata_usage);

	kv[n++] = (struct kv_view){ "driver", p->driver };
	kv[n++] = (struct kv_view){ "revisions_to_keep", rtk };
	/* size 0 means the driver could not tell: say nothing rather than 0 */
	if (p->size) {
		kv[n++] = (struct kv_view){ "size", size };
		kv[n++] = (struct kv_view){ "usage", usage };
	}
	if (p->metadata_size) {
		kv[n++] = (struct kv_view){ "metadata_size", msize };
		kv[n++] = (struct kv_view){ "metadata_usage", musage };
	}
	/* exact disk use from the pool's own maps (qstor du's pool line) */
	if (du && du->exact) {
		snprintf(dmapped, sizeof(dmapped), "%" PRIu64, du->mapped);
		snprintf(dexcl, sizeof(dexcl), "%" PRIu64, du->vm_exclusive);
		snprintf(dshared, sizeof(dshared), "%" PRIu64, du->shared);
		kv[n++] = (struct kv_view){ "vms_mapped", dmapped };
		kv[n++] = (struct kv_view){ "vms_exclusive", dexcl };
		kv[n++] = (struct kv_view){ "vms_shared", dshared };
	}
	for (size_t i = 0; i < p->n_options; i++)
		if (!computed_key(p->options[i].key))
			kv[n++] = (struct kv_view){ p->options[i].key, p->options[i].value };
	qsort(kv, n, sizeof(*kv), cmp_kv);

	table_add(t, row);
	for (size_t i = 0; i < n; i++) {
		row[0] = kv[i].key;
		row[1] = kv[i].value;
		table_add(t, row);
	}
	free(kv);
}

void fmt_pool_info(FILE *f, const qstor_pool_info *p, const qstor_du_pool *const *du,
		   size_t n)
{
	struct table t;

	/* one table for all, so the values line up across pools as in Qubes */
	table_init(&t, 2);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			table_add(&t, NULL);
		pool_info_rows(&t, &p[i], du ? du[i] : NULL);
	}
	table_print(&t, f);
	table_free(&t);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void fmt_drivers(FILE *f, const char *const *drivers,
		 const char *const *(*options_of)(const char *driver))
{
	static const char *const head[] = { "DRIVER", "OPTIONS" };
	size_t n = 0;
	const char **sorted;
	struct table t;

	while (drivers && drivers[n])
		n++;
	sorted = xrealloc(NULL, n * sizeof(*sorted));
	if (n)
		memcpy(sorted, drivers, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);

	table_init(&t, 2);
	table_add(&t, head);
	for (size_t i = 0; i < n; i++) {
		const char *const *o = options_of(sorted[i]);
		char *joined = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&joined, &len);
		const char *row[2];

		if (!m)
			out_of_memory();
		for (size_t k = 0; o && o[k]; k++)
			fprintf(m, "%s%s", k ? ", " : "", o[k]);
		if (fclose(m) != 0)   /* the buffer could not grow */
			out_of_memory();
		row[0] = sorted[i];
		row[1] = joined;
		table_add(&t, row);
		free(joined);
	}
	table_print(&t, f);
	table_free(&t);
	free(sorted);
}

/* ---- qstor ---- */

static int cmp_vm(const void *a, const void *b)
{
	return strcmp((*(const qstor_vm_info *const *)a)->name,
		      (*(const qstor_vm_info *const *)b)->name);
}

static const qstor_vm_info **sorted_vms(const qstor_vm_info *v, size_t n)
{
	const qstor_vm_info **s = xrealloc(NULL, n * sizeof(*s));

	for (size_t i = 0; i < n; i++)
		s[i] = &v[i];
	qsort(s, n, sizeof(*s), cmp_vm);
	return s;
}

void fmt_vm_list(FILE *f, const qstor_vm_info *v, size_t n)
{
	static const char *const head[] = { "NAME", "CLASS", "TEMPLATE", "POOL", "STATE" };
	const qstor_vm_info **s = sorted_vms(v, n);
	struct table t;

	table_init(&t, 5);
	table_add(&t, head);
	for (size_t i = 0; i < n; i++) {
		const char *row[5] = {
			s[i]->name, qstor_class_name(s[i]->klass),
			s[i]->template_vm[0] ? s[i]->template_vm : "-", s[i]->pool,
			s[i]->running ? "running" : "stopped",
		};

		table_add(&t, row);
	}
	table_print(&t, f);
	table_free(&t);
	free(s);
}

void fmt_vm_list_json(FILE *f, const qstor_vm_info *v, size_t n)
{
	const qstor_vm_info **s = sorted_vms(v, n);

	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		cli_json_string(f, s[i]->name);
		fputs(",\"class\":", f);
		cli_json_string(f, qstor_class_name(s[i]->klass));
		fputs(",\"template\":", f);
		cli_json_string(f, s[i]->template_vm[0] ? s[i]->template_vm : NULL);
		fputs(",\"pool\":", f);
		cli_json_string(f, s[i]->pool);
		fprintf(f, ",\"running\":%s}", s[i]->running ? "true" : "false");
	}
	fputs("]\n", f);
	free(s);
}

void fmt_devices(FILE *f, const qstor_device *d, size_t n)
{
	/* single spaces, no header: `while read vol dev mode` */
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s %s\n", d[i].volume, d[i].path, d[i].rw ? "rw" : "ro");
}

void fmt_devices_json(FILE *f, const qstor_device *d, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"volume\":" : "{\"volume\":", f);
		cli_json_string(f, d[i].volume);
		fputs(",\"device\":", f);
		cli_json_string(f, d[i].path);
		fprintf(f, ",\"rw\":%s}", d[i].rw ? "true" : "false");
	}
	fputs("]\n", f);
}

static const char *du_size(uint64_t v, bool bytes, char buf[CLI_SIZE_BUF])
{
	if (!bytes)
		return cli_human_size(v, buf);
	snprintf(buf, CLI_SIZE_BUF, "%" PRIu64, v);
	return buf;
}

void fmt_du(FILE *f, const qstor_du_vm *v, size_t n, bool bytes)
{
	static const char *const head[] = { "VM", "VOLUME", "SIZE", "MAPPED", "EXCLUSIVE",
					    "SHARED", "RECLAIMABLE", "VM-EXCLUSIVE" };
	struct table t;

	table_init(&t, 8);
	table_add(&t, head);
	for (size_t i = 0; i < n; i++) {
		char b[6][CLI_SIZE_BUF];
		uint64_t reclaimable = 0;
		const char *row[8];

		for (size_t k = 0; k < v[i].n_volumes; k++) {
			const qstor_du_volume *x = &v[i].volumes[k];

			reclaimable += x->reclaimable;
			row[0] = v[i].vm;
			row[1] = x->volume;
			row[2] = du_size(x->size, bytes, b[0]);
			row[3] = du_size(x->mapped, bytes, b[1]);
			row[4] = du_size(x->exclusive, bytes, b[2]);
			row[5] = du_size(x->shared, bytes, b[3]);
			row[6] = du_size(x->reclaimable, bytes, b[4]);
			row[7] = "-";
			table_add(&t, row);
		}
		/* "(total)" cannot be a volume name, so the row is unambiguous */
		row[0] = v[i].vm;
		row[1] = "(total)";
		row[2] = du_size(v[i].size, bytes, b[0]);
		row[3] = du_size(v[i].mapped, bytes, b[1]);
		row[4] = du_size(v[i].exclusive, bytes, b[2]);
		row[5] = du_size(v[i].shared, bytes, b[3]);
		row[6] = du_size(reclaimable, bytes, b[4]);
		row[7] = du_size(v[i].vm_exclusive, bytes, b[5]);
		table_add(&t, row);
	}
	/* then each pool once, as a whole (every VM in it, asked about or
	 * not); "(pool)" cannot be a VM name */
	for (size_t i = 0; i < n; i++)
		for (size_t p = 0; p < v[i].n_pools; p++) {
			const qstor_du_pool *x = &v[i].pools[p];
			char b[4][CLI_SIZE_BUF];
			const char *row[8];
			bool seen = false;

			for (size_t j = 0; j <= i && !seen; j++)
				for (size_t k = 0; k < (j < i ? v[j].n_pools : p) && !seen; k++)
					seen = strcmp(v[j].pools[k].pool, x->pool) == 0;
			if (seen)
				continue;
			row[0] = "(pool)";
			row[1] = x->pool;
			row[2] = du_size(x->data_size, bytes, b[0]);
			row[3] = x->exact ? du_size(x->mapped, bytes, b[1]) : "-";
			row[4] = "-";
			row[5] = x->exact ? du_size(x->shared, bytes, b[2]) : "-";
			row[6] = "-";
			row[7] = x->exact ? du_size(x->vm_exclusive, bytes, b[3]) : "-";
			table_add(&t, row);
		}
	table_print(&t, f);
	table_free(&t);
}

void fmt_du_json(FILE *f, const qstor_du_vm *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		uint64_t reclaimable = 0;

		for (size_t k = 0; k < v[i].n_volumes; k++)
			reclaimable += v[i].volumes[k].reclaimable;
		fputs(i ? ",{\"vm\":" : "{\"vm\":", f);
		cli_json_string(f, v[i].vm);
		fprintf(f, ",\"size\":%" PRIu64 ",\"mapped\":%" PRIu64 ",\"exclusive\":%" PRIu64
			",\"shared\":%" PRIu64 ",\"reclaimable\":%" PRIu64 ",\"vm_exclusive\":%" PRIu64
			",\"volumes\":[",
			v[i].size, v[i].mapped, v[i].exclusive, v[i].shared, reclaimable,
			v[i].vm_exclusive);
		for (size_t k = 0; k < v[i].n_volumes; k++) {
			const qstor_du_volume *x = &v[i].volumes[k];

			fputs(k ? ",{\"volume\":" : "{\"volume\":", f);
			cli_json_string(f, x->volume);
			fputs(",\"pool\":", f);
			cli_json_string(f, x->pool);
			fprintf(f, ",\"size\":%" PRIu64 ",\"mapped\":%" PRIu64 ",\"exclusive\":%" PRIu64
				",\"shared\":%" PRIu64 ",\"reclaimable\":%" PRIu64 "}",
				x->size, x->mapped, x->exclusive, x->shared, x->reclaimable);
		}
		fputc(']', f);
		if (v[i].n_pools) {
			fputs(",\"pools\":[", f);
			for (size_t k = 0; k < v[i].n_pools; k++) {
				const qstor_du_pool *x = &v[i].pools[k];

				fputs(k ? ",{\"pool\":" : "{\"pool\":", f);
				cli_json_string(f, x->pool);
				fprintf(f, ",\"data_size\":%" PRIu64 ",\"data_used\":%" PRIu64
					",\"meta_size\":%" PRIu64 ",\"meta_used\":%" PRIu64
					",\"exact\":%s,\"mapped\":%" PRIu64 ",\"shared\":%" PRIu64
					",\"vm_exclusive\":%" PRIu64 "}",
					x->data_size, x->data_used, x->meta_size, x->meta_used,
					x->exact ? "true" : "false", x->mapped, x->shared,
					x->vm_exclusive);
			}
			fputc(']', f);
		}
		fputc('}', f);
	}
	fputs("]\n", f);
}
