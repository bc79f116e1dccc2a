/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lvm_thin driver's names (drivers/lvm-thin/names.c): these reach lvm
 * command lines, which lvm2_run splits on blanks without any quoting, so
 * every name accepted must be option- and blank-free:
 *   lvt_name_ok(s)      -> 1..127 bytes of [A-Za-z0-9_.+-], no leading '-'
 *   lvt_vid_split(vid)  -> "VG/BASE" = vid, both lvt_name_ok
 *   lvt_lv_role(b, lv)  -> lvt_obj_lv(b, role, key) gives lv back
 *   lvt_dm_name(vg, lv) -> un-doubling the dashes gives "vg-lv" back
 * Input: "BASE\nLV" or a single string used in every position.
 */
#include <errno.h>

#include "names.h"
#include "fuzz.h"

static bool lvm_safe(const char *s)
{
	return fuzz_chars_safe(s, LVT_NAME_MAX);
}

static void check_role(const char *base, const char *lv)
{
	enum qs_role role = QS_TMP;
	uint64_t key = 12345;
	char buf[LVT_NAME_MAX + 1];
	int r = lvt_lv_role(base, lv, &role, &key);

	FUZZ_ASSERT(r == 0 || r == 1);
	if (r == 0)
		return;
	FUZZ_ASSERT(strncmp(lv, base, strlen(base)) == 0);
	FUZZ_ASSERT(role != QS_PRECACHE);
	if (role != QS_REVISION)
		FUZZ_ASSERT(key == 0);
	if (!lvt_name_ok(base))
		return;
	int e = lvt_obj_lv(base, role, key, buf, sizeof(buf));
	if (e == -ENAMETOOLONG)
		return;  /* found on disk, longer than we would ever make */
	FUZZ_ASSERT(e == 0);
	FUZZ_ASSERT(strcmp(buf, lv) == 0);
	if (role == QS_REVISION) {
		char id[64];

		FUZZ_ASSERT(lvt_rev_id(key, id, sizeof(id)) == 0);
		FUZZ_ASSERT(strcmp(lv + strlen(base) + 1, id) == 0);
	}
}

static void check_objs(const char *base)
{
	char buf[LVT_NAME_MAX + 1];
	enum qs_role role;
	uint64_t key;
	static const uint64_t keys[] = { 0, 1, 1700000000, UINT64_MAX };

	for (enum qs_role r = QS_COMMITTED; r <= QS_TMP; r++)
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			int e = lvt_obj_lv(base, r, keys[k], buf, sizeof(buf));

			if (e < 0) {
				FUZZ_ASSERT(e == -EINVAL || e == -EOPNOTSUPP || e == -ENAMETOOLONG);
				FUZZ_ASSERT(e != -EINVAL || !lvm_safe(base));
				continue;
			}
			FUZZ_ASSERT(lvm_safe(base) && lvm_safe(buf));
			/* each object name maps back to its own role */
			FUZZ_ASSERT(lvt_lv_role(base, buf, &role, &key) == 1);
			FUZZ_ASSERT(role == r);
			if (r == QS_REVISION)
				FUZZ_ASSERT(key == keys[k]);
		}
}

static void check_dm(const char *vg, const char *lv)
{
	char buf[LVT_DM_NAME_MAX + 1], back[2 * (LVT_DM_NAME_MAX + 1)];
	size_t o = 0;

	if (lvt_dm_name(vg, lv, NULL, buf, sizeof(buf)) < 0)
		return;
	FUZZ_ASSERT(strlen(buf) <= LVT_DM_NAME_MAX);
	/* the first single dash separates vg from lv */
	const char *p = buf;
	bool split = false;

	for (; *p; p++) {
		if (*p == '-' && p[1] == '-') {
			back[o++] = '-';
			p++;
		} else if (*p == '-' && !split) {
			back[o++] = '\n';
			split = true;
		} else {
			back[o++] = *p;
		}
	}
	back[o] = '\0';
	FUZZ_ASSERT(split);
	char *expect;
	FUZZ_ASSERT(asprintf(&expect, "%s\n%s", vg, lv) > 0);
	FUZZ_ASSERT(strcmp(back, expect) == 0);
	free(expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *nl = strchr(s, '\n');
	char vg[LVT_NAME_MAX + 1], base[LVT_NAME_MAX + 1];
	const char *a = s, *b = s;

	if (nl) {
		*nl = '\0';
		b = nl + 1;
	}
	FUZZ_ASSERT(lvt_name_ok(a) == lvm_safe(a));
	FUZZ_ASSERT(lvt_name_ok(b) == lvm_safe(b));

	memset(vg, 'V', sizeof(vg));
	memset(base, 'B', sizeof(base));
	if (lvt_vid_split(b, vg, base) == 0) {
		char joined[2 * LVT_NAME_MAX + 2];

		FUZZ_ASSERT(lvm_safe(vg) && lvm_safe(base));
		snprintf(joined, sizeof(joined), "%s/%s", vg, base);
		FUZZ_ASSERT(strcmp(joined, b) == 0);
	}
	check_role(a, b);
	check_objs(a);
	if (lvm_safe(a) && lvm_safe(b))
		check_dm(a, b);
	free(s);
	return 0;
}
