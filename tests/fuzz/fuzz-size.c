/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qstor_parse_size against a reference written differently (128-bit
 * arithmetic, no early overflow checks): both must agree on every input,
 * on acceptance and on the value; an accepted size is 1..INT64_MAX, prints
 * back as decimal and parses again to the same value; a refusal leaves
 * *ret alone and sets a one-line message.
 */
#include <errno.h>

#include "fuzz.h"

static const struct { const char *suffix; unsigned __int128 mult; } units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", 1000 }, { "KB", 1000 }, { "Ki", 1024 }, { "KiB", 1024 },
	{ "M", 1000000 }, { "MB", 1000000 }, { "Mi", 1 << 20 }, { "MiB", 1 << 20 },
	{ "G", 1000000000 }, { "GB", 1000000000 }, { "Gi", 1 << 30 }, { "GiB", 1 << 30 },
	{ "T", 1000000000000ULL }, { "TB", 1000000000000ULL },
	{ "Ti", 1ULL << 40 }, { "TiB", 1ULL << 40 },
};

/* 1 and *ret if s is a size SPEC 4 allows, else 0 */
static int reference(const char *s, uint64_t *ret)
{
	unsigned __int128 v = 0, cap = (unsigned __int128)1 << 70;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > cap)
			v = cap;  /* saturate: far beyond any valid size anyway */
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		v *= units[i].mult;
		if (v == 0 || v > (unsigned __int128)INT64_MAX)
			return 0;
		*ret = (uint64_t)v;
		return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), again[32];
	const uint64_t sentinel = 0xdeadbeefcafef00dULL;
	uint64_t v = sentinel, ref = 0, v2 = 0;
	qstor_error err = { 0 };
	int r = qstor_parse_size(s, &v, &err);
	int ok = reference(s, &ref);

	if (r == 0) {
		FUZZ_ASSERT(ok);
		FUZZ_ASSERT(v == ref);
		FUZZ_ASSERT(v > 0 && v <= (uint64_t)INT64_MAX);
		snprintf(again, sizeof(again), "%llu", (unsigned long long)v);
		FUZZ_ASSERT(qstor_parse_size(again, &v2, NULL) == 0 && v2 == v);
		/* and with the optional "B" */
		strcat(again, "B");
		FUZZ_ASSERT(qstor_parse_size(again, &v2, NULL) == 0 && v2 == v);
	} else {
		FUZZ_ASSERT(!ok);
		FUZZ_ASSERT(r == -EINVAL || r == -ERANGE);
		FUZZ_ASSERT(v == sentinel);
		fuzz_check_error(&err, r);
		FUZZ_ASSERT(strncmp(err.msg, "invalid size '", 14) == 0);
	}
	free(s);
	return 0;
}
