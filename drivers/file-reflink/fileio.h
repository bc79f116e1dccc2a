/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fileio.h - file primitives of the file-reflink driver: reflink clone,
 * sparse copy, temporaries, directory fsync, FIEMAP walk.
 *
 * Every function returns 0 (or a non-negative value where stated) or a
 * negative errno; none of them formats messages, the caller does.
 */
#ifndef QSTOR_RF_FILEIO_H
#define QSTOR_RF_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fiemap_extent;

/* FICLONE src_fd into dst_fd (whole file). Checks that src is a regular
 * file first (-EINVAL otherwise, as FICLONE would on some filesystems
 * only after doing damage elsewhere). */
int qs_rf_clone(int dst_fd, int src_fd);
/* true if r (from qs_rf_clone) means "this filesystem has no reflinks",
 * as opposed to a real failure such as -EIO or -ENOSPC. */
bool qs_rf_clone_unsupported(int r);
/* Copy src_fd to dst_fd keeping holes (SEEK_DATA/SEEK_HOLE); dst ends up
 * with src's size. Used when the pool has setup_check=no and no reflinks. */
int qs_rf_sparse_copy(int dst_fd, int src_fd);

/* Probe reflink support in dir: 1 yes, 0 no, <0 error. Leaves nothing
 * behind (O_TMPFILE, or a temporary unlinked right after creation). */
int qs_rf_probe_reflink(const char *dir);

/* Create a temporary next to dst, named "dst~XXXXXX" (mode 0600), so that
 * list() recognises it as a temporary of dst's volume. Returns the fd and
 * writes the name to buf. */
int qs_rf_tmpfile(const char *dst, char *buf, size_t len);
/* rename(from, to) failing with -EEXIST if to exists (RENAME_NOREPLACE). */
int qs_rf_rename_noreplace(const char *from, const char *to);
/* fsync a directory, and the directory holding path. */
int qs_rf_fsync_dir(const char *dir);
int qs_rf_fsync_parent(const char *path);

/* Call cb for every extent of fd, in logical order; stops at the first
 * non-zero return of cb and returns it. */
typedef int (*qs_rf_extent_cb)(const struct fiemap_extent *fe, void *ctx);
int qs_rf_fiemap_walk(int fd, qs_rf_extent_cb cb, void *ctx);
/* The same with FIEMAP flags, given to every batch (FIEMAP_FLAG_SYNC:
 * write back first, so that delayed allocations have a physical address;
 * cheap when nothing is dirty). */
int qs_rf_fiemap_walk_flags(int fd, uint32_t flags, qs_rf_extent_cb cb, void *ctx);

/* Extent-map usage of one file of size bytes: mapped = bytes of extents
 * (clipped to size), exclusive = those not flagged FIEMAP_EXTENT_SHARED.
 * ret_extents (may be NULL): number of extents seen. */
int qs_rf_file_usage(int fd, uint64_t size, uint64_t *ret_mapped,
		     uint64_t *ret_exclusive, uint64_t *ret_extents);

#endif
