/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device-mapper text parsers (drivers/lvm-thin/dmstatus.c): thin-pool
 * status and table, thin status. Whatever the kernel (or a corrupted
 * buffer) gives, each returns 0, -EIO ("Fail") or -EBADMSG; on success
 * used <= total, devices fit major:minor, the block size is not zero, and
 * *ret is written only then. Every input goes to all three.
 */
#include <errno.h>

#include "dmstatus.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct lvt_pool_status st, st0;
	struct lvt_pool_table t, t0;
	uint64_t mapped = 777;
	int e;

	memset(&st0, 0x5a, sizeof(st0));
	st = st0;
	e = lvt_parse_pool_status(s, &st);
	FUZZ_ASSERT(e == 0 || e == -EIO || e == -EBADMSG);
	if (e == 0) {
		FUZZ_ASSERT(st.meta_used <= st.meta_total);
		FUZZ_ASSERT(st.data_used <= st.data_total);
		FUZZ_ASSERT(!st.out_of_data_space || st.read_only);
	} else {
		FUZZ_ASSERT(memcmp(&st, &st0, sizeof(st)) == 0);
	}

	memset(&t0, 0x5a, sizeof(t0));
	t = t0;
	e = lvt_parse_pool_table(s, &t);
	FUZZ_ASSERT(e == 0 || e == -EBADMSG);
	if (e == 0) {
		FUZZ_ASSERT(t.block_sectors > 0);
		FUZZ_ASSERT(t.meta_major <= 0xfffff && t.meta_minor <= 0xfffff);
		FUZZ_ASSERT(t.data_major <= 0xfffff && t.data_minor <= 0xfffff);
	} else {
		FUZZ_ASSERT(memcmp(&t, &t0, sizeof(t)) == 0);
	}

	e = lvt_parse_thin_status(s, &mapped);
	FUZZ_ASSERT(e == 0 || e == -EIO || e == -EBADMSG);
	if (e != 0)
		FUZZ_ASSERT(mapped == 777);
	free(s);
	return 0;
}
