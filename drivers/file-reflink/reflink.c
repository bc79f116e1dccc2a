/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reflink.c - the file-reflink driver: volumes are files in a directory on
 * a filesystem with reflinks (XFS, btrfs), laid out exactly like Qubes OS'
 * file-reflink pools so that existing pools read correctly:
 *
 *   DIR/appvms/NAME/VOL...         (vm-templates/NAME/VOL... for templates)
 *   VOL.img                        committed
 *   VOL-dirty.img                  running copy
 *   VOL-import.img                 import in flight
 *   VOL-precache.img               next running copy, prepared at stop
 *   VOL.img.<N>@<YYYY-MM-DDTHH:MM:SSZ>  revision N
 *   <any of the above>~<anything>  temporary (ours: VOL.img~tmp, X~XXXXXX)
 *
 * Snapshots are FICLONE, running objects are loop devices (loop.c), usage
 * comes from extent maps (fileio.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/fiemap.h>

#include "driver.h"
#include "internal.h"
#include "fileio.h"
#include "loop.h"

struct rf_pool {
	char *dir;          /* dir_path: absolute, no trailing '/' */
	bool setup_check;   /* refuse a filesystem without reflinks */
	int reflink;        /* 1 yes, 0 no (sparse copies), -1 not probed yet */
};

static const char *const rf_options[] = { "dir_path", "setup_check", NULL };
static const char *const rf_required[] = { "dir_path", NULL };

static struct rf_pool *rf(struct qs_pool *pool)
{
	return pool->priv;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))

/* ---- names ---- */

/* vid: "appvms/NAME/VOL" relative to dir_path. Refuse what could escape
 * the pool directory (the catalog is ours, but a path is built from it). */
static int check_vid(const char *vid)
{
	const char *p = vid;

	if (!vid || !*vid || *vid == '/' || !strchr(vid, '/'))
		return -EINVAL;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		p += n;
		if (*p == '/')
			p++;
		else
			break;
	}
	return vid[strlen(vid) - 1] == '/' ? -EINVAL : 0;
}

static const char *vid_vol(const char *vid)
{
	return strrchr(vid, '/') + 1;
}

static int fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -EOVERFLOW;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.frac]Z" -> unix time; what Qubes writes is
 * isoformat() of an integer time plus 'Z', the fraction is tolerated. */
static int parse_time(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	int n = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || !n)
		return -EINVAL;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (strcmp(s, "Z") != 0)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = t;
	return 0;
}

static const struct {
	enum qs_role role;
	const char *suffix;
} plain_suffixes[] = {
	{ QS_COMMITTED, ".img" },
	{ QS_RUNNING, "-dirty.img" },
	{ QS_IMPORT, "-import.img" },
	{ QS_PRECACHE, "-precache.img" },
};

/* Role of file name (n bytes) among vol's objects, temporaries aside.
 * 0 and *ret filled if it is one, -1 if not. */
static int classify_plain(const char *vol, const char *name, size_t n,
			  struct qs_objinfo *ret)
{
	size_t vl = strlen(vol);
	const char *rest = name + vl, *at;
	char *end, tbuf[64];
	unsigned long long key;

	if (n <= vl || strncmp(name, vol, vl) != 0)
		return -1;
	n -= vl;
	for (size_t i = 0; i < ARRAY_SIZE(plain_suffixes); i++)
		if (strlen(plain_suffixes[i].suffix) == n &&
		    memcmp(rest, plain_suffixes[i].suffix, n) == 0) {
			ret->role = plain_suffixes[i].role;
			return 0;
		}

	/* VOL.img.<N>@<time>Z, as Qubes' glob 'VOL.img.*@*Z' + int(N) */
	if (n < 8 || memcmp(rest, ".img.", 5) != 0 || rest[n - 1] != 'Z')
		return -1;
	rest += 5;
	n -= 5;
	at = memchr(rest, '@', n);
	if (!at || at == rest || (size_t)(at - rest) > 20)
		return -1;
	for (const char *p = rest; p < at; p++)
		if (*p < '0' || *p > '9')
			return -1;
	errno = 0;
	key = strtoull(rest, &end, 10);
	if (errno || end != at)
		return -1;
	ret->role = QS_REVISION;
	ret->rev_key = key;
	snprintf(ret->rev_id, sizeof(ret->rev_id), "%llu", key);
	n -= (size_t)(at + 1 - rest);
	ret->rev_time = 0;  /* a name we cannot read is still a revision */
	if (n < sizeof(tbuf)) {
		memcpy(tbuf, at + 1, n);
		tbuf[n] = '\0';
		(void)parse_time(tbuf, &ret->rev_time);
	}
	return 0;
}

/* Role of directory entry name among vol's objects, -1 if not one of
 * them. A temporary is "<one of vol's object names>~<anything>": parsed
 * exactly, so "root2.img~x" is not a temporary of volume "root". */
static int classify(const char *vol, const char *name, struct qs_objinfo *ret)
{
	const char *tilde = strchr(name, '~');

	memset(ret, 0, sizeof(*ret));
	if (!tilde)
		return classify_plain(vol, name, strlen(name), ret);
	if (classify_plain(vol, name, (size_t)(tilde - name), ret) < 0)
		return -1;
	memset(ret, 0, sizeof(*ret));
	ret->role = QS_TMP;
	return 0;
}

/* The file name of obj (not the path). */
static int obj_name(const struct qs_obj *obj, char *buf, size_t len)
{
	const char *vol = vid_vol(obj->vid);
	char t[64];
	int n;

	switch (obj->role) {
	case QS_COMMITTED:
		n = snprintf(buf, len, "%s.img", vol);
		break;
	case QS_RUNNING:
		n = snprintf(buf, len, "%s-dirty.img", vol);
		break;
	case QS_IMPORT:
		n = snprintf(buf, len, "%s-import.img", vol);
		break;
	case QS_PRECACHE:
		n = snprintf(buf, len, "%s-precache.img", vol);
		break;
	case QS_REVISION:
		if (fmt_time(obj->rev_time, t, sizeof(t)) < 0)
			return -EOVERFLOW;
		n = snprintf(buf, len, "%s.img.%llu@%s", vol,
			     (unsigned long long)obj->rev_key, t);
		break;
	case QS_TMP:
		n = snprintf(buf, len, "%s.img~tmp", vol);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* DIR/appvms/NAME: the directory holding vid's files */
static int vid_dir(struct qs_pool *pool, const char *vid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%.*s", rf(pool)->dir,
			 (int)(vid_vol(vid) - 1 - vid), vid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The path obj has, or gets when created. */
static int obj_path(struct qs_pool *pool, const struct qs_obj *obj, char *buf,
		    size_t len)
{
	char name[NAME_MAX + 1];
	int r, n;

	if (!rf(pool)->dir)
		return -EBADF;  /* pool not opened */
	r = check_vid(obj->vid);
	if (r < 0)
		return r;
	r = obj_name(obj, name, sizeof(name));
	if (r < 0)
		return r;
	n = snprintf(buf, len, "%s/%.*s/%s", rf(pool)->dir,
		     (int)(vid_vol(obj->vid) - 1 - obj->vid), obj->vid, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The path of an existing obj. A revision is found by its key when its
 * time is written differently from ours (fractional seconds, or a time
 * we cannot read): Qubes only ever looks revisions up by number. If none
 * matches, buf holds the canonical path (which does not exist). */
static int obj_find(struct qs_pool *pool, const struct qs_obj *obj, char *buf,
		    size_t len)
{
	_cleanup_closedir_ DIR *d = NULL;
	char dir[PATH_MAX];
	const char *vol;
	struct dirent *de;
	struct stat st;
	int r = obj_path(pool, obj, buf, len);

	if (r < 0 || obj->role != QS_REVISION || lstat(buf, &st) == 0)
		return r;
	r = vid_dir(pool, obj->vid, dir, sizeof(dir));
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return 0;
	vol = vid_vol(obj->vid);
	while ((de = readdir(d))) {
		struct qs_objinfo oi;
		int n;

		if (classify(vol, de->d_name, &oi) < 0 || oi.role != QS_REVISION ||
		    oi.rev_key != obj->rev_key)
			continue;
		n = snprintf(buf, len, "%s/%s", dir, de->d_name);
		return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
	}
	return 0;
}

/* Create the directories of vid below dir_path (0700), never dir_path
 * itself: a missing dir_path is an unmounted filesystem, not ours to make. */
static int make_vid_dir(struct qs_pool *pool, const char *vid)
{
	char path[PATH_MAX];
	size_t base, end;
	int r = vid_dir(pool, vid, path, sizeof(path));

	if (r < 0)
		return r;
	base = strlen(rf(pool)->dir);
	end = strlen(path);
	for (size_t i = base + 1; i <= end; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) == 0) {
			r = qs_rf_fsync_parent(path);
			if (r < 0)
				return r;
		} else if (errno != EEXIST) {
			return -errno;
		}
		if (i < end)
			path[i] = '/';
	}
	return 0;
}

static int check_reg(const char *path, struct stat *st)
{
	if (stat(path, st) < 0)
		return -errno;
	return S_ISREG(st->st_mode) ? 0 : -EINVAL;
}

/* ---- pool ---- */

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static void rf_pool_close(struct qs_pool *pool)
{
	struct rf_pool *p = rf(pool);

	if (p) {
		free(p->dir);
		p->dir = NULL;
	}
}

static int make_skeleton(const char *dir, qstor_error *err)
{
	static const char *const subdirs[] = { "appvms", "vm-templates" };
	bool made = false;

	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		char p[PATH_MAX];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", dir, subdirs[i]);
		if (mkdir(p, 0700) == 0) {
			made = true;
			continue;
		}
		if (errno != EEXIST)
			return qs_err(err, -errno, "cannot create '%s': %s", QS_ESC_PATH(p),
				      strerror(errno));
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			return qs_err(err, -ENOTDIR, "cannot use '%s': %s", QS_ESC_PATH(p),
				      strerror(ENOTDIR));
	}
	if (made) {
		int r = qs_rf_fsync_dir(dir);

		if (r < 0)
			return qs_err(err, r, "cannot sync '%s': %s", QS_ESC_PATH(dir),
				      strerror(-r));
	}
	return 0;
}

static int rf_pool_open(struct qs_pool *pool, bool setup, qstor_error *err)
{
	struct rf_pool *p = rf(pool);
	const char *dir = qs_pool_opt(pool, "dir_path");
	const char *sc = qs_pool_opt(pool, "setup_check");
	bool setup_check = true;
	struct stat st;
	size_t n;
	int r;

	if (!dir || !*dir)
		return qs_err(err, -EINVAL, "option dir_path is required");
	if (dir[0] != '/')
		return qs_err(err, -EINVAL, "invalid dir_path '%s': not an absolute path",
			      QS_ESC_PATH(dir));
	if (sc && parse_bool(sc, &setup_check) < 0)
		return qs_err(err, -EINVAL, "invalid setup_check '%s': expected yes or no",
			      QS_ESC(sc));

	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n >= PATH_MAX - 64)
		return qs_err(err, -ENAMETOOLONG, "invalid dir_path '%s': %s", QS_ESC_PATH(dir),
			      strerror(ENAMETOOLONG));
	free(p->dir);
	p->dir = strndup(dir, n);
	if (!p->dir)
		return qs_err(err, -ENOMEM, "cannot open pool '%s': %s", pool->name,
			      strerror(ENOMEM));
	p->setup_check = setup_check;
	p->reflink = -1;  /* probed at the first snapshot */
	if (!setup)
		return 0;

	if (stat(p->dir, &st) < 0) {
		r = -errno;
		goto fail_errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		r = -ENOTDIR;
		goto fail_errno;
	}
	/* Probe before creating the skeleton: a refused pool leaves nothing. */
	r = qs_rf_probe_reflink(p->dir);
	if (r < 0)
		goto fail_errno;
	if (r == 0 && setup_check) {
		r = qs_err(err, -EOPNOTSUPP,
			   "cannot use dir_path '%s': its filesystem does not support "
			   "reflinks (use XFS or btrfs, or setup_check=no for sparse copies)",
			   QS_ESC_PATH(p->dir));
		goto fail;
	}
	p->reflink = r;
	r = make_skeleton(p->dir, err);
	if (r < 0)
		goto fail;
	return 0;

fail_errno:
	r = qs_err(err, r, "cannot use dir_path '%s': %s", QS_ESC_PATH(p->dir), strerror(-r));
fail:
	rf_pool_close(pool);
	return r;
}

static int rf_pool_usage(struct qs_pool *pool, struct qs_pool_usage *ret,
			 qstor_error *err)
{
	struct statvfs sv;

	if (statvfs(rf(pool)->dir, &sv) < 0)
		return qs_err(err, -errno, "cannot read usage of '%s': %s",
			      rf(pool)->dir, strerror(errno));
	*ret = (struct qs_pool_usage){
		.data_size = (uint64_t)sv.f_blocks * sv.f_frsize,
		.data_used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize,
	};
	return 0;
}

/* XFS and btrfs give an unlinked file's blocks back in the background
 * (inode GC, transaction commit): a create right after a remove would see
 * the pool still full. Commit the filesystem, then watch the free count
 * until it has been still for 100 ms (at most 2 s). Refusal path only. */
static void rf_pool_settle(struct qs_pool *pool)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct statvfs sv;
	unsigned long long last = 0;
	int fd, still = 0;

	fd = open(rf(pool)->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
	for (int i = 0; i < 200 && still < 10; i++) {
		if (statvfs(rf(pool)->dir, &sv) < 0)
			return;
		still = (i && sv.f_bfree == last) ? still + 1 : 0;
		last = sv.f_bfree;
		nanosleep(&tick, NULL);
	}
}

/* ---- objects ---- */

static int rf_make_vid(struct qs_pool *pool, const char *vm, const char *vol,
		       bool is_template, char *buf, size_t len, qstor_error *err)
{
	static const char *const reserved[] = { "-dirty", "-import", "-precache" };
	size_t vl;
	int n;

	for (int i = 0; i < 2; i++) {
		const char *s = i ? vol : vm;

		if (!*s || strchr(s, '/') || strchr(s, '~') ||
		    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
			return qs_err(err, -EINVAL, "invalid %s name '%s'",
				      i ? "volume" : "vm", s);
	}
	/* VOL-dirty.img is both volume VOL's running copy and volume
	 * VOL-dirty's committed state: refuse the second. */
	vl = strlen(vol);
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		size_t sl = strlen(reserved[i]);

		if (vl > sl && strcmp(vol + vl - sl, reserved[i]) == 0)
			return qs_err(err, -EINVAL,
				      "invalid volume name '%s': names ending in '%s' "
				      "are taken by the file-reflink naming", vol,
				      reserved[i]);
	}
	n = snprintf(buf, len, "%s/%s/%s", is_template ? "vm-templates" : "appvms",
		     vm, vol);
	if (n < 0 || (size_t)n >= len)
		return qs_err(err, -ENAMETOOLONG, "cannot name volume '%s:%s': %s",
			      vm, vol, strerror(ENAMETOOLONG));
	return 0;
}

static int rf_list(struct qs_pool *pool, const char *vid, struct qs_objinfo **ret,
		   size_t *ret_n, qstor_error *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ struct qs_objinfo *v = NULL;
	_cleanup_free_ struct qs_loop_dev *loops = NULL;
	size_t n = 0, cap = 0, n_loops = 0;
	bool loops_read = false;
	char dir[PATH_MAX];
	struct dirent *de;
	const char *vol;
	int r;

	r = check_vid(vid);
	if (r < 0)
		return qs_err(err, r, "invalid vid '%s'", vid ? vid : "");
	r = vid_dir(pool, vid, dir, sizeof(dir));
	if (r < 0)
		return qs_err(err, r, "cannot list '%s': %s", vid, strerror(-r));
	vol = vid_vol(vid);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			*ret = NULL;
			*ret_n = 0;
			return 0;
		}
		return qs_err(err, -errno, "cannot list '%s': %s", dir, strerror(errno));
	}
	while ((errno = 0, de = readdir(d))) {
		struct qs_objinfo oi;
		struct stat st;

		if (classify(vol, de->d_name, &oi) < 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;  /* removed meanwhile */
			return qs_err(err, -errno, "cannot stat '%s/%s': %s", dir,
				      de->d_name, strerror(errno));
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (!loops_read && oi.role != QS_TMP) {
			r = qs_loop_list(&loops, &n_loops);
			if (r < 0)
				return qs_err(err, r, "cannot list loop devices: %s",
					      strerror(-r));
			loops_read = true;
		}
		oi.size = (uint64_t)st.st_size;
		oi.active = qs_loop_list_has(loops, n_loops, &st);
		if (n == cap) {
			struct qs_objinfo *nv;

			cap = cap ? 2 * cap : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return qs_err(err, -ENOMEM, "cannot list '%s': %s", vid,
					      strerror(ENOMEM));
			v = nv;
		}
		v[n++] = oi;
	}
	if (errno)
		return qs_err(err, -errno, "cannot list '%s': %s", dir, strerror(errno));
	*ret = n ? TAKE_PTR(v) : NULL;
	*ret_n = n;
	return 0;
}

static int rf_create(struct qs_pool *pool, const struct qs_obj *obj, uint64_t size,
		     qstor_error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	r = obj_path(pool, obj, path, sizeof(path));
	if (r < 0)
		return qs_err(err, r, "cannot create '%s': %s", obj->vid, strerror(-r));
	if (size > (uint64_t)INT64_MAX)
		return qs_err(err, -EFBIG, "cannot create '%s': %s", path, strerror(EFBIG));
	if (access(path, F_OK) == 0)
		return qs_err(err, -EEXIST, "cannot create '%s': %s", path, strerror(EEXIST));
	r = make_vid_dir(pool, obj->vid);
	if (r < 0)
		return qs_err(err, r, "cannot create '%s': %s", path, strerror(-r));
	fd = qs_rf_tmpfile(path, tmp, sizeof(tmp));
	if (fd < 0)
		return qs_err(err, fd, "cannot create '%s': %s", path, strerror(-fd));
	if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	r = qs_rf_rename_noreplace(tmp, path);
	if (r < 0)
		goto fail;
	r = qs_rf_fsync_parent(path);
	if (r < 0)
		return qs_err(err, r, "cannot sync '%s': %s", path, strerror(-r));
	return 0;

fail:
	unlink(tmp);
	return qs_err(err, r, "cannot create '%s': %s", path, strerror(-r));
}

/* Clone or (setup_check=no on a filesystem without reflinks) copy. */
static int copy_into(struct rf_pool *p, int dst_fd, int src_fd, bool *ret_unsupported)
{
	int r;

	*ret_unsupported = false;
	if (p->reflink != 0) {
		r = qs_rf_clone(dst_fd, src_fd);
		if (r == 0) {
			p->reflink = 1;
			return 0;
		}
		if (!qs_rf_clone_unsupported(r))
			return r;
		if (p->setup_check) {
			*ret_unsupported = true;
			return r;
		}
		p->reflink = 0;
	}
	return qs_rf_sparse_copy(dst_fd, src_fd);
}

static int rf_snapshot(struct qs_pool *pool, const struct qs_obj *src,
		       const struct qs_obj *dst, qstor_error *err)
{
	char sp[PATH_MAX], dp[PATH_MAX], tmp[PATH_MAX];
	_cleanup_close_ int sfd = -1;
	_cleanup_close_ int tfd = -1;
	bool unsupported;
	struct stat st;
	int r;

	r = obj_find(pool, src, sp, sizeof(sp));
	if (r < 0)
		return qs_err(err, r, "cannot snapshot '%s': %s", src->vid, strerror(-r));
	r = obj_path(pool, dst, dp, sizeof(dp));
	if (r < 0)
		return qs_err(err, r, "cannot snapshot to '%s': %s", dst->vid, strerror(-r));
	sfd = open(sp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (sfd < 0)
		return qs_err(err, -errno, "cannot snapshot '%s': %s", sp, strerror(errno));
	if (fstat(sfd, &st) < 0)
		return qs_err(err, -errno, "cannot snapshot '%s': %s", sp, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return qs_err(err, -EINVAL, "cannot snapshot '%s': not a regular file", sp);
	if (access(dp, F_OK) == 0)
		return qs_err(err, -EEXIST, "cannot snapshot '%s' to '%s': %s", sp, dp,
			      strerror(EEXIST));
	r = make_vid_dir(pool, dst->vid);
	if (r < 0)
		return qs_err(err, r, "cannot snapshot '%s' to '%s': %s", sp, dp,
			      strerror(-r));
	tfd = qs_rf_tmpfile(dp, tmp, sizeof(tmp));
	if (tfd < 0)
		return qs_err(err, tfd, "cannot snapshot '%s' to '%s': %s", sp, dp,
			      strerror(-tfd));
	r = copy_into(rf(pool), tfd, sfd, &unsupported);
	if (r < 0) {
		unlink(tmp);
		if (unsupported)
			return qs_err(err, r, "cannot snapshot '%s': the filesystem of '%s' "
				      "does not support reflinks (setup_check=no copies instead)",
				      sp, rf(pool)->dir);
		return qs_err(err, r, "cannot snapshot '%s' to '%s': %s", sp, dp,
			      strerror(-r));
	}
	if (fchmod(tfd, 0600) < 0 || fsync(tfd) < 0) {
		r = -errno;
		goto fail;
	}
	r = qs_rf_rename_noreplace(tmp, dp);
	if (r < 0)
		goto fail;
	r = qs_rf_fsync_parent(dp);
	if (r < 0)
		return qs_err(err, r, "cannot sync '%s': %s", dp, strerror(-r));
	return 0;

fail:
	unlink(tmp);
	return qs_err(err, r, "cannot snapshot '%s' to '%s': %s", sp, dp, strerror(-r));
}

/* a and b (paths or checked vids) are in the same directory */
static bool same_dir(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');

	return sa - a == sb - b && strncmp(a, b, (size_t)(sa - a)) == 0;
}

static int rf_rename(struct qs_pool *pool, const struct qs_obj *from,
		     const struct qs_obj *to, qstor_error *err)
{
	char fp[PATH_MAX], tp[PATH_MAX];
	int r;

	r = obj_find(pool, from, fp, sizeof(fp));
	if (r < 0)
		return qs_err(err, r, "cannot rename '%s': %s", from->vid, strerror(-r));
	r = obj_path(pool, to, tp, sizeof(tp));
	if (r < 0)
		return qs_err(err, r, "cannot rename to '%s': %s", to->vid, strerror(-r));
	if (!same_dir(fp, tp)) {
		r = make_vid_dir(pool, to->vid);
		if (r < 0)
			goto fail;
	}
	r = qs_rf_rename_noreplace(fp, tp);
	if (r < 0)
		goto fail;
	r = qs_rf_fsync_parent(tp);
	if (r == 0 && !same_dir(fp, tp))
		r = qs_rf_fsync_parent(fp);
	if (r < 0)
		return qs_err(err, r, "cannot sync '%s': %s", tp, strerror(-r));
	return 0;

fail:
	return qs_err(err, r, "cannot rename '%s' to '%s': %s", fp, tp, strerror(-r));
}

/* Unlink every temporary of vid. The TMP role names a class of files
 * (Qubes makes "X~random"), so removing "the" TMP object removes all. */
static int remove_tmps(struct qs_pool *pool, const char *vid, qstor_error *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	char dir[PATH_MAX];
	struct dirent *de;
	int r = vid_dir(pool, vid, dir, sizeof(dir));

	if (r < 0)
		return qs_err(err, r, "cannot remove temporaries of '%s': %s", vid,
			      strerror(-r));
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 :
		       qs_err(err, -errno, "cannot list '%s': %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		struct qs_objinfo oi;

		if (classify(vid_vol(vid), de->d_name, &oi) < 0 || oi.role != QS_TMP)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			return qs_err(err, -errno, "cannot remove '%s/%s': %s", dir,
				      de->d_name, strerror(errno));
	}
	return 0;
}

/* After removals in dir: make them durable, and drop dir if now empty. */
static int tidy_dir(const char *dir, qstor_error *err)
{
	int r;

	if (rmdir(dir) == 0) {
		r = qs_rf_fsync_parent(dir);
	} else if (errno == ENOENT) {
		return 0;
	} else if (errno == ENOTEMPTY || errno == EEXIST) {
		r = qs_rf_fsync_dir(dir);
	} else {
		r = -errno;
	}
	if (r < 0)
		return qs_err(err, r, "cannot sync '%s': %s", dir, strerror(-r));
	return 0;
}

static int rf_remove(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		     qstor_error *err)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];

		if (objs[i].role == QS_TMP) {
			r = check_vid(objs[i].vid);
			if (r < 0)
				return qs_err(err, r, "invalid vid '%s'", objs[i].vid);
			r = remove_tmps(pool, objs[i].vid, err);
			if (r < 0)
				return r;
			continue;
		}
		r = obj_find(pool, &objs[i], path, sizeof(path));
		if (r < 0)
			return qs_err(err, r, "cannot remove '%s': %s", objs[i].vid,
				      strerror(-r));
		r = qs_loop_detach_file(path);
		if (r < 0)
			return qs_err(err, r, "cannot detach loop device of '%s': %s",
				      path, strerror(-r));
		if (unlink(path) < 0 && errno != ENOENT)
			return qs_err(err, -errno, "cannot remove '%s': %s", path,
				      strerror(errno));
	}
	/* one fsync (or rmdir) per directory touched */
	for (size_t i = 0; i < n; i++) {
		char dir[PATH_MAX];
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = same_dir(objs[j].vid, objs[i].vid);
		if (seen)
			continue;
		r = vid_dir(pool, objs[i].vid, dir, sizeof(dir));
		if (r < 0)
			return qs_err(err, r, "cannot remove '%s': %s", objs[i].vid,
				      strerror(-r));
		r = tidy_dir(dir, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int rf_resize(struct qs_pool *pool, const struct qs_obj *obj, uint64_t size,
		     qstor_error *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	r = obj_find(pool, obj, path, sizeof(path));
	if (r < 0)
		return qs_err(err, r, "cannot resize '%s': %s", obj->vid, strerror(-r));
	if (size > (uint64_t)INT64_MAX)
		return qs_err(err, -EFBIG, "cannot resize '%s': %s", path, strerror(EFBIG));
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return qs_err(err, -errno, "cannot resize '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return qs_err(err, -errno, "cannot resize '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return qs_err(err, -EINVAL, "cannot resize '%s': not a regular file", path);
	if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
		return qs_err(err, -errno, "cannot resize '%s': %s", path, strerror(errno));
	r = qs_loop_set_capacity_file(&st);
	if (r < 0)
		return qs_err(err, r, "cannot resize loop device of '%s': %s", path,
			      strerror(-r));
	return 0;
}

static int rf_activate(struct qs_pool *pool, const struct qs_obj *obj, bool rw,
		       char *path, size_t len, qstor_error *err)
{
	char fp[PATH_MAX];
	struct stat st;
	bool ro, reused;
	int r, nr;

	if (len < sizeof("/dev/loop2147483647"))
		return qs_err(err, -ENAMETOOLONG, "cannot activate '%s': %s", obj->vid,
			      strerror(ENAMETOOLONG));
	r = obj_find(pool, obj, fp, sizeof(fp));
	if (r < 0)
		return qs_err(err, r, "cannot activate '%s': %s", obj->vid, strerror(-r));
	r = check_reg(fp, &st);
	if (r < 0)
		return qs_err(err, r, "cannot activate '%s': %s", fp,
			      r == -EINVAL ? "not a regular file" : strerror(-r));
	r = qs_loop_attach(fp, rw, &nr, &ro, &reused);
	if (r < 0)
		return qs_err(err, r, "cannot attach a loop device to '%s': %s", fp,
			      strerror(-r));
	if (ro == rw)
		return qs_err(err, -EBUSY, "cannot activate '%s' %s: already attached "
			      "%s as /dev/loop%d", fp, rw ? "read-write" : "read-only",
			      ro ? "read-only" : "read-write", nr);
	snprintf(path, len, "/dev/loop%d", nr);
	return 0;
}

static int rf_deactivate(struct qs_pool *pool, const struct qs_obj *obj,
			 qstor_error *err)
{
	char fp[PATH_MAX];
	int r = obj_find(pool, obj, fp, sizeof(fp));

	if (r < 0)
		return qs_err(err, r, "cannot deactivate '%s': %s", obj->vid, strerror(-r));
	r = qs_loop_detach_file(fp);
	if (r < 0)
		return qs_err(err, r, "cannot detach loop device of '%s': %s", fp,
			      strerror(-r));
	return 0;
}

/*
 * mapped and exclusive come from FIEMAP: exclusive = extents the
 * filesystem does not flag FIEMAP_EXTENT_SHARED, i.e. referenced by this
 * file alone in the whole filesystem (btrfs: also no snapshot of the
 * subvolume holds them).
 *
 * set_exclusive is a LOWER BOUND: the sum of the objects' unshared
 * extents. An extent flagged shared may be shared only among objs (a
 * revision and its committed state: removing both frees it) or with
 * something outside; FIEMAP gives no reference count, so such extents are
 * not counted even when every reference we can see is inside the set.
 * Exact figures need XFS GETFSMAP (rmapbt owners) or btrfs LOGICAL_INO.
 *
 * Delayed-allocation extents (written, not yet flushed) count as mapped
 * and exclusive; no FIEMAP_FLAG_SYNC, so du does not force writeback.
 */
static int rf_usage(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		    struct qs_usage *ret, uint64_t *ret_set_exclusive, qstor_error *err)
{
	_cleanup_free_ struct qs_usage *u = calloc(n ? n : 1, sizeof(*u));
	_cleanup_free_ struct stat *seen = calloc(n ? n : 1, sizeof(*seen));
	uint64_t set_excl = 0;
	size_t n_seen = 0;

	if (!u || !seen)
		return qs_err(err, -ENOMEM, "cannot read usage: %s", strerror(ENOMEM));
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		_cleanup_close_ int fd = -1;
		struct stat st;
		bool dup = false;
		int r = obj_find(pool, &objs[i], path, sizeof(path));

		if (r < 0)
			return qs_err(err, r, "cannot read usage of '%s': %s",
				      objs[i].vid, strerror(-r));
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;  /* absent: uses nothing */
			return qs_err(err, -errno, "cannot read usage of '%s': %s",
				      path, strerror(errno));
		}
		if (fstat(fd, &st) < 0)
			return qs_err(err, -errno, "cannot read usage of '%s': %s",
				      path, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return qs_err(err, -EINVAL, "cannot read usage of '%s': "
				      "not a regular file", path);
		r = qs_rf_file_usage(fd, (uint64_t)st.st_size, &u[i].mapped,
				     &u[i].exclusive, NULL);
		if (r < 0)
			return qs_err(err, r, "cannot read extent map of '%s': %s",
				      path, strerror(-r));
		for (size_t j = 0; j < n_seen && !dup; j++)
			dup = seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino;
		if (!dup) {
			seen[n_seen++] = st;
			set_excl += u[i].exclusive;
		}
	}
	if (n)
		memcpy(ret, u, n * sizeof(*ret));
	if (ret_set_exclusive)
		*ret_set_exclusive = set_excl;
	return 0;
}

/*
 * extents: the file's FIEMAP map, physical addresses in the filesystem's
 * own address space (XFS: bytes on the data device; btrfs: its logical
 * address space), so reflinked files report the same ranges.
 *
 * - FIEMAP_FLAG_SYNC: delayed-allocation extents have no physical address
 *   until written back, so they are flushed first (the running copies are
 *   loop devices with direct I/O: normally nothing is dirty).
 * - Extents past the file size are clipped (preallocation beyond EOF).
 * - UNKNOWN, DELALLOC (racing writers) and btrfs inline extents (data in
 *   the metadata tree, no address of their own) are skipped.
 * - Unwritten (preallocated, fallocate) extents count: they hold space.
 * - btrfs compressed extents (ENCODED) are reported with their logical
 *   length at the compressed extent's address: sharing between reflinks
 *   of one file is exact, bytes are what the file references, not what
 *   sits on disk.
 * - SHARED becomes QS_EXTENT_SHARED. XFS flags exactly the shared blocks;
 *   btrfs flags a whole file extent when any part of the data extent it
 *   points into is referenced elsewhere (btrfs frees a data extent only
 *   when its last reference goes, so that is what removal would free).
 */
struct rf_ext_ctx {
	uint64_t size;
	size_t obj;
	qs_extent_cb cb;
	void *ctx;
};

static int rf_ext_one(const struct fiemap_extent *fe, void *p)
{
	struct rf_ext_ctx *c = p;
	uint64_t a = fe->fe_logical, b = fe->fe_logical + fe->fe_length;

	if (fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
			    FIEMAP_EXTENT_DATA_INLINE))
		return 0;
	if (a >= c->size || b <= a)
		return 0;
	if (b > c->size)
		b = c->size;
	return c->cb(c->ctx, c->obj, a, fe->fe_physical, b - a,
		     (fe->fe_flags & FIEMAP_EXTENT_SHARED) ? QS_EXTENT_SHARED : 0);
}

/* Walk the file name in directory dfd (AT_FDCWD: a path); absent: 0. */
static int rf_ext_file(int dfd, const char *name, size_t obj, qs_extent_cb cb, void *ctx,
		       qstor_error *err)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct rf_ext_ctx c = { .obj = obj, .cb = cb, .ctx = ctx };
	struct stat st;
	int r;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;  /* removed meanwhile: references nothing */
		return qs_err(err, -errno, "cannot read extents of '%s': %s", name,
			      strerror(errno));
	}
	if (fstat(fd, &st) < 0)
		return qs_err(err, -errno, "cannot read extents of '%s': %s", name,
			      strerror(errno));
	if (!S_ISREG(st.st_mode))
		return qs_err(err, -EINVAL, "cannot read extents of '%s': not a regular file",
			      name);
	c.size = (uint64_t)st.st_size;
	r = qs_rf_fiemap_walk_flags(fd, FIEMAP_FLAG_SYNC, rf_ext_one, &c);
	if (r < 0)
		return qs_err(err, r, "cannot read extent map of '%s': %s", name,
			      strerror(-r));
	return r;  /* 0, or what cb stopped with */
}

static int rf_ext_obj(struct qs_pool *pool, const struct qs_obj *obj, size_t i,
		      qs_extent_cb cb, void *ctx, qstor_error *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	char path[PATH_MAX];
	struct dirent *de;
	int r;

	if (obj->role != QS_TMP) {
		r = obj_find(pool, obj, path, sizeof(path));
		if (r < 0)
			return qs_err(err, r, "cannot find '%s': %s", obj->vid, strerror(-r));
		return rf_ext_file(AT_FDCWD, path, i, cb, ctx, err);
	}
	/* TMP names every temporary of the vid (as remove does) */
	r = check_vid(obj->vid);
	if (r < 0)
		return qs_err(err, r, "invalid vid '%s'", obj->vid);
	r = vid_dir(pool, obj->vid, path, sizeof(path));
	if (r < 0)
		return qs_err(err, r, "cannot list '%s': %s", obj->vid, strerror(-r));
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 :
		       qs_err(err, -errno, "cannot list '%s': %s", path, strerror(errno));
	while ((de = readdir(d))) {
		struct qs_objinfo oi;

		if (classify(vid_vol(obj->vid), de->d_name, &oi) < 0 || oi.role != QS_TMP)
			continue;
		r = rf_ext_file(dirfd(d), de->d_name, i, cb, ctx, err);
		if (r != 0)
			return r;
	}
	return 0;
}

/* One file after the other: not a snapshot of the pool, files may change
 * in between (du takes no lock; a stopped VM's files do not change). */
static int rf_extents(struct qs_pool *pool, const struct qs_obj *objs, size_t n,
		      qs_extent_cb cb, void *ctx, qstor_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = rf_ext_obj(pool, &objs[i], i, cb, ctx, err);

		if (r != 0)
			return r;
	}
	return 0;
}

static int rf_path(struct qs_pool *pool, const struct qs_obj *obj, char *buf,
		   size_t len, qstor_error *err)
{
	char fp[PATH_MAX];
	struct stat st;
	int r = obj_find(pool, obj, fp, sizeof(fp));

	if (r < 0)
		return qs_err(err, r, "cannot find '%s': %s", obj->vid, strerror(-r));
	r = check_reg(fp, &st);
	if (r < 0)
		return qs_err(err, r, "cannot read '%s': %s", fp,
			      r == -EINVAL ? "not a regular file" : strerror(-r));
	if (strlen(fp) >= len)
		return qs_err(err, -ENAMETOOLONG, "cannot read '%s': %s", fp,
			      strerror(ENAMETOOLONG));
	strcpy(buf, fp);
	return 0;
}

const struct qs_driver qs_driver_file_reflink = {
	.name = "file-reflink",
	.instance_size = sizeof(struct rf_pool),
	.options = rf_options,              /* dir_path, setup_check */
	.required = rf_required,            /* dir_path */
	.wants_precache = true,             /* FICLONE costs O(extents) */
	.rev_key_is_time = false,           /* revisions are numbered 1, 2, ... */
	.pool_open = rf_pool_open,          /* setup: dir exists, reflink probe, skeleton */
	.pool_close = rf_pool_close,        /* frees priv's strings */
	.pool_usage = rf_pool_usage,        /* statvfs of dir_path; no metadata */
	.pool_settle = rf_pool_settle,      /* syncfs, wait for background frees */
	.make_vid = rf_make_vid,            /* appvms/VM/VOL, vm-templates/VM/VOL */
	.list = rf_list,                    /* files of VOL in its VM dir, parsed exactly */
	.create = rf_create,                /* sparse 0600 file via temp + rename */
	.snapshot = rf_snapshot,            /* FICLONE to temp + rename (sparse copy if setup_check=no) */
	.rename = rf_rename,                /* renameat2 NOREPLACE + dir fsync */
	.remove = rf_remove,                /* detach + unlink; TMP = all temporaries; empty VM dir goes */
	.resize = rf_resize,                /* ftruncate + LOOP_SET_CAPACITY if attached */
	.activate = rf_activate,            /* loop device, direct I/O, no autoclear */
	.deactivate = rf_deactivate,        /* LOOP_CLR_FD (deferred while open) */
	.reset = NULL,                      /* core removes and creates */
	.usage = rf_usage,                  /* FIEMAP; set_exclusive is a lower bound */
	.path = rf_path,                    /* the file itself */
	.extents = rf_extents,              /* FIEMAP (SYNC), clipped to the file size */
};
