/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmstatus.h - what the lvm_thin driver reads from the kernel without LVM:
 * libdevmapper info/status/table of the pool's "-tpool" device and of
 * thin devices (dmtask.c), and the pure parsers of their text (dmstatus.c).
 *
 * Formats (linux Documentation/admin-guide/device-mapper/
 * thin-provisioning.rst):
 *   thin-pool table:  <metadata dev> <data dev> <data block size (sectors)>
 *                     <low water mark (blocks)> [<#features> <feature>...]
 *   thin-pool status: <transaction id> <used meta>/<total meta blocks>
 *                     <used data>/<total data blocks> <held metadata root>
 *                     ro|rw|out_of_data_space [no_]discard_passdown
 *                     [error|queue]_if_no_space needs_check|- <meta low wm>
 *                     or "Fail"; metadata blocks are 4096 bytes.
 *   thin status:      <nr mapped sectors> <highest mapped sector>|-
 *                     or "Fail".
 *   thin table:       <pool dev> <dev id> [<external origin dev>]
 */
#ifndef LVT_DMSTATUS_H
#define LVT_DMSTATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LVT_META_BLOCK_BYTES 4096ULL

struct lvt_pool_status {
	uint64_t transaction_id;
	uint64_t meta_used, meta_total;   /* 4096-byte blocks */
	uint64_t data_used, data_total;   /* data blocks (see table) */
	bool held_root;                   /* a metadata snapshot is reserved */
	bool read_only;                   /* "ro" or "out_of_data_space" */
	bool out_of_data_space;
	bool needs_check;
};

struct lvt_pool_table {
	unsigned meta_major, meta_minor;
	unsigned data_major, data_minor;
	uint64_t block_sectors;           /* data block size, 512-byte sectors */
};

/* 0, -EIO for "Fail", -EBADMSG if malformed. */
int lvt_parse_pool_status(const char *params, struct lvt_pool_status *ret);
/* 0 or -EBADMSG. Devices must be given as major:minor (as the kernel
 * prints them). */
int lvt_parse_pool_table(const char *params, struct lvt_pool_table *ret);
/* 0, -EIO for "Fail", -EBADMSG. */
int lvt_parse_thin_status(const char *params, uint64_t *ret_mapped_sectors);
/* thin table: "<pool dev> <dev id> [<external origin dev>]" -> dev id.
 * 0 or -EBADMSG. */
int lvt_parse_thin_table(const char *params, uint64_t *ret_dev_id);

/* ---- libdevmapper (never logs; all return 0 or -errno) ---- */

/* exists=false when there is no such device; -ENODEV when the kernel has
 * no device-mapper. */
int lvt_dm_info(const char *dm_name, bool *ret_exists, unsigned *ret_major,
		unsigned *ret_minor);
/* Status (table=false) or table (table=true) of a one-target device:
 * target type and parameters. -ENXIO if the device does not exist. */
int lvt_dm_params(const char *dm_name, bool table, char *target, size_t tlen,
		  char *params, size_t plen);
/* Send a target message to sector 0 (reserve_metadata_snap ...). */
int lvt_dm_message(const char *dm_name, const char *msg);
/* The last libdevmapper error line of this thread ("" if none). */
const char *lvt_dm_last_error(void);

#endif
