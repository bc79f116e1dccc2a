/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dm-thin metadata reader (drivers/lvm-thin/thinmeta.c) over a small
 * in-memory image: the input, in 4096-byte blocks (the last one padded
 * with zeros, at most 64 blocks; reads beyond fail with -EIO). Every
 * block's checksum is made right first (superblock or btree node, by the
 * magic field), so the fuzzer reaches the structure rather than stopping
 * at checksums (which test-lvm-thinmeta covers). Read with the current
 * roots and with the held snapshot's.
 *
 * Invariants: load gives 0 or -EBADMSG, -ENOENT, -EIO, -ENOMEM with a
 * reason of one line; devices come in strictly ascending ids; extents of
 * every device (and of an id no device has) come in objs order, each
 * device's runs non-empty, inside the pool's data blocks, ascending and
 * not overlapping in virtual blocks, never two that should have been one;
 * and a run is flagged shared exactly when the runs of all devices cover
 * its data blocks more than once.
 */
#include <errno.h>

#include "thinmeta.h"
#include "fuzz.h"

#define MAX_BLOCKS 64
#define MAX_RUNS 4096

struct image {
	uint8_t *b;
	uint64_t n;
};

static int img_read(void *ctx, uint64_t nr, void *buf)
{
	const struct image *im = ctx;

	if (nr >= im->n)
		return -EIO;
	memcpy(buf, im->b + nr * LVT_META_BLOCK, LVT_META_BLOCK);
	return 0;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct run {
	size_t i;
	uint64_t v, d, n;
	bool shared;
};

struct runs {
	struct run v[MAX_RUNS];
	size_t n;
	bool overflow;
};

static int take(void *ctx, size_t i, uint64_t v, uint64_t d, uint64_t n, bool shared)
{
	struct runs *r = ctx;

	if (r->n == MAX_RUNS) {
		r->overflow = true;
		return 1;
	}
	r->v[r->n++] = (struct run){ i, v, d, n, shared };
	return 0;
}

static void check(struct image *im, bool snap)
{
	static struct runs rs;
	struct lvt_meta *m = (struct lvt_meta *)0x1;
	const struct lvt_meta_dev *dv;
	uint64_t ids[66];
	char why[256] = "";
	size_t nd, n_ids = 0;
	int r = lvt_meta_load(img_read, im, snap, &m, why, sizeof(why));

	if (r != 0) {
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOENT || r == -EIO || r == -ENOMEM);
		FUZZ_ASSERT(m == (struct lvt_meta *)0x1);
		FUZZ_ASSERT(why[0] && !strchr(why, '\n'));
		return;
	}
	dv = lvt_meta_devices(m, &nd);
	for (size_t k = 0; k < nd; k++) {
		FUZZ_ASSERT(k == 0 || dv[k].dev_id > dv[k - 1].dev_id);
		if (n_ids < 64)
			ids[n_ids++] = dv[k].dev_id;
	}
	if (!nd || dv[nd - 1].dev_id < UINT64_MAX)
		ids[n_ids++] = nd ? dv[nd - 1].dev_id + 1 : 7;   /* no such device */
	rs.n = 0;
	rs.overflow = false;
	r = lvt_meta_extents(m, ids, n_ids, take, &rs, why, sizeof(why));
	if (r == 1 && rs.overflow) {
		lvt_meta_free(m);
		return;
	}
	FUZZ_ASSERT(r == 0 || r == -EBADMSG);
	if (r == 0) {
		for (size_t j = 0; j < rs.n; j++) {
			const struct run *a = &rs.v[j], *p = j ? &rs.v[j - 1] : NULL;
			uint64_t cover = 0, cover_last = 0, last = a->d + a->n - 1;

			FUZZ_ASSERT(a->i < n_ids && a->n > 0);
			FUZZ_ASSERT(a->d < lvt_meta_data_blocks(m) &&
				    a->n <= lvt_meta_data_blocks(m) - a->d);
			if (p) {
				FUZZ_ASSERT(p->i <= a->i);
				if (p->i == a->i) {
					FUZZ_ASSERT(p->v + p->n <= a->v);
					FUZZ_ASSERT(!(p->v + p->n == a->v && p->d + p->n == a->d &&
						      p->shared == a->shared));
				}
			}
			/* shared: covered more than once by all devices' runs
			 * (each device asked once); a run is all one or the
			 * other: its first and last blocks tell */
			if (nd > 64)
				continue;
			for (size_t k = 0; k < rs.n; k++) {
				const struct run *b = &rs.v[k];

				cover += a->d >= b->d && a->d - b->d < b->n;
				cover_last += last >= b->d && last - b->d < b->n;
			}
			FUZZ_ASSERT(a->shared == (cover > 1));
			FUZZ_ASSERT(a->shared == (cover_last > 1));
		}
	} else {
		FUZZ_ASSERT(why[0] && !strchr(why, '\n'));
	}
	lvt_meta_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im;

	if (size == 0)
		return 0;
	im.n = (size + LVT_META_BLOCK - 1) / LVT_META_BLOCK;
	if (im.n > MAX_BLOCKS)
		im.n = MAX_BLOCKS;
	im.b = calloc(im.n, LVT_META_BLOCK);
	FUZZ_ASSERT(im.b);
	memcpy(im.b, data, size < im.n * LVT_META_BLOCK ? size : im.n * LVT_META_BLOCK);
	for (uint64_t b = 0; b < im.n; b++) {
		uint8_t *p = im.b + b * LVT_META_BLOCK;
		uint32_t x = get64(p + 32) == LVT_META_MAGIC ? 160774u : 121107u;
		uint32_t c = lvt_meta_crc32c(~0u, p + 4, LVT_META_BLOCK - 4) ^ x;

		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(c >> (8 * i));
	}
	check(&im, false);
	check(&im, true);
	free(im.b);
	return 0;
}
