/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lvmcmd.h - every LVM command of the lvm_thin driver: command lines built
 * by pure functions (lvmcmd.c), run in process through liblvm2cmd
 * (lvmrun.c).
 *
 * lvm2_run() takes one string and splits it on white space (lvm_split in
 * tools/lvmcmdline.c: a word starting with a quote runs to the next quote,
 * a word starting with '#' ends the line). Names are never quoted, so the
 * builders refuse any name outside [A-Za-z0-9_.+-] (lvt_name_ok) even
 * though the core validated them already.
 *
 * Builders return 0, -EINVAL (bad name, size 0 or not a multiple of 512,
 * no LV), -E2BIG (more LVs than one command line may carry) or
 * -ENAMETOOLONG (buf too small).
 */
#ifndef LVT_LVMCMD_H
#define LVT_LVMCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* lvm2_run() splits into at most MAX_ARGS (64) words; keep room for the
 * command and its options. */
#define LVT_CMD_MAX_LVS 48
#define LVT_CMD_LEN (LVT_CMD_MAX_LVS * 260 + 256)

/* Fields of the one report the driver reads (see report.h). */
#define LVT_REPORT_FIELDS \
	"lv_name,lv_attr,lv_size,pool_lv,origin,thin_id,vg_seqno,vg_extent_size,devices"

/* lvcreate -q -y -an|-ay -V <size>b -T VG/POOL -n LV */
int lvt_cmd_create(char *buf, size_t len, const char *vg, const char *pool,
		   const char *lv, uint64_t size, bool activate);
/* activate (a running copy):  lvcreate -q -y -s -kn -ay VG/SRC -n DST
 * otherwise (inactive, skipped by a plain vgchange -ay):
 *                             lvcreate -q -y -s -ky -an VG/SRC -n DST */
int lvt_cmd_snapshot(char *buf, size_t len, const char *vg, const char *src_lv,
		     const char *dst_lv, bool activate);
/* lvrename -q VG OLD NEW */
int lvt_cmd_rename(char *buf, size_t len, const char *vg, const char *old_lv,
		   const char *new_lv);
/* lvremove -q -f VG/A VG/B ... (one command for up to LVT_CMD_MAX_LVS) */
int lvt_cmd_remove(char *buf, size_t len, const char *vg,
		   const char *const *lvs, size_t n);
/* lvresize -q -f -L <size>b VG/LV (-f: a shrink does not prompt) */
int lvt_cmd_resize(char *buf, size_t len, const char *vg, const char *lv,
		   uint64_t size);
/* lvchange -q -ay -K VG/A ... (-K: also LVs flagged activation skip) */
int lvt_cmd_activate(char *buf, size_t len, const char *vg,
		     const char *const *lvs, size_t n);
/* lvchange -q -an VG/A ... */
int lvt_cmd_deactivate(char *buf, size_t len, const char *vg,
		       const char *const *lvs, size_t n);
/* lvs -a --reportformat json -o LVT_REPORT_FIELDS --units b --nosuffix VG */
int lvt_cmd_report(char *buf, size_t len, const char *vg);

/* What one command printed. */
struct lvt_out {
	char *report;          /* malloc'd '\n'-joined report lines, or NULL */
	size_t report_len;
	size_t report_cap;
	char error[256];       /* first line LVM logged as an error, "" if none */
	char errors[1024];     /* every error line, '\n'-joined (truncated) */
	bool truncated;        /* report lines were lost (out of memory) */
};

void lvt_out_free(struct lvt_out *out);

/* out->error as the tail of our messages: first letter lowercased (unless
 * an acronym: "LV"), trailing '.' dropped. Returns buf. */
const char *lvt_out_reason(const struct lvt_out *out, char *buf, size_t len);

/* lvm2_run()'s return (1 = ECMD_PROCESSED) and the error lines -> 0 or a
 * negative errno: -EEXIST, -ENOENT, -ENOSPC, -EINVAL, -ENOSYS, -EIO. */
int lvt_rc_to_errno(int rc, const char *errors);

/* Initialise the process-wide liblvm2cmd handle once. */
int lvt_lvm_init(void);

/* Run one command line; out (may be NULL) receives what it printed.
 * Calls are serialized by a process-wide mutex. 0 or -errno.
 * QSTOR_LVM_TRACE=1: each command line, its status and time, and
 * lvm2_init's time, on stderr as "qstor-lvm: [PID] N ms ...", and the
 * number of calls at exit ("qstor-lvm: N lvm2_run calls"). */
int lvt_run(const char *cmdline, struct lvt_out *out);

/* Number of lvm2_run() calls made by this process (for cost figures). */
unsigned long lvt_run_count(void);

#endif
