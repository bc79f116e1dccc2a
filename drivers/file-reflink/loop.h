/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop.h - loop devices for the file-reflink driver: find the devices
 * backing a file, attach (direct I/O, no autoclear), detach, grow.
 *
 * A file is identified by (st_dev, st_ino), not by its path: the kernel's
 * backing_file in sysfs follows renames, but a path may be spelt in many
 * ways (symlinks, bind mounts). Every function returns 0 or a negative
 * errno and formats no message.
 */
#ifndef QSTOR_RF_LOOP_H
#define QSTOR_RF_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/stat.h>

/* Where concurrent qstor processes serialise LOOP_CTL_GET_FREE + attach. */
#define QS_LOOP_LOCK_PATH "/run/qstor-loop.lock"

struct qs_loop_dev {
	int nr;            /* /dev/loopNR */
	dev_t dev;         /* backing file, 0/0 when its path is not visible */
	ino_t ino;
	bool ro;           /* set by qs_loop_find only */
	bool autoclear;    /* set by qs_loop_find only: detach pending */
};

/* Every attached loop device with the identity of its backing file, from
 * sysfs (no ioctl, cheap). *ret malloc'd, NULL when none. */
int qs_loop_list(struct qs_loop_dev **ret, size_t *ret_n);
/* true if some device in list backs the file st. */
bool qs_loop_list_has(const struct qs_loop_dev *list, size_t n,
		      const struct stat *st);
/* The devices backing the file st, each confirmed by LOOP_GET_STATUS64
 * (lo_device, lo_inode), with ro and autoclear filled in. */
int qs_loop_find(const struct stat *st, struct qs_loop_dev **ret, size_t *ret_n);

/* Attach path read-write or read-only with direct I/O (buffered if the
 * filesystem refuses it), or return a device already backing it that is
 * not about to be cleared. ret_ro: the device's read-only flag (differs
 * from !rw only when an existing device was reused). ret_reused: true in
 * that case. Never sets LO_FLAGS_AUTOCLEAR: the device must outlive us. */
int qs_loop_attach(const char *path, bool rw, int *ret_nr, bool *ret_ro,
		   bool *ret_reused);
/* LOOP_CLR_FD on /dev/loopNR if it still backs st; an open device is
 * cleared by the kernel when its last user closes it. Not attached: 0. */
int qs_loop_detach(int nr, const struct stat *st);
/* Detach every device backing path; missing path: 0. */
int qs_loop_detach_file(const char *path);
/* Re-read the backing file's size (LOOP_SET_CAPACITY) on every device
 * backing st. */
int qs_loop_set_capacity_file(const struct stat *st);

#endif
