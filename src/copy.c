/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Data copies for import and cross-pool clones: sparse, exact length. */
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include "driver.h"
#include "internal.h"

#define COPY_BLOCK (1u << 20)

static bool all_zero(const unsigned char *p, size_t n)
{
	/* compare the block with itself shifted by one byte: fast and exact */
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

int qs_copy_data(int in, int out, uint64_t size, bool exact, qstor_error *err)
{
	unsigned char *buf = malloc(COPY_BLOCK);
	uint64_t off = 0;
	int r = 0;

	if (!buf)
		return qs_err(err, -ENOMEM, "out of memory");
	while (off < size) {
		size_t want = size - off < COPY_BLOCK ? (size_t)(size - off) : COPY_BLOCK;
		ssize_t got = read_full(in, buf, want);

		if (got < 0) {
			r = qs_err(err, (int)got, "read error after %llu bytes: %s",
				   (unsigned long long)off, strerror((int)-got));
			goto out;
		}
		if ((size_t)got < want) {
			r = qs_err(err, -ENODATA, "data is shorter than the volume: %llu of %llu bytes",
				   (unsigned long long)(off + (uint64_t)got), (unsigned long long)size);
			goto out;
		}
		if (!all_zero(buf, want)) {
			size_t done = 0;

			while (done < want) {
				ssize_t w = pwrite(out, buf + done, want - done, (off_t)(off + done));

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					r = qs_err(err, w < 0 ? -errno : -EIO, "write error at %llu: %s",
						   (unsigned long long)(off + done),
						   w < 0 ? strerror(errno) : "short write");
					goto out;
				}
				done += (size_t)w;
			}
		}
		off += want;
	}
	if (exact) {
		ssize_t more = read_full(in, buf, 1);

		if (more > 0)
			r = qs_err(err, -EFBIG, "data is longer than the volume (%llu bytes)",
				   (unsigned long long)size);
	}
out:
	free(buf);
	return r;
}

int qs_fsync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, r = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}
