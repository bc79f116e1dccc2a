/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Declarations shared inside libqstor (core and drivers); not installed. */
#ifndef QSTOR_INTERNAL_H
#define QSTOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "esc.h"
#include "qstor.h"

struct qs_pool;
struct qs_driver;

int qs_err(qstor_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int qs_err_prefix(qstor_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* systemd-style cleanup helpers */
static inline void qs_freep(void *p) { free(*(void **)p); }
static inline void qs_closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_ __attribute__((cleanup(qs_freep)))
#define _cleanup_close_ __attribute__((cleanup(qs_closep)))
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Make room for need elements of size bytes in *p (capacity *cap,
 * doubled from 16): 0, or -ENOMEM with *p unchanged. */
static inline int qs_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			return -12;  /* -ENOMEM, without <errno.h> here */
		c *= 2;
	}
	n = realloc(*p, c * size);
	if (!n)
		return -12;
	*p = n;
	*cap = c;
	return 0;
}

/* fsync the directory holding path (after a rename or create in it) */
int qs_fsync_parent(const char *path);

/* Copy exactly size bytes from in (a stream: read(), not pread()) to out
 * at the same offsets, skipping all-zero blocks (out must read as zeros:
 * a fresh object). Fewer bytes: -ENODATA; with exact, more bytes than
 * size: -EFBIG. Messages name neither side: the caller prefixes. */
int qs_copy_data(int in, int out, uint64_t size, bool exact, qstor_error *err);

/* Unit tests add a fake driver to the registry. */
void qs_driver_register_extra(const struct qs_driver *drv);

#endif
