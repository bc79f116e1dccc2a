/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names and sizes from users: checked once here, at the API. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "driver.h"
#include "internal.h"

int qstor_check_name(const char *what, const char *name, qstor_error *err)
{
	char e[300];
	size_t n;

	if (!name || !*name)
		return qs_err(err, -EINVAL, "invalid %s name '': empty", what);
	n = strnlen(name, QSTOR_NAME_MAX + 1);
	if (n > QSTOR_NAME_MAX)
		return qs_err(err, -EINVAL, "invalid %s name '%s': longer than %d bytes", what,
			      qs_esc(name, 64, e, sizeof(e)), QSTOR_NAME_MAX);
	qs_esc(name, QSTOR_NAME_MAX, e, sizeof(e));
	if (name[0] == '-')
		return qs_err(err, -EINVAL, "invalid %s name '%s': starts with '-'", what, e);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return qs_err(err, -EINVAL, "invalid %s name '%s'", what, e);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (isalnum(*p) || *p == '_' || *p == '-' || *p == '.' || *p == '+')
			continue;
		if (*p == '/')
			return qs_err(err, -EINVAL, "invalid %s name '%s': contains '/'", what, e);
		if (*p == ' ')
			return qs_err(err, -EINVAL, "invalid %s name '%s': contains a space", what, e);
		if (*p < 0x20 || *p == 0x7f)
			return qs_err(err, -EINVAL, "invalid %s name '%s': contains control character "
				      "0x%02x", what, e, *p);
		if (*p >= 0x80)
			return qs_err(err, -EINVAL, "invalid %s name '%s': only ASCII letters, digits "
				      "and _ - . + are allowed", what, e);
		return qs_err(err, -EINVAL, "invalid %s name '%s': character '%c' not allowed",
			      what, e, *p);
	}
	if (strstr(name, ".."))
		return qs_err(err, -EINVAL, "invalid %s name '%s': contains '..'", what, e);
	return 0;
}

int qstor_parse_vmvol(const char *s, char vm[QSTOR_NAME_MAX + 1],
		      char vol[QSTOR_NAME_MAX + 1], qstor_error *err)
{
	const char *colon;
	char v[QSTOR_NAME_MAX + 1];
	size_t n;
	int r;

	if (!s || !(colon = strchr(s, ':')))
		return qs_err(err, -EINVAL, "invalid volume '%s': expected VM:VOLUME",
			      QS_ESC_N(s, 2 * QSTOR_NAME_MAX + 1));
	n = (size_t)(colon - s);
	if (n > QSTOR_NAME_MAX)
		return qs_err(err, -EINVAL, "invalid vm name '%s': longer than %d bytes",
			      QS_ESC(s), QSTOR_NAME_MAX);
	memcpy(v, s, n);
	v[n] = '\0';
	r = qstor_check_name("vm", v, err);
	if (r < 0)
		return r;
	r = qstor_check_name("volume", colon + 1, err);
	if (r < 0)
		return r;
	memcpy(vm, v, n + 1);
	strcpy(vol, colon + 1);
	return 0;
}

int qstor_parse_size(const char *s, uint64_t *ret, qstor_error *err)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1000ULL }, { "KB", 1000ULL }, { "Ki", 1ULL << 10 }, { "KiB", 1ULL << 10 },
		{ "M", 1000000ULL }, { "MB", 1000000ULL }, { "Mi", 1ULL << 20 }, { "MiB", 1ULL << 20 },
		{ "G", 1000000000ULL }, { "GB", 1000000000ULL }, { "Gi", 1ULL << 30 }, { "GiB", 1ULL << 30 },
		{ "T", 1000000000000ULL }, { "TB", 1000000000000ULL }, { "Ti", 1ULL << 40 }, { "TiB", 1ULL << 40 },
	};
	const char *p = s;
	char e[300], u[300];
	uint64_t v = 0;

	if (!s || !*s)
		return qs_err(err, -EINVAL, "invalid size '': empty");
	qs_esc(s, 64, e, sizeof(e));
	if (*p == '-')
		return qs_err(err, -EINVAL, "invalid size '%s': negative", e);
	if (!isdigit((unsigned char)*p))
		return qs_err(err, -EINVAL, "invalid size '%s': not a number", e);
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return qs_err(err, -ERANGE, "invalid size '%s': too large", e);
		v = v * 10 + d;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult || v * units[i].mult > (uint64_t)INT64_MAX)
			return qs_err(err, -ERANGE, "invalid size '%s': too large", e);
		v *= units[i].mult;
		if (v == 0)
			return qs_err(err, -EINVAL, "invalid size '%s': zero", e);
		*ret = v;
		return 0;
	}
	return qs_err(err, -EINVAL, "invalid size '%s': unknown unit '%s'", e, qs_esc(p, 32, u, sizeof(u)));
}

static const char *const class_names[] = {
	[QSTOR_CLASS_TEMPLATE] = "template",
	[QSTOR_CLASS_APP] = "app",
	[QSTOR_CLASS_STANDALONE] = "standalone",
	[QSTOR_CLASS_DISPOSABLE] = "disposable",
};

const char *qstor_class_name(qstor_vm_class c)
{
	if ((unsigned)c >= sizeof(class_names) / sizeof(class_names[0]))
		return "unknown";
	return class_names[c];
}

int qstor_class_parse(const char *s, qstor_vm_class *ret)
{
	for (unsigned i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (s && strcmp(s, class_names[i]) == 0) {
			*ret = (qstor_vm_class)i;
			return 0;
		}
	return -EINVAL;
}
