/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * thinls.h - exact mapped/exclusive figures of every thin device of a pool,
 * from a metadata snapshot read by thin_ls (thin-provisioning-tools):
 *
 *   dm message <VG-POOL-tpool> 0 reserve_metadata_snap
 *   thin_ls --metadata-snap --no-headers
 *           -o DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES <tmeta device>
 *   dm message <VG-POOL-tpool> 0 release_metadata_snap   (on every path)
 *
 * The metadata device is the pool's "_tmeta" sub-LV, which lvm keeps
 * active (as /dev/mapper/VG-POOL_tmeta) while the pool is active; its
 * major:minor is checked against the -tpool table. thin_ls is a child
 * process: it is not LVM and not on the start/stop path. Concurrent qstor
 * processes serialize on an flock of the metadata device node; a snapshot
 * left by a crashed process (status shows a held root) is released first.
 * The reservation does not touch LVM's transaction id. dm-thin commits the
 * metadata after a successful pool message (pool_message() in
 * drivers/md/dm-thin.c), so the held root is on disk when thin_ls reads
 * the superblock.
 * Parser: thinls.c; the sequence: metasnap.c. The extents op reads the
 * same snapshot itself (lvt_thin_meta_extents below).
 */
#ifndef LVT_THINLS_H
#define LVT_THINLS_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "qstor.h"

struct lvt_thin_usage {
	uint64_t dev_id;
	uint64_t mapped, exclusive, shared;   /* bytes */
};

/* thin_ls --no-headers -o DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES
 * output: one device a line, four unsigned integers separated by blanks.
 * *ret malloc'd. 0, -EBADMSG or -ENOMEM. */
int lvt_thin_ls_parse(const char *text, struct lvt_thin_usage **ret,
		      size_t *ret_n);

/* Run the whole sequence above for pool VG/POOL whose thin-pool target is
 * the device-mapper device tpool ("VG-POOL-tpool", or "VG-POOL" while the
 * pool has no thin volume). */
int lvt_thin_ls_usage(const char *vg, const char *pool, const char *tpool,
		      struct lvt_thin_usage **ret, size_t *ret_n,
		      qstor_error *err);

/* The same sequence with the snapshot read here (thinmeta.h) instead of
 * by thin_ls: O_DIRECT reads of the metadata device (the kernel writes
 * it through its own buffers; the page cache would be stale), then cb for
 * every run of the thin devices ids[0], ids[1]... in that order, in bytes
 * (the pool's data block size from the superblock), QS_EXTENT_SHARED
 * where more than one mapping in the pool references the block; an id
 * the pool has no device for gives nothing. The snapshot is released on
 * every path, after the last cb. */
int lvt_thin_meta_extents(const char *vg, const char *pool, const char *tpool,
			  const uint64_t *ids, size_t n, qs_extent_cb cb, void *ctx,
			  qstor_error *err);

#endif
