/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lvm JSON report parser (drivers/lvm-thin/report.c) on any text:
 * success gives LVs with non-empty, NUL-terminated, distinct names, attrs
 * that fit, thin ids >= -1, PV paths that start with '/' and are distinct;
 * failure gives -EBADMSG (or -ENOMEM) with a reason and leaves *ret
 * alone. lvt_devices_parse likewise on the raw text.
 */
#include <errno.h>

#include "report.h"
#include "fuzz.h"

static void check_report(const struct lvt_report *r)
{
	for (size_t i = 0; i < r->n_lvs; i++) {
		const struct lvt_lv *lv = &r->lvs[i];

		FUZZ_ASSERT(memchr(lv->name, '\0', sizeof(lv->name)) && lv->name[0]);
		FUZZ_ASSERT(memchr(lv->attr, '\0', sizeof(lv->attr)));
		FUZZ_ASSERT(memchr(lv->pool, '\0', sizeof(lv->pool)));
		FUZZ_ASSERT(memchr(lv->origin, '\0', sizeof(lv->origin)));
		FUZZ_ASSERT(lv->thin_id >= -1);
		FUZZ_ASSERT(lvt_report_find(r, lv->name) == lv);  /* distinct */
	}
	for (size_t i = 0; i < r->n_pvs; i++) {
		FUZZ_ASSERT(r->pvs[i] && r->pvs[i][0] == '/');
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(r->pvs[i], r->pvs[j]) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), why[128] = "";
	struct lvt_report r, sentinel;
	char **pvs = NULL;
	size_t n = 0;
	int e;

	memset(&sentinel, 0x5a, sizeof(sentinel));
	r = sentinel;
	e = lvt_report_parse(s, &r, why, sizeof(why));
	if (e == 0) {
		check_report(&r);
		lvt_report_free(&r);
	} else {
		FUZZ_ASSERT(e == -EBADMSG || e == -ENOMEM);
		FUZZ_ASSERT(why[0] != '\0');
		FUZZ_ASSERT(memcmp(&r, &sentinel, sizeof(r)) == 0);
	}

	e = lvt_devices_parse(s, &pvs, &n);
	FUZZ_ASSERT(e == 0 || e == -EBADMSG || e == -ENOMEM);
	for (size_t i = 0; i < n; i++) {
		FUZZ_ASSERT(pvs[i][0] == '/');
		free(pvs[i]);
	}
	free(pvs);
	free(s);
	return 0;
}
