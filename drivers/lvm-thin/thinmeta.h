/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * thinmeta.h - a reader of dm-thin pool metadata: which data blocks each
 * thin device maps, and which of them more than one mapping in the pool
 * references. Pure: blocks come through a read callback, nothing is
 * written, nothing logged. The metadata is untrusted input: every block is
 * checked (checksum, location, node flags, entry counts, key order, block
 * numbers in range, tree shape); damage gives -EBADMSG and a reason, never
 * a crash, a hang or an unbounded walk.
 *
 * The on-disk format (linux drivers/md/dm-thin-metadata.c and
 * drivers/md/persistent-data/, as thin-provisioning-tools reads it):
 * 4096-byte blocks, little endian.
 *
 *   superblock (block 0)  csum u32 @0 (crc32c of bytes 4..4095, seed ~0,
 *                         not inverted, xor 160774), flags @4, blocknr
 *                         u64 @8, uuid @16, magic u64 @32 (27022010),
 *                         version u32 @40, time @44, trans_id @48,
 *                         held_root u64 @56 (the metadata snapshot, a
 *                         copy of the superblock, 0 when none),
 *                         data space map root @64 (nr_blocks u64 first),
 *                         metadata space map root @192 (likewise),
 *                         data_mapping_root u64 @320,
 *                         device_details_root u64 @328,
 *                         data_block_size u32 @336 (512-byte sectors),
 *                         metadata_block_size u32 @340, metadata_nr_blocks
 *                         u64 @344.
 *   btree node            csum u32 @0 (as above, xor 121107), flags u32
 *                         @4 (1 internal, 2 leaf), blocknr u64 @8,
 *                         nr_entries u32 @16, max_entries u32 @20,
 *                         value_size u32 @24, padding; keys u64[max] @32,
 *                         then values[max] of value_size bytes. Internal
 *                         values are child block numbers; key[i] <= every
 *                         key below child i.
 *   device details tree   dev_id -> { mapped_blocks u64, transaction_id
 *                         u64, creation_time u32, snapshotted_time u32 }
 *   data mapping tree     dev_id -> root of that device's mapping tree
 *                         (virtual block -> data block << 24 | time)
 *
 * Snapshots of a thin device share subtrees of its mapping tree: each
 * metadata block is read and parsed once; how many devices reach a leaf
 * is counted over the graph, so a data block's reference count is known
 * without walking any device twice. "Shared" means: referenced by more
 * than one (device, virtual block) mapping in the pool, every device
 * counted, whether asked about or not.
 */
#ifndef LVT_THINMETA_H
#define LVT_THINMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LVT_META_BLOCK 4096u
#define LVT_META_MAGIC 27022010u

/* Read metadata block nr into buf (LVT_META_BLOCK bytes, 4096-aligned,
 * fit for O_DIRECT). 0 or -errno. */
typedef int (*lvt_meta_read_fn)(void *ctx, uint64_t nr, void *buf);

/* One run of objs[i]: nblocks virtual blocks from vblock map to the data
 * blocks from dblock on, each shared or each not. Non-zero stops. */
typedef int (*lvt_meta_extent_fn)(void *ctx, size_t i, uint64_t vblock,
				  uint64_t dblock, uint64_t nblocks, bool shared);

struct lvt_meta_dev {
	uint64_t dev_id;
	uint64_t mapped_blocks;   /* as the device details tree says */
	uint32_t root;            /* (private) node of its mapping tree */
};

struct lvt_meta;

/* Read the whole pool: superblock, the held metadata snapshot's roots
 * (snap=true; -ENOENT when none is held) or the superblock's own
 * (snap=false: offline images, or a pool nobody changes), both device
 * trees, every mapping tree, the reference counts. 0 with *ret, or
 * -EBADMSG (damage), -ENOENT, -ENOMEM, a read error; then why (if
 * non-NULL) says what, in one line. */
int lvt_meta_load(lvt_meta_read_fn read, void *ctx, bool snap,
		  struct lvt_meta **ret, char *why, size_t why_len);
void lvt_meta_free(struct lvt_meta *m);

/* Data block size in 512-byte sectors, and the pool's data blocks. */
uint32_t lvt_meta_block_sectors(const struct lvt_meta *m);
uint64_t lvt_meta_data_blocks(const struct lvt_meta *m);

/* Every thin device, by ascending id. */
const struct lvt_meta_dev *lvt_meta_devices(const struct lvt_meta *m, size_t *ret_n);

/* cb for every run of ids[0]'s device, by ascending vblock, then ids[1]'s
 * ...; consecutive virtual blocks mapping to consecutive data blocks with
 * the same sharing are one run. An id the pool has no device for maps
 * nothing. 0, cb's non-zero return, or -EBADMSG (a tree whose virtual
 * blocks are out of order across its leaves; why says so). */
int lvt_meta_extents(struct lvt_meta *m, const uint64_t *ids, size_t n,
		     lvt_meta_extent_fn cb, void *ctx, char *why, size_t why_len);

/* crc32c as dm's block checksums use it (seed ~0, no final inversion) */
uint32_t lvt_meta_crc32c(uint32_t crc, const void *data, size_t len);

#endif
