/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error messages and named crash points. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "internal.h"

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
