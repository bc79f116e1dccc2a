/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * esc.h - users' strings in messages: the one escaper of the library, the
 * drivers and the tools (src/error.c).
 *
 * A name, value, path or argument a user gave is quoted in a message only
 * through qs_esc(), so a message stays one line that cannot move the
 * terminal's cursor, change its colours or turn text around, and a 100 kB
 * argument is not echoed whole.
 */
#ifndef QSTOR_ESC_H
#define QSTOR_ESC_H

#include <stddef.h>

/* s for a one-line message, in out (len bytes): printable ASCII and
 * well-formed UTF-8 as they are; control characters (C0, DEL, C1), line
 * separators, bidirectional controls and stray bytes as \xNN; at most max
 * input bytes, then "...". A NULL s is "". Returns out. A buffer of
 * QS_ESC_BUF(max) bytes always holds the whole result. */
const char *qs_esc(const char *s, size_t max, char *out, size_t len);

#define QS_ESC_BUF(max) (4 * (max) + 4)
/* s escaped into a buffer that lives until the end of the enclosing block:
 * for a message's arguments, e.g. qs_err(err, -EINVAL, "no such pool '%s'",
 * QS_ESC(name)). */
#define QS_ESC_N(s, max) qs_esc((s), (max), (char[QS_ESC_BUF(max)]){ 0 }, QS_ESC_BUF(max))
/* names, words and option values: 64 bytes (the longest valid name) */
#define QS_ESC(s) QS_ESC_N((s), 64)
/* paths: 128 bytes */
#define QS_ESC_PATH(s) QS_ESC_N((s), 128)

#endif
