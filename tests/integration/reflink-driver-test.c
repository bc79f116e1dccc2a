/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reflink-driver-test - drive every op of the file-reflink driver through
 * its ops table against real filesystems. Run as root by
 * reflink-driver.sh, which mounts the filesystems:
 *
 *   reflink-driver-test TMPFS_DIR REFLINK_MNT [REFLINK_MNT...]
 *
 * TMPFS_DIR is an empty directory on a filesystem without reflinks; each
 * REFLINK_MNT an empty directory on XFS (reflink=1) or btrfs. Prints one
 * line per failed check, timing figures, and "N passed, M failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/loop.h>

#include "driver.h"
#include "internal.h"
#include "../../drivers/file-reflink/fileio.h"

static int passed, failed;
static const char *fs_label = "";

#define CHECK(cond, ...) check_((cond), __LINE__, #cond, "" __VA_ARGS__)
/* r must be 0; on failure show the driver's message */
#define CHECK_OK(r, err) check_((r) == 0, __LINE__, #r " == 0", "r=%d msg='%s'", (r), (err).msg)

static void check_(bool ok, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL [%s] line %d: %s", fs_label, line, expr);
	if (*fmt) {
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
}

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static void touch(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(p);
		abort();
	}
	close(fd);
}

static void fill(char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(seed * 131 + i * 7 + (i >> 12));
}

static int write_at(const char *p, off_t off, const char *buf, size_t n)
{
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (pwrite(fd, buf, n, off) != (ssize_t)n || fsync(fd) < 0)
		r = -EIO;
	close(fd);
	return r;
}

/* read n bytes at off, with O_DIRECT (block devices, coherent reads) */
static int read_at(const char *p, off_t off, char *buf, size_t n, bool direct)
{
	void *a = NULL;
	int fd = open(p, O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
	int r = 0;

	if (fd < 0)
		return -errno;
	if (posix_memalign(&a, 4096, n) != 0)
		abort();
	if (pread(fd, a, n, off) != (ssize_t)n)
		r = -EIO;
	else
		memcpy(buf, a, n);
	free(a);
	close(fd);
	return r;
}

static int write_direct(const char *p, off_t off, const char *buf, size_t n)
{
	void *a = NULL;
	int fd = open(p, O_RDWR | O_CLOEXEC | O_DIRECT);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (posix_memalign(&a, 4096, n) != 0)
		abort();
	memcpy(a, buf, n);
	if (pwrite(fd, a, n, off) != (ssize_t)n || fsync(fd) < 0)
		r = -errno ? -errno : -EIO;
	free(a);
	close(fd);
	return r;
}

static bool same_content(const char *a, const char *b)
{
	FILE *fa = fopen(a, "re"), *fb = fopen(b, "re");
	bool same = fa && fb;

	while (same) {
		int ca = getc(fa), cb = getc(fb);

		if (ca != cb)
			same = false;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static uint64_t dev_size(const char *dev)
{
	uint64_t sz = 0;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
			sz = 0;
		close(fd);
	}
	return sz;
}

static int sysfs_loop_int(const char *dev, const char *attr)
{
	char *p = xasprintf("/sys/block/%s/%s", dev + 5, attr);
	FILE *f = fopen(p, "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	free(p);
	return v;
}

static bool loop_attached(const char *dev)
{
	char *p = xasprintf("/sys/block/%s/loop/backing_file", dev + 5);
	bool r = exists(p);

	free(p);
	return r;
}

/* ---- a pool filled by hand, as the core would ---- */

struct tpool {
	struct qs_pool pool;
	qstor_kv kv[2];
};

static int tpool_open(struct tpool *t, const char *dir, const char *setup_check,
		      bool setup, qstor_error *err)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->pool.name, sizeof(t->pool.name), "test");
	t->pool.drv = &qs_driver_file_reflink;
	t->pool.options = t->kv;
	if (dir)
		t->kv[t->pool.n_options++] = (qstor_kv){ (char *)"dir_path", (char *)dir };
	if (setup_check)
		t->kv[t->pool.n_options++] = (qstor_kv){ (char *)"setup_check",
							 (char *)setup_check };
	t->pool.revisions_to_keep = 1;
	t->pool.priv = calloc(1, qs_driver_file_reflink.instance_size);
	memset(err, 0, sizeof(*err));
	return qs_driver_file_reflink.pool_open(&t->pool, setup, err);
}

static void tpool_close(struct tpool *t)
{
	qs_driver_file_reflink.pool_close(&t->pool);
	free(t->pool.priv);
}

#define D (&qs_driver_file_reflink)

static struct qs_obj O(const char *vid, enum qs_role role)
{
	return (struct qs_obj){ .vid = vid, .role = role };
}

static struct qs_obj REV(const char *vid, uint64_t key, int64_t t)
{
	return (struct qs_obj){ .vid = vid, .role = QS_REVISION, .rev_key = key,
				.rev_time = t };
}

static size_t count_role(struct qs_pool *p, const char *vid, enum qs_role role)
{
	struct qs_objinfo *oi = NULL;
	qstor_error err = { 0 };
	size_t n = 0, c = 0;

	if (D->list(p, vid, &oi, &n, &err) < 0) {
		fprintf(stderr, "list %s: %s\n", vid, err.msg);
		return (size_t)-1;
	}
	for (size_t i = 0; i < n; i++)
		c += oi[i].role == role;
	free(oi);
	return c;
}

static bool find_obj(struct qs_pool *p, const char *vid, enum qs_role role,
		     struct qs_objinfo *ret)
{
	struct qs_objinfo *oi = NULL;
	qstor_error err = { 0 };
	size_t n = 0;
	bool found = false;

	if (D->list(p, vid, &oi, &n, &err) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (oi[i].role == role) {
			*ret = oi[i];
			found = true;
		}
	free(oi);
	return found;
}

static size_t count_all(struct qs_pool *p, const char *vid)
{
	struct qs_objinfo *oi = NULL;
	qstor_error err = { 0 };
	size_t n = 0;

	if (D->list(p, vid, &oi, &n, &err) < 0)
		return (size_t)-1;
	free(oi);
	return n;
}

/* ---- the checks ---- */

#define MiB (1024ULL * 1024)
#define KiB 1024ULL

static void test_names(struct qs_pool *p, const char *dir)
{
	char vid[256];
	qstor_error err = { 0 };
	int r;

	r = D->make_vid(p, "x", "root", false, vid, sizeof(vid), &err);
	CHECK_OK(r, err);
	CHECK(strcmp(vid, "appvms/x/root") == 0, "%s", vid);
	r = D->make_vid(p, "fedora", "root", true, vid, sizeof(vid), &err);
	CHECK_OK(r, err);
	CHECK(strcmp(vid, "vm-templates/fedora/root") == 0, "%s", vid);
	CHECK(D->make_vid(p, "x", "root-dirty", false, vid, sizeof(vid), &err) == -EINVAL);
	CHECK(D->make_vid(p, "a/b", "root", false, vid, sizeof(vid), &err) == -EINVAL);
	CHECK(D->make_vid(p, "..", "root", false, vid, sizeof(vid), &err) == -EINVAL);
	CHECK(D->make_vid(p, "x", "root", false, vid, 8, &err) == -ENAMETOOLONG);

	/* revision names: format and parse back */
	{
		static const int64_t times[] = { 0, 1700000000, 2000000000, 951782400 };
		static const char *const names[] = {
			"root.img.1@1970-01-01T00:00:00Z",
			"root.img.2@2023-11-14T22:13:20Z",
			"root.img.3@2033-05-18T03:33:20Z",
			"root.img.4@2000-02-29T00:00:00Z",
		};
		char *vd = xasprintf("%s/appvms/names", dir);

		for (size_t i = 0; i < 4; i++) {
			struct qs_obj a = O("appvms/names/root", QS_COMMITTED);
			struct qs_obj b = REV("appvms/names/root", i + 1, times[i]);
			char *want = xasprintf("%s/%s", vd, names[i]);

			r = D->create(p, &a, 4096, &err);
			CHECK_OK(r, err);
			r = D->rename(p, &a, &b, &err);
			CHECK_OK(r, err);
			CHECK(exists(want), "%s", want);
			free(want);
		}
		for (size_t i = 0; i < 4; i++) {
			struct qs_objinfo *oi = NULL;
			size_t n = 0;
			bool ok = false;

			r = D->list(p, "appvms/names/root", &oi, &n, &err);
			CHECK_OK(r, err);
			for (size_t j = 0; j < n; j++)
				if (oi[j].role == QS_REVISION && oi[j].rev_key == i + 1) {
					char id[8];

					snprintf(id, sizeof(id), "%zu", i + 1);
					ok = oi[j].rev_time == times[i] &&
					     strcmp(oi[j].rev_id, id) == 0 &&
					     oi[j].size == 4096 && !oi[j].active;
				}
			CHECK(ok, "revision %zu round trip", i + 1);
			free(oi);
		}
		/* a time with a fraction, and one we cannot read: still
		 * revisions, found again by their number */
		{
			char *f1 = xasprintf("%s/root.img.7@2024-01-02T03:04:05.123456Z", vd);
			char *f2 = xasprintf("%s/root.img.9@soonZ", vd);
			struct qs_objinfo *oi = NULL;
			size_t n = 0;
			int seen = 0;
			char path[4096];
			struct qs_obj r7 = REV("appvms/names/root", 7, 1704164645);
			struct qs_obj r9 = REV("appvms/names/root", 9, 0);

			touch(f1);
			touch(f2);
			r = D->list(p, "appvms/names/root", &oi, &n, &err);
			CHECK_OK(r, err);
			for (size_t j = 0; j < n; j++) {
				if (oi[j].role == QS_REVISION && oi[j].rev_key == 7 &&
				    oi[j].rev_time == 1704164645)
					seen |= 1;
				if (oi[j].role == QS_REVISION && oi[j].rev_key == 9 &&
				    oi[j].rev_time == 0)
					seen |= 2;
			}
			CHECK(seen == 3, "seen=%d", seen);
			free(oi);
			r = D->path(p, &r7, path, sizeof(path), &err);
			CHECK_OK(r, err);
			CHECK(strcmp(path, f1) == 0, "%s", path);
			r = D->remove(p, &r9, 1, &err);
			CHECK_OK(r, err);
			CHECK(!exists(f2));
			free(f1);
			free(f2);
		}
		/* remove everything: the VM directory goes with the last file */
		{
			struct qs_objinfo *oi = NULL;
			size_t n = 0;

			r = D->list(p, "appvms/names/root", &oi, &n, &err);
			CHECK_OK(r, err);
			CHECK(n == 5, "n=%zu", n);
			for (size_t j = 0; j < n; j++) {
				struct qs_obj o = REV("appvms/names/root", oi[j].rev_key,
						      oi[j].rev_time);

				o.role = oi[j].role;
				r = D->remove(p, &o, 1, &err);
				CHECK_OK(r, err);
			}
			free(oi);
			CHECK(!exists(vd), "%s still exists", vd);
		}
		free(vd);
	}
}

static void test_create_snapshot(struct qs_pool *p, const char *dir)
{
	qstor_error err = { 0 };
	struct qs_obj c = O("appvms/x/root", QS_COMMITTED);
	struct qs_obj run = O("appvms/x/root", QS_RUNNING);
	struct qs_obj objs[2] = { c, run };
	struct qs_usage u[2];
	uint64_t set_excl = 99;
	char *img = xasprintf("%s/appvms/x/root.img", dir);
	char *dirty = xasprintf("%s/appvms/x/root-dirty.img", dir);
	char path[4096];
	char *buf = malloc(MiB);
	struct stat st;
	int r;

	r = D->create(p, &c, 16 * MiB, &err);
	CHECK_OK(r, err);
	CHECK(stat(img, &st) == 0 && (uint64_t)st.st_size == 16 * MiB &&
	      (st.st_mode & 07777) == 0600 && st.st_blocks == 0,
	      "size=%jd mode=%o blocks=%jd", (intmax_t)st.st_size, st.st_mode & 07777,
	      (intmax_t)st.st_blocks);
	{
		char *vmdir = xasprintf("%s/appvms/x", dir);

		CHECK(stat(vmdir, &st) == 0 && S_ISDIR(st.st_mode) &&
		      (st.st_mode & 07777) == 0700);
		free(vmdir);
	}
	r = D->create(p, &c, MiB, &err);
	CHECK(r == -EEXIST && err.code == -EEXIST && strstr(err.msg, img) &&
	      strncmp(err.msg, "cannot create '", 15) == 0, "r=%d msg='%s'", r, err.msg);
	CHECK(count_all(p, "appvms/x/root") == 1);

	r = D->path(p, &c, path, sizeof(path), &err);
	CHECK_OK(r, err);
	CHECK(strcmp(path, img) == 0, "%s", path);
	CHECK(D->path(p, &run, path, sizeof(path), &err) == -ENOENT);

	/* 2 MiB of data: committed maps exactly that, all its own */
	fill(buf, MiB, 1);
	CHECK(write_at(img, 0, buf, MiB) == 0);
	fill(buf, MiB, 2);
	CHECK(write_at(img, 8 * MiB, buf, MiB) == 0);
	r = D->usage(p, &c, 1, u, &set_excl, &err);
	CHECK_OK(r, err);
	CHECK(u[0].mapped == 2 * MiB && u[0].exclusive == 2 * MiB && set_excl == 2 * MiB,
	      "mapped=%" PRIu64 " excl=%" PRIu64 " set=%" PRIu64, u[0].mapped,
	      u[0].exclusive, set_excl);

	/* snapshot: same content, every extent shared */
	r = D->snapshot(p, &c, &run, &err);
	CHECK_OK(r, err);
	CHECK(same_content(img, dirty));
	CHECK(stat(dirty, &st) == 0 && (st.st_mode & 07777) == 0600);
	r = D->usage(p, objs, 2, u, &set_excl, &err);
	CHECK_OK(r, err);
	CHECK(u[0].mapped == 2 * MiB && u[1].mapped == 2 * MiB && u[0].exclusive == 0 &&
	      u[1].exclusive == 0 && set_excl == 0,
	      "mapped=%" PRIu64 "/%" PRIu64 " excl=%" PRIu64 "/%" PRIu64 " set=%" PRIu64,
	      u[0].mapped, u[1].mapped, u[0].exclusive, u[1].exclusive, set_excl);

	/* a write to the copy is its own; the original keeps the old block
	 * (XFS: now unshared; btrfs: the old extent stays referenced by the
	 * copy's other blocks, so still shared) */
	fill(buf, 64 * KiB, 3);
	CHECK(write_at(dirty, 128 * KiB, buf, 64 * KiB) == 0);
	r = D->usage(p, objs, 2, u, &set_excl, &err);
	CHECK_OK(r, err);
	CHECK(u[1].mapped == 2 * MiB && u[1].exclusive == 64 * KiB &&
	      u[0].exclusive <= 64 * KiB && set_excl == u[0].exclusive + u[1].exclusive,
	      "excl=%" PRIu64 "/%" PRIu64 " set=%" PRIu64, u[0].exclusive,
	      u[1].exclusive, set_excl);
	CHECK(!same_content(img, dirty));
	/* the same object twice is counted once in the set */
	{
		struct qs_obj two[2] = { run, run };

		r = D->usage(p, two, 2, u, &set_excl, &err);
		CHECK(r == 0 && set_excl == 64 * KiB, "set=%" PRIu64, set_excl);
	}

	/* refusals leave nothing behind */
	r = D->snapshot(p, &c, &run, &err);
	CHECK(r == -EEXIST, "r=%d", r);
	{
		struct qs_obj nope = O("appvms/x/nope", QS_COMMITTED);
		struct qs_obj nope2 = O("appvms/x/nope2", QS_COMMITTED);

		r = D->snapshot(p, &nope, &nope2, &err);
		CHECK(r == -ENOENT && strstr(err.msg, "nope.img"), "r=%d msg='%s'", r,
		      err.msg);
	}
	{
		char *d = xasprintf("%s/appvms/x/adir.img", dir);
		struct qs_obj adir = O("appvms/x/adir", QS_COMMITTED);
		struct qs_obj adir2 = O("appvms/x/adir", QS_RUNNING);

		mkdir(d, 0700);
		r = D->snapshot(p, &adir, &adir2, &err);
		CHECK(r == -EINVAL && strstr(err.msg, "not a regular file"), "r=%d msg='%s'",
		      r, err.msg);
		CHECK(count_all(p, "appvms/x/adir") == 0);
		rmdir(d);
		free(d);
	}
	CHECK(count_role(p, "appvms/x/root", QS_TMP) == 0);

	/* from another VM's file: the destination's directory is made */
	{
		struct qs_obj dst = O("appvms/app1/root", QS_RUNNING);
		char *f = xasprintf("%s/appvms/app1/root-dirty.img", dir);

		r = D->snapshot(p, &c, &dst, &err);
		CHECK_OK(r, err);
		CHECK(same_content(img, f));
		free(f);
	}

	/* commit as the core does: committed -> revision, running -> committed */
	{
		struct qs_obj rev = REV("appvms/x/root", 1, 1700000000);
		char *f = xasprintf("%s/appvms/x/root.img.1@2023-11-14T22:13:20Z", dir);
		struct qs_objinfo oi;

		r = D->rename(p, &c, &rev, &err);
		CHECK_OK(r, err);
		CHECK(exists(f) && !exists(img));
		r = D->rename(p, &run, &c, &err);
		CHECK_OK(r, err);
		CHECK(exists(img) && !exists(dirty));
		r = D->rename(p, &run, &c, &err);
		CHECK(r == -ENOENT && strstr(err.msg, "root-dirty.img"), "r=%d msg='%s'", r,
		      err.msg);
		r = D->create(p, &run, MiB, &err);
		CHECK_OK(r, err);
		r = D->rename(p, &run, &c, &err);
		CHECK(r == -EEXIST && exists(dirty), "r=%d", r);
		r = D->remove(p, &run, 1, &err);
		CHECK_OK(r, err);
		CHECK(!exists(dirty));
		CHECK(find_obj(p, "appvms/x/root", QS_REVISION, &oi) && oi.rev_key == 1 &&
		      oi.rev_time == 1700000000 && strcmp(oi.rev_id, "1") == 0);
		free(f);
	}
	free(buf);
	free(img);
	free(dirty);
}

static void test_tmp_and_neighbours(struct qs_pool *p, const char *dir)
{
	qstor_error err = { 0 };
	static const char *const root_tmps[] = {
		"root.img.3@2024-01-01T00:00:00Z~abc", "root-dirty.img~", "root.img~Qx1",
	};
	static const char *const strangers[] = {
		"root2.img", "root2.img~q", "rootx.img", "root.imgx", "root-dirty.imgx",
		"root.img.x@2024-01-01T00:00:00Z", "root~x", "root.img.5@2024", "xroot.img",
	};
	struct qs_obj tmp = O("appvms/x/root", QS_TMP);
	struct qs_obj root2 = O("appvms/x/root2", QS_COMMITTED);
	struct qs_obj xroot = O("appvms/x-root/root", QS_COMMITTED);
	size_t before = count_all(p, "appvms/x/root");
	char *pt = xasprintf("%s/appvms/x/private.img~xyz", dir);
	char *ourtmp = xasprintf("%s/appvms/x/root.img~tmp", dir);
	int r;

	touch(pt);
	CHECK(count_role(p, "appvms/x/private", QS_TMP) == 1);
	CHECK(count_all(p, "appvms/x/private") == 1);

	r = D->create(p, &tmp, 4096, &err);
	CHECK_OK(r, err);
	CHECK(exists(ourtmp));
	for (size_t i = 0; i < ARRAY_SIZE(root_tmps); i++) {
		char *f = xasprintf("%s/appvms/x/%s", dir, root_tmps[i]);

		touch(f);
		free(f);
	}
	for (size_t i = 0; i < ARRAY_SIZE(strangers); i++) {
		char *f = xasprintf("%s/appvms/x/%s", dir, strangers[i]);

		touch(f);
		free(f);
	}
	r = D->create(p, &root2, MiB, &err);
	CHECK(r == -EEXIST, "root2.img was touched: r=%d", r);
	r = D->create(p, &xroot, MiB, &err);
	CHECK_OK(r, err);
	CHECK(count_role(p, "appvms/x/root", QS_TMP) == 4);
	CHECK(count_all(p, "appvms/x/root") == before + 4, "n=%zu before=%zu",
	      count_all(p, "appvms/x/root"), before);
	CHECK(count_all(p, "appvms/x-root/root") == 1);
	CHECK(count_role(p, "appvms/x/root2", QS_COMMITTED) == 1);
	CHECK(count_role(p, "appvms/x/root2", QS_TMP) == 1);

	/* removing TMP removes every temporary of root, nobody else's */
	r = D->remove(p, &tmp, 1, &err);
	CHECK_OK(r, err);
	CHECK(count_role(p, "appvms/x/root", QS_TMP) == 0);
	CHECK(count_all(p, "appvms/x/root") == before);
	CHECK(exists(pt));
	for (size_t i = 0; i < ARRAY_SIZE(strangers); i++) {
		char *f = xasprintf("%s/appvms/x/%s", dir, strangers[i]);

		CHECK(exists(f), "%s removed", f);
		if (i > 0)  /* root2.img stays, as volume root2's committed state */
			unlink(f);
		free(f);
	}
	unlink(pt);
	r = D->remove(p, &xroot, 1, &err);
	CHECK_OK(r, err);
	{
		char *d = xasprintf("%s/appvms/x-root", dir);

		CHECK(!exists(d));
		free(d);
	}
	free(pt);
	free(ourtmp);
}

static void test_loop(struct qs_pool *p, const char *dir)
{
	qstor_error err = { 0 };
	struct qs_obj c = O("appvms/x/root", QS_COMMITTED);
	struct qs_obj run = O("appvms/app1/root", QS_RUNNING);
	char *img = xasprintf("%s/appvms/x/root.img", dir);
	char *dirty = xasprintf("%s/appvms/app1/root-dirty.img", dir);
	char dev[64], dev2[64], rwdev[64];
	char *a = malloc(MiB), *b = malloc(MiB);
	struct qs_objinfo oi;
	struct stat st;
	int r, fd;

	/* read-only */
	r = D->activate(p, &c, false, dev, sizeof(dev), &err);
	CHECK_OK(r, err);
	CHECK(strncmp(dev, "/dev/loop", 9) == 0 && stat(dev, &st) == 0 &&
	      S_ISBLK(st.st_mode), "%s", dev);
	{
		int ro = 0;

		fd = open(dev, O_RDONLY | O_CLOEXEC);
		CHECK(fd >= 0 && ioctl(fd, BLKROGET, &ro) == 0 && ro == 1, "ro=%d", ro);
		if (fd >= 0)
			close(fd);
		/* the kernel lets a read-only disk be opened for writing and
		 * refuses the write itself */
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			memset(a, 0, 4096);
			CHECK(pwrite(fd, a, 4096, 0) < 0 && errno == EPERM);
			close(fd);
		} else {
			CHECK(errno == EACCES || errno == EROFS, "errno=%d", errno);
		}
	}
	CHECK(dev_size(dev) == 16 * MiB);
	CHECK(read_at(dev, 0, a, MiB, true) == 0 && read_at(img, 0, b, MiB, false) == 0 &&
	      memcmp(a, b, MiB) == 0);
	CHECK(sysfs_loop_int(dev, "loop/autoclear") == 0);
	CHECK(sysfs_loop_int(dev, "loop/dio") == 1, "dio=%d", sysfs_loop_int(dev, "loop/dio"));
	CHECK(find_obj(p, "appvms/x/root", QS_COMMITTED, &oi) && oi.active);
	CHECK(find_obj(p, "appvms/x/root", QS_REVISION, &oi) && !oi.active);

	r = D->activate(p, &c, false, dev2, sizeof(dev2), &err);
	CHECK(r == 0 && strcmp(dev, dev2) == 0, "idempotent: %s vs %s", dev, dev2);
	r = D->activate(p, &c, true, dev2, sizeof(dev2), &err);
	CHECK(r == -EBUSY && strstr(err.msg, "read-only"), "r=%d msg='%s'", r, err.msg);

	r = D->deactivate(p, &c, &err);
	CHECK_OK(r, err);
	CHECK(!loop_attached(dev), "%s still attached", dev);
	CHECK(find_obj(p, "appvms/x/root", QS_COMMITTED, &oi) && !oi.active);
	r = D->deactivate(p, &c, &err);
	CHECK_OK(r, err);

	/* read-write: what the VM writes is in the file */
	r = D->activate(p, &run, true, rwdev, sizeof(rwdev), &err);
	CHECK_OK(r, err);
	fill(a, 64 * KiB, 9);
	CHECK(write_direct(rwdev, 4 * MiB, a, 64 * KiB) == 0);
	CHECK(read_at(dirty, 4 * MiB, b, 64 * KiB, true) == 0 && memcmp(a, b, 64 * KiB) == 0);
	CHECK(sysfs_loop_int(rwdev, "ro") == 0);

	/* grow and shrink while active: the device follows */
	r = D->resize(p, &run, 40 * MiB, &err);
	CHECK_OK(r, err);
	CHECK(stat(dirty, &st) == 0 && (uint64_t)st.st_size == 40 * MiB);
	CHECK(dev_size(rwdev) == 40 * MiB, "dev size %" PRIu64, dev_size(rwdev));
	r = D->resize(p, &run, 24 * MiB, &err);
	CHECK_OK(r, err);
	CHECK(dev_size(rwdev) == 24 * MiB, "dev size %" PRIu64, dev_size(rwdev));
	CHECK(read_at(rwdev, 4 * MiB, b, 64 * KiB, true) == 0 && memcmp(a, b, 64 * KiB) == 0);

	/* remove detaches, and the emptied VM directory goes */
	r = D->remove(p, &run, 1, &err);
	CHECK_OK(r, err);
	CHECK(!loop_attached(rwdev), "%s still attached", rwdev);
	CHECK(!exists(dirty));
	{
		char *d = xasprintf("%s/appvms/app1", dir);

		CHECK(!exists(d));
		free(d);
	}
	r = D->remove(p, &run, 1, &err);
	CHECK_OK(r, err);
	CHECK(D->activate(p, &run, true, rwdev, sizeof(rwdev), &err) == -ENOENT);

	/* a resize of an inactive object, and its refusal when absent */
	r = D->resize(p, &c, 20 * MiB, &err);
	CHECK_OK(r, err);
	CHECK(stat(img, &st) == 0 && (uint64_t)st.st_size == 20 * MiB);
	CHECK(D->resize(p, &run, MiB, &err) == -ENOENT);

	free(a);
	free(b);
	free(img);
	free(dirty);
}

/* Like losetup -f: GET_FREE + CONFIGURE without our lock, retrying on
 * EBUSY. Returns the device number or -errno. */
static int foreign_attach(const char *file)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int fd = open(file, O_RDWR | O_CLOEXEC), r = -EBUSY;

	for (int i = 0; i < 64 && ctl >= 0 && fd >= 0 && r == -EBUSY; i++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		char dev[32];
		struct loop_config cfg = { .fd = (unsigned)fd };
		int lfd;

		if (nr < 0) {
			r = -errno;
			break;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			continue;
		r = ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : nr;
		close(lfd);
	}
	if (ctl >= 0)
		close(ctl);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Several qstor processes and several foreign attachers at once: each file
 * gets its own device, which really backs it. */
static void test_parallel_attach(struct qs_pool *p, const char *dir)
{
	enum { N = 6 };
	qstor_error err = { 0 };
	char vids[2 * N][64];
	pid_t pids[2 * N];
	int pipes[2 * N][2], nrs[2 * N];
	int r;

	for (int i = 0; i < 2 * N; i++) {
		struct qs_obj o;

		snprintf(vids[i], sizeof(vids[i]), "appvms/par/v%d", i);
		o = O(vids[i], QS_COMMITTED);
		r = D->create(p, &o, MiB, &err);
		CHECK_OK(r, err);
	}
	for (int i = 0; i < 2 * N; i++) {
		if (pipe(pipes[i]) < 0)
			abort();
		pids[i] = fork();
		if (pids[i] == 0) {
			int nr = -1;

			if (i < N) {
				struct tpool t;
				qstor_error e;
				struct qs_obj o = O(vids[i], QS_COMMITTED);
				char dev[64];

				if (tpool_open(&t, dir, NULL, false, &e) == 0 &&
				    D->activate(&t.pool, &o, true, dev, sizeof(dev), &e) == 0)
					nr = atoi(dev + 9);
				else
					fprintf(stderr, "child %d: %s\n", i, e.msg);
			} else {
				char *f = xasprintf("%s/%s.img", dir, vids[i]);

				nr = foreign_attach(f);
			}
			if (write(pipes[i][1], &nr, sizeof(nr)) != sizeof(nr))
				_exit(2);
			_exit(0);
		}
		close(pipes[i][1]);
	}
	for (int i = 0; i < 2 * N; i++) {
		int st;

		nrs[i] = -1;
		if (read(pipes[i][0], &nrs[i], sizeof(nrs[i])) != sizeof(nrs[i]))
			nrs[i] = -1;
		close(pipes[i][0]);
		waitpid(pids[i], &st, 0);
	}
	for (int i = 0; i < 2 * N; i++) {
		struct qs_objinfo oi;
		bool distinct = nrs[i] >= 0;

		for (int j = 0; j < i; j++)
			distinct = distinct && nrs[j] != nrs[i];
		CHECK(distinct, "attacher %d got loop%d", i, nrs[i]);
		CHECK(find_obj(p, vids[i], QS_COMMITTED, &oi) && oi.active, "%s", vids[i]);
		/* idempotent across processes: the same device comes back */
		if (i < N) {
			struct qs_obj o = O(vids[i], QS_COMMITTED);
			char dev[64], want[64];

			snprintf(want, sizeof(want), "/dev/loop%d", nrs[i]);
			r = D->activate(p, &o, true, dev, sizeof(dev), &err);
			CHECK(r == 0 && strcmp(dev, want) == 0, "%s vs %s", dev, want);
		}
	}
	for (int i = 0; i < 2 * N; i++) {
		struct qs_obj o = O(vids[i], QS_COMMITTED);
		char dev[32];

		r = D->remove(p, &o, 1, &err);
		CHECK_OK(r, err);
		snprintf(dev, sizeof(dev), "/dev/loop%d", nrs[i]);
		CHECK(nrs[i] < 0 || !loop_attached(dev), "%s still attached", dev);
	}
	CHECK(count_all(p, "appvms/par/v0") == 0);
}

static void test_cleanup(struct qs_pool *p, const char *dir)
{
	qstor_error err = { 0 };
	static const char *const vids[] = { "appvms/x/root", "appvms/x/root2" };
	struct qs_pool_usage pu;
	char *vmdir = xasprintf("%s/appvms/x", dir);
	char *appvms = xasprintf("%s/appvms", dir);
	int r;

	r = D->pool_usage(p, &pu, &err);
	CHECK_OK(r, err);
	CHECK(pu.data_size > 0 && pu.data_used > 0 && pu.data_used <= pu.data_size &&
	      pu.meta_size == 0 && pu.meta_used == 0);

	for (size_t v = 0; v < ARRAY_SIZE(vids); v++) {
		struct qs_objinfo *oi = NULL;
		struct qs_obj *objs;
		size_t n = 0;

		r = D->list(p, vids[v], &oi, &n, &err);
		CHECK_OK(r, err);
		objs = calloc(n + 1, sizeof(*objs));
		for (size_t i = 0; i < n; i++)
			objs[i] = (struct qs_obj){ vids[v], oi[i].role, oi[i].rev_key,
						   oi[i].rev_time };
		r = D->remove(p, objs, n, &err);
		CHECK_OK(r, err);
		CHECK(count_all(p, vids[v]) == 0);
		CHECK(exists(vmdir) == (v == 0), "vm dir after %s", vids[v]);
		free(objs);
		free(oi);
	}
	CHECK(exists(appvms));
	free(vmdir);
	free(appvms);
}

static void test_reopen(const char *dir)
{
	struct tpool t;
	qstor_error err;
	struct qs_obj c = O("vm-templates/t/root", QS_COMMITTED);
	struct qs_obj r1 = O("vm-templates/t/root", QS_RUNNING);
	int r = tpool_open(&t, dir, NULL, false, &err);

	CHECK_OK(r, err);
	r = D->create(&t.pool, &c, MiB, &err);
	CHECK_OK(r, err);
	r = D->snapshot(&t.pool, &c, &r1, &err);
	CHECK_OK(r, err);
	{
		struct qs_obj both[2] = { c, r1 };

		r = D->remove(&t.pool, both, 2, &err);
		CHECK_OK(r, err);
	}
	tpool_close(&t);
}

static void bench(struct qs_pool *p, const char *dir)
{
	qstor_error err = { 0 };
	struct qs_obj c = O("appvms/bench/private", QS_COMMITTED);
	struct qs_obj s = O("appvms/bench/private", QS_PRECACHE);
	struct qs_obj both[2] = { c, s };
	char *img = xasprintf("%s/appvms/bench/private.img", dir);
	const unsigned nblk = 10000;
	char blk[4096];
	struct qs_usage u[2];
	uint64_t m, e, extents = 0, set;
	double t0, t_write, t_walk1, t_clone, t_walk2;
	int r, fd;

	r = D->create(p, &c, 2ULL * nblk * 4096, &err);
	CHECK_OK(r, err);
	t0 = now();
	fd = open(img, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	for (unsigned i = 0; i < nblk && fd >= 0; i++) {
		fill(blk, sizeof(blk), i);
		if (pwrite(fd, blk, sizeof(blk), 2ULL * i * 4096) != (ssize_t)sizeof(blk))
			break;
	}
	CHECK(fd >= 0 && fsync(fd) == 0);
	if (fd >= 0)
		close(fd);
	t_write = now() - t0;
	fd = open(img, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && qs_rf_file_usage(fd, 2ULL * nblk * 4096, &m, &e, &extents) == 0);
	if (fd >= 0)
		close(fd);
	CHECK(extents == nblk, "extents=%" PRIu64, extents);

	t0 = now();
	r = D->usage(p, &c, 1, u, &set, &err);
	t_walk1 = now() - t0;
	CHECK_OK(r, err);
	CHECK(u[0].mapped == nblk * 4096ULL && u[0].exclusive == nblk * 4096ULL);

	t0 = now();
	r = D->snapshot(p, &c, &s, &err);
	t_clone = now() - t0;
	CHECK_OK(r, err);

	t0 = now();
	r = D->usage(p, both, 2, u, &set, &err);
	t_walk2 = now() - t0;
	CHECK_OK(r, err);
	CHECK(u[0].mapped == nblk * 4096ULL && u[1].mapped == nblk * 4096ULL &&
	      u[0].exclusive == 0 && u[1].exclusive == 0);

	printf("[%s] %u extents: write+fsync %.3f s, FIEMAP walk (unshared) %.1f ms, "
	       "snapshot (FICLONE+fsync+rename) %.1f ms, FIEMAP walk of 2 files "
	       "(shared) %.1f ms\n", fs_label, nblk, t_write, t_walk1 * 1e3,
	       t_clone * 1e3, t_walk2 * 1e3);
	r = D->remove(p, both, 2, &err);
	CHECK_OK(r, err);
	free(img);
}

static void run_reflink_fs(const char *mnt)
{
	struct statfs sfs;
	struct tpool t;
	qstor_error err;
	char *dir = xasprintf("%s/pool", mnt);
	struct stat st;
	int r;

	fs_label = statfs(mnt, &sfs) == 0 && sfs.f_type == 0x58465342 ? "xfs" :
		   sfs.f_type == 0x9123683E ? "btrfs" : mnt;
	mkdir(dir, 0755);

	/* trailing slash tolerated; the skeleton is made */
	{
		char *slash = xasprintf("%s//", dir);

		r = tpool_open(&t, slash, "yes", true, &err);
		CHECK_OK(r, err);
		free(slash);
	}
	for (int i = 0; i < 2; i++) {
		char *s = xasprintf("%s/%s", dir, i ? "vm-templates" : "appvms");

		CHECK(stat(s, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
		free(s);
	}
	test_names(&t.pool, dir);
	test_create_snapshot(&t.pool, dir);
	test_tmp_and_neighbours(&t.pool, dir);
	test_loop(&t.pool, dir);
	test_parallel_attach(&t.pool, dir);
	test_cleanup(&t.pool, dir);
	test_reopen(dir);
	bench(&t.pool, dir);
	tpool_close(&t);
	free(dir);
}

static void run_no_reflink(const char *tdir)
{
	struct tpool t;
	qstor_error err;
	char *appvms = xasprintf("%s/appvms", tdir);
	char *missing = xasprintf("%s/missing", tdir);
	char *file = xasprintf("%s/afile", tdir);
	int r;

	fs_label = "no-reflink";
	/* refused, naming the directory, and nothing is created */
	r = tpool_open(&t, tdir, NULL, true, &err);
	CHECK(r == -EOPNOTSUPP && strstr(err.msg, tdir) && strstr(err.msg, "reflink"),
	      "r=%d msg='%s'", r, err.msg);
	CHECK(!exists(appvms));
	tpool_close(&t);

	r = tpool_open(&t, missing, NULL, true, &err);
	CHECK(r == -ENOENT && strstr(err.msg, missing), "r=%d msg='%s'", r, err.msg);
	CHECK(!exists(missing));
	tpool_close(&t);
	touch(file);
	r = tpool_open(&t, file, "no", true, &err);
	CHECK(r == -ENOTDIR && strstr(err.msg, file), "r=%d msg='%s'", r, err.msg);
	tpool_close(&t);
	r = tpool_open(&t, NULL, NULL, true, &err);
	CHECK(r == -EINVAL && strstr(err.msg, "dir_path"), "r=%d msg='%s'", r, err.msg);
	tpool_close(&t);
	r = tpool_open(&t, tdir, "maybe", true, &err);
	CHECK(r == -EINVAL && strstr(err.msg, "maybe"), "r=%d msg='%s'", r, err.msg);
	tpool_close(&t);
	r = tpool_open(&t, "relative/dir", NULL, false, &err);
	CHECK(r == -EINVAL && strstr(err.msg, "relative/dir"), "r=%d msg='%s'", r, err.msg);
	tpool_close(&t);

	/* an already-open pool (setup=false) that meets no reflinks at the
	 * first snapshot refuses too, and leaves no temporary */
	r = tpool_open(&t, tdir, NULL, false, &err);
	CHECK_OK(r, err);
	{
		struct qs_obj c = O("appvms/v/private", QS_COMMITTED);
		struct qs_obj s = O("appvms/v/private", QS_RUNNING);

		r = D->create(&t.pool, &c, MiB, &err);
		CHECK_OK(r, err);
		r = D->snapshot(&t.pool, &c, &s, &err);
		CHECK(r == -EOPNOTSUPP && strstr(err.msg, "reflinks"), "r=%d msg='%s'", r,
		      err.msg);
		CHECK(count_all(&t.pool, "appvms/v/private") == 1);
		r = D->remove(&t.pool, &c, 1, &err);
		CHECK_OK(r, err);
	}
	tpool_close(&t);

	/* setup_check=no: accepted, and snapshots are sparse copies */
	r = tpool_open(&t, tdir, "no", true, &err);
	CHECK_OK(r, err);
	CHECK(exists(appvms));
	{
		struct qs_obj c = O("appvms/v/private", QS_COMMITTED);
		struct qs_obj s = O("appvms/v/private", QS_RUNNING);
		char *img = xasprintf("%s/appvms/v/private.img", tdir);
		char *dirty = xasprintf("%s/appvms/v/private-dirty.img", tdir);
		char *buf = malloc(MiB);
		struct stat st;

		r = D->create(&t.pool, &c, 64 * MiB, &err);
		CHECK_OK(r, err);
		fill(buf, MiB, 5);
		CHECK(write_at(img, 32 * MiB, buf, MiB) == 0);
		r = D->snapshot(&t.pool, &c, &s, &err);
		CHECK_OK(r, err);
		CHECK(same_content(img, dirty));
		CHECK(stat(dirty, &st) == 0 && (uint64_t)st.st_size == 64 * MiB &&
		      (uint64_t)st.st_blocks * 512 <= 2 * MiB,
		      "blocks=%jd", (intmax_t)st.st_blocks);
		{
			struct qs_obj both[2] = { c, s };

			r = D->remove(&t.pool, both, 2, &err);
			CHECK_OK(r, err);
		}
		free(buf);
		free(img);
		free(dirty);
	}
	tpool_close(&t);
	unlink(file);
	free(appvms);
	free(missing);
	free(file);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s NO_REFLINK_DIR REFLINK_MNT...\n", argv[0]);
		return 2;
	}
	run_no_reflink(argv[1]);
	for (int i = 2; i < argc; i++)
		run_reflink_fs(argv[i]);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
