/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loop devices for the file-reflink driver (see loop.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/loop.h>

#include "internal.h"
#include "loop.h"

#define ATTACH_ATTEMPTS 16

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int open_loop(int nr, int flags)
{
	char dev[32];
	int fd;

	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	fd = open(dev, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* nr of a /sys/block entry "loopN", -1 for anything else */
static int loop_nr(const char *name)
{
	char *end;
	long nr;

	if (strncmp(name, "loop", 4) != 0 || !isdigit((unsigned char)name[4]))
		return -1;
	nr = strtol(name + 4, &end, 10);
	if (*end || nr < 0 || nr > INT_MAX)
		return -1;
	return (int)nr;
}

/* The backing file's path of loopN, "" when detached or deleted. */
static int read_backing_file(int nr, char *buf, size_t len)
{
	char p[64];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/block/loop%d/loop/backing_file", nr);
	buf[0] = '\0';
	/* a device going away under us (another process detaching it)
	 * answers ENOENT, ENODEV or ENXIO: it backs nothing */
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENODEV || errno == ENXIO ? 0 : -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return errno == ENXIO || errno == ENODEV || errno == ENOENT ? 0 : -errno;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	/* d_path of an unlinked file; it cannot be ours to find */
	if (n >= 10 && strcmp(buf + n - 10, " (deleted)") == 0)
		buf[0] = '\0';
	return 0;
}

int qs_loop_list(struct qs_loop_dev **ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = opendir("/sys/block");
	_cleanup_free_ struct qs_loop_dev *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		int nr = loop_nr(de->d_name), r;

		if (nr < 0)
			continue;
		r = read_backing_file(nr, path, sizeof(path));
		if (r < 0)
			return r;
		if (!path[0])
			continue;
		if (n == cap) {
			struct qs_loop_dev *nv;

			cap = cap ? 2 * cap : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[n] = (struct qs_loop_dev){ .nr = nr };
		if (stat(path, &st) == 0) {
			v[n].dev = st.st_dev;
			v[n].ino = st.st_ino;
		}
		n++;
	}
	*ret = n ? TAKE_PTR(v) : NULL;
	*ret_n = n;
	return 0;
}

bool qs_loop_list_has(const struct qs_loop_dev *list, size_t n,
		      const struct stat *st)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].dev == st->st_dev && list[i].ino == st->st_ino)
			return true;
	return false;
}

/* 1 if loopNR backs st (filling ro/autoclear), 0 if not, <0 error */
static int loop_backs(int nr, const struct stat *st, struct qs_loop_dev *ret)
{
	_cleanup_close_ int fd = open_loop(nr, O_RDONLY);
	struct loop_info64 info;

	if (fd < 0)
		return fd == -ENOENT || fd == -ENXIO || fd == -ENODEV ? 0 : fd;
	if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
		return errno == ENXIO || errno == ENODEV ? 0 : -errno;
	if (info.lo_inode != st->st_ino || info.lo_device != st->st_dev)
		return 0;
	*ret = (struct qs_loop_dev){
		.nr = nr,
		.dev = st->st_dev,
		.ino = st->st_ino,
		.ro = info.lo_flags & LO_FLAGS_READ_ONLY,
		.autoclear = info.lo_flags & LO_FLAGS_AUTOCLEAR,
	};
	return 1;
}

int qs_loop_find(const struct stat *st, struct qs_loop_dev **ret, size_t *ret_n)
{
	_cleanup_free_ struct qs_loop_dev *all = NULL;
	size_t n_all, n = 0;
	int r = qs_loop_list(&all, &n_all);

	if (r < 0)
		return r;
	/* Confirm in place; a device whose backing path we could not stat
	 * (another mount namespace) is checked by ioctl too. */
	for (size_t i = 0; i < n_all; i++) {
		bool maybe = (all[i].dev == 0 && all[i].ino == 0) ||
			     (all[i].dev == st->st_dev && all[i].ino == st->st_ino);

		if (!maybe)
			continue;
		r = loop_backs(all[i].nr, st, &all[n]);
		if (r < 0)
			return r;
		if (r > 0)
			n++;
	}
	*ret = n ? TAKE_PTR(all) : NULL;
	*ret_n = n;
	return 0;
}

/* Serialise qstor processes around GET_FREE + CONFIGURE. Other tools
 * (losetup) do not take this lock, hence the EBUSY retry as well. -1 if
 * the lock cannot be had (read-only /run): the retry still covers us. */
static int take_lock(void)
{
	int fd = open(QS_LOOP_LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int configure(int lfd, int fd, bool rw, const char *path)
{
	struct loop_config cfg;
	struct loop_info64 info;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = fd;
	cfg.info.lo_flags = LO_FLAGS_DIRECT_IO | (rw ? 0 : LO_FLAGS_READ_ONLY);
	strncpy((char *)cfg.info.lo_file_name, path, LO_NAME_SIZE - 1);
	if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
		return 0;
	r = -errno;
	if (r == -EINVAL) {
		/* older kernels refuse direct I/O the filesystem cannot do */
		cfg.info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
			return 0;
		r = -errno;
	}
	if (r != -EINVAL && r != -ENOTTY)
		return r;

	/* Before 5.8: no LOOP_CONFIGURE. The read-only flag follows fd's mode. */
	if (ioctl(lfd, LOOP_SET_FD, fd) < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	strncpy((char *)info.lo_file_name, path, LO_NAME_SIZE - 1);
	if (ioctl(lfd, LOOP_SET_STATUS64, &info) < 0) {
		r = -errno;
		ioctl(lfd, LOOP_CLR_FD, 0);
		return r;
	}
	(void)ioctl(lfd, LOOP_SET_DIRECT_IO, 1UL);  /* best effort */
	return 0;
}

static void unlockp(int *fd)
{
	if (*fd >= 0) {
		flock(*fd, LOCK_UN);
		close(*fd);
	}
}

int qs_loop_attach(const char *path, bool rw, int *ret_nr, bool *ret_ro,
		   bool *ret_reused)
{
	__attribute__((cleanup(unlockp))) int lock = take_lock();
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int ctl = -1;
	_cleanup_free_ struct qs_loop_dev *found = NULL;
	size_t n_found;
	struct stat st;
	int r;

	fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;

	r = qs_loop_find(&st, &found, &n_found);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_found; i++) {
		if (found[i].autoclear)
			continue;  /* being detached: do not hand it out */
		*ret_nr = found[i].nr;
		*ret_ro = found[i].ro;
		*ret_reused = true;
		return 0;
	}

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	for (int attempt = 0; attempt < ATTACH_ATTEMPTS; attempt++) {
		_cleanup_close_ int lfd = -1;
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (nr < 0)
			return -errno;
		lfd = open_loop(nr, O_RDWR);
		if (lfd == -ENOENT) {
			/* node not created yet by devtmpfs/udev */
			sleep_ms(10);
			continue;
		}
		if (lfd < 0)
			return lfd;
		r = configure(lfd, fd, rw, path);
		if (r == -EBUSY) {
			/* another process took this device between GET_FREE
			 * and CONFIGURE: ask for another one */
			sleep_ms(1 + (unsigned)(getpid() + attempt) % 8);
			continue;
		}
		if (r < 0)
			return r;
		*ret_nr = nr;
		*ret_ro = !rw;
		*ret_reused = false;
		return 0;
	}
	return -EBUSY;
}

int qs_loop_detach(int nr, const struct stat *st)
{
	_cleanup_close_ int fd = open_loop(nr, O_RDONLY);
	struct loop_info64 info;

	if (fd < 0)
		return fd == -ENOENT || fd == -ENXIO || fd == -ENODEV ? 0 : fd;
	if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
		return errno == ENXIO || errno == ENODEV ? 0 : -errno;
	if (info.lo_inode != st->st_ino || info.lo_device != st->st_dev)
		return 0;  /* reused for another file meanwhile */
	if (ioctl(fd, LOOP_CLR_FD, 0) < 0)
		return errno == ENXIO ? 0 : -errno;
	return 0;
}

int qs_loop_detach_file(const char *path)
{
	_cleanup_free_ struct qs_loop_dev *found = NULL;
	size_t n;
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	r = qs_loop_find(&st, &found, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = qs_loop_detach(found[i].nr, &st);
		if (r < 0)
			return r;
	}
	return 0;
}

int qs_loop_set_capacity_file(const struct stat *st)
{
	_cleanup_free_ struct qs_loop_dev *found = NULL;
	size_t n;
	int r = qs_loop_find(st, &found, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int fd = open_loop(found[i].nr, O_RDONLY);

		if (fd < 0)
			return fd;
		if (ioctl(fd, LOOP_SET_CAPACITY, 0) < 0 && errno != ENXIO)
			return -errno;
	}
	return 0;
}
