/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-thin-device usage and extents: metadata snapshot, thin_ls as a child
 * or the metadata read here (thinmeta.c), release. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"
#include "dmstatus.h"
#include "internal.h"
#include "names.h"
#include "thinls.h"
#include "thinmeta.h"

extern char **environ;

#define OUT_MAX (16u << 20)

/* Read both pipes to the end; out is malloc'd and NUL-terminated. */
static int drain(int out_fd, int err_fd, char **out, char *err_line, size_t elen)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap), ebuf[1024];
	size_t elen_used = 0;
	struct pollfd pfd[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	int open_fds = 2;

	if (!buf)
		return -ENOMEM;
	while (open_fds > 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (pfd[0].revents) {
			ssize_t n;

			if (len + 4096 + 1 > cap) {
				char *nb;

				if (cap >= OUT_MAX) {
					free(buf);
					return -EFBIG;
				}
				nb = realloc(buf, cap * 2);
				if (!nb) {
					free(buf);
					return -ENOMEM;
				}
				buf = nb;
				cap *= 2;
			}
			n = read(out_fd, buf + len, cap - len - 1);
			if (n > 0)
				len += (size_t)n;
			else if (n == 0 || errno != EINTR) {
				pfd[0].fd = -1;
				open_fds--;
			}
		}
		if (pfd[1].revents) {
			ssize_t n = read(err_fd, ebuf + elen_used,
					 sizeof(ebuf) - 1 - elen_used);

			if (n > 0) {
				elen_used += (size_t)n;
				if (elen_used == sizeof(ebuf) - 1)
					elen_used = 0;  /* keep only the tail */
			} else if (n == 0 || errno != EINTR) {
				pfd[1].fd = -1;
				open_fds--;
			}
		}
	}
	buf[len] = '\0';
	ebuf[elen_used] = '\0';
	/* last non-empty line of stderr */
	while (elen_used && (ebuf[elen_used - 1] == '\n' || ebuf[elen_used - 1] == ' '))
		ebuf[--elen_used] = '\0';
	if (elen) {
		const char *nl = strrchr(ebuf, '\n'), *last = nl ? nl + 1 : ebuf;
		size_t n = strnlen(last, elen - 1);

		memcpy(err_line, last, n);
		err_line[n] = '\0';
	}
	*out = buf;
	return 0;
}

static int run_thin_ls(const char *meta_path, char **out, char *err_line, size_t elen)
{
	char *argv[] = { "thin_ls", "--metadata-snap", "--no-headers", "-o",
			 "DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES",
			 (char *)meta_path, NULL };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status, r;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	err_line[0] = '\0';
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	r = posix_spawnp(&pid, "thin_ls", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		/* also where thin-provisioning-tools live on Debian */
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, po[1], 1);
		posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
		r = posix_spawn(&pid, "/usr/sbin/thin_ls", &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	if (r != 0) {
		snprintf(err_line, elen, "cannot run thin_ls: %s", strerror(r));
		r = -r;
		goto out;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	r = drain(po[0], pe[0], out, err_line, elen);
	/* close before waiting: a child still writing gets EPIPE, not a hang */
	close(po[0]);
	close(pe[0]);
	po[0] = pe[0] = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		free(*out);
		*out = NULL;
		if (!err_line[0])
			snprintf(err_line, elen, "thin_ls failed");
		r = -EIO;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return r;
}

/* The metadata device of pool VG/POOL (checked against the thin-pool
 * table of tpool), locked, with a fresh metadata snapshot reserved: the
 * caller reads it and calls snap_end. what: "read usage of" ... */
static int snap_begin(const char *vg, const char *pool, const char *tpool, const char *what,
		      char *path, size_t plen, int *ret_lock_fd, qstor_error *err)
{
	char tmeta_lv[LVT_NAME_MAX + 8];
	char tmeta[LVT_DM_NAME_MAX + 1];
	char target[32], params[512];
	struct lvt_pool_table table;
	struct lvt_pool_status st;
	_cleanup_close_ int lock_fd = -1;
	struct stat sb;
	int r;

	snprintf(tmeta_lv, sizeof(tmeta_lv), "%s_tmeta", pool);
	if (lvt_dm_name(vg, tmeta_lv, NULL, tmeta, sizeof(tmeta)) < 0)
		return qs_err(err, -ENAMETOOLONG, "cannot %s '%s/%s': name too long",
			      what, vg, pool);
	r = lvt_dm_params(tpool, true, target, sizeof(target), params, sizeof(params));
	if (r == 0 && strcmp(target, "thin-pool") != 0)
		r = -EBADMSG;
	if (r == 0)
		r = lvt_parse_pool_table(params, &table);
	if (r < 0)
		return qs_err(err, r, "cannot %s '%s/%s': no thin-pool table on '%s'",
			      what, vg, pool, tpool);
	snprintf(path, plen, "/dev/mapper/%s", tmeta);
	if (stat(path, &sb) < 0 || !S_ISBLK(sb.st_mode) ||
	    major(sb.st_rdev) != table.meta_major || minor(sb.st_rdev) != table.meta_minor)
		return qs_err(err, -ENOENT, "cannot %s '%s/%s': '%s' is not the "
			      "pool's metadata device %u:%u", what, vg, pool, path,
			      table.meta_major, table.meta_minor);

	lock_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0)
		return qs_err(err, -errno, "cannot lock '%s': %m", path);

	/* a snapshot nobody holds the lock for was left by a crash */
	r = lvt_dm_params(tpool, false, target, sizeof(target), params, sizeof(params));
	if (r == 0)
		r = lvt_parse_pool_status(params, &st);
	if (r < 0)
		return qs_err(err, r, "cannot read status of '%s'", tpool);
	if (st.held_root)
		(void)lvt_dm_message(tpool, "release_metadata_snap");
	r = lvt_dm_message(tpool, "reserve_metadata_snap");
	if (r < 0)
		return qs_err(err, r, "cannot reserve a metadata snapshot of '%s/%s': %s",
			      vg, pool, lvt_dm_last_error());
	*ret_lock_fd = TAKE_FD(lock_fd);
	return 0;
}

/* Release the snapshot (0 or -errno); the lock goes with lock_fd. */
static int snap_end(const char *tpool, int lock_fd)
{
	int r = lvt_dm_message(tpool, "release_metadata_snap");

	close(lock_fd);
	return r;
}

int lvt_thin_ls_usage(const char *vg, const char *pool, const char *tpool,
		      struct lvt_thin_usage **ret, size_t *ret_n,
		      qstor_error *err)
{
	char path[LVT_DM_NAME_MAX + 16], why[256];
	int lock_fd = -1;
	char *out = NULL;
	int r, rr;

	r = snap_begin(vg, pool, tpool, "read usage of", path, sizeof(path), &lock_fd, err);
	if (r < 0)
		return r;
	r = run_thin_ls(path, &out, why, sizeof(why));
	rr = snap_end(tpool, lock_fd);
	if (r < 0) {
		free(out);
		return qs_err(err, r, "cannot read usage of '%s/%s': %s", vg, pool, why);
	}
	r = lvt_thin_ls_parse(out, ret, ret_n);
	free(out);
	if (r < 0)
		return qs_err(err, r, "cannot read usage of '%s/%s': unexpected thin_ls output",
			      vg, pool);
	if (rr < 0) {
		free(*ret);
		*ret = NULL;
		return qs_err(err, rr, "cannot release the metadata snapshot of '%s/%s': %s",
			      vg, pool, lvt_dm_last_error());
	}
	return 0;
}

/* ---- the metadata read here (thinmeta.h) ---- */

/* Metadata blocks with O_DIRECT: the kernel writes the metadata device
 * through its own buffers, the page cache of the node would be stale. */
static int direct_read(void *ctx, uint64_t nr, void *buf)
{
	int fd = *(int *)ctx;
	ssize_t n;

	if (nr > (uint64_t)INT64_MAX / LVT_META_BLOCK)
		return -EINVAL;
	do
		n = pread(fd, buf, LVT_META_BLOCK, (off_t)(nr * LVT_META_BLOCK));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == LVT_META_BLOCK ? 0 : -EIO;
}

struct bytes_ctx {
	qs_extent_cb cb;
	void *ctx;
	uint64_t bs;     /* data block size in bytes */
};

static int to_bytes(void *p, size_t i, uint64_t vblock, uint64_t dblock, uint64_t nblocks,
		    bool shared)
{
	struct bytes_ctx *b = p;

	return b->cb(b->ctx, i, vblock * b->bs, dblock * b->bs, nblocks * b->bs,
		     shared ? QS_EXTENT_SHARED : 0);
}

int lvt_thin_meta_extents(const char *vg, const char *pool, const char *tpool,
			  const uint64_t *ids, size_t n, qs_extent_cb cb, void *ctx,
			  qstor_error *err)
{
	char path[LVT_DM_NAME_MAX + 16], why[256] = "";
	struct lvt_meta *m = NULL;
	struct bytes_ctx b = { .cb = cb, .ctx = ctx };
	_cleanup_close_ int fd = -1;
	int lock_fd = -1, r, rr;

	r = snap_begin(vg, pool, tpool, "read extents of", path, sizeof(path), &lock_fd, err);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(why, sizeof(why), "cannot open '%s': %s", path, strerror(errno));
	} else {
		r = lvt_meta_load(direct_read, &fd, true, &m, why, sizeof(why));
	}
	if (r == 0) {
		/* the ranges go out while the snapshot is held: one view */
		b.bs = (uint64_t)lvt_meta_block_sectors(m) * 512;
		r = lvt_meta_extents(m, ids, n, to_bytes, &b, why, sizeof(why));
		lvt_meta_free(m);
	}
	rr = snap_end(tpool, lock_fd);
	if (r != 0) {
		/* a callback's own error carries its message */
		if (why[0])
			return qs_err(err, r < 0 ? r : -EIO, "cannot read extents of '%s/%s': %s",
				      vg, pool, why);
		return r;
	}
	if (rr < 0)
		return qs_err(err, rr, "cannot release the metadata snapshot of '%s/%s': %s",
			      vg, pool, lvt_dm_last_error());
	return 0;
}
