/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvm_thin names: vid, role suffixes, device-mapper names. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

bool lvt_name_ok(const char *s)
{
	size_t n = 0;

	if (!s || !*s || *s == '-')
		return false;
	for (const char *p = s; *p; p++, n++) {
		char c = *p;

		if (n >= LVT_NAME_MAX)
			return false;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' ||
		    c == '-')
			continue;
		return false;
	}
	return true;
}

int lvt_vid_split(const char *vid, char vg[LVT_NAME_MAX + 1],
		  char base[LVT_NAME_MAX + 1])
{
	const char *slash;
	size_t n;

	if (!vid || !(slash = strchr(vid, '/')))
		return -EINVAL;
	n = (size_t)(slash - vid);
	if (n == 0 || n > LVT_NAME_MAX || strlen(slash + 1) > LVT_NAME_MAX)
		return -EINVAL;
	memcpy(vg, vid, n);
	vg[n] = '\0';
	strcpy(base, slash + 1);
	if (!lvt_name_ok(vg) || !lvt_name_ok(base))
		return -EINVAL;
	return 0;
}

int lvt_obj_lv(const char *base, enum qs_role role, uint64_t rev_key,
	       char *buf, size_t len)
{
	int n;

	if (!lvt_name_ok(base))
		return -EINVAL;
	switch (role) {
	case QS_COMMITTED:
		n = snprintf(buf, len, "%s", base);
		break;
	case QS_RUNNING:
		n = snprintf(buf, len, "%s-snap", base);
		break;
	case QS_IMPORT:
		n = snprintf(buf, len, "%s-import", base);
		break;
	case QS_REVISION:
		n = snprintf(buf, len, "%s-%" PRIu64 "-back", base, rev_key);
		break;
	case QS_TMP:
		n = snprintf(buf, len, "%s-tmp", base);
		break;
	case QS_PRECACHE:
	default:
		return -EOPNOTSUPP;
	}
	if (n < 0 || (size_t)n >= len || n > LVT_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* "<digits>-back" exactly as "%llu-back" prints it: no sign, no leading
 * zero, no overflow; anything else is not one of our revisions. */
static int parse_rev(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '-'))
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	if (strcmp(p, "-back") != 0)
		return 0;
	*ret = v;
	return 1;
}

int lvt_lv_role(const char *base, const char *lv, enum qs_role *ret_role,
		uint64_t *ret_rev_key)
{
	size_t n = strlen(base);
	const char *sfx;
	uint64_t key = 0;
	enum qs_role role;

	if (!*base || strncmp(lv, base, n) != 0)
		return 0;
	sfx = lv + n;
	if (*sfx == '\0')
		role = QS_COMMITTED;
	else if (strcmp(sfx, "-snap") == 0)
		role = QS_RUNNING;
	else if (strcmp(sfx, "-import") == 0)
		role = QS_IMPORT;
	else if (strcmp(sfx, "-tmp") == 0)
		role = QS_TMP;
	else if (*sfx == '-' && parse_rev(sfx + 1, &key))
		role = QS_REVISION;
	else
		return 0;
	*ret_role = role;
	*ret_rev_key = key;
	return 1;
}

int lvt_rev_id(uint64_t rev_key, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%" PRIu64 "-back", rev_key);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Append s to buf at *pos with every '-' doubled (libdevmapper's
 * dm_build_dm_name quoting). */
static int append_quoted(char *buf, size_t len, size_t *pos, const char *s)
{
	for (; *s; s++) {
		size_t need = *s == '-' ? 2 : 1;

		if (*pos + need >= len)
			return -ENAMETOOLONG;
		buf[(*pos)++] = *s;
		if (*s == '-')
			buf[(*pos)++] = '-';
	}
	buf[*pos] = '\0';
	return 0;
}

static int append_raw(char *buf, size_t len, size_t *pos, char c)
{
	if (*pos + 1 >= len)
		return -ENAMETOOLONG;
	buf[(*pos)++] = c;
	buf[*pos] = '\0';
	return 0;
}

int lvt_dm_name(const char *vg, const char *lv, const char *layer,
		char *buf, size_t len)
{
	size_t pos = 0;

	if (len == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	if (append_quoted(buf, len, &pos, vg) < 0 ||
	    append_raw(buf, len, &pos, '-') < 0 ||
	    append_quoted(buf, len, &pos, lv) < 0)
		return -ENAMETOOLONG;
	if (layer && (append_raw(buf, len, &pos, '-') < 0 ||
		      append_quoted(buf, len, &pos, layer) < 0))
		return -ENAMETOOLONG;
	if (pos > LVT_DM_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}
