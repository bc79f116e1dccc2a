/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error messages and named crash points. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "internal.h"

/* Bytes of the UTF-8 character at p when it is well-formed and harmless
 * on a terminal; 0 for ASCII, stray or overlong bytes, and characters that
 * act instead of showing: C1 controls (U+009B is CSI), line and paragraph
 * separators, and the marks and overrides that turn text around. */
static size_t utf8_printable(const unsigned char *p)
{
	uint32_t cp;
	size_t k;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 1, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 2, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 3, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;   /* also stops at the terminating NUL */
		cp = cp << 6 | (p[j] & 0x3f);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp <= 0x9f || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return k + 1;
}

const char *qs_esc(const char *s, size_t max, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* room is kept for "..." and the NUL */
	size_t o = 0, i = 0, lim = len > 4 ? len - 4 : 0;

	if (!out || !len)
		return "";
	while (s && s[i] && i < max) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t k = utf8_printable(p);
		size_t w = k ? k : (*p < 0x20 || *p >= 0x7f) ? 4 : 1;

		if (o + w > lim)
			break;
		if (k) {
			memcpy(out + o, p, k);
		} else if (w == 4) {
			/* by hand, not snprintf: errno stays for the caller */
			out[o] = '\\';
			out[o + 1] = 'x';
			out[o + 2] = hex[*p >> 4];
			out[o + 3] = hex[*p & 15];
		} else {
			out[o] = (char)*p;
		}
		o += w;
		i += k ? k : 1;
	}
	if (s && s[i] && o + 3 < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

int qs_err(qstor_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

/* Prefix an existing message: "cannot start 'work': <driver message>". */
int qs_err_prefix(qstor_error *err, const char *fmt, ...)
{
	char buf[QSTOR_MSG_MAX];
	va_list ap;
	int n;

	if (!err)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= sizeof(buf))
		return err->code;
	memcpy(buf + n, ": ", 2);
	/* keep as much of the original message as fits */
	size_t room = sizeof(buf) - (size_t)n - 3;
	size_t len = strnlen(err->msg, room);
	memcpy(buf + n + 2, err->msg, len);
	buf[n + 2 + len] = '\0';
	memcpy(err->msg, buf, sizeof(buf));
	return err->code;
}

void qs_crash_point(const char *name)
{
	const char *log = getenv("QSTOR_CRASH_LOG");
	const char *at = getenv("QSTOR_CRASH_AT");

	if (log && *log) {
		int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0) {
			dprintf(fd, "%s\n", name);
			close(fd);
		}
	}
	if (at && strcmp(at, name) == 0) {
		/* A marker on the console lets the VM harness cut the power
		 * here instead of letting the process abort. */
		fprintf(stderr, "QSTOR-CRASH-POINT %s\n", name);
		fflush(stderr);
		if (getenv("QSTOR_CRASH_HANG"))
			for (;;)
				pause();
		_exit(134);
	}
}
