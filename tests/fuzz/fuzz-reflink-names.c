/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The file-reflink driver's names (drivers/file-reflink/reflink.c, whose
 * static parsers are included here): a directory entry read from a pool
 * made by anyone (Qubes OS, a crash, an admin) is classified as one of a
 * volume's objects or as nothing, and the driver must name that object
 * again exactly as it found it:
 *   classify(vol, name) = COMMITTED/RUNNING/IMPORT/PRECACHE -> obj_name gives name
 *   classify = REVISION N@T -> obj_name(N, T) classifies back to N, T
 *   classify = TMP -> name is "<an object of vol>~..."
 *   any object -> name starts with vol (VM "x-root" is never VM "x"'s root)
 * parse_time round-trips through fmt_time; check_vid accepts nothing that
 * could leave the pool directory.
 * Input: "VOL\nNAME" (VOL "private" when there is no newline).
 */
#include "../../drivers/file-reflink/reflink.c"

#include "fuzz.h"

/* The one symbol of the core reflink.c needs (pool options): not reached. */
const char *qs_pool_opt(const struct qs_pool *pool, const char *key)
{
	(void)pool;
	(void)key;
	return NULL;
}

/* 1970-01-01 .. 9999-12-31: what fmt_time prints with a 4-digit year */
static bool time_writable(int64_t t)
{
	return t >= 0 && t < 253402300800LL;
}

static void check_classified(const char *vol, const char *name)
{
	struct qs_objinfo oi, oi2;
	char vid[300], buf[512];
	struct qs_obj obj = { .vid = vid };
	int r = classify(vol, name, &oi);

	snprintf(vid, sizeof(vid), "appvms/vm/%s", vol);
	FUZZ_ASSERT(r == 0 || r == -1);
	/* what we would name each role never classifies as something else */
	for (enum qs_role role = QS_COMMITTED; role <= QS_TMP; role++) {
		if (role == QS_REVISION)
			continue;
		obj.role = role;
		if (obj_name(&obj, buf, sizeof(buf)) < 0)
			continue;
		FUZZ_ASSERT(classify(vol, buf, &oi2) == 0 && oi2.role == role);
		if (strcmp(buf, name) == 0)
			FUZZ_ASSERT(r == 0 && oi.role == role);
	}
	if (r < 0)
		return;
	FUZZ_ASSERT(strncmp(name, vol, strlen(vol)) == 0);
	switch (oi.role) {
	case QS_COMMITTED:
	case QS_RUNNING:
	case QS_IMPORT:
	case QS_PRECACHE:
		obj.role = oi.role;
		FUZZ_ASSERT(obj_name(&obj, buf, sizeof(buf)) == 0);
		FUZZ_ASSERT(strcmp(buf, name) == 0);
		FUZZ_ASSERT(!strchr(name, '~'));
		break;
	case QS_REVISION: {
		char id[32];

		FUZZ_ASSERT(!strchr(name, '~'));
		snprintf(id, sizeof(id), "%llu", (unsigned long long)oi.rev_key);
		FUZZ_ASSERT(strcmp(id, oi.rev_id) == 0);
		obj.role = QS_REVISION;
		obj.rev_key = oi.rev_key;
		obj.rev_time = oi.rev_time;
		if (obj_name(&obj, buf, sizeof(buf)) < 0)
			break;  /* a time gmtime cannot render: found, never made */
		FUZZ_ASSERT(classify(vol, buf, &oi2) == 0);
		FUZZ_ASSERT(oi2.role == QS_REVISION && oi2.rev_key == oi.rev_key);
		/* the time too, within the years we write (a name found with
		 * "9999-12-62" normalises past 9999: it is still found by its
		 * number, obj_find) */
		if (time_writable(oi.rev_time))
			FUZZ_ASSERT(oi2.rev_time == oi.rev_time);
		break;
	}
	case QS_TMP: {
		const char *tilde = strchr(name, '~');
		char *head;

		FUZZ_ASSERT(tilde);
		head = strndup(name, (size_t)(tilde - name));
		FUZZ_ASSERT(head);
		FUZZ_ASSERT(classify(vol, head, &oi2) == 0 && oi2.role != QS_TMP);
		free(head);
		break;
	}
	default:
		FUZZ_ASSERT(!"unknown role");
	}
}

static void check_time(const char *s)
{
	int64_t t = 0, t2 = 0;
	char buf[64];

	if (parse_time(s, &t) < 0)
		return;
	FUZZ_ASSERT(s[strlen(s) - 1] == 'Z');
	if (!time_writable(t) || fmt_time(t, buf, sizeof(buf)) < 0)
		return;
	FUZZ_ASSERT(parse_time(buf, &t2) == 0 && t2 == t);
}

static void check_vid_safe(const char *vid)
{
	if (check_vid(vid) < 0)
		return;
	FUZZ_ASSERT(vid[0] != '/' && strchr(vid, '/'));
	FUZZ_ASSERT(vid[strlen(vid) - 1] != '/' && !strstr(vid, "//"));
	FUZZ_ASSERT(strcmp(vid, "..") != 0 && strncmp(vid, "../", 3) != 0);
	FUZZ_ASSERT(!strstr(vid, "/../") && !strstr(vid, "/./"));
	FUZZ_ASSERT(strncmp(vid, "./", 2) != 0);
	size_t n = strlen(vid);
	FUZZ_ASSERT(!(n >= 3 && strcmp(vid + n - 3, "/..") == 0));
	FUZZ_ASSERT(!(n >= 2 && strcmp(vid + n - 2, "/.") == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *nl = strchr(s, '\n');
	const char *vol = "private", *name = s;

	if (nl) {
		*nl = '\0';
		vol = s;
		name = nl + 1;
		/* a vol comes from a vid: a validated name, no '/', at most
		 * QSTOR_NAME_MAX bytes */
		if (strlen(s) > QSTOR_NAME_MAX)
			s[QSTOR_NAME_MAX] = '\0';
		for (char *p = s; *p; p++)
			if (*p == '/' || *p == '~')
				*p = '_';
		if (!*vol)
			vol = "private";
	}
	check_classified(vol, name);
	check_time(name);
	check_vid_safe(name);
	free(s);
	return 0;
}
