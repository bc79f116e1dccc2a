/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Input parsing at the API: sizes, names, VM:VOLUME (SPEC 4 resize, 6). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esc.h"
#include "qstor.h"

#define KB 1000ULL
#define KiB 1024ULL

/* A message is one line: no control characters. */
static void assert_one_line(const char *msg)
{
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("message '%s' has control character 0x%02x", msg, *p);
}

/* A message is valid UTF-8 (it is printed on terminals and in JSON). */
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 :
			(*p & 0xf8) == 0xf0 ? 3 : -1;

		if (n < 0 || (n == 1 && *p < 0xc2))
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}


static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("message '%s' does not contain '%s'", hay, needle);
}

/* ---- qstor_parse_size ---- */

static void size_ok(const char *s, uint64_t want)
{
	qstor_error err = { 0 };
	uint64_t v = 12345;
	int r = qstor_parse_size(s, &v, &err);

	if (r != 0)
		fail_msg("'%s' refused: %s", s, err.msg);
	if (v != want)
		fail_msg("'%s' parsed as %llu, expected %llu", s, (unsigned long long)v,
			 (unsigned long long)want);
	assert_int_equal(err.code, 0);
}

/* Refused with code, ret untouched, the message names the value and says
 * what (word). */
static void size_bad(const char *s, int code, const char *word)
{
	qstor_error err = { 0 };
	uint64_t v = 777;
	char quoted[128];
	int r = qstor_parse_size(s, &v, &err);

	if (r == 0)
		fail_msg("'%s' accepted as %llu", s ? s : "(null)", (unsigned long long)v);
	assert_int_equal(r, code);
	assert_int_equal(err.code, r);
	assert_int_equal(v, 777);
	snprintf(quoted, sizeof(quoted), "'%s'", s ? s : "");
	assert_contains(err.msg, quoted);
	assert_contains(err.msg, "size");
	if (word)
		assert_contains(err.msg, word);
	assert_one_line(err.msg);
}

static void test_size_bytes(void **state)
{
	size_ok("1", 1);
	size_ok("512", 512);
	size_ok("1024", 1024);
	size_ok("10737418240", 10737418240ULL);
	size_ok("512B", 512);
	size_ok("007", 7);
}

static void test_size_decimal_units(void **state)
{
	size_ok("1K", KB);
	size_ok("1KB", KB);
	size_ok("5M", 5 * KB * KB);
	size_ok("5MB", 5 * KB * KB);
	size_ok("10G", 10 * KB * KB * KB);
	size_ok("10GB", 10 * KB * KB * KB);
	size_ok("2T", 2 * KB * KB * KB * KB);
	size_ok("2TB", 2 * KB * KB * KB * KB);
}

static void test_size_binary_units(void **state)
{
	size_ok("1Ki", KiB);
	size_ok("1KiB", KiB);
	size_ok("3Mi", 3 * KiB * KiB);
	size_ok("3MiB", 3 * KiB * KiB);
	size_ok("10Gi", 10 * KiB * KiB * KiB);
	size_ok("10GiB", 10 * KiB * KiB * KiB);
	size_ok("2Ti", 2 * KiB * KiB * KiB * KiB);
	size_ok("2TiB", 2 * KiB * KiB * KiB * KiB);
}

static void test_size_limits(void **state)
{
	/* the largest size that fits an off_t */
	size_ok("9223372036854775807", INT64_MAX);
	size_ok("8388607Ti", 8388607ULL << 40);
	/* 2^63 and beyond: does not fit a file or device size */
	size_bad("9223372036854775808", -ERANGE, "too large");
	size_bad("8388608Ti", -ERANGE, "too large");
	size_bad("9223372036854775808B", -ERANGE, "too large");
	size_bad("18446744073709551615", -ERANGE, "too large");      /* 2^64 - 1 */
	size_bad("18446744073709551616", -ERANGE, "too large");      /* 2^64 */
	size_bad("99999999999999999999999999", -ERANGE, "too large");
	size_bad("17179869184Gi", -ERANGE, "too large");             /* 2^64 via unit */
	size_bad("20000000T", -ERANGE, "too large");                 /* 2e19 > 2^64 */
	size_bad("9223372036854775807K", -ERANGE, "too large");
}

static void test_size_zero(void **state)
{
	size_bad("0", -EINVAL, "zero");
	size_bad("0G", -EINVAL, "zero");
	size_bad("0GiB", -EINVAL, "zero");
	size_bad("000", -EINVAL, "zero");
}

static void test_size_negative(void **state)
{
	size_bad("-1", -EINVAL, "negative");
	size_bad("-10G", -EINVAL, "negative");
	size_bad("-0", -EINVAL, NULL);
}

static void test_size_not_numeric(void **state)
{
	size_bad("abc", -EINVAL, NULL);
	size_bad("G", -EINVAL, NULL);
	size_bad("GiB", -EINVAL, NULL);
	size_bad("+5", -EINVAL, NULL);
	size_bad(" 5", -EINVAL, NULL);
	size_bad("1.5G", -EINVAL, NULL);
	size_bad("1,5G", -EINVAL, NULL);
	size_bad("1e9", -EINVAL, NULL);
	size_bad("0x10", -EINVAL, NULL);
}

static void test_size_empty(void **state)
{
	size_bad("", -EINVAL, "empty");
	size_bad(NULL, -EINVAL, "empty");
}

static void test_size_trailing_junk(void **state)
{
	size_bad("10GiBx", -EINVAL, "unit");
	size_bad("10 G", -EINVAL, "unit");
	size_bad("10G ", -EINVAL, "unit");
	size_bad("10X", -EINVAL, "unit");
	size_bad("10Gib", -EINVAL, "unit");
	size_bad("10KiBB", -EINVAL, "unit");
	size_bad("10GG", -EINVAL, "unit");
}

/* Regression test (fixed): src/validate.c:84,87,105 (qstor_parse_size) copy the raw input into the
 * message, so a size with a control character (e.g. "5\n" from a script's
 * $(...)) gives a message of two lines, against qstor.h's "one-line message". */
/* control characters reach the message escaped, never raw */
static void size_bad_escaped(const char *s, const char *shown)
{
	qstor_error err = { 0 };
	uint64_t v = 777;

	assert_int_equal(qstor_parse_size(s, &v, &err), -EINVAL);
	assert_int_equal(v, 777);
	assert_contains(err.msg, shown);
	assert_one_line(err.msg);
}

static void test_size_control_char_message(void **state)
{
	size_bad_escaped("5\n", "'5\\x0a'");
	size_bad_escaped("5\x1b[2J", "'5\\x1b[2J'");
}

static void test_size_no_err(void **state)
{
	uint64_t v = 9;

	/* err is optional */
	assert_int_equal(qstor_parse_size("bad", &v, NULL), -EINVAL);
	assert_int_equal(v, 9);
	assert_int_equal(qstor_parse_size("4K", &v, NULL), 0);
	assert_int_equal(v, 4000);
}

/* ---- qstor_check_name ---- */

static void name_ok(const char *what, const char *name)
{
	qstor_error err = { 0 };
	int r = qstor_check_name(what, name, &err);

	if (r != 0)
		fail_msg("%s name '%s' refused: %s", what, name, err.msg);
	assert_int_equal(err.code, 0);
}

/* Refused; the message says "invalid WHAT name" and shows shown (the name,
 * or what of it can be shown), and word if given. */
static void name_bad(const char *what, const char *name, const char *shown, const char *word)
{
	qstor_error err = { 0 };
	char kind[64];
	int r = qstor_check_name(what, name, &err);

	if (r == 0)
		fail_msg("%s name '%s' accepted", what, name ? name : "(null)");
	assert_int_equal(r, -EINVAL);
	assert_int_equal(err.code, r);
	snprintf(kind, sizeof(kind), "invalid %s name", what);
	assert_contains(err.msg, kind);
	if (shown)
		assert_contains(err.msg, shown);
	if (word)
		assert_contains(err.msg, word);
	assert_one_line(err.msg);
}

static void test_name_valid(void **state)
{
	char n64[65];

	memset(n64, 'a', 64);
	n64[64] = '\0';
	name_ok("vm", "a");
	name_ok("vm", "work");
	name_ok("vm", "x-root");
	name_ok("vm", "Work_2.old+x");
	name_ok("vm", "a.b");
	name_ok("vm", "9");
	name_ok("vm", "a-");
	name_ok("volume", "private");
	name_ok("pool", "vm-pool");
	name_ok("vm", n64);
}

static void test_name_slash_dots(void **state)
{
	name_bad("vm", "/", "'/'", NULL);
	name_bad("vm", "a/b", "'a/b'", "/");
	name_bad("vm", "/etc", "'/etc'", NULL);
	name_bad("volume", "../x", "'../x'", NULL);
	name_bad("vm", "..", "'..'", NULL);
	name_bad("vm", ".", "'.'", NULL);
	name_bad("pool", "a..b", "'a..b'", "..");
}

static void test_name_spaces_specials(void **state)
{
	name_bad("vm", "a b", "'a b'", "space");
	name_bad("vm", " a", "' a'", NULL);
	name_bad("vm", "a ", "'a '", NULL);
	name_bad("vm", "a:b", "'a:b'", NULL);
	name_bad("vm", "a*b", "'a*b'", NULL);
	name_bad("vm", "a$b", "'a$b'", NULL);
	name_bad("vm", "a'b", "a'b", NULL);
	name_bad("vm", "a\\b", "a\\b", NULL);
}

static void test_name_control(void **state)
{
	/* the raw character must not reach the message (one line); the
	 * message says which character it was */
	name_bad("vm", "a\nb", NULL, "0x0a");
	name_bad("vm", "a\tb", NULL, "0x09");
	name_bad("vm", "\x1b[31m", NULL, "0x1b");
	name_bad("vm", "a\x7f", NULL, "0x7f");
	name_bad("volume", "\x01", NULL, "control");
}

static void test_name_leading_dash(void **state)
{
	name_bad("vm", "-a", "'-a'", "'-'");
	name_bad("vm", "--help", "'--help'", NULL);
	name_bad("pool", "-", "'-'", NULL);
}

static void test_name_length(void **state)
{
	char n65[66], shown[70];

	memset(n65, 'b', 65);
	n65[65] = '\0';
	/* the message shows the first 64 bytes of it */
	snprintf(shown, sizeof(shown), "'%.64s", n65);
	name_bad("vm", n65, shown, "64");
	name_bad("volume", n65, shown, "64");
	{
		char n300[301];

		memset(n300, 'c', 300);
		n300[300] = '\0';
		name_bad("pool", n300, NULL, "64");
	}
}

static void test_name_empty(void **state)
{
	name_bad("vm", "", "''", "empty");
	name_bad("vm", NULL, "''", "empty");
}

static void test_name_utf8(void **state)
{
	name_bad("vm", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9", NULL);  /* "été" */
	name_bad("vm", "caf\xc3\xa9", "caf\xc3\xa9", NULL);
	name_bad("vm", "\xe2\x80\x8b", NULL, NULL);  /* zero-width space */
}

static void test_name_utf8_message(void **state)
{
	qstor_error err = { 0 };

	/* the message of a UTF-8 name stays valid UTF-8 (the tools' JSON) */
	assert_int_equal(qstor_check_name("vm", "caf\xc3\xa9", &err), -EINVAL);
	if (!valid_utf8(err.msg))
		fail_msg("message of a UTF-8 name is not valid UTF-8: '%s'", err.msg);
}

static void test_name_what(void **state)
{
	qstor_error err = { 0 };

	assert_int_equal(qstor_check_name("pool", "a/b", &err), -EINVAL);
	assert_contains(err.msg, "pool");
	assert_int_equal(qstor_check_name("volume", "a/b", &err), -EINVAL);
	assert_contains(err.msg, "volume");
	assert_int_equal(qstor_check_name("vm", "ok", NULL), 0);
	assert_int_equal(qstor_check_name("vm", "a/b", NULL), -EINVAL);
}

/* ---- qstor_parse_vmvol ---- */

static void vmvol_ok(const char *s, const char *wvm, const char *wvol)
{
	char vm[QSTOR_NAME_MAX + 1], vol[QSTOR_NAME_MAX + 1];
	qstor_error err = { 0 };
	int r = qstor_parse_vmvol(s, vm, vol, &err);

	if (r != 0)
		fail_msg("'%s' refused: %s", s, err.msg);
	assert_string_equal(vm, wvm);
	assert_string_equal(vol, wvol);
}

static void vmvol_bad(const char *s, const char *shown)
{
	char vm[QSTOR_NAME_MAX + 1], vol[QSTOR_NAME_MAX + 1];
	qstor_error err = { 0 };
	int r;

	strcpy(vm, "UNTOUCHED");
	strcpy(vol, "UNTOUCHED");
	r = qstor_parse_vmvol(s, vm, vol, &err);
	if (r == 0)
		fail_msg("'%s' accepted as %s:%s", s ? s : "(null)", vm, vol);
	assert_int_equal(r, -EINVAL);
	assert_int_equal(err.code, r);
	assert_string_equal(vm, "UNTOUCHED");
	assert_string_equal(vol, "UNTOUCHED");
	if (shown)
		assert_contains(err.msg, shown);
	assert_one_line(err.msg);
}

static void test_vmvol(void **state)
{
	char v64[65], v65[66], s[200];

	vmvol_ok("work:private", "work", "private");
	vmvol_ok("x-root:root", "x-root", "root");
	vmvol_ok("a.b_c+d:volatile", "a.b_c+d", "volatile");
	memset(v64, 'v', 64);
	v64[64] = '\0';
	snprintf(s, sizeof(s), "%s:%s", v64, v64);
	vmvol_ok(s, v64, v64);

	vmvol_bad("work", "'work'");
	vmvol_bad("", NULL);
	vmvol_bad(NULL, NULL);
	vmvol_bad(":private", "vm");
	vmvol_bad("work:", "volume");
	vmvol_bad(":", NULL);
	vmvol_bad("wo/rk:private", "'wo/rk'");
	vmvol_bad("work:pri/vate", "'pri/vate'");
	vmvol_bad("work:a:b", "'a:b'");
	vmvol_bad("..:root", "'..'");
	vmvol_bad("work:..", "'..'");
	vmvol_bad("-x:root", "'-x'");
	vmvol_bad("work:-x", "'-x'");
	vmvol_bad("a b:root", "'a b'");
	vmvol_bad("work:a b", "'a b'");
	memset(v65, 'w', 65);
	v65[65] = '\0';
	snprintf(s, sizeof(s), "%s:root", v65);
	vmvol_bad(s, "longer");
	snprintf(s, sizeof(s), "work:%s", v65);
	vmvol_bad(s, "longer");
}

/* Regression test (fixed): src/validate.c:51 (qstor_parse_vmvol) copies the raw input into the message
 * when there is no ':', so a control character breaks the one-line message. */
static void test_vmvol_control_char_message(void **state)
{
	vmvol_bad("wo\nrk", NULL);
}

/* ---- qs_esc: users' strings in messages ---- */

/* Nothing a terminal acts on: no C0 control or DEL byte, no C1 control
 * (U+0080..U+009F, bytes c2 80..c2 9f), no line separator or bidi mark. */
static void assert_inert(const char *s)
{
	static const char *const bad[] = {
		"\xc2\x80", "\xc2\x85", "\xc2\x9b", "\xc2\x9f", "\xd8\x9c",
		"\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xa8", "\xe2\x80\xa9",
		"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad",
		"\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8",
		"\xe2\x81\xa9",
	};

	assert_one_line(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(s, bad[i]))
			fail_msg("'%s' holds a raw control character", s);
	if (!valid_utf8(s))
		fail_msg("'%s' is not valid UTF-8", s);
}

static void esc_is(const char *in, size_t max, const char *want)
{
	char out[QS_ESC_BUF(64)];

	assert_true(max <= 64);
	assert_ptr_equal(qs_esc(in, max, out, sizeof(out)), out);
	assert_string_equal(out, want);
	assert_inert(out);
}

static void test_esc_plain(void **state)
{
	esc_is("work", 64, "work");
	esc_is("a b'c\"d$(id);*~%s%n", 64, "a b'c\"d$(id);*~%s%n");
	esc_is("", 64, "");
	esc_is(NULL, 64, "");
	/* QS_ESC's buffer lives in the enclosing block */
	assert_string_equal(QS_ESC("x\ty"), "x\\x09y");
}

static void test_esc_controls(void **state)
{
	esc_is("\x1b[31mred\x1b[0m", 64, "\\x1b[31mred\\x1b[0m");
	esc_is("\x1b]0;title\a", 64, "\\x1b]0;title\\x07");
	esc_is("a\nb", 64, "a\\x0ab");
	esc_is("a\rb", 64, "a\\x0db");
	esc_is("a\tb", 64, "a\\x09b");
	esc_is("\x01\x7f", 64, "\\x01\\x7f");
	esc_is("\b\b\bok", 64, "\\x08\\x08\\x08ok");
}

static void test_esc_utf8(void **state)
{
	/* printable UTF-8 stays readable */
	esc_is("caf\xc3\xa9", 64, "caf\xc3\xa9");
	esc_is("\xe5\x90\x8d\xe5\x89\x8d", 64, "\xe5\x90\x8d\xe5\x89\x8d");
	esc_is("\xf0\x9f\x92\xbe", 64, "\xf0\x9f\x92\xbe");
	esc_is("\xc2\xa0nbsp", 64, "\xc2\xa0nbsp");
	/* C1: U+009B is CSI on terminals that take 8-bit controls */
	esc_is("\xc2\x9b" "2J", 64, "\\xc2\\x9b2J");
	esc_is("\xc2\x85", 64, "\\xc2\\x85");
	/* line separator, right-to-left override, isolates, Arabic letter mark */
	esc_is("\xe2\x80\xa8", 64, "\\xe2\\x80\\xa8");
	esc_is("\xe2\x80\xae" "evil", 64, "\\xe2\\x80\\xae" "evil");
	esc_is("\xe2\x81\xa6x\xe2\x81\xa9", 64, "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9");
	esc_is("\xd8\x9c", 64, "\\xd8\\x9c");
	/* stray, truncated, overlong, surrogate, beyond U+10FFFF */
	esc_is("\xff\xfe", 64, "\\xff\\xfe");
	esc_is("\xe2\x82", 64, "\\xe2\\x82");
	esc_is("\xc0\xaf", 64, "\\xc0\\xaf");
	esc_is("\xe0\x80\xaf", 64, "\\xe0\\x80\\xaf");
	esc_is("\xed\xa0\x80", 64, "\\xed\\xa0\\x80");
	esc_is("\xf4\x90\x80\x80", 64, "\\xf4\\x90\\x80\\x80");
}

static void test_esc_bounds(void **state)
{
	char big[100001], out[QS_ESC_BUF(64)], small[12];

	/* at most max input bytes, then "..." */
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	qs_esc(big, 64, out, sizeof(out));
	assert_int_equal(strlen(out), 67);
	assert_string_equal(out + 64, "...");
	esc_is("abcdef", 6, "abcdef");
	esc_is("abcdefg", 6, "abcdef...");
	/* all controls: the buffer of QS_ESC_BUF(max) holds every escape */
	memset(big, '\n', 100);
	big[100] = '\0';
	qs_esc(big, 64, out, sizeof(out));
	assert_int_equal(strlen(out), 64 * 4 + 3);
	assert_inert(out);
	/* a short buffer is never overrun, an escape never cut */
	memset(small, 'Z', sizeof(small));
	qs_esc("\x1b\x1b\x1b", 64, small, 8);
	assert_string_equal(small, "\\x1b...");
	assert_int_equal(small[8], 'Z');
	qs_esc("abc", 64, small, 1);
	assert_string_equal(small, "");
	assert_string_equal(qs_esc("abc", 64, NULL, 0), "");
}

/* Every byte, alone and before every byte (all two-byte strings), and
 * every 3- and 4-byte string from the lead bytes of interest: the result
 * is inert, valid UTF-8, and names each input byte (printable ones as
 * they are). */
static void test_esc_all_bytes(void **state)
{
	static const unsigned char leads[] = { 0xc2, 0xd8, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4 };
	char out[QS_ESC_BUF(64)];
	unsigned char in[5];

	for (unsigned a = 1; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			in[0] = (unsigned char)a;
			in[1] = (unsigned char)b;
			in[2] = '\0';
			qs_esc((const char *)in, 64, out, sizeof(out));
			assert_inert(out);
			if (a >= 0x20 && a < 0x7f)
				assert_int_equal(out[0], (char)a);
			else if (a < 0x80)
				assert_int_equal(strncmp(out, "\\x", 2), 0);
		}
	for (size_t l = 0; l < sizeof(leads); l++)
		for (unsigned b = 0x80; b < 0xc0; b++)
			for (unsigned c = 0x80; c < 0xc0; c++)
				for (unsigned d = 0x7f; d < 0xc1; d += 0x41) {
					in[0] = leads[l];
					in[1] = (unsigned char)b;
					in[2] = (unsigned char)c;
					in[3] = (unsigned char)d;
					in[4] = '\0';
					qs_esc((const char *)in, 64, out, sizeof(out));
					assert_inert(out);
				}
}

static void test_class(void **state)
{
	qstor_vm_class c;

	assert_int_equal(qstor_class_parse("template", &c), 0);
	assert_int_equal(c, QSTOR_CLASS_TEMPLATE);
	assert_int_equal(qstor_class_parse("app", &c), 0);
	assert_int_equal(c, QSTOR_CLASS_APP);
	assert_int_equal(qstor_class_parse("standalone", &c), 0);
	assert_int_equal(c, QSTOR_CLASS_STANDALONE);
	assert_int_equal(qstor_class_parse("disposable", &c), 0);
	assert_int_equal(c, QSTOR_CLASS_DISPOSABLE);
	assert_int_equal(qstor_class_parse("App", &c), -EINVAL);
	assert_int_equal(qstor_class_parse("", &c), -EINVAL);
	assert_int_equal(qstor_class_parse(NULL, &c), -EINVAL);
	assert_string_equal(qstor_class_name(QSTOR_CLASS_DISPOSABLE), "disposable");
	assert_string_equal(qstor_class_name((qstor_vm_class)42), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_bytes),
		cmocka_unit_test(test_size_decimal_units),
		cmocka_unit_test(test_size_binary_units),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_size_zero),
		cmocka_unit_test(test_size_negative),
		cmocka_unit_test(test_size_not_numeric),
		cmocka_unit_test(test_size_empty),
		cmocka_unit_test(test_size_trailing_junk),
		cmocka_unit_test(test_size_control_char_message),
		cmocka_unit_test(test_size_no_err),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_name_slash_dots),
		cmocka_unit_test(test_name_spaces_specials),
		cmocka_unit_test(test_name_control),
		cmocka_unit_test(test_name_leading_dash),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_name_empty),
		cmocka_unit_test(test_name_utf8),
		cmocka_unit_test(test_name_utf8_message),
		cmocka_unit_test(test_name_what),
		cmocka_unit_test(test_vmvol),
		cmocka_unit_test(test_vmvol_control_char_message),
		cmocka_unit_test(test_esc_plain),
		cmocka_unit_test(test_esc_controls),
		cmocka_unit_test(test_esc_utf8),
		cmocka_unit_test(test_esc_bounds),
		cmocka_unit_test(test_esc_all_bytes),
		cmocka_unit_test(test_class),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
