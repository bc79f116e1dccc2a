/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qstor_check_name and qstor_parse_vmvol: a name accepted is one that can
 * go into a path and an lvm command line as it is (1..64 bytes of
 * [A-Za-z0-9_.+-], no leading '-', no "..", so no '/', blank or quote);
 * "VM:VOL" accepted splits into two accepted names that join back to the
 * input; refusals carry a one-line message naming the kind ("vm",
 * "volume", ...) and print no control character raw.
 */
#include <errno.h>

#include "fuzz.h"

static void check_message(const qstor_error *err, int r)
{
	fuzz_check_error(err, r);
	for (const unsigned char *p = (const unsigned char *)err->msg; *p; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	char vm[QSTOR_NAME_MAX + 1], vol[QSTOR_NAME_MAX + 1];
	qstor_error err = { 0 };
	int r;

	r = qstor_check_name("vm", s, &err);
	FUZZ_ASSERT(r == 0 || r == -EINVAL);
	FUZZ_ASSERT((r == 0) == fuzz_name_is_safe(s));
	if (r == 0) {
		FUZZ_ASSERT(strlen(s) <= QSTOR_NAME_MAX && s[0] != '-');
		FUZZ_ASSERT(!strchr(s, '/') && !strchr(s, ' ') && !strchr(s, '\'') &&
			    !strchr(s, '"') && !strchr(s, ':'));
	} else {
		check_message(&err, r);
		FUZZ_ASSERT(strncmp(err.msg, "invalid vm name '", 17) == 0);
	}

	memset(&err, 0, sizeof(err));
	memset(vm, 'A', sizeof(vm));
	memset(vol, 'B', sizeof(vol));
	r = qstor_parse_vmvol(s, vm, vol, &err);
	FUZZ_ASSERT(r == 0 || r == -EINVAL);
	if (r == 0) {
		char joined[2 * QSTOR_NAME_MAX + 2];

		FUZZ_ASSERT(memchr(vm, '\0', sizeof(vm)) && memchr(vol, '\0', sizeof(vol)));
		FUZZ_ASSERT(fuzz_name_is_safe(vm) && fuzz_name_is_safe(vol));
		snprintf(joined, sizeof(joined), "%s:%s", vm, vol);
		FUZZ_ASSERT(strcmp(joined, s) == 0);
	} else {
		const char *colon = strchr(s, ':');

		check_message(&err, r);
		/* refused only if one side really is bad */
		if (colon && (size_t)(colon - s) <= QSTOR_NAME_MAX) {
			char left[QSTOR_NAME_MAX + 1];

			memcpy(left, s, (size_t)(colon - s));
			left[colon - s] = '\0';
			FUZZ_ASSERT(!fuzz_name_is_safe(left) || !fuzz_name_is_safe(colon + 1));
		}
		/* outputs untouched on failure */
		FUZZ_ASSERT(vm[0] == 'A' && vol[0] == 'B');
	}
	free(s);
	return 0;
}
