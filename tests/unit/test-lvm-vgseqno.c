/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VG seqno read straight from a PV: parsers checked against sectors
 * that lvm 2.03.16 wrote (pvcreate + vgcreate on a loop device, then 304
 * metadata commits), and the reader against an image built from them,
 * including metadata that wraps around the end of the metadata area.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vgseqno.h"

/* Sector 1 of the PV: label_header, pv_header (one data area at 1 MiB,
 * one metadata area at 4096 of 0xff000 bytes), pv_header_extension. */
static const uint8_t real_label[0x90] = {
	0x4c, 0x41, 0x42, 0x45, 0x4c, 0x4f, 0x4e, 0x45, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x8c, 0x31, 0x89, 0x50, 0x20, 0x00, 0x00, 0x00,
	0x4c, 0x56, 0x4d, 0x32, 0x20, 0x30, 0x30, 0x31, 0x4f, 0x66, 0x53, 0x70,
	0x66, 0x65, 0x31, 0x55, 0x44, 0x69, 0x56, 0x59, 0x52, 0x48, 0x67, 0x72,
	0x77, 0x75, 0x6b, 0x70, 0x69, 0x45, 0x68, 0x74, 0x70, 0x54, 0x6a, 0x65,
	0x61, 0x53, 0x79, 0x64, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
};

/* The mda_header at 4096: committed text at 0x2f800, 0xeed bytes. */
static const uint8_t real_mdah[0x40] = {
	0xd8, 0x23, 0x8d, 0x16, 0x20, 0x4c, 0x56, 0x4d, 0x32, 0x20, 0x78, 0x5b,
	0x35, 0x41, 0x25, 0x72, 0x30, 0x4e, 0x2a, 0x3e, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x0f, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xed, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6a, 0xf9, 0xc3, 0x1b,
	0x00, 0x00, 0x00, 0x00,
};

static const char real_text[] =
	"qtest {\nid = \"uASMs7-5Jzb-2mQK-jAHG-s7eJ-iXkz-WyiIlT\"\nseqno = 305\n"
	"format = \"lvm2\"\nstatus = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\n"
	"extent_size = 8192\nmax_lv = 0\nmax_pv = 0\nmetadata_copies = 0\n\n"
	"physical_volumes {\n\npv0 {\nid = \"OfSpfe-1UDi-VYRH-grwu-kpiE-htpT-jeaSyd\"\n";

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void scan_area(uint8_t *scan)  /* first 2048 bytes of the PV */
{
	memset(scan, 0, LVT_LABEL_SCAN_BYTES);
	memcpy(scan + 512, real_label, sizeof(real_label));
}

static void test_crc_matches_lvm(void **state)
{
	uint8_t sector[512] = { 0 }, hdr[512] = { 0 };

	(void)state;
	memcpy(sector, real_label, sizeof(real_label));
	assert_int_equal(lvt_crc(LVT_INITIAL_CRC, sector + 20, 512 - 20), 0x5089318c);
	memcpy(hdr, real_mdah, sizeof(real_mdah));
	assert_int_equal(lvt_crc(LVT_INITIAL_CRC, hdr + 4, 512 - 4), 0x168d23d8);
	assert_int_equal(lvt_crc(LVT_INITIAL_CRC, NULL, 0), LVT_INITIAL_CRC);
}

static void test_label(void **state)
{
	uint8_t scan[LVT_LABEL_SCAN_BYTES];
	struct lvt_area mdas[LVT_MAX_MDAS];
	size_t n = 99;

	(void)state;
	scan_area(scan);
	assert_int_equal(lvt_pv_label_parse(scan, sizeof(scan), mdas, LVT_MAX_MDAS, &n), 0);
	assert_int_equal(n, 1);
	assert_true(mdas[0].offset == 4096);
	assert_true(mdas[0].size == 0xff000);

	/* no label */
	memset(scan, 0, sizeof(scan));
	assert_int_equal(lvt_pv_label_parse(scan, sizeof(scan), mdas, LVT_MAX_MDAS, &n), -ENOENT);
	/* a flipped bit: crc mismatch */
	scan_area(scan);
	scan[512 + 0x50] ^= 1;
	assert_int_equal(lvt_pv_label_parse(scan, sizeof(scan), mdas, LVT_MAX_MDAS, &n), -EBADMSG);
	/* the label claims another sector than where it is */
	memset(scan, 0, sizeof(scan));
	memcpy(scan + 1024, real_label, sizeof(real_label));
	assert_int_equal(lvt_pv_label_parse(scan, sizeof(scan), mdas, LVT_MAX_MDAS, &n), -EBADMSG);
	/* the same label written for sector 2 (with its crc) is found there */
	put_le64(scan + 1024 + 8, 2);
	put_le32(scan + 1024 + 16, lvt_crc(LVT_INITIAL_CRC, scan + 1024 + 20, 512 - 20));
	assert_int_equal(lvt_pv_label_parse(scan, sizeof(scan), mdas, LVT_MAX_MDAS, &n), 0);
	assert_true(mdas[0].offset == 4096);
	/* too short a buffer to hold sector 1 */
	scan_area(scan);
	assert_int_equal(lvt_pv_label_parse(scan, 512, mdas, LVT_MAX_MDAS, &n), -ENOENT);
}

static void test_two_mdas(void **state)
{
	uint8_t scan[LVT_LABEL_SCAN_BYTES];
	struct lvt_area mdas[LVT_MAX_MDAS];
	uint8_t *mda_list;
	size_t n = 0;

	(void)state;
	scan_area(scan);
	/* pvcreate --metadatacopies 2: a second area at the end of the PV */
	mda_list = scan + 512 + 32 + 32 + 8 + 2 * 16;
	put_le64(mda_list + 16, 268431360);
	put_le64(mda_list + 24, 1044480);
	memset(mda_list + 32, 0, 16);
	put_le32(scan + 512 + 16, lvt_crc(LVT_INITIAL_CRC, scan + 512 + 20, 512 - 20));
	assert_int_equal(lvt_pv_label_parse(scan, sizeof(scan), mdas, LVT_MAX_MDAS, &n), 0);
	assert_int_equal(n, 2);
	assert_true(mdas[1].offset == 268431360);
	assert_int_equal(lvt_pv_label_parse(scan, sizeof(scan), mdas, 1, &n), -EBADMSG);
}

static void test_mda_header(void **state)
{
	uint8_t hdr[512] = { 0 };
	struct lvt_rlocn rl;

	(void)state;
	memcpy(hdr, real_mdah, sizeof(real_mdah));
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 4096, &rl), 0);
	assert_true(rl.start == 4096);
	assert_true(rl.size == 0xff000);
	assert_true(rl.offset == 0x2f800);
	assert_true(rl.text_size == 0xeed);
	assert_int_equal(rl.ignored, 0);
	/* read at the wrong place */
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 8192, &rl), -EBADMSG);
	/* a torn or foreign header */
	hdr[100] = 1;
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 4096, &rl), -EBADMSG);
	memcpy(hdr, real_mdah, sizeof(real_mdah));
	hdr[100] = 0;
	hdr[5] = 'X';
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 4096, &rl), -EBADMSG);
	assert_int_equal(lvt_mda_header_parse(hdr, 100, 4096, &rl), -EBADMSG);
}

static void make_hdr(uint8_t *hdr, uint64_t start, uint64_t size, uint64_t off,
		     uint64_t tsize, uint32_t flags)
{
	memset(hdr, 0, 512);
	memcpy(hdr + 4, " LVM2 x[5A%r0N*>", 16);
	put_le32(hdr + 20, 1);
	put_le64(hdr + 24, start);
	put_le64(hdr + 32, size);
	put_le64(hdr + 40, off);
	put_le64(hdr + 48, tsize);
	put_le32(hdr + 60, flags);
	put_le32(hdr, lvt_crc(LVT_INITIAL_CRC, hdr + 4, 512 - 4));
}

static void test_mda_header_cases(void **state)
{
	uint8_t hdr[512];
	struct lvt_rlocn rl;

	(void)state;
	make_hdr(hdr, 4096, 0xff000, 0x2f800, 0xeed, 1);
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 4096, &rl), 0);
	assert_int_equal(rl.ignored, 1);
	make_hdr(hdr, 4096, 0xff000, 0, 0, 0);  /* no VG yet */
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 4096, &rl), -ENOENT);
	make_hdr(hdr, 4096, 0xff000, 0x100, 0xeed, 0);  /* inside the header */
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 4096, &rl), -EBADMSG);
	make_hdr(hdr, 4096, 0xff000, 0xff000, 0xeed, 0);  /* past the end */
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 4096, &rl), -EBADMSG);
	make_hdr(hdr, 4096, 0xff000, 0x200, 0xff000, 0);  /* bigger than the area */
	assert_int_equal(lvt_mda_header_parse(hdr, sizeof(hdr), 4096, &rl), -EBADMSG);
}

static void test_text(void **state)
{
	uint64_t s = 0;

	(void)state;
	assert_int_equal(lvt_mda_text_seqno(real_text, strlen(real_text), "qtest", &s), 0);
	assert_true(s == 305);
	/* another VG on that PV, or a VG whose name extends ours */
	assert_int_equal(lvt_mda_text_seqno(real_text, strlen(real_text), "qtes", &s), -ENOENT);
	assert_int_equal(lvt_mda_text_seqno(real_text, strlen(real_text), "other", &s), -ENOENT);
	assert_int_equal(lvt_mda_text_seqno(real_text, strlen(real_text), "qtest2", &s), -ENOENT);
	/* a truncated head, a seqno that is not one, one after a section */
	assert_int_equal(lvt_mda_text_seqno(real_text, 20, "qtest", &s), -EBADMSG);
	assert_int_equal(lvt_mda_text_seqno("vg {\nseqno = 12x\n", 17, "vg", &s), -EBADMSG);
	assert_int_equal(lvt_mda_text_seqno("vg {\nseqno = \n", 14, "vg", &s), -EBADMSG);
	assert_int_equal(lvt_mda_text_seqno("vg {\nsub {\nseqno = 1\n}\n", 22, "vg", &s), -EBADMSG);
	assert_int_equal(lvt_mda_text_seqno("vg {\n\tseqno=7 # x\n", 18, "vg", &s), 0);
	assert_true(s == 7);
	assert_int_equal(lvt_mda_text_seqno("vg {\nseqnox = 1\nseqno = 8\n", 26, "vg", &s), 0);
	assert_true(s == 8);
}

/* An image: label at sector 1, mda header at 4096, text where it says. */
static char *make_image(const uint8_t *hdr, const char *text, uint64_t text_at,
			size_t split_at)
{
	static char path[64];
	uint8_t scan[LVT_LABEL_SCAN_BYTES];
	int fd;

	snprintf(path, sizeof(path), "/tmp/qstor-vgseqno-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 << 20), 0);
	scan_area(scan);
	assert_int_equal(pwrite(fd, scan, sizeof(scan), 0), (ssize_t)sizeof(scan));
	assert_int_equal(pwrite(fd, hdr, 512, 4096), 512);
	if (split_at) {  /* the text wraps: its tail right after the header */
		assert_int_equal(pwrite(fd, text, split_at, (off_t)text_at), (ssize_t)split_at);
		assert_int_equal(pwrite(fd, text + split_at, strlen(text) - split_at, 4096 + 512),
				 (ssize_t)(strlen(text) - split_at));
	} else {
		assert_int_equal(pwrite(fd, text, strlen(text), (off_t)text_at),
				 (ssize_t)strlen(text));
	}
	close(fd);
	return path;
}

static void test_read_image(void **state)
{
	uint8_t hdr[512] = { 0 };
	uint64_t s = 0;
	char *path;

	(void)state;
	memcpy(hdr, real_mdah, sizeof(real_mdah));
	path = make_image(hdr, real_text, 4096 + 0x2f800, 0);
	assert_int_equal(lvt_vg_seqno_read(path, "qtest", &s), 0);
	assert_true(s == 305);
	assert_int_equal(lvt_vg_seqno_read(path, "other", &s), -ENOENT);
	unlink(path);

	/* committed text 0x80 bytes before the end of the area: it wraps */
	make_hdr(hdr, 4096, 0xff000, 0xff000 - 0x80, strlen(real_text), 0);
	path = make_image(hdr, real_text, 4096 + 0xff000 - 0x80, 0x80);
	assert_int_equal(lvt_vg_seqno_read(path, "qtest", &s), 0);
	assert_true(s == 305);
	unlink(path);

	/* an ignored area (pvchange --metadataignore y) is not read */
	make_hdr(hdr, 4096, 0xff000, 0x2f800, strlen(real_text), 1);
	path = make_image(hdr, real_text, 4096 + 0x2f800, 0);
	assert_int_equal(lvt_vg_seqno_read(path, "qtest", &s), -ENOENT);
	unlink(path);

	assert_int_equal(lvt_vg_seqno_read("/nonexistent/pv", "qtest", &s), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_matches_lvm),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_two_mdas),
		cmocka_unit_test(test_mda_header),
		cmocka_unit_test(test_mda_header_cases),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_read_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
