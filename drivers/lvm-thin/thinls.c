/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parser of thin_ls output (pure). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "thinls.h"

static bool parse_u64(const char **p, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	*p = s;
	return true;
}

int lvt_thin_ls_parse(const char *text, struct lvt_thin_usage **ret,
		      size_t *ret_n)
{
	struct lvt_thin_usage *v = NULL;
	size_t n = 0;
	const char *p = text ? text : "";

	while (*p) {
		uint64_t f[4] = { 0 };
		int k;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n') {
			p++;
			continue;
		}
		if (!*p)
			break;
		for (k = 0; k < 4; k++) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (!parse_u64(&p, &f[k]))
				goto bad;
			if (*p && *p != ' ' && *p != '\t' && *p != '\n')
				goto bad;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '\n')
			goto bad;
		if (f[2] > f[1]) /* exclusive cannot exceed mapped */
			goto bad;
		{
			struct lvt_thin_usage *nv = realloc(v, (n + 1) * sizeof(*nv));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n].dev_id = f[0];
		v[n].mapped = f[1];
		v[n].exclusive = f[2];
		v[n].shared = f[3];
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
bad:
	free(v);
	return -EBADMSG;
}
