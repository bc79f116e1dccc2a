/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File primitives of the file-reflink driver (see fileio.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "internal.h"
#include "fileio.h"

#define COPY_CHUNK (1u << 20)
#define FIEMAP_BATCH 512

int qs_rf_clone(int dst_fd, int src_fd)
{
	struct stat st;

	if (fstat(src_fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (fstat(dst_fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (ioctl(dst_fd, FICLONE, src_fd) < 0)
		return -errno;
	return 0;
}

bool qs_rf_clone_unsupported(int r)
{
	/* EOPNOTSUPP: no remap_file_range (ext4, tmpfs); ENOTTY/ENOSYS: no
	 * ioctl at all; EXDEV: another filesystem; EINVAL: a filesystem
	 * that knows the ioctl but cannot clone these files. */
	return r == -EOPNOTSUPP || r == -ENOTTY || r == -ENOSYS ||
	       r == -EXDEV || r == -EINVAL;
}

static int copy_range_rw(int dst_fd, int src_fd, off_t off, off_t end)
{
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);

	if (!buf)
		return -ENOMEM;
	while (off < end) {
		size_t want = (size_t)(end - off) < COPY_CHUNK ?
			(size_t)(end - off) : COPY_CHUNK;
		ssize_t n = pread(src_fd, buf, want, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;  /* src shrank under us */
		for (ssize_t done = 0; done < n;) {
			ssize_t w = pwrite(dst_fd, buf + done, n - done, off + done);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			done += w;
		}
		off += n;
	}
	return 0;
}

static int copy_range(int dst_fd, int src_fd, off_t off, off_t end)
{
	while (off < end) {
		loff_t in = off, out = off;
		size_t want = (size_t)(end - off) < (1u << 30) ?
			(size_t)(end - off) : (1u << 30);
		ssize_t n = copy_file_range(src_fd, &in, dst_fd, &out, want, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == EOPNOTSUPP ||
			    errno == ENOSYS || errno == EINVAL)
				return copy_range_rw(dst_fd, src_fd, off, end);
			return -errno;
		}
		if (n == 0)
			return copy_range_rw(dst_fd, src_fd, off, end);
		off += n;
	}
	return 0;
}

int qs_rf_sparse_copy(int dst_fd, int src_fd)
{
	struct stat st;
	off_t off = 0;

	if (fstat(src_fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (ftruncate(dst_fd, st.st_size) < 0)
		return -errno;
	while (off < st.st_size) {
		off_t data = lseek(src_fd, off, SEEK_DATA), hole;
		int r;

		if (data < 0) {
			if (errno == ENXIO)
				break;  /* only a hole is left */
			if (errno != EINVAL)
				return -errno;
			data = off;  /* no SEEK_DATA: copy everything */
			hole = st.st_size;
		} else {
			hole = lseek(src_fd, data, SEEK_HOLE);
			if (hole < 0)
				hole = st.st_size;
		}
		if (hole > st.st_size)
			hole = st.st_size;
		r = copy_range(dst_fd, src_fd, data, hole);
		if (r < 0)
			return r;
		off = hole;
	}
	return 0;
}

static int open_anon_tmp(const char *dir)
{
	char name[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	if ((size_t)snprintf(name, sizeof(name), "%s/.qstor-probe~XXXXXX", dir) >=
	    sizeof(name))
		return -ENAMETOOLONG;
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(name);
	return fd;
}

int qs_rf_probe_reflink(const char *dir)
{
	_cleanup_close_ int a = -1;
	_cleanup_close_ int b = -1;
	char block[4096];
	ssize_t n;
	int r;

	a = open_anon_tmp(dir);
	if (a < 0)
		return a;
	b = open_anon_tmp(dir);
	if (b < 0)
		return b;
	memset(block, 0x5a, sizeof(block));
	n = pwrite(a, block, sizeof(block), 0);
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(block))
		return -EIO;
	r = qs_rf_clone(b, a);
	if (r == 0)
		return 1;
	return qs_rf_clone_unsupported(r) ? 0 : r;
}

int qs_rf_tmpfile(const char *dst, char *buf, size_t len)
{
	int fd;

	if ((size_t)snprintf(buf, len, "%s~XXXXXX", dst) >= len)
		return -ENAMETOOLONG;
	fd = mkostemp(buf, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

int qs_rf_rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0)
		return -errno;
	return 0;
}

int qs_rf_fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int qs_rf_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return qs_rf_fsync_dir(".");
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return qs_rf_fsync_dir(dir);
}

int qs_rf_fiemap_walk(int fd, qs_rf_extent_cb cb, void *ctx)
{
	return qs_rf_fiemap_walk_flags(fd, 0, cb, ctx);
}

int qs_rf_fiemap_walk_flags(int fd, uint32_t flags, qs_rf_extent_cb cb, void *ctx)
{
	_cleanup_free_ struct fiemap *fm = NULL;
	uint64_t start = 0;

	fm = calloc(1, sizeof(*fm) + FIEMAP_BATCH * sizeof(struct fiemap_extent));
	if (!fm)
		return -ENOMEM;
	for (;;) {
		const struct fiemap_extent *last;

		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_extent_count = FIEMAP_BATCH;
		fm->fm_flags = flags;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0)
			return -errno;
		if (fm->fm_mapped_extents == 0)
			return 0;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			int r = cb(&fm->fm_extents[i], ctx);

			if (r != 0)
				return r;
		}
		last = &fm->fm_extents[fm->fm_mapped_extents - 1];
		if (last->fe_flags & FIEMAP_EXTENT_LAST)
			return 0;
		if (last->fe_logical + last->fe_length <= start)
			return -EIO;  /* no progress: do not loop forever */
		start = last->fe_logical + last->fe_length;
	}
}

struct usage_ctx {
	uint64_t size, mapped, exclusive, extents;
};

static int usage_cb(const struct fiemap_extent *fe, void *p)
{
	struct usage_ctx *u = p;
	uint64_t a = fe->fe_logical, b = fe->fe_logical + fe->fe_length;

	u->extents++;
	if (a >= u->size)
		return 0;
	if (b > u->size)
		b = u->size;
	u->mapped += b - a;
	/* Delayed-allocation extents (not yet written back) are new data
	 * of this file alone: they count as exclusive, as does anything
	 * the filesystem does not flag as shared. */
	if (!(fe->fe_flags & FIEMAP_EXTENT_SHARED))
		u->exclusive += b - a;
	return 0;
}

int qs_rf_file_usage(int fd, uint64_t size, uint64_t *ret_mapped,
		     uint64_t *ret_exclusive, uint64_t *ret_extents)
{
	struct usage_ctx u = { .size = size };
	int r = qs_rf_fiemap_walk(fd, usage_cb, &u);

	if (r < 0)
		return r;
	*ret_mapped = u.mapped;
	*ret_exclusive = u.exclusive;
	if (ret_extents)
		*ret_extents = u.extents;
	return 0;
}
