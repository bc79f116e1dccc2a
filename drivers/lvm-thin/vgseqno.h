/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vgseqno.h - the VG metadata sequence number read straight from a PV,
 * without an LVM scan: a few sector reads instead of a label scan of
 * every device (about 150-400 ms per lvm2_run in the test VM).
 *
 * On-disk format (lvm2 lib/label/label.h, lib/format_text/layout.h,
 * lib/misc/crc.c; all little-endian):
 *  - one of the first 4 sectors holds the label_header: "LABELONE",
 *    u64 sector_xl (its own sector), u32 crc_xl (calc_crc over byte 20
 *    to the end of the sector), u32 offset_xl (to the pv_header), "LVM2 001";
 *  - pv_header: 32-byte uuid, u64 device size, then two lists of
 *    {u64 offset, u64 size} each ended by a zero entry: data areas, then
 *    metadata areas (absolute byte offsets on the PV);
 *  - at each metadata area: mda_header (512 bytes): u32 checksum_xl (over
 *    bytes 4..511), magic " LVM2 x[5A%r0N*>", u32 version (1), u64 start,
 *    u64 size, raw_locn[] {u64 offset, u64 size, u32 checksum, u32 flags};
 *    raw_locn[0] is the committed metadata, offset relative to start,
 *    wrapping after size to start + 512; flags bit 0 = ignored area;
 *  - the metadata text begins "VGNAME {\nid = \"...\"\nseqno = N\n".
 */
#ifndef LVT_VGSEQNO_H
#define LVT_VGSEQNO_H

#include <stddef.h>
#include <stdint.h>

#define LVT_SECTOR 512
#define LVT_LABEL_SCAN_BYTES (4 * LVT_SECTOR)
#define LVT_MDA_HEADER_SIZE 512
#define LVT_MAX_MDAS 4

/* lvm's calc_crc(): reflected CRC-32 (0xedb88320), no final inversion. */
#define LVT_INITIAL_CRC 0xf597a6cfU
uint32_t lvt_crc(uint32_t initial, const uint8_t *buf, size_t len);

struct lvt_area {
	uint64_t offset, size;
};

/* buf: the first LVT_LABEL_SCAN_BYTES of a PV. Metadata areas into mdas.
 * 0, -ENOENT (no LVM2 label) or -EBADMSG (bad crc, malformed). */
int lvt_pv_label_parse(const uint8_t *buf, size_t len, struct lvt_area *mdas,
		       size_t max, size_t *ret_n);

struct lvt_rlocn {
	uint64_t start;       /* absolute offset of the metadata area */
	uint64_t size;        /* size of the area */
	uint64_t offset;      /* committed text, relative to start */
	uint64_t text_size;
	int ignored;
};

/* buf: LVT_MDA_HEADER_SIZE bytes read at mda_offset. 0, -EBADMSG. */
int lvt_mda_header_parse(const uint8_t *buf, size_t len, uint64_t mda_offset,
			 struct lvt_rlocn *ret);

/* text: the start of the committed metadata. Its VG must be vg.
 * 0, -ENOENT (another VG) or -EBADMSG. */
int lvt_mda_text_seqno(const char *text, size_t len, const char *vg,
		       uint64_t *ret);

/* text as above: the VG's uuid from its "id = \"...\"" line (before any
 * section) into id. 0, -ENOENT (another VG), -EBADMSG or -ENAMETOOLONG. */
#define LVT_VG_ID_LEN 40   /* "xxxxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx" + NUL */
int lvt_mda_text_id(const char *text, size_t len, const char *vg, char *id,
		    size_t idlen);

/* Read the seqno of vg from the PV at path (O_DIRECT, read only). */
int lvt_vg_seqno_read(const char *pv_path, const char *vg, uint64_t *ret);

/* The same, and the VG's uuid (id may be NULL): a VG removed and made again
 * under the same name starts its seqno afresh, its uuid tells it apart. */
int lvt_vg_meta_read(const char *pv_path, const char *vg, uint64_t *ret_seqno,
		     char *id, size_t idlen);

#endif
