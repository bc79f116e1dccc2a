/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * names.h - lvm_thin names: vid <-> VG and base LV name, object role <->
 * LV name suffix, LV -> device-mapper name. Pure functions.
 *
 *   role        LV name (base = "vm-NAME-VOL")
 *   COMMITTED   base
 *   RUNNING     base-snap
 *   IMPORT      base-import
 *   REVISION    base-<unixtime>-back   (rev_key = rev_time = unixtime)
 *   TMP         base-tmp
 *   PRECACHE    not used (-EOPNOTSUPP)
 */
#ifndef LVT_NAMES_H
#define LVT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"

/* LVM's NAME_LEN (128) and libdevmapper's DM_NAME_LEN (128), minus NUL */
#define LVT_NAME_MAX 127
#define LVT_DM_NAME_MAX 127
/* Longest suffix an object adds to its base: "-<20 digits>-back" */
#define LVT_SUFFIX_MAX 26

/* s is 1..LVT_NAME_MAX bytes of [A-Za-z0-9_.+-] and does not start with
 * '-'. Checked again before any name reaches an lvm command line, which
 * lvm2_run splits on white space and quotes without any escaping. */
bool lvt_name_ok(const char *s);

/* "VG/vm-NAME-VOL" -> vg, base. -EINVAL if malformed. */
int lvt_vid_split(const char *vid, char vg[LVT_NAME_MAX + 1],
		  char base[LVT_NAME_MAX + 1]);

/* The LV name of role (rev_key for REVISION). -EOPNOTSUPP for PRECACHE,
 * -EINVAL for a bad base, -ENAMETOOLONG if it does not fit buf or LVM. */
int lvt_obj_lv(const char *base, enum qs_role role, uint64_t rev_key,
	       char *buf, size_t len);

/* Is lv an object of base? 1 (role, rev_key set) or 0. Strict: the
 * suffix after base must be exactly "", "-snap", "-import", "-tmp" or
 * "-<digits>-back" (digits as printed by "%llu": no leading zero), so
 * "vm-x-root-private" is not an object of "vm-x-root". */
int lvt_lv_role(const char *base, const char *lv, enum qs_role *ret_role,
		uint64_t *ret_rev_key);

/* "1700000000-back", the user-facing revision id Qubes OS shows. */
int lvt_rev_id(uint64_t rev_key, char *buf, size_t len);

/* Device-mapper name of VG/LV (layer: NULL or e.g. "tpool"): each part
 * with '-' doubled, joined by '-': ("qubes_dom0", "vm-x-root", NULL) ->
 * "qubes_dom0-vm--x--root". -ENAMETOOLONG beyond LVT_DM_NAME_MAX. */
int lvt_dm_name(const char *vg, const char *lv, const char *layer,
		char *buf, size_t len);

#endif
