/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared setup and file helpers of the core's unit tests (see unit-env.h). */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-driver.h"
#include "internal.h"
#include "unit-env.h"

const struct qs_driver *unit_driver = &fake_driver;

struct unit_env *unit_env_new_opts(const qstor_kv *extra, size_t n_extra)
{
	struct unit_env *e = calloc(1, sizeof(*e));
	const char *tmp = getenv("TMPDIR");
	qstor_kv opts[16];
	qstor_error err = { 0 };
	int r;

	if (!e || n_extra > 15)
		goto fail;
	snprintf(e->root, sizeof(e->root), "%s/qstor-unit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(e->root)) {
		fprintf(stderr, "unit-env: mkdtemp %s: %s\n", e->root, strerror(errno));
		e->root[0] = '\0';
		goto fail;
	}
	snprintf(e->state_dir, sizeof(e->state_dir), "%s/state", e->root);
	snprintf(e->pool_dir, sizeof(e->pool_dir), "%s/pool", e->root);
	if (mkdir(e->pool_dir, 0700) < 0) {
		fprintf(stderr, "unit-env: mkdir %s: %s\n", e->pool_dir, strerror(errno));
		goto fail;
	}
	qs_driver_register_extra(unit_driver);
	fake_fail_reset();
	fake_set_usage(0, 0);
	r = qstor_open(e->state_dir, &e->q, &err);
	if (r < 0) {
		fprintf(stderr, "unit-env: qstor_open: %s\n", err.msg);
		goto fail;
	}
	opts[0] = (qstor_kv){ .key = "dir_path", .value = e->pool_dir };
	for (size_t i = 0; i < n_extra; i++)
		opts[i + 1] = extra[i];
	r = qstor_pool_add(e->q, "default", "fake", opts, n_extra + 1, &err);
	if (r < 0) {
		fprintf(stderr, "unit-env: qstor_pool_add: %s\n", err.msg);
		goto fail;
	}
	return e;
fail:
	unit_env_free(e);
	return NULL;
}

struct unit_env *unit_env_new(void)
{
	return unit_env_new_opts(NULL, 0);
}

void unit_env_close(struct unit_env *e)
{
	if (e && e->q) {
		qstor_close(e->q);
		e->q = NULL;
	}
}

void unit_env_free(struct unit_env *e)
{
	if (!e)
		return;
	unit_env_close(e);
	if (e->root[0] && !getenv("UNIT_KEEP"))
		unit_rm_rf(e->root);
	free(e);
}

int unit_env_reopen(struct unit_env *e)
{
	qstor_error err = { 0 };
	int r;

	unit_env_close(e);
	r = qstor_open(e->state_dir, &e->q, &err);
	if (r < 0)
		fprintf(stderr, "unit-env: qstor_open: %s\n", err.msg);
	return r;
}

int unit_env_setup(void **state)
{
	struct unit_env *e = unit_env_new();

	*state = e;
	return e ? 0 : -1;
}

int unit_env_teardown(void **state)
{
	unit_env_free(*state);
	*state = NULL;
	return 0;
}

char *unit_obj_path(const struct unit_env *e, const char *vm, const char *vol, const char *suffix,
		    char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s.%s", e->pool_dir, vm, vol, suffix);
	return buf;
}

bool unit_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int64_t unit_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return (int64_t)st.st_size;
}

int unit_write_at(const char *path, uint64_t off, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t done = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t w = pwrite(fd, (const char *)data + done, len - done, (off_t)(off + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

void unit_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)(x | 1);  /* never zero: a written byte shows */
	}
}

int unit_write_pattern(const char *path, uint64_t off, size_t len, uint32_t seed)
{
	unsigned char *buf = malloc(len ? len : 1);
	int r;

	if (!buf)
		return -ENOMEM;
	unit_pattern(buf, len, seed);
	r = unit_write_at(path, off, buf, len);
	free(buf);
	return r;
}

int unit_read_file(const char *path, unsigned char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	*ret = buf;
	*ret_len = got;
	return 0;
}

int unit_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return -errno;
	close(fd);
	r = unit_write_at(path, 0, data, len);
	return r;
}

/* ---- checksums ---- */

#define CK_BLOCK 4096
#define FNV_OFF 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= FNV_PRIME;
	}
	return h;
}

static bool zero_block(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static uint64_t ck_block(uint64_t h, uint64_t off, const unsigned char *p, size_t n)
{
	if (zero_block(p, n))
		return h;
	h = fnv(h, &off, sizeof(off));
	return fnv(h, p, n);
}

uint64_t unit_checksum_buf(const unsigned char *buf, size_t len)
{
	uint64_t size = len, h = fnv(FNV_OFF, &size, sizeof(size));

	for (size_t off = 0; off < len; off += CK_BLOCK)
		h = ck_block(h, off, buf + off, len - off < CK_BLOCK ? len - off : CK_BLOCK);
	return h;
}

uint64_t unit_checksum_zeros(uint64_t len)
{
	return fnv(FNV_OFF, &len, sizeof(len));
}

uint64_t unit_checksum(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf;
	const size_t chunk = 256 * CK_BLOCK;
	uint64_t size, h, off = 0;

	if (fd < 0)
		return UNIT_NO_FILE;
	if (fstat(fd, &st) < 0 || !(buf = malloc(chunk))) {
		close(fd);
		return UNIT_NO_FILE;
	}
	size = (uint64_t)st.st_size;
	h = fnv(FNV_OFF, &size, sizeof(size));
	while (off < size) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), hole;

		if (d < 0) {
			if (errno == ENXIO)
				break;  /* only a hole left */
			d = (off_t)off;
			hole = (off_t)size;
		} else {
			d &= ~(off_t)(CK_BLOCK - 1);
			if ((uint64_t)d < off)
				d = (off_t)off;
			hole = lseek(fd, d, SEEK_HOLE);
			if (hole < 0)
				hole = (off_t)size;
			hole = (hole + CK_BLOCK - 1) & ~(off_t)(CK_BLOCK - 1);
			if ((uint64_t)hole > size)
				hole = (off_t)size;
		}
		for (uint64_t pos = (uint64_t)d; pos < (uint64_t)hole;) {
			size_t want = (uint64_t)hole - pos < chunk ? (size_t)((uint64_t)hole - pos) : chunk;
			ssize_t k = pread(fd, buf, want, (off_t)pos);

			if (k <= 0) {
				free(buf);
				close(fd);
				return UNIT_NO_FILE - 1;  /* read error: never equal to a real sum */
			}
			for (size_t b = 0; b < (size_t)k; b += CK_BLOCK)
				h = ck_block(h, pos + b, buf + b,
					     (size_t)k - b < CK_BLOCK ? (size_t)k - b : CK_BLOCK);
			pos += (uint64_t)k;
		}
		off = (uint64_t)hole;
	}
	free(buf);
	close(fd);
	return h;
}

bool unit_all_zero(const char *path)
{
	int64_t size = unit_file_size(path);

	return size >= 0 && unit_checksum(path) == unit_checksum_zeros((uint64_t)size);
}

/* ---- file lists ---- */

static struct unit_files *walk_out;
static size_t walk_prefix;
static int walk_err;

static int walk_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char **nn;
	uint64_t *ns;

	if (type != FTW_F)
		return 0;
	nn = realloc(walk_out->names, (walk_out->n + 1) * sizeof(*nn));
	if (!nn)
		goto oom;
	walk_out->names = nn;
	ns = realloc(walk_out->sums, (walk_out->n + 1) * sizeof(*ns));
	if (!ns)
		goto oom;
	walk_out->sums = ns;
	nn[walk_out->n] = strdup(path + walk_prefix);
	if (!nn[walk_out->n])
		goto oom;
	ns[walk_out->n] = unit_checksum(path);
	walk_out->n++;
	return 0;
oom:
	walk_err = -ENOMEM;
	return 1;
}

static char **sort_names;

static int cmp_idx(const void *a, const void *b)
{
	return strcmp(sort_names[*(const size_t *)a], sort_names[*(const size_t *)b]);
}

int unit_list_files(const char *dir, struct unit_files *ret)
{
	struct unit_files f = { 0 };
	size_t *idx;

	walk_out = &f;
	walk_prefix = strlen(dir) + 1;
	walk_err = 0;
	if (nftw(dir, walk_cb, 16, FTW_PHYS) < 0 && errno != ENOENT) {
		unit_files_free(&f);
		return -errno;
	}
	if (walk_err) {
		unit_files_free(&f);
		return walk_err;
	}
	/* sort names and sums together */
	idx = calloc(f.n ? f.n : 1, sizeof(*idx));
	if (!idx) {
		unit_files_free(&f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < f.n; i++)
		idx[i] = i;
	sort_names = f.names;
	qsort(idx, f.n, sizeof(*idx), cmp_idx);
	{
		struct unit_files s = { 0 };

		s.names = calloc(f.n ? f.n : 1, sizeof(*s.names));
		s.sums = calloc(f.n ? f.n : 1, sizeof(*s.sums));
		if (!s.names || !s.sums) {
			free(s.names);
			free(s.sums);
			free(idx);
			unit_files_free(&f);
			return -ENOMEM;
		}
		for (size_t i = 0; i < f.n; i++) {
			s.names[i] = f.names[idx[i]];
			s.sums[i] = f.sums[idx[i]];
		}
		s.n = f.n;
		free(f.names);
		free(f.sums);
		*ret = s;
	}
	free(idx);
	return 0;
}

void unit_files_free(struct unit_files *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->sums);
	memset(f, 0, sizeof(*f));
}

bool unit_files_equal(const struct unit_files *a, const struct unit_files *b, char *why, size_t len)
{
	size_t i = 0, j = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->names[i], b->names[j]);

		if (c < 0) {
			snprintf(why, len, "'%s' disappeared", a->names[i]);
			return false;
		}
		if (c > 0) {
			snprintf(why, len, "'%s' appeared", b->names[j]);
			return false;
		}
		if (a->sums[i] != b->sums[j]) {
			snprintf(why, len, "'%s' changed", a->names[i]);
			return false;
		}
		i++;
		j++;
	}
	if (len)
		why[0] = '\0';
	return true;
}

size_t unit_files_count_suffix(const struct unit_files *f, const char *suffix)
{
	size_t n = 0, ls = strlen(suffix);

	for (size_t i = 0; i < f->n; i++) {
		size_t l = strlen(f->names[i]);

		n += l >= ls && strcmp(f->names[i] + l - ls, suffix) == 0;
	}
	return n;
}

size_t unit_files_count_substr(const struct unit_files *f, const char *substr)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += strstr(f->names[i], substr) != NULL;
	return n;
}

void unit_files_dump(const struct unit_files *f, const char *title)
{
	fprintf(stderr, "--- %s (%zu files)\n", title, f->n);
	for (size_t i = 0; i < f->n; i++)
		fprintf(stderr, "    %-40s %016llx\n", f->names[i], (unsigned long long)f->sums[i]);
}

static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

int unit_rm_rf(const char *path)
{
	if (nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- the catalog through the API ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *unit_vm_names(qstor *q)
{
	qstor_vm_info *vms = NULL;
	size_t n = 0, len = 1;
	char **names, *out;

	if (qstor_vm_list(q, &vms, &n, NULL) < 0)
		return NULL;
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names) {
		free(vms);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		names[i] = vms[i].name;
		len += strlen(vms[i].name) + 1;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	out = calloc(1, len);
	for (size_t i = 0; out && i < n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, names[i]);
	}
	free(names);
	free(vms);
	return out;
}

int unit_create_vm(struct unit_env *e, const char *name, qstor_vm_class klass, const char *tpl,
		   qstor_error *err)
{
	qstor_vm_spec s = {
		.name = name,
		.klass = klass,
		.template_vm = tpl,
		.private_size = UNIT_PRIV_SIZE,
		.volatile_size = UNIT_VOLA_SIZE,
	};

	if (klass == QSTOR_CLASS_TEMPLATE || klass == QSTOR_CLASS_STANDALONE)
		s.root_size = UNIT_ROOT_SIZE;
	return qstor_vm_create(e->q, &s, err);
}

int unit_start_devs(struct unit_env *e, const char *vm, qstor_device **ret, size_t *ret_n,
		    qstor_error *err)
{
	return qstor_vm_start(e->q, vm, ret, ret_n, err);
}

int unit_start(struct unit_env *e, const char *vm, qstor_error *err)
{
	qstor_device *d = NULL;
	size_t n = 0;
	int r = qstor_vm_start(e->q, vm, &d, &n, err);

	free(d);
	return r;
}

const char *unit_dev(const qstor_device *devs, size_t n, const char *vol)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(devs[i].volume, vol) == 0)
			return devs[i].path;
	return "";
}

char *unit_revisions(qstor *q, const char *vm, const char *vol)
{
	qstor_volume_info info;
	size_t len = 1;
	char *out;

	if (qstor_volume_info_get(q, vm, vol, &info, NULL) < 0)
		return NULL;
	for (size_t i = 0; i < info.n_revisions; i++)
		len += strlen(info.revisions[i].id) + 1;
	out = calloc(1, len);
	for (size_t i = 0; out && i < info.n_revisions; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, info.revisions[i].id);
	}
	qstor_volume_info_free(&info);
	return out;
}

int unit_n_revisions(qstor *q, const char *vm, const char *vol)
{
	qstor_volume_info info;
	int n;

	if (qstor_volume_info_get(q, vm, vol, &info, NULL) < 0)
		return -1;
	n = (int)info.n_revisions;
	qstor_volume_info_free(&info);
	return n;
}

char *unit_rev_path(const struct unit_env *e, const char *vm, const char *vol, const char *id,
		    char *buf, size_t len)
{
	char dir[700], prefix[200];
	struct dirent *de;
	DIR *d;

	buf[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/%s", e->pool_dir, vm);
	snprintf(prefix, sizeof(prefix), "%s.rev.%s.", vol, id);
	d = opendir(dir);
	if (!d)
		return buf;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    !strstr(de->d_name + strlen(prefix), ".active")) {
			snprintf(buf, len, "%s/%s", dir, de->d_name);
			break;
		}
	closedir(d);
	return buf;
}

int unit_rev_sums(struct unit_env *e, const char *vm, const char *vol, uint64_t *sums, int max)
{
	qstor_volume_info info;
	char path[1024];
	int n = 0;

	if (qstor_volume_info_get(e->q, vm, vol, &info, NULL) < 0)
		return -1;
	for (size_t i = 0; i < info.n_revisions && n < max; i++) {
		unit_rev_path(e, vm, vol, info.revisions[i].id, path, sizeof(path));
		sums[n++] = path[0] ? unit_checksum(path) : UNIT_NO_FILE;
	}
	qstor_volume_info_free(&info);
	return n;
}
