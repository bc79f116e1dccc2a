/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The thin_ls output parser (drivers/lvm-thin/thinls.c): 0 with one row
 * per non-blank line (exclusive <= mapped in each), or -EBADMSG with
 * nothing returned. A success parses again to the same rows when printed
 * back in thin_ls' format.
 */
#include <errno.h>
#include <inttypes.h>

#include "thinls.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct lvt_thin_usage *v = (struct lvt_thin_usage *)0x1, *v2 = NULL;
	size_t n = 99, n2 = 0, lines = 0;
	int e = lvt_thin_ls_parse(s, &v, &n);

	FUZZ_ASSERT(e == 0 || e == -EBADMSG || e == -ENOMEM);
	if (e != 0) {
		FUZZ_ASSERT(v == (struct lvt_thin_usage *)0x1 && n == 99);
		free(s);
		return 0;
	}
	for (const char *p = s; *p;) {
		const char *end = strchrnul(p, '\n');

		if (strspn(p, " \t") < (size_t)(end - p))
			lines++;
		p = *end ? end + 1 : end;
	}
	FUZZ_ASSERT(n == lines);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	FUZZ_ASSERT(f);
	for (size_t i = 0; i < n; i++) {
		FUZZ_ASSERT(v[i].exclusive <= v[i].mapped);
		fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			v[i].dev_id, v[i].mapped, v[i].exclusive, v[i].shared);
	}
	fclose(f);
	FUZZ_ASSERT(lvt_thin_ls_parse(text, &v2, &n2) == 0 && n2 == n);
	FUZZ_ASSERT(n == 0 || memcmp(v, v2, n * sizeof(*v)) == 0);
	free(text);
	free(v);
	free(v2);
	free(s);
	return 0;
}
