/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dm-thin metadata reader (drivers/lvm-thin/thinmeta.c).
 *
 * Against real metadata: thin_restore (thin-provisioning-tools) builds an
 * image from XML with known mappings (several devices, snapshots sharing
 * most blocks, runs and singletons, 200,000 mappings: multi-level trees);
 * the reader must give exactly those mappings, coalesced, with sharing
 * as counted here from the model. The same image with a metadata snapshot
 * grafted on (as reserve_metadata_snap leaves it), then damaged.
 *
 * Against hand-made images (a small writer below): subtrees shared
 * between devices read once, and damage of every kind refused cleanly
 * (cycles, repeated nodes, unequal heights, bad counts, order, ranges).
 *
 * Exit 77 when thin_restore is missing (after the hand-made cases pass).
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "thinmeta.h"

#define BS LVT_META_BLOCK

/* ---- a small image writer ---- */

struct img {
	uint8_t *b;
	uint64_t n;
	uint64_t limit;      /* reads at or beyond fail with -EIO */
	unsigned *reads;     /* per block */
};

static void img_init(struct img *im, uint64_t n)
{
	im->b = calloc(n, BS);
	im->reads = calloc(n, sizeof(unsigned));
	assert_non_null(im->b);
	assert_non_null(im->reads);
	im->n = n;
	im->limit = n;
}

static void img_free(struct img *im)
{
	free(im->b);
	free(im->reads);
}

static uint8_t *blk(struct img *im, uint64_t nr)
{
	assert_true(nr < im->n);
	return im->b + nr * BS;
}

static void p32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void p64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t g64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void seal(struct img *im, uint64_t nr, uint32_t xor)
{
	uint8_t *b = blk(im, nr);

	p32(b, lvt_meta_crc32c(~0u, b + 4, BS - 4) ^ xor);
}

static void seal_node(struct img *im, uint64_t nr)
{
	seal(im, nr, 121107);
}

static void seal_super(struct img *im, uint64_t nr)
{
	seal(im, nr, 160774);
}

/* A node with n entries; vals: n values of vsize bytes. */
static void put_node(struct img *im, uint64_t nr, bool leaf, uint32_t vsize, uint32_t n,
		     const uint64_t *keys, const void *vals)
{
	uint8_t *b = blk(im, nr);
	uint32_t max = (BS - 32) / (8 + vsize) / 3 * 3;

	assert_true(n <= max);
	memset(b, 0, BS);
	p32(b + 4, leaf ? 2 : 1);
	p64(b + 8, nr);
	p32(b + 16, n);
	p32(b + 20, max);
	p32(b + 24, vsize);
	for (uint32_t i = 0; i < n; i++)
		p64(b + 32 + 8 * i, keys[i]);
	memcpy(b + 32 + 8 * max, vals, (size_t)n * vsize);
	seal_node(im, nr);
}

static void put_u64s(struct img *im, uint64_t nr, bool leaf, uint32_t n, const uint64_t *keys,
		     const uint64_t *vals)
{
	uint8_t v[BS];

	for (uint32_t i = 0; i < n; i++)
		p64(v + 8 * i, vals[i]);
	put_node(im, nr, leaf, 8, n, keys, v);
}

/* A mapping leaf: keys[i] -> data block d[i] (time 0). */
static void put_map(struct img *im, uint64_t nr, uint32_t n, const uint64_t *keys,
		    const uint64_t *d)
{
	uint64_t v[512];

	for (uint32_t i = 0; i < n; i++)
		v[i] = d[i] << 24;
	put_u64s(im, nr, true, n, keys, v);
}

static void put_details(struct img *im, uint64_t nr, uint32_t n, const uint64_t *ids,
			const uint64_t *mapped)
{
	uint8_t v[BS] = { 0 };

	for (uint32_t i = 0; i < n; i++)
		p64(v + 24 * i, mapped[i]);
	put_node(im, nr, true, 24, n, ids, v);
}

static void put_super(struct img *im, uint64_t nr, uint64_t map_root, uint64_t det_root,
		      uint64_t held, uint64_t nr_data, uint32_t bsect)
{
	uint8_t *b = blk(im, nr);

	memset(b, 0, BS);
	p64(b + 8, nr);
	p64(b + 32, LVT_META_MAGIC);
	p32(b + 40, 2);
	p64(b + 56, held);
	if (nr == 0) {
		p64(b + 64, nr_data);
		p64(b + 192, im->n);
	}
	p64(b + 320, map_root);
	p64(b + 328, det_root);
	p32(b + 336, bsect);
	p32(b + 340, 8);
	p64(b + 344, im->n);
	seal_super(im, nr);
}

static int mem_read(void *ctx, uint64_t nr, void *buf)
{
	struct img *im = ctx;

	if (nr >= im->limit)
		return -EIO;
	im->reads[nr]++;
	memcpy(buf, im->b + nr * BS, BS);
	return 0;
}

/* ---- collecting what the reader says ---- */

struct ext {
	size_t i;
	uint64_t v, d, n;
	bool shared;
};

struct coll {
	struct ext *v;
	size_t n, cap;
	size_t stop_after;   /* return 42 at that many extents; 0 never */
};

static int collect(void *ctx, size_t i, uint64_t v, uint64_t d, uint64_t n, bool shared)
{
	struct coll *c = ctx;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		assert_non_null(c->v);
	}
	c->v[c->n++] = (struct ext){ i, v, d, n, shared };
	if (c->stop_after && c->n == c->stop_after)
		return 42;
	return 0;
}

static struct lvt_meta *load_ok(struct img *im, bool snap)
{
	struct lvt_meta *m = NULL;
	char why[200];
	int r = lvt_meta_load(mem_read, im, snap, &m, why, sizeof(why));

	if (r != 0)
		fail_msg("load: %d %s", r, why);
	return m;
}

static int load_err(struct img *im, bool snap, const char *want)
{
	struct lvt_meta *m = (struct lvt_meta *)0x1;
	char why[200] = "x";
	int r = lvt_meta_load(mem_read, im, snap, &m, why, sizeof(why));

	if (r >= 0)
		fail_msg("wanted '%s', loaded fine", want);
	assert_true(m == (struct lvt_meta *)0x1);
	if (!strstr(why, want))
		fail_msg("wanted '%s', got %d '%s'", want, r, why);
	return r;
}

/* ---- hand-made images ---- */

/* Three devices: 1 = internal 5 -> leaves 3, 4; 2 = internal 6 -> leaves
 * 3, 7 (a snapshot of 1 that rewrote 10..14 and dropped 15..19); 3 = leaf
 * 3 alone as its root. Top level in 8, details in 9. */
static void make_shared(struct img *im)
{
	uint64_t k[10], d[10], ids[3] = { 1, 2, 3 }, roots[3] = { 5, 6, 3 };
	uint64_t mapped[3] = { 20, 15, 10 };

	img_init(im, 16);
	for (int i = 0; i < 10; i++) {
		k[i] = (uint64_t)i;
		d[i] = 100 + (uint64_t)i;
	}
	put_map(im, 3, 10, k, d);
	for (int i = 0; i < 10; i++) {
		k[i] = 10 + (uint64_t)i;
		d[i] = 200 + (uint64_t)i;
	}
	put_map(im, 4, 10, k, d);
	for (int i = 0; i < 5; i++) {
		k[i] = 10 + (uint64_t)i;
		d[i] = 300 + (uint64_t)i;
	}
	put_map(im, 7, 5, k, d);
	put_u64s(im, 5, false, 2, (uint64_t[]){ 0, 10 }, (uint64_t[]){ 3, 4 });
	put_u64s(im, 6, false, 2, (uint64_t[]){ 0, 10 }, (uint64_t[]){ 3, 7 });
	put_u64s(im, 8, true, 3, ids, roots);
	put_details(im, 9, 3, ids, mapped);
	put_super(im, 0, 8, 9, 0, 1000, 128);
}

static void test_shared_subtree(void **state)
{
	struct img im;
	struct lvt_meta *m;
	struct coll c = { 0 };
	const struct lvt_meta_dev *dv;
	uint64_t ask[] = { 3, 1, 42, 2 };
	size_t nd;

	(void)state;
	make_shared(&im);
	m = load_ok(&im, false);
	assert_int_equal(lvt_meta_block_sectors(m), 128);
	assert_true(lvt_meta_data_blocks(m) == 1000);
	dv = lvt_meta_devices(m, &nd);
	assert_int_equal(nd, 3);
	assert_true(dv[0].dev_id == 1 && dv[0].mapped_blocks == 20);
	assert_true(dv[2].dev_id == 3 && dv[2].mapped_blocks == 10);
	/* every block read once, however many devices reach it */
	for (int b = 0; b < 16; b++)
		assert_true(im.reads[b] <= 1);
	assert_int_equal(im.reads[3], 1);

	assert_int_equal(lvt_meta_extents(m, ask, 4, collect, &c, NULL, 0), 0);
	assert_int_equal(c.n, 5);
	/* dev 3: leaf 3 alone, shared with 1 and 2 */
	assert_true(c.v[0].i == 0 && c.v[0].v == 0 && c.v[0].d == 100 && c.v[0].n == 10 &&
		    c.v[0].shared);
	/* dev 1: 0..9 shared; 10..19 its own (v 9 -> 100+9, v 10 -> 200: not
	 * consecutive data, two runs) */
	assert_true(c.v[1].i == 1 && c.v[1].v == 0 && c.v[1].d == 100 && c.v[1].n == 10 &&
		    c.v[1].shared);
	assert_true(c.v[2].i == 1 && c.v[2].v == 10 && c.v[2].d == 200 && c.v[2].n == 10 &&
		    !c.v[2].shared);
	/* 42: no such device, nothing; dev 2 */
	assert_true(c.v[3].i == 3 && c.v[3].v == 0 && c.v[3].n == 10 && c.v[3].shared);
	assert_true(c.v[4].i == 3 && c.v[4].v == 10 && c.v[4].d == 300 && c.v[4].n == 5 &&
		    !c.v[4].shared);

	/* the callback stops the walk with its own value */
	c.n = 0;
	c.stop_after = 2;
	assert_int_equal(lvt_meta_extents(m, ask, 4, collect, &c, NULL, 0), 42);
	assert_int_equal(c.n, 2);
	free(c.v);
	lvt_meta_free(m);
	img_free(&im);
}

/* Runs merge across leaves; sharing splits a run; a block mapped twice
 * by one device is shared. */
static void test_runs(void **state)
{
	struct img im;
	struct lvt_meta *m;
	struct coll c = { 0 };
	uint64_t k[6], d[6], id = 7, root = 4, one = 12;

	(void)state;
	img_init(&im, 8);
	/* leaf 2: v 0..5 -> d 50..55; leaf 3: v 6..11 -> d 56..60, then
	 * v 11 -> d 52 again */
	for (int i = 0; i < 6; i++) {
		k[i] = (uint64_t)i;
		d[i] = 50 + (uint64_t)i;
	}
	put_map(&im, 2, 6, k, d);
	for (int i = 0; i < 6; i++) {
		k[i] = 6 + (uint64_t)i;
		d[i] = 56 + (uint64_t)i;
	}
	d[5] = 52;
	put_map(&im, 3, 6, k, d);
	put_u64s(&im, 4, false, 2, (uint64_t[]){ 0, 6 }, (uint64_t[]){ 2, 3 });
	put_u64s(&im, 5, true, 1, &id, &root);
	put_details(&im, 6, 1, &id, &one);
	put_super(&im, 0, 5, 6, 0, 100, 8);
	m = load_ok(&im, false);
	assert_int_equal(lvt_meta_extents(m, &id, 1, collect, &c, NULL, 0), 0);
	assert_int_equal(c.n, 4);
	assert_true(c.v[0].v == 0 && c.v[0].d == 50 && c.v[0].n == 2 && !c.v[0].shared);
	assert_true(c.v[1].v == 2 && c.v[1].d == 52 && c.v[1].n == 1 && c.v[1].shared);
	assert_true(c.v[2].v == 3 && c.v[2].d == 53 && c.v[2].n == 8 && !c.v[2].shared);
	assert_true(c.v[3].v == 11 && c.v[3].d == 52 && c.v[3].n == 1 && c.v[3].shared);
	free(c.v);
	lvt_meta_free(m);
	img_free(&im);
}

/* The held snapshot's roots, not the current ones; none held: -ENOENT. */
static void test_snapshot(void **state)
{
	struct img im;
	struct lvt_meta *m;
	struct coll c = { 0 };
	uint64_t id = 1, two = 2, k[2] = { 0, 1 }, d[2] = { 9, 10 }, root = 10;
	size_t nd;

	(void)state;
	make_shared(&im);
	/* now: only device 2, mapping v 0..1 -> 9..10; held: the old roots */
	put_map(&im, 10, 2, k, d);
	put_u64s(&im, 11, true, 1, &two, &root);
	put_details(&im, 12, 1, &two, &two);
	put_super(&im, 13, 8, 9, 0, 0, 128);
	put_super(&im, 0, 11, 12, 13, 1000, 128);
	m = load_ok(&im, false);
	assert_true(lvt_meta_devices(m, &nd)[0].dev_id == 2 && nd == 1);
	lvt_meta_free(m);
	m = load_ok(&im, true);
	lvt_meta_devices(m, &nd);
	assert_int_equal(nd, 3);
	assert_int_equal(lvt_meta_extents(m, &id, 1, collect, &c, NULL, 0), 0);
	assert_int_equal(c.n, 2);
	/* 0..9 shared in the snapshot's view (devices 2 and 3 there) */
	assert_true(c.v[0].d == 100 && c.v[0].shared);
	free(c.v);
	lvt_meta_free(m);

	/* a snapshot superblock somewhere else than it says */
	put_super(&im, 13, 8, 9, 0, 0, 128);
	p64(blk(&im, 13) + 8, 14);
	seal_super(&im, 13);
	load_err(&im, true, "metadata snapshot: says it is block 14");
	img_free(&im);

	make_shared(&im);
	assert_int_equal(load_err(&im, true, "no metadata snapshot"), -ENOENT);
	img_free(&im);
}

static void test_damage(void **state)
{
	struct img im;
	struct lvt_meta *m;
	struct coll c = { 0 };
	uint64_t keys[200], kids[200], id = 1, one = 1;
	char why[200];

	(void)state;
	/* the superblock */
	make_shared(&im);
	blk(&im, 0)[100] ^= 1;
	load_err(&im, false, "superblock: bad checksum");
	p64(blk(&im, 0) + 32, 1234);
	seal_super(&im, 0);
	load_err(&im, false, "not dm-thin metadata");
	img_free(&im);
	make_shared(&im);
	p32(blk(&im, 0) + 336, 0);
	seal_super(&im, 0);
	load_err(&im, false, "data block of 0 sectors");
	img_free(&im);
	make_shared(&im);
	im.limit = 0;
	assert_int_equal(load_err(&im, false, "cannot read metadata block 0"), -EIO);
	img_free(&im);

	/* a node: checksum, location, flags, counts, value size, order */
	make_shared(&im);
	blk(&im, 4)[40] ^= 0x10;
	load_err(&im, false, "btree node 4: bad checksum");
	seal_node(&im, 4);
	load_err(&im, false, "keys out of order");
	img_free(&im);
	make_shared(&im);
	p64(blk(&im, 4) + 8, 5);
	seal_node(&im, 4);
	load_err(&im, false, "btree node 4: says it is block 5");
	img_free(&im);
	make_shared(&im);
	p32(blk(&im, 4) + 4, 3);
	seal_node(&im, 4);
	load_err(&im, false, "flags 0x3");
	img_free(&im);
	make_shared(&im);
	p32(blk(&im, 4) + 16, 253);
	seal_node(&im, 4);
	load_err(&im, false, "253 entries of at most 252");
	p32(blk(&im, 4) + 16, 10);
	p32(blk(&im, 4) + 20, 300);
	seal_node(&im, 4);
	load_err(&im, false, "entries of at most 300");
	img_free(&im);
	make_shared(&im);
	p32(blk(&im, 9) + 24, 16);
	seal_node(&im, 9);
	load_err(&im, false, "btree node 9: value size 16");
	img_free(&im);

	/* pointers out of the metadata, into the superblock */
	make_shared(&im);
	put_u64s(&im, 5, false, 2, (uint64_t[]){ 0, 10 }, (uint64_t[]){ 3, 99 });
	load_err(&im, false, "block 99 beyond the metadata");
	put_u64s(&im, 5, false, 2, (uint64_t[]){ 0, 10 }, (uint64_t[]){ 3, 0 });
	load_err(&im, false, "block 0 (the superblock)");
	img_free(&im);

	/* a data block beyond the pool */
	make_shared(&im);
	put_super(&im, 0, 8, 9, 0, 304, 128);
	load_err(&im, false, "data block 304 beyond the pool");
	img_free(&im);

	/* a cycle: node 5's second child is 5 */
	make_shared(&im);
	put_u64s(&im, 5, false, 2, (uint64_t[]){ 0, 10 }, (uint64_t[]){ 3, 5 });
	load_err(&im, false, "btree node 5: a cycle");
	img_free(&im);

	/* children of unequal height: 6 -> leaf 3 and internal 5 */
	make_shared(&im);
	put_u64s(&im, 6, false, 2, (uint64_t[]){ 0, 10 }, (uint64_t[]){ 3, 5 });
	load_err(&im, false, "unequal height");
	img_free(&im);

	/* a child below its key */
	make_shared(&im);
	put_u64s(&im, 5, false, 2, (uint64_t[]){ 0, 11 }, (uint64_t[]){ 3, 4 });
	load_err(&im, false, "child 4 below its key");
	img_free(&im);

	/* devices in one tree and not the other */
	make_shared(&im);
	put_details(&im, 9, 1, &id, &one);
	load_err(&im, false, "in one device tree but not the other");
	img_free(&im);

	/* a top-level node twice */
	make_shared(&im);
	put_u64s(&im, 10, false, 2, (uint64_t[]){ 0, 2 }, (uint64_t[]){ 8, 8 });
	put_super(&im, 0, 10, 9, 0, 1000, 128);
	load_err(&im, false, "btree node 8 met twice");
	img_free(&im);

	/* a fan-out bomb: 12 levels of 200 entries all pointing to the one
	 * node below, 200^12 paths: refused fast, nothing read twice */
	img_init(&im, 40);
	put_map(&im, 2, 1, (uint64_t[]){ 1000 }, (uint64_t[]){ 7 });
	for (int i = 0; i < 200; i++)
		keys[i] = (uint64_t)i;
	for (uint64_t lvl = 0; lvl < 12; lvl++) {
		for (int i = 0; i < 200; i++)
			kids[i] = 2 + lvl;
		put_u64s(&im, 3 + lvl, false, 200, keys, kids);
	}
	put_u64s(&im, 30, true, 1, &id, (uint64_t[]){ 14 });
	put_details(&im, 31, 1, &id, &one);
	put_super(&im, 0, 30, 31, 0, 100, 128);
	load_err(&im, false, "device 1: its tree repeats a node");
	for (int b = 0; b < 40; b++)
		assert_true(im.reads[b] <= 1);
	/* deeper than the limit: 7 more levels of one entry on top */
	for (uint64_t lvl = 12; lvl < 19; lvl++)
		put_u64s(&im, 3 + lvl, false, 1, keys, (uint64_t[]){ 2 + lvl });
	put_u64s(&im, 30, true, 1, &id, (uint64_t[]){ 21 });
	load_err(&im, false, "deeper than 16 levels");
	img_free(&im);

	/* keys out of order across leaves: found when walking the device */
	make_shared(&im);
	put_u64s(&im, 5, false, 2, (uint64_t[]){ 0, 5 }, (uint64_t[]){ 3, 10 });
	put_map(&im, 10, 2, (uint64_t[]){ 5, 6 }, (uint64_t[]){ 400, 401 });
	m = load_ok(&im, false);
	why[0] = '\0';
	assert_int_equal(lvt_meta_extents(m, &id, 1, collect, &c, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "out of order across leaves"));
	free(c.v);
	lvt_meta_free(m);
	img_free(&im);
}

/* ---- real metadata from thin_restore ---- */

struct map {
	uint64_t v, d;
};

struct dev {
	uint64_t id;
	struct map *m;
	size_t n, cap;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void add(struct dev *dv, uint64_t v, uint64_t d)
{
	if (dv->n == dv->cap) {
		dv->cap = dv->cap ? 2 * dv->cap : 1024;
		dv->m = realloc(dv->m, dv->cap * sizeof(*dv->m));
		assert_non_null(dv->m);
	}
	dv->m[dv->n++] = (struct map){ v, d };
}

#define NDEV 8
#define NR_DATA 1000000ULL

static struct dev devs[NDEV];
static uint64_t next_data = 1000;

static uint64_t alloc_data(uint64_t len, bool gap)
{
	uint64_t d;

	if (gap || rnd() % 4 == 0)
		next_data += 1 + rnd() % 16;
	d = next_data;
	next_data += len;
	assert_true(next_data < NR_DATA);
	return d;
}

static void make_model(void)
{
	struct dev *t = &devs[0];
	uint64_t v = 0;

	memset(devs, 0, sizeof(devs));
	/* 1: a template, runs of 1..64 blocks with gaps */
	t->id = 1;
	while (t->n < 60000) {
		uint64_t len = 1 + rnd() % 64, d = alloc_data(len, false);

		if (rnd() % 8 == 0)
			v += rnd() % 50;
		for (uint64_t k = 0; k < len; k++)
			add(t, v + k, d + k);
		v += len;
	}
	/* 2, 3: its snapshots, 3% rewritten, 1% dropped, 500 blocks added */
	for (int s = 1; s <= 2; s++) {
		struct dev *dv = &devs[s];

		dv->id = 1 + (uint64_t)s;
		for (size_t i = 0; i < t->n; i++) {
			uint64_t x = rnd() % 100;

			if (x < 3)
				add(dv, t->m[i].v, alloc_data(1, false));
			else if (x >= 4)
				add(dv, t->m[i].v, t->m[i].d);
		}
		for (uint64_t k = 0; k < 500; k++)
			add(dv, v + 100 + k, alloc_data(1, false));
	}
	/* 4: 20,000 singletons */
	devs[3].id = 4;
	for (uint64_t i = 0; i < 20000; i++)
		add(&devs[3], i * 3 + rnd() % 3, alloc_data(1, true));
	/* 5: empty */
	devs[4].id = 5;
	/* 9: 100 of 4's data blocks, and one block of its own twice */
	devs[5].id = 9;
	for (uint64_t i = 0; i < 100; i++)
		add(&devs[5], i, devs[3].m[i * 7].d);
	{
		uint64_t d = alloc_data(1, true);

		add(&devs[5], 1000, d);
		add(&devs[5], 2000, d);
	}
	/* 1000: high virtual blocks (keys beyond 32 bits) */
	devs[6].id = 1000;
	for (uint64_t i = 0; i < 300; i++)
		add(&devs[6], (1ULL << 40) + i * 2, alloc_data(1, false));
	/* 16777215: the largest thin id, one block */
	devs[7].id = 16777215;
	add(&devs[7], 5, alloc_data(1, true));
}

static void write_xml(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "<superblock uuid=\"\" time=\"1\" transaction=\"1\" flags=\"0\" version=\"2\" "
		   "data_block_size=\"128\" nr_data_blocks=\"%llu\">\n", (unsigned long long)NR_DATA);
	for (int k = 0; k < NDEV; k++) {
		const struct dev *dv = &devs[k];

		fprintf(f, "  <device dev_id=\"%llu\" mapped_blocks=\"%zu\" transaction=\"0\" "
			   "creation_time=\"0\" snap_time=\"0\">\n", (unsigned long long)dv->id, dv->n);
		for (size_t i = 0; i < dv->n;) {
			size_t e = i + 1;

			while (e < dv->n && dv->m[e].v == dv->m[e - 1].v + 1 &&
			       dv->m[e].d == dv->m[e - 1].d + 1)
				e++;
			if (e - i == 1)
				fprintf(f, "    <single_mapping origin_block=\"%llu\" "
					   "data_block=\"%llu\" time=\"0\"/>\n",
					(unsigned long long)dv->m[i].v, (unsigned long long)dv->m[i].d);
			else
				fprintf(f, "    <range_mapping origin_begin=\"%llu\" data_begin=\"%llu\" "
					   "length=\"%zu\" time=\"0\"/>\n",
					(unsigned long long)dv->m[i].v, (unsigned long long)dv->m[i].d,
					e - i);
			i = e;
		}
		fprintf(f, "  </device>\n");
	}
	fprintf(f, "</superblock>\n");
	assert_int_equal(fclose(f), 0);
}

/* What the reader must say for device k: its mappings coalesced, each
 * block shared when the model maps it more than once in all. */
static void expected(int k, const uint8_t *refs, struct coll *out, size_t i)
{
	const struct dev *dv = &devs[k];

	for (size_t j = 0; j < dv->n; j++) {
		const struct map *p = &dv->m[j];
		bool sh = refs[p->d] > 1;
		struct ext *last = out->n ? &out->v[out->n - 1] : NULL;

		if (last && last->i == i && last->v + last->n == p->v && last->d + last->n == p->d &&
		    last->shared == sh)
			last->n++;
		else
			collect(out, i, p->v, p->d, 1, sh);
	}
}

static bool have_thin_restore(void)
{
	return system("command -v thin_restore >/dev/null 2>&1 || "
		      "test -x /usr/sbin/thin_restore") == 0;
}

static char dir[] = "/tmp/qstor-thinmeta-XXXXXX";

static void restore(struct img *im)
{
	char xml[64], out[64], cmd[256];
	int fd;
	struct stat sb;

	snprintf(xml, sizeof(xml), "%s/m.xml", dir);
	snprintf(out, sizeof(out), "%s/m.img", dir);
	write_xml(xml);
	fd = open(out, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "PATH=\"$PATH:/usr/sbin\" thin_restore -q -i %s -o %s", xml, out);
	assert_int_equal(system(cmd), 0);
	fd = open(out, O_RDONLY);
	assert_true(fd >= 0 && fstat(fd, &sb) == 0);
	img_init(im, (uint64_t)sb.st_size / BS);
	assert_true(pread(fd, im->b, (size_t)sb.st_size, 0) == sb.st_size);
	close(fd);
}

static const uint64_t ask[] = { 9, 1, 77, 4, 2, 3, 5, 1000, 16777215 };
static const int ask_model[] = { 5, 0, -1, 3, 1, 2, 4, 6, 7 };
#define NASK (sizeof(ask) / sizeof(ask[0]))

static void check_exact(struct lvt_meta *m)
{
	uint8_t *refs = calloc(NR_DATA, 1);
	struct coll got = { 0 }, want = { 0 };
	const struct lvt_meta_dev *dv;
	size_t nd, mapped = 0;

	assert_non_null(refs);
	for (int k = 0; k < NDEV; k++)
		for (size_t j = 0; j < devs[k].n; j++)
			if (refs[devs[k].m[j].d] < 2)
				refs[devs[k].m[j].d]++;
	for (size_t i = 0; i < NASK; i++)
		if (ask_model[i] >= 0)
			expected(ask_model[i], refs, &want, i);
	assert_int_equal(lvt_meta_block_sectors(m), 128);
	assert_true(lvt_meta_data_blocks(m) == NR_DATA);
	dv = lvt_meta_devices(m, &nd);
	assert_int_equal(nd, NDEV);
	for (int k = 0; k < NDEV; k++) {
		assert_true(dv[k].dev_id == devs[k].id);
		assert_true(dv[k].mapped_blocks == devs[k].n);
		mapped += devs[k].n;
	}
	assert_true(mapped > 200000);
	assert_int_equal(lvt_meta_extents(m, ask, NASK, collect, &got, NULL, 0), 0);
	assert_int_equal(got.n, want.n);
	for (size_t j = 0; j < got.n; j++)
		if (got.v[j].i != want.v[j].i || got.v[j].v != want.v[j].v ||
		    got.v[j].d != want.v[j].d || got.v[j].n != want.v[j].n ||
		    got.v[j].shared != want.v[j].shared)
			fail_msg("extent %zu: got obj %zu %llu->%llu +%llu %d, want obj %zu "
				 "%llu->%llu +%llu %d", j, got.v[j].i,
				 (unsigned long long)got.v[j].v, (unsigned long long)got.v[j].d,
				 (unsigned long long)got.v[j].n, got.v[j].shared, want.v[j].i,
				 (unsigned long long)want.v[j].v, (unsigned long long)want.v[j].d,
				 (unsigned long long)want.v[j].n, want.v[j].shared);
	free(got.v);
	free(want.v);
	free(refs);
}

/* A leaf of some device's mapping tree: a leaf of 8-byte values, more
 * entries than the top level's NDEV. */
static uint64_t find_map_leaf(struct img *im, uint32_t min_entries)
{
	for (uint64_t b = 1; b < im->n; b++) {
		const uint8_t *p = blk(im, b);

		if (g64(p + 32) == LVT_META_MAGIC)
			continue;
		if ((p[4] == 2) && p[24] == 8 && g64(p + 16) % (1ULL << 32) >= min_entries &&
		    g64(p + 8) == b)
			return b;
	}
	fail_msg("no mapping leaf");
	return 0;
}

static void test_restore_exact(void **state)
{
	struct img im;
	struct lvt_meta *m;
	uint64_t used = 0, snap, lf, det;
	uint64_t empty_key = 0;

	(void)state;
	if (!have_thin_restore())
		skip();
	make_model();
	restore(&im);
	m = load_ok(&im, false);
	check_exact(m);
	lvt_meta_free(m);

	/* a metadata snapshot as the kernel makes it: a copy of the
	 * superblock without space maps, its place in held_root; the live
	 * roots then move on (here: to empty trees) */
	for (uint64_t b = 0; b < im.n; b++)
		if (blk(&im, b)[0] || blk(&im, b)[4] || blk(&im, b)[8])
			used = b;
	assert_true(used + 3 < im.n);
	snap = used + 1;
	lf = used + 2;
	det = used + 3;
	memcpy(blk(&im, snap), blk(&im, 0), BS);
	p64(blk(&im, snap) + 8, snap);
	memset(blk(&im, snap) + 64, 0, 256);
	seal_super(&im, snap);
	put_u64s(&im, lf, true, 0, &empty_key, &empty_key);
	put_details(&im, det, 0, &empty_key, &empty_key);
	p64(blk(&im, 0) + 56, snap);
	p64(blk(&im, 0) + 320, lf);
	p64(blk(&im, 0) + 328, det);
	seal_super(&im, 0);
	m = load_ok(&im, true);
	check_exact(m);
	lvt_meta_free(m);
	m = load_ok(&im, false);
	{
		size_t nd;

		lvt_meta_devices(m, &nd);
		assert_int_equal(nd, 0);
	}
	lvt_meta_free(m);

	/* damage in a mapping leaf deep down */
	{
		uint64_t b = find_map_leaf(&im, 50);
		uint8_t save[BS];

		memcpy(save, blk(&im, b), BS);
		blk(&im, b)[32 + 8 * 20] ^= 0x40;
		load_err(&im, true, "bad checksum");
		seal_node(&im, b);
		load_err(&im, true, "keys out of order");
		memcpy(blk(&im, b), save, BS);
		/* a data block beyond the pool, checksum right */
		{
			uint32_t max = (uint32_t)g64(blk(&im, b) + 20);

			p64(blk(&im, b) + 32 + 8 * max + 8 * 3, (NR_DATA + 5) << 24);
			seal_node(&im, b);
			load_err(&im, true, "beyond the pool");
		}
		memcpy(blk(&im, b), save, BS);
		/* the device cut short: a read error, passed on */
		im.limit = b;
		assert_int_equal(load_err(&im, true, "cannot read metadata block"), -EIO);
		im.limit = im.n;
		m = load_ok(&im, true);
		lvt_meta_free(m);
	}
	img_free(&im);
	for (int k = 0; k < NDEV; k++)
		free(devs[k].m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_subtree),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_restore_exact),
	};
	char cmd[128];
	int r;

	if (!mkdtemp(dir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = r ? r : 1;
	if (r == 0 && !have_thin_restore()) {
		printf("skip: thin_restore (thin-provisioning-tools) not found\n");
		return 77;
	}
	return r;
}
