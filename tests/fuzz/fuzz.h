/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz.h - shared by the fuzz targets of tests/fuzz/. Each target defines
 * LLVMFuzzerTestOneInput and checks invariants with FUZZ_ASSERT, which
 * aborts: libFuzzer reports it as a crash and keeps the input; the replay
 * main (replay-main.c, make check) fails the test.
 */
#ifndef QSTOR_FUZZ_H
#define QSTOR_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qstor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                          \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
				__LINE__, #cond);                                  \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* data as a C string (cut at its first NUL, as a C caller would see it);
 * free() it. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An error out-parameter as the API promises it: the code returned, a
 * non-empty message of one line, NUL-terminated within its buffer. */
static inline void fuzz_check_error(const qstor_error *err, int r)
{
	FUZZ_ASSERT(err->code == r);
	FUZZ_ASSERT(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	if (err->msg[0] == '\0' || strchr(err->msg, '\n') || strchr(err->msg, '\r')) {
		fprintf(stderr, "bad error message (code %d): '%s'\n", r, err->msg);
		FUZZ_ASSERT(!"a non-empty message of one line");
	}
}

/* 1..max bytes of [A-Za-z0-9_.+-], not starting with '-': nothing a shell
 * or a command line could take for anything but one plain word. */
static inline bool fuzz_chars_safe(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' || c == '-'))
			return false;
	}
	return true;
}

/* A valid name per qstor.h: 1..64 bytes of [A-Za-z0-9_.+-], not starting
 * with '-', not "." or "..", no "..", so no '/', no blank, no quote. */
static inline bool fuzz_name_is_safe(const char *s)
{
	return fuzz_chars_safe(s, QSTOR_NAME_MAX) && !strstr(s, "..") && strcmp(s, ".") != 0;
}

#endif
