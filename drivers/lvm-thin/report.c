/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small JSON reader for exactly the shape of lvm's JSON report. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define MAX_DEPTH 16
#define VALUE_MAX 4096

struct cursor {
	const char *p;
	const char *why;
	int oom;
};

static void ws(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
		c->p++;
}

static bool eat(struct cursor *c, char ch)
{
	ws(c);
	if (*c->p != ch)
		return false;
	c->p++;
	return true;
}

static bool fail(struct cursor *c, const char *why)
{
	if (!c->why)
		c->why = why;
	return false;
}

/* A string into out (truncated to len - 1, flagged by *trunc). lvm escapes
 * only '"'; standard escapes are decoded, \uXXXX only for ASCII, any other
 * backslash is kept as it is. */
static bool string(struct cursor *c, char *out, size_t len, bool *trunc)
{
	size_t n = 0;

	ws(c);
	if (*c->p != '"')
		return fail(c, "expected a string");
	c->p++;
	for (;;) {
		char ch = *c->p;

		if (ch == '\0')
			return fail(c, "unterminated string");
		c->p++;
		if (ch == '"')
			break;
		if ((unsigned char)ch < 0x20)
			return fail(c, "control character in string");
		if (ch == '\\') {
			char e = *c->p;

			switch (e) {
			case '"': case '\\': case '/':
				ch = e; c->p++; break;
			case 'b': ch = '\b'; c->p++; break;
			case 'f': ch = '\f'; c->p++; break;
			case 'n': ch = '\n'; c->p++; break;
			case 'r': ch = '\r'; c->p++; break;
			case 't': ch = '\t'; c->p++; break;
			case 'u': {
				unsigned v = 0;

				for (int i = 1; i <= 4; i++) {
					char h = c->p[i];

					v <<= 4;
					if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
					else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
					else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
					else return fail(c, "bad \\u escape");
				}
				c->p += 5;
				ch = v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				break;  /* keep the backslash */
			}
		}
		if (n + 1 < len)
			out[n++] = ch;
		else if (trunc)
			*trunc = true;
	}
	if (len)
		out[n] = '\0';
	return true;
}

/* A scalar (string, number, true, false, null) as text; null -> "". */
static bool scalar(struct cursor *c, char *out, size_t len, bool *trunc)
{
	const char *s;
	size_t n;

	ws(c);
	if (*c->p == '"')
		return string(c, out, len, trunc);
	s = c->p;
	while ((*c->p >= '0' && *c->p <= '9') || *c->p == '-' || *c->p == '+' ||
	       *c->p == '.' || *c->p == 'e' || *c->p == 'E' ||
	       (*c->p >= 'a' && *c->p <= 'z'))
		c->p++;
	n = (size_t)(c->p - s);
	if (n == 0)
		return fail(c, "expected a value");
	if (n == 4 && strncmp(s, "null", 4) == 0)
		n = 0;
	else if (!((n == 4 && strncmp(s, "true", 4) == 0) ||
		   (n == 5 && strncmp(s, "false", 5) == 0) ||
		   (*s == '-' || (*s >= '0' && *s <= '9'))))
		return fail(c, "bad literal");
	if (n >= len) {
		if (trunc)
			*trunc = true;
		n = len - 1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

static bool skip_value(struct cursor *c, int depth)
{
	char tmp[64];

	if (depth > MAX_DEPTH)
		return fail(c, "nested too deep");
	ws(c);
	if (*c->p == '{') {
		c->p++;
		if (eat(c, '}'))
			return true;
		do {
			if (!string(c, tmp, sizeof(tmp), NULL) || !eat(c, ':') ||
			    !skip_value(c, depth + 1))
				return false;
		} while (eat(c, ','));
		return eat(c, '}') || fail(c, "expected '}'");
	}
	if (*c->p == '[') {
		c->p++;
		if (eat(c, ']'))
			return true;
		do {
			if (!skip_value(c, depth + 1))
				return false;
		} while (eat(c, ','));
		return eat(c, ']') || fail(c, "expected ']'");
	}
	return scalar(c, tmp, sizeof(tmp), NULL);
}

/* Strict decimal, optionally followed by "B" (a unit lvm may print). */
static bool to_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (*s == 'B')
		s++;
	if (*s)
		return false;
	*ret = v;
	return true;
}

static bool copy_name(char *dst, size_t len, const char *src, bool trunc)
{
	if (trunc || strlen(src) >= len)
		return false;
	strcpy(dst, src);
	return true;
}

static int add_pvs(struct lvt_report *r, const char *devices)
{
	return lvt_devices_parse(devices, &r->pvs, &r->n_pvs);
}

/* One row: {"lv_name":"...", ...} */
static bool lv_row(struct cursor *c, struct lvt_report *r)
{
	struct lvt_lv lv = { .thin_id = -1 };
	char key[64], *val, *devices = NULL;
	bool have_name = false;
	uint64_t u;
	bool ok = false;

	if (!(val = malloc(VALUE_MAX)) || !(devices = calloc(1, VALUE_MAX))) {
		free(val);
		c->oom = 1;
		return fail(c, "out of memory");
	}
	if (!eat(c, '{')) {
		fail(c, "expected an lv object");
		goto out;
	}
	if (!eat(c, '}')) {
		do {
			bool trunc = false;

			if (!string(c, key, sizeof(key), NULL) || !eat(c, ':'))
				goto out;
			ws(c);
			if (*c->p == '{' || *c->p == '[') {
				if (!skip_value(c, 1))
					goto out;
				continue;
			}
			if (!scalar(c, val, VALUE_MAX, &trunc))
				goto out;
			if (strcmp(key, "lv_name") == 0) {
				if (!copy_name(lv.name, sizeof(lv.name), val, trunc) || !*val) {
					fail(c, "bad lv_name");
					goto out;
				}
				have_name = true;
			} else if (strcmp(key, "lv_attr") == 0) {
				if (!copy_name(lv.attr, sizeof(lv.attr), val, trunc)) {
					fail(c, "bad lv_attr");
					goto out;
				}
			} else if (strcmp(key, "pool_lv") == 0) {
				if (!copy_name(lv.pool, sizeof(lv.pool), val, trunc)) {
					fail(c, "bad pool_lv");
					goto out;
				}
			} else if (strcmp(key, "origin") == 0) {
				if (!copy_name(lv.origin, sizeof(lv.origin), val, trunc)) {
					fail(c, "bad origin");
					goto out;
				}
			} else if (strcmp(key, "lv_size") == 0) {
				if (!to_u64(val, &lv.size)) {
					fail(c, "bad lv_size");
					goto out;
				}
			} else if (strcmp(key, "thin_id") == 0) {
				if (*val) {
					if (!to_u64(val, &u) || u > INT64_MAX) {
						fail(c, "bad thin_id");
						goto out;
					}
					lv.thin_id = (int64_t)u;
				}
			} else if (strcmp(key, "vg_seqno") == 0) {
				if (*val && !to_u64(val, &r->seqno)) {
					fail(c, "bad vg_seqno");
					goto out;
				}
			} else if (strcmp(key, "vg_extent_size") == 0) {
				if (*val && !to_u64(val, &r->extent_size)) {
					fail(c, "bad vg_extent_size");
					goto out;
				}
			} else if (strcmp(key, "devices") == 0) {
				if (trunc) {
					fail(c, "devices too long");
					goto out;
				}
				strcpy(devices, val);
			}
		} while (eat(c, ','));
		if (!eat(c, '}')) {
			fail(c, "expected '}' after an lv");
			goto out;
		}
	}
	if (!have_name) {
		fail(c, "lv without lv_name");
		goto out;
	}
	if (*devices) {
		int e = add_pvs(r, devices);

		if (e == -ENOMEM)
			c->oom = 1;
		if (e < 0) {
			fail(c, e == -ENOMEM ? "out of memory" : "bad devices");
			goto out;
		}
	}
	/* a second segment of the same LV: already there */
	if (!lvt_report_find(r, lv.name)) {
		struct lvt_lv *p = realloc(r->lvs, (r->n_lvs + 1) * sizeof(*p));

		if (!p) {
			c->oom = 1;
			fail(c, "out of memory");
			goto out;
		}
		r->lvs = p;
		r->lvs[r->n_lvs++] = lv;
	}
	ok = true;
out:
	free(val);
	free(devices);
	return ok;
}

/* {"lv": [rows...], "other": ...} */
static bool report_item(struct cursor *c, struct lvt_report *r)
{
	char key[64];

	if (!eat(c, '{'))
		return fail(c, "expected a report object");
	if (eat(c, '}'))
		return true;
	do {
		if (!string(c, key, sizeof(key), NULL) || !eat(c, ':'))
			return false;
		if (strcmp(key, "lv") != 0) {
			if (!skip_value(c, 2))
				return false;
			continue;
		}
		if (!eat(c, '['))
			return fail(c, "expected the lv array");
		if (eat(c, ']'))
			continue;
		do {
			if (!lv_row(c, r))
				return false;
		} while (eat(c, ','));
		if (!eat(c, ']'))
			return fail(c, "expected ']' after the lv rows");
	} while (eat(c, ','));
	return eat(c, '}') || fail(c, "expected '}' after a report");
}

int lvt_report_parse(const char *json, struct lvt_report *ret, char *why,
		     size_t why_len)
{
	struct cursor c = { .p = json ? json : "" };
	struct lvt_report r = { 0 };
	bool seen = false;
	char key[64];

	if (!eat(&c, '{')) {
		fail(&c, "no json object");
		goto bad;
	}
	if (!eat(&c, '}')) {
		do {
			if (!string(&c, key, sizeof(key), NULL) || !eat(&c, ':'))
				goto bad;
			if (strcmp(key, "report") != 0) {
				if (!skip_value(&c, 1))
					goto bad;
				continue;
			}
			seen = true;
			if (!eat(&c, '[')) {
				fail(&c, "expected the report array");
				goto bad;
			}
			if (eat(&c, ']'))
				continue;
			do {
				if (!report_item(&c, &r))
					goto bad;
			} while (eat(&c, ','));
			if (!eat(&c, ']')) {
				fail(&c, "expected ']' after the reports");
				goto bad;
			}
		} while (eat(&c, ','));
		if (!eat(&c, '}')) {
			fail(&c, "expected '}' at the end");
			goto bad;
		}
	}
	ws(&c);
	if (*c.p) {
		fail(&c, "text after the json object");
		goto bad;
	}
	if (!seen) {
		fail(&c, "no \"report\" member");
		goto bad;
	}
	*ret = r;
	return 0;
bad:
	if (why && why_len)
		snprintf(why, why_len, "%s", c.why ? c.why : "malformed");
	lvt_report_free(&r);
	return c.oom ? -ENOMEM : -EBADMSG;
}

void lvt_report_free(struct lvt_report *r)
{
	if (!r)
		return;
	free(r->lvs);
	for (size_t i = 0; i < r->n_pvs; i++)
		free(r->pvs[i]);
	free(r->pvs);
	memset(r, 0, sizeof(*r));
}

const struct lvt_lv *lvt_report_find(const struct lvt_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_lvs; i++)
		if (strcmp(r->lvs[i].name, name) == 0)
			return &r->lvs[i];
	return NULL;
}

int lvt_devices_parse(const char *devices, char ***pvs, size_t *n)
{
	const char *p = devices;

	while (p && *p) {
		const char *end = strchr(p, ',');
		const char *paren;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		bool dup = false;
		char *path;

		/* "<name>(<first extent>)" */
		paren = memchr(p, '(', len);
		if (!paren || p[len - 1] != ')' || paren == p)
			return -EBADMSG;
		for (const char *d = paren + 1; d < p + len - 1; d++)
			if (*d < '0' || *d > '9')
				return -EBADMSG;
		if (*p == '/') {
			size_t plen = (size_t)(paren - p);

			for (size_t i = 0; i < *n && !dup; i++)
				dup = strlen((*pvs)[i]) == plen &&
				      strncmp((*pvs)[i], p, plen) == 0;
			if (!dup) {
				char **v = realloc(*pvs, (*n + 1) * sizeof(*v));

				if (!v)
					return -ENOMEM;
				*pvs = v;
				if (!(path = strndup(p, plen)))
					return -ENOMEM;
				v[(*n)++] = path;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}
