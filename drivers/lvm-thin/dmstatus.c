/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsers of thin-pool and thin device tables and status lines (pure). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmstatus.h"

/* ---- parsers (pure) ---- */

#define MAX_TOKENS 24

/* Split a copy of s on blanks; returns the number of tokens or -EBADMSG. */
static int tokenize(const char *s, char *copy, size_t len, char *tok[MAX_TOKENS])
{
	int n = 0;
	char *save = NULL, *t;

	if (!s || strlen(s) >= len)
		return -EBADMSG;
	strcpy(copy, s);
	for (t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		if (n == MAX_TOKENS)
			return -EBADMSG;
		tok[n++] = t;
	}
	return n;
}

/* Whole token as a decimal u64. */
static bool parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return false;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

/* "used/total" */
static bool parse_ratio(char *s, uint64_t *used, uint64_t *total)
{
	char *slash = strchr(s, '/');

	if (!slash)
		return false;
	*slash = '\0';
	return parse_u64(s, used) && parse_u64(slash + 1, total) && *used <= *total;
}

/* "major:minor" */
static bool parse_devno(char *s, unsigned *major, unsigned *minor)
{
	char *colon = strchr(s, ':');
	uint64_t a, b;

	if (!colon)
		return false;
	*colon = '\0';
	if (!parse_u64(s, &a) || !parse_u64(colon + 1, &b) || a > 0xfffff || b > 0xfffff)
		return false;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return true;
}

int lvt_parse_pool_status(const char *params, struct lvt_pool_status *ret)
{
	char copy[512], *tok[MAX_TOKENS];
	struct lvt_pool_status st = { 0 };
	int n = tokenize(params, copy, sizeof(copy), tok);

	if (n < 1)
		return -EBADMSG;
	if (strcmp(tok[0], "Fail") == 0 || strcmp(tok[0], "Error") == 0)
		return -EIO;
	if (n < 4 || !parse_u64(tok[0], &st.transaction_id) ||
	    !parse_ratio(tok[1], &st.meta_used, &st.meta_total) ||
	    !parse_ratio(tok[2], &st.data_used, &st.data_total))
		return -EBADMSG;
	if (strcmp(tok[3], "-") != 0) {
		uint64_t root;

		if (!parse_u64(tok[3], &root))
			return -EBADMSG;
		st.held_root = true;
	}
	for (int i = 4; i < n; i++) {
		if (strcmp(tok[i], "ro") == 0)
			st.read_only = true;
		else if (strcmp(tok[i], "out_of_data_space") == 0)
			st.out_of_data_space = st.read_only = true;
		else if (strcmp(tok[i], "needs_check") == 0)
			st.needs_check = true;
	}
	*ret = st;
	return 0;
}

int lvt_parse_pool_table(const char *params, struct lvt_pool_table *ret)
{
	char copy[512], *tok[MAX_TOKENS];
	struct lvt_pool_table t = { 0 };
	int n = tokenize(params, copy, sizeof(copy), tok);
	uint64_t lwm;

	if (n < 4 || !parse_devno(tok[0], &t.meta_major, &t.meta_minor) ||
	    !parse_devno(tok[1], &t.data_major, &t.data_minor) ||
	    !parse_u64(tok[2], &t.block_sectors) || t.block_sectors == 0 ||
	    !parse_u64(tok[3], &lwm))
		return -EBADMSG;
	*ret = t;
	return 0;
}

int lvt_parse_thin_status(const char *params, uint64_t *ret_mapped_sectors)
{
	char copy[128], *tok[MAX_TOKENS];
	int n = tokenize(params, copy, sizeof(copy), tok);
	uint64_t mapped, highest;

	if (n < 1)
		return -EBADMSG;
	if (strcmp(tok[0], "Fail") == 0)
		return -EIO;
	if (n != 2 || !parse_u64(tok[0], &mapped) ||
	    (strcmp(tok[1], "-") != 0 && !parse_u64(tok[1], &highest)))
		return -EBADMSG;
	*ret_mapped_sectors = mapped;
	return 0;
}

int lvt_parse_thin_table(const char *params, uint64_t *ret_dev_id)
{
	char copy[128], *tok[MAX_TOKENS];
	int n = tokenize(params, copy, sizeof(copy), tok);
	unsigned major, minor;
	uint64_t id;

	if (n < 2 || n > 3 || !parse_devno(tok[0], &major, &minor) || !parse_u64(tok[1], &id) ||
	    id > 0xffffff)  /* dm-thin device ids are 24 bits */
		return -EBADMSG;
	*ret_dev_id = id;
	return 0;
}
