/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VG seqno from a PV's metadata area; see vgseqno.h for the format. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "le.h"
#include "vgseqno.h"

static const uint32_t crctab[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t lvt_crc(uint32_t initial, const uint8_t *buf, size_t len)
{
	uint32_t crc = initial;

	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		crc = (crc >> 4) ^ crctab[crc & 0xf];
		crc = (crc >> 4) ^ crctab[crc & 0xf];
	}
	return crc;
}

int lvt_pv_label_parse(const uint8_t *buf, size_t len, struct lvt_area *mdas,
		       size_t max, size_t *ret_n)
{
	for (size_t s = 0; s < 4 && (s + 1) * LVT_SECTOR <= len; s++) {
		const uint8_t *lh = buf + s * LVT_SECTOR;
		const uint8_t *p, *end = lh + LVT_SECTOR;
		uint32_t off;
		size_t n = 0;
		int list = 0;

		if (memcmp(lh, "LABELONE", 8) != 0)
			continue;
		if (le64(lh + 8) != s || memcmp(lh + 24, "LVM2 001", 8) != 0)
			return -EBADMSG;
		if (le32(lh + 16) != lvt_crc(LVT_INITIAL_CRC, lh + 20, LVT_SECTOR - 20))
			return -EBADMSG;
		off = le32(lh + 20);
		if (off < 32 || off > LVT_SECTOR - 40)
			return -EBADMSG;
		/* pv_header: uuid[32], device_size, then the two lists */
		p = lh + off + 32 + 8;
		while (list < 2) {
			uint64_t o, z;

			if (p + 16 > end)
				return -EBADMSG;
			o = le64(p);
			z = le64(p + 8);
			p += 16;
			if (o == 0 && z == 0) {
				list++;
				continue;
			}
			if (list == 1) {
				if (n == max)
					return -EBADMSG;
				mdas[n].offset = o;
				mdas[n].size = z;
				n++;
			}
		}
		*ret_n = n;
		return 0;
	}
	return -ENOENT;
}

int lvt_mda_header_parse(const uint8_t *buf, size_t len, uint64_t mda_offset,
			 struct lvt_rlocn *ret)
{
	static const char magic[16] = " LVM2 x[5A%r0N*>";
	const uint8_t *rl;

	if (len < LVT_MDA_HEADER_SIZE)
		return -EBADMSG;
	if (memcmp(buf + 4, magic, sizeof(magic)) != 0 || le32(buf + 20) != 1)
		return -EBADMSG;
	if (le32(buf) != lvt_crc(LVT_INITIAL_CRC, buf + 4, LVT_MDA_HEADER_SIZE - 4))
		return -EBADMSG;
	ret->start = le64(buf + 24);
	ret->size = le64(buf + 32);
	if (ret->start != mda_offset || ret->size <= LVT_MDA_HEADER_SIZE)
		return -EBADMSG;
	rl = buf + 40;
	ret->offset = le64(rl);
	ret->text_size = le64(rl + 8);
	ret->ignored = le32(rl + 20) & 1;
	if (ret->offset == 0 && ret->text_size == 0)
		return -ENOENT;  /* no metadata committed here */
	if (ret->offset < LVT_MDA_HEADER_SIZE || ret->offset >= ret->size ||
	    ret->text_size > ret->size - LVT_MDA_HEADER_SIZE)
		return -EBADMSG;
	return 0;
}

/* Where "VGNAME {" opens the metadata text of vg (at the brace), or NULL. */
static const char *vg_text_start(const char *text, size_t len, const char *vg)
{
	size_t vlen = strlen(vg);
	const char *p = text, *end = text + len;

	if (len < vlen + 2 || memcmp(p, vg, vlen) != 0)
		return NULL;
	p += vlen;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end && *p == '{' ? p : NULL;
}

int lvt_mda_text_seqno(const char *text, size_t len, const char *vg,
		       uint64_t *ret)
{
	const char *end = text + len, *line;
	const char *p = vg_text_start(text, len, vg);

	if (!p)
		return -ENOENT;
	/* the header lines before the first section: look for "seqno = N" */
	for (line = p; line < end; ) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *q = line;

		if (!nl)
			break;
		while (q < nl && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(nl - q) > 6 && memcmp(q, "seqno", 5) == 0 &&
		    (q[5] == ' ' || q[5] == '\t' || q[5] == '=')) {
			uint64_t v = 0;
			bool digit = false;

			q += 5;
			while (q < nl && (*q == ' ' || *q == '\t'))
				q++;
			if (q >= nl || *q++ != '=')
				return -EBADMSG;
			while (q < nl && (*q == ' ' || *q == '\t'))
				q++;
			for (; q < nl && *q >= '0' && *q <= '9'; q++) {
				unsigned d = (unsigned)(*q - '0');

				if (v > (UINT64_MAX - d) / 10)
					return -EBADMSG;
				v = v * 10 + d;
				digit = true;
			}
			while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			if (!digit || (q < nl && *q != '#'))
				return -EBADMSG;
			*ret = v;
			return 0;
		}
		/* a nested section starts: seqno comes before any */
		if (q < nl && nl[-1] == '{' && line != p)
			break;
		line = nl + 1;
	}
	return -EBADMSG;
}

int lvt_mda_text_id(const char *text, size_t len, const char *vg, char *id,
		    size_t idlen)
{
	const char *end = text + len, *line;
	const char *p = vg_text_start(text, len, vg);

	if (!p)
		return -ENOENT;
	for (line = p; line < end; ) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *q = line, *e;

		if (!nl)
			break;
		while (q < nl && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(nl - q) > 3 && memcmp(q, "id", 2) == 0 &&
		    (q[2] == ' ' || q[2] == '\t' || q[2] == '=')) {
			q += 2;
			while (q < nl && (*q == ' ' || *q == '\t'))
				q++;
			if (q >= nl || *q++ != '=')
				return -EBADMSG;
			while (q < nl && (*q == ' ' || *q == '\t'))
				q++;
			if (q >= nl || *q++ != '"')
				return -EBADMSG;
			e = memchr(q, '"', (size_t)(nl - q));
			if (!e || e == q)
				return -EBADMSG;
			if ((size_t)(e - q) >= idlen)
				return -ENAMETOOLONG;
			memcpy(id, q, (size_t)(e - q));
			id[e - q] = '\0';
			return 0;
		}
		if (q < nl && nl[-1] == '{' && line != p)
			break;
		line = nl + 1;
	}
	return -EBADMSG;
}

/* O_DIRECT needs aligned buffers, offsets and lengths. */
#define ALIGN 4096

static int read_at(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Read [off, off + len) through an aligned bounce buffer. */
static int read_range(int fd, uint8_t *out, size_t len, uint64_t off)
{
	uint64_t a = off & ~(uint64_t)(ALIGN - 1);
	size_t total = (size_t)(((off + len + ALIGN - 1) & ~(uint64_t)(ALIGN - 1)) - a);
	void *bounce;
	int r;

	if (posix_memalign(&bounce, ALIGN, total))
		return -ENOMEM;
	r = read_at(fd, bounce, total, a);
	if (r == 0)
		memcpy(out, (uint8_t *)bounce + (off - a), len);
	free(bounce);
	return r;
}

/* The first bytes of the committed text, wrapping like lvm does. */
#define TEXT_HEAD 4096

static int read_text_head(int fd, const struct lvt_rlocn *rl, char *text,
			  size_t *ret_len)
{
	size_t want = rl->text_size < TEXT_HEAD ? (size_t)rl->text_size : TEXT_HEAD;
	size_t first = want;
	int r;

	if (rl->offset + want > rl->size)
		first = (size_t)(rl->size - rl->offset);
	r = read_range(fd, (uint8_t *)text, first, rl->start + rl->offset);
	if (r == 0 && first < want)
		r = read_range(fd, (uint8_t *)text + first, want - first,
			       rl->start + LVT_MDA_HEADER_SIZE);
	*ret_len = want;
	return r;
}

int lvt_vg_seqno_read(const char *pv_path, const char *vg, uint64_t *ret)
{
	return lvt_vg_meta_read(pv_path, vg, ret, NULL, 0);
}

int lvt_vg_meta_read(const char *pv_path, const char *vg, uint64_t *ret,
		     char *id, size_t idlen)
{
	_cleanup_close_ int fd = -1;
	uint8_t label[LVT_LABEL_SCAN_BYTES], hdr[LVT_MDA_HEADER_SIZE];
	struct lvt_area mdas[LVT_MAX_MDAS];
	size_t n = 0;
	int r, last = -ENOENT;

	/* lvm writes metadata with O_DIRECT: read past the page cache too
	 * (files on filesystems without O_DIRECT, as in tests, read plainly) */
	fd = open(pv_path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == EINVAL)
		fd = open(pv_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = read_range(fd, label, sizeof(label), 0);
	if (r < 0)
		return r;
	r = lvt_pv_label_parse(label, sizeof(label), mdas, LVT_MAX_MDAS, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct lvt_rlocn rl;
		char text[TEXT_HEAD];
		size_t tlen;
		uint64_t seqno;

		r = read_range(fd, hdr, sizeof(hdr), mdas[i].offset);
		if (r == 0)
			r = lvt_mda_header_parse(hdr, sizeof(hdr), mdas[i].offset, &rl);
		if (r == 0 && rl.ignored)
			r = -ENOENT;
		if (r == 0)
			r = read_text_head(fd, &rl, text, &tlen);
		if (r == 0)
			r = lvt_mda_text_seqno(text, tlen, vg, &seqno);
		if (r == 0 && id)
			r = lvt_mda_text_id(text, tlen, vg, id, idlen);
		if (r == 0) {
			*ret = seqno;
			return 0;
		}
		last = r;
	}
	return last;
}
