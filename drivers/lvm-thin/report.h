/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.h - the one LVM report the lvm_thin driver reads:
 *
 *   lvs -a --reportformat json -o LVT_REPORT_FIELDS --units b --nosuffix VG
 *
 * lvm 2.03 prints (libdm-report.c, one log_print per line):
 *
 *   {
 *       "report": [
 *           {
 *               "lv": [
 *                   {"lv_name":"pool00", "lv_attr":"twi-aotz--", ...},
 *                   {"lv_name":"[pool00_tdata]", ..., "devices":"/dev/vda(2)"}
 *               ]
 *           }
 *       ]
 *   }
 *
 * Values are strings; only '"' is escaped (as \"); "json_std" output of
 * newer lvm (unquoted numbers, null) is accepted too. A report field of a
 * segment (devices) makes one row per segment: rows of one LV are merged.
 * Other sections ("log" with report/command_log) are skipped.
 */
#ifndef LVT_REPORT_H
#define LVT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"

struct lvt_lv {
	char name[LVT_NAME_MAX + 3];     /* hidden LVs in brackets: "[x_tmeta]" */
	char attr[16];                   /* lv_attr, e.g. "Vwi-a-tz--" */
	char pool[LVT_NAME_MAX + 1];     /* pool_lv, "" if none */
	char origin[LVT_NAME_MAX + 3];   /* origin, "" if none */
	uint64_t size;                   /* lv_size, bytes */
	int64_t thin_id;                 /* thin_id, -1 if not a thin volume */
};

struct lvt_report {
	uint64_t seqno;                  /* vg_seqno (0 if the VG has no LV) */
	uint64_t extent_size;            /* vg_extent_size, bytes (0: unknown) */
	struct lvt_lv *lvs;
	size_t n_lvs;
	char **pvs;                      /* PV paths from devices, deduplicated */
	size_t n_pvs;
};

/* Parse the JSON text; *ret is filled only on success (free with
 * lvt_report_free). 0, -EBADMSG (with a short reason in why) or -ENOMEM. */
int lvt_report_parse(const char *json, struct lvt_report *ret, char *why,
		     size_t why_len);
void lvt_report_free(struct lvt_report *r);

/* "devices" value -> PV paths appended to *pvs (deduplicated): entries
 * "/dev/vda(0)" give "/dev/vda"; sub-LV entries ("pool_tdata(0)") are
 * skipped. 0, -EBADMSG or -ENOMEM. */
int lvt_devices_parse(const char *devices, char ***pvs, size_t *n);

const struct lvt_lv *lvt_report_find(const struct lvt_report *r, const char *name);

#endif
