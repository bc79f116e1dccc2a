/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dm-thin metadata reader (thinmeta.h). Three passes:
 *
 * 1. the superblock (and the held snapshot's copy), then the data mapping
 *    tree's top level and the device details tree, each walked once with
 *    every block seen at most once (a valid tree never repeats a node);
 * 2. every device's mapping tree, loaded depth first with memoisation:
 *    a block is read and checked once however many devices share it; a
 *    leaf keeps its entries as runs (consecutive virtual blocks on
 *    consecutive data blocks); a block met again while its own subtree is
 *    being loaded is a cycle; depth is bounded;
 * 3. counting: nodes by height (leaves 0; every child of an internal
 *    node one lower, checked), device roots count 1 each, each node
 *    passes its count to its children: a leaf's count is how many
 *    (device, path) pairs reach it, capped at 2. A data block's
 *    references are the sum over the leaf runs covering it, each weighted
 *    by its leaf's count: one sorted sweep over the runs gives the ranges
 *    covered twice or more (memory follows the metadata, not the pool's
 *    size). Runs are then split where sharing changes.
 *
 * Emission walks one device's nodes in key order and merges runs across
 * leaf boundaries. A device reaching more leaf paths than the pool has
 * leaves repeats a node: damage, refused before any walk.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "le.h"
#include "thinmeta.h"

#define SB_CSUM_XOR 160774u
#define NODE_CSUM_XOR 121107u
#define NODE_INTERNAL 1u
#define NODE_LEAF 2u
#define NODE_HDR 32u
#define MAX_DEPTH 16
#define MAX_ENTRIES ((LVT_META_BLOCK - NODE_HDR) / 16)   /* 8-byte values */
#define DETAILS_SIZE 24u

struct tm_run {
	uint64_t v, d;
	uint32_t len;
	uint32_t shared;
};

enum { NS_NONE, NS_LOADING, NS_DONE };

struct tm_node {
	uint64_t blk;
	uint64_t first, last;   /* lowest and highest key below */
	uint32_t off, n;        /* internal: into kids; leaf: into runs */
	uint8_t height, state, leaf, mult;
	uint64_t paths;         /* leaf paths below, saturating */
};

struct lvt_meta {
	lvt_meta_read_fn read;
	void *ctx;
	uint8_t *buf;
	uint64_t nr_meta_blocks, nr_data_blocks, max_vblock;
	uint32_t block_sectors;
	uint64_t map_root, details_root;
	struct lvt_meta_dev *devs;
	size_t n_devs, cap_devs;
	uint64_t *root_blk;        /* per device: its mapping tree's root */
	size_t cap_root_blk;
	struct tm_node *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t *ntab;            /* block -> node index + 1 */
	size_t ntab_size;
	uint32_t *kids;
	size_t n_kids, cap_kids;
	struct tm_run *runs;
	size_t n_runs, cap_runs;
	uint64_t n_leaves;
	uint64_t *seen;            /* pass 1: blocks walked (hash set, 0 empty) */
	size_t n_seen, seen_size;
	char *why;
	size_t why_len;
};

/* ---- helpers ---- */

static uint32_t crc_table[256];

uint32_t lvt_meta_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!crc_table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ ((c & 1) ? 0x82f63b78u : 0);
			crc_table[i] = c;
		}
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[(crc ^ *p++) & 0xff];
	return crc;
}

__attribute__((format(printf, 3, 4)))
static int damage(struct lvt_meta *m, int code, const char *fmt, ...)
{
	va_list ap;

	if (m->why && m->why_len) {
		va_start(ap, fmt);
		vsnprintf(m->why, m->why_len, fmt, ap);
		va_end(ap);
	}
	return code;
}

static size_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static int read_block(struct lvt_meta *m, uint64_t blk)
{
	int r;

	if (blk >= m->nr_meta_blocks)
		return damage(m, -EBADMSG, "block %llu beyond the metadata (%llu blocks)",
			      (unsigned long long)blk, (unsigned long long)m->nr_meta_blocks);
	r = m->read(m->ctx, blk, m->buf);
	if (r < 0)
		return damage(m, r, "cannot read metadata block %llu: %s",
			      (unsigned long long)blk, strerror(-r));
	return 0;
}

struct hdr {
	uint32_t nr, max, vsize;
	bool leaf;
};

/* Read a btree node into m->buf and check it; leaf_vsize: the value size
 * its leaves must have. */
static int read_node(struct lvt_meta *m, uint64_t blk, uint32_t leaf_vsize, struct hdr *h)
{
	const uint8_t *b = m->buf;
	uint32_t flags;
	int r;

	if (blk == 0)
		return damage(m, -EBADMSG, "btree node in block 0 (the superblock)");
	if ((r = read_block(m, blk)) < 0)
		return r;
	if ((lvt_meta_crc32c(~0u, b + 4, LVT_META_BLOCK - 4) ^ NODE_CSUM_XOR) != le32(b))
		return damage(m, -EBADMSG, "btree node %llu: bad checksum",
			      (unsigned long long)blk);
	if (le64(b + 8) != blk)
		return damage(m, -EBADMSG, "btree node %llu: says it is block %llu",
			      (unsigned long long)blk, (unsigned long long)le64(b + 8));
	flags = le32(b + 4);
	h->nr = le32(b + 16);
	h->max = le32(b + 20);
	h->vsize = le32(b + 24);
	if (flags != NODE_INTERNAL && flags != NODE_LEAF)
		return damage(m, -EBADMSG, "btree node %llu: flags %#x", (unsigned long long)blk,
			      flags);
	h->leaf = flags == NODE_LEAF;
	if (h->vsize != (h->leaf ? leaf_vsize : 8u))
		return damage(m, -EBADMSG, "btree node %llu: value size %u",
			      (unsigned long long)blk, h->vsize);
	if (h->max > (LVT_META_BLOCK - NODE_HDR) / (8 + h->vsize) || h->nr > h->max)
		return damage(m, -EBADMSG, "btree node %llu: %u entries of at most %u",
			      (unsigned long long)blk, h->nr, h->max);
	if (!h->leaf && h->nr == 0)
		return damage(m, -EBADMSG, "btree node %llu: internal node without entries",
			      (unsigned long long)blk);
	for (uint32_t i = 1; i < h->nr; i++)
		if (le64(b + NODE_HDR + 8 * i) <= le64(b + NODE_HDR + 8 * (i - 1)))
			return damage(m, -EBADMSG, "btree node %llu: keys out of order",
				      (unsigned long long)blk);
	return 0;
}

static const uint8_t *node_key(const struct lvt_meta *m, uint32_t i)
{
	return m->buf + NODE_HDR + 8 * i;
}

static const uint8_t *node_val(const struct lvt_meta *m, const struct hdr *h, uint32_t i)
{
	return m->buf + NODE_HDR + 8 * h->max + (size_t)h->vsize * i;
}

/* ---- pass 1: superblocks and the small trees ---- */

static int check_super(struct lvt_meta *m, uint64_t blk, const char *what)
{
	const uint8_t *b = m->buf;

	if ((lvt_meta_crc32c(~0u, b + 4, LVT_META_BLOCK - 4) ^ SB_CSUM_XOR) != le32(b))
		return damage(m, -EBADMSG, "%s: bad checksum", what);
	if (le64(b + 8) != blk)
		return damage(m, -EBADMSG, "%s: says it is block %llu", what,
			      (unsigned long long)le64(b + 8));
	if (le64(b + 32) != LVT_META_MAGIC)
		return damage(m, -EBADMSG, "%s: not dm-thin metadata (magic %llu)", what,
			      (unsigned long long)le64(b + 32));
	if (le32(b + 40) < 1 || le32(b + 40) > 2)
		return damage(m, -EBADMSG, "%s: unknown version %u", what, le32(b + 40));
	if (le32(b + 340) != LVT_META_BLOCK / 512)
		return damage(m, -EBADMSG, "%s: metadata block size %u sectors", what,
			      le32(b + 340));
	return 0;
}

/* Pass 1 never visits a block twice. */
static int see(struct lvt_meta *m, uint64_t blk)
{
	size_t i;

	if (2 * (m->n_seen + 1) > m->seen_size) {
		size_t size = m->seen_size ? 2 * m->seen_size : 256;
		uint64_t *t = calloc(size, sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (size_t k = 0; k < m->seen_size; k++)
			if (m->seen[k]) {
				for (i = hash64(m->seen[k]) & (size - 1); t[i]; i = (i + 1) & (size - 1))
					;
				t[i] = m->seen[k];
			}
		free(m->seen);
		m->seen = t;
		m->seen_size = size;
	}
	for (i = hash64(blk) & (m->seen_size - 1); m->seen[i]; i = (i + 1) & (m->seen_size - 1))
		if (m->seen[i] == blk)
			return damage(m, -EBADMSG, "btree node %llu met twice",
				      (unsigned long long)blk);
	m->seen[i] = blk;   /* never 0: read_node refuses block 0 */
	m->n_seen++;
	return 0;
}

struct small_walk {
	bool details;
	bool have_last;
	uint64_t last;
	size_t next;         /* details: next device to match */
};

static int small_leaf(struct lvt_meta *m, struct small_walk *w, uint64_t key, const uint8_t *val)
{
	if (w->have_last && key <= w->last)
		return damage(m, -EBADMSG, "%s tree: keys out of order across nodes",
			      w->details ? "device details" : "mapping");
	w->have_last = true;
	w->last = key;
	if (!w->details) {
		if (qs_grow((void **)&m->devs, &m->cap_devs, m->n_devs + 1, sizeof(*m->devs)) < 0 ||
		    qs_grow((void **)&m->root_blk, &m->cap_root_blk, m->n_devs + 1,
			 sizeof(*m->root_blk)) < 0)
			return -ENOMEM;
		m->root_blk[m->n_devs] = le64(val);
		m->devs[m->n_devs++] = (struct lvt_meta_dev){ .dev_id = key };
		return 0;
	}
	if (w->next >= m->n_devs || m->devs[w->next].dev_id != key)
		return damage(m, -EBADMSG, "device %llu: in one device tree but not the other",
			      (unsigned long long)key);
	m->devs[w->next++].mapped_blocks = le64(val);
	return 0;
}

static int walk_small(struct lvt_meta *m, struct small_walk *w, uint64_t blk, int depth)
{
	uint64_t kids[MAX_ENTRIES];
	struct hdr h;
	int r;

	if (depth > MAX_DEPTH)
		return damage(m, -EBADMSG, "btree deeper than %d levels", MAX_DEPTH);
	if ((r = see(m, blk)) < 0 ||
	    (r = read_node(m, blk, w->details ? DETAILS_SIZE : 8u, &h)) < 0)
		return r;
	if (h.leaf) {
		for (uint32_t i = 0; i < h.nr; i++)
			if ((r = small_leaf(m, w, le64(node_key(m, i)), node_val(m, &h, i))) < 0)
				return r;
		return 0;
	}
	for (uint32_t i = 0; i < h.nr; i++)
		kids[i] = le64(node_val(m, &h, i));
	for (uint32_t i = 0; i < h.nr; i++)
		if ((r = walk_small(m, w, kids[i], depth + 1)) < 0)
			return r;
	return 0;
}

/* ---- pass 2: the mapping trees, each block once ---- */

static int64_t node_find(struct lvt_meta *m, uint64_t blk, bool add)
{
	size_t i;

	if (add && 2 * (m->n_nodes + 1) > m->ntab_size) {
		size_t size = m->ntab_size ? 2 * m->ntab_size : 1024;
		uint32_t *t = calloc(size, sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (size_t k = 0; k < m->n_nodes; k++) {
			for (i = hash64(m->nodes[k].blk) & (size - 1); t[i]; i = (i + 1) & (size - 1))
				;
			t[i] = (uint32_t)k + 1;
		}
		free(m->ntab);
		m->ntab = t;
		m->ntab_size = size;
	}
	if (!m->ntab_size)
		return -ENOENT;
	for (i = hash64(blk) & (m->ntab_size - 1); m->ntab[i]; i = (i + 1) & (m->ntab_size - 1))
		if (m->nodes[m->ntab[i] - 1].blk == blk)
			return m->ntab[i] - 1;
	if (!add)
		return -ENOENT;
	if (m->n_nodes >= UINT32_MAX - 1 ||
	    qs_grow((void **)&m->nodes, &m->cap_nodes, m->n_nodes + 1, sizeof(*m->nodes)) < 0)
		return -ENOMEM;
	m->nodes[m->n_nodes] = (struct tm_node){ .blk = blk };
	m->ntab[i] = (uint32_t)m->n_nodes + 1;
	return (int64_t)m->n_nodes++;
}

static int load_leaf(struct lvt_meta *m, uint32_t idx, const struct hdr *h)
{
	struct tm_node *nd = &m->nodes[idx];
	size_t start = m->n_runs;

	if (qs_grow((void **)&m->runs, &m->cap_runs, m->n_runs + h->nr, sizeof(*m->runs)) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->nr; i++) {
		uint64_t v = le64(node_key(m, i)), d = le64(node_val(m, h, i)) >> 24;
		struct tm_run *last = m->n_runs > start ? &m->runs[m->n_runs - 1] : NULL;

		if (v > m->max_vblock)
			return damage(m, -EBADMSG, "btree node %llu: virtual block %llu too large",
				      (unsigned long long)nd->blk, (unsigned long long)v);
		if (d >= m->nr_data_blocks)
			return damage(m, -EBADMSG, "btree node %llu: data block %llu beyond the "
				      "pool (%llu blocks)", (unsigned long long)nd->blk,
				      (unsigned long long)d, (unsigned long long)m->nr_data_blocks);
		if (last && last->v + last->len == v && last->d + last->len == d)
			last->len++;
		else
			m->runs[m->n_runs++] = (struct tm_run){ .v = v, .d = d, .len = 1 };
	}
	nd = &m->nodes[idx];
	nd->leaf = 1;
	nd->height = 0;
	nd->paths = 1;
	nd->off = (uint32_t)start;
	nd->n = (uint32_t)(m->n_runs - start);
	if (h->nr) {
		nd->first = le64(node_key(m, 0));
		nd->last = le64(node_key(m, h->nr - 1));
	}
	m->n_leaves++;
	return 0;
}

static int64_t load(struct lvt_meta *m, uint64_t blk, int depth)
{
	uint64_t keys[MAX_ENTRIES], kids[MAX_ENTRIES];
	struct hdr h;
	int64_t idx = node_find(m, blk, true), c;
	size_t off;
	uint64_t paths = 0;
	int height = -1;
	int r;

	if (idx < 0)
		return idx;
	if (m->nodes[idx].state == NS_DONE)
		return idx;
	if (m->nodes[idx].state == NS_LOADING)
		return damage(m, -EBADMSG, "btree node %llu: a cycle", (unsigned long long)blk);
	if (depth > MAX_DEPTH)
		return damage(m, -EBADMSG, "btree deeper than %d levels", MAX_DEPTH);
	m->nodes[idx].state = NS_LOADING;
	if ((r = read_node(m, blk, 8u, &h)) < 0)
		return r;
	if (h.leaf) {
		if ((r = load_leaf(m, (uint32_t)idx, &h)) < 0)
			return r;
		m->nodes[idx].state = NS_DONE;
		return idx;
	}
	for (uint32_t i = 0; i < h.nr; i++) {
		keys[i] = le64(node_key(m, i));
		kids[i] = le64(node_val(m, &h, i));
	}
	if (m->n_kids + h.nr > UINT32_MAX ||
	    qs_grow((void **)&m->kids, &m->cap_kids, m->n_kids + h.nr, sizeof(*m->kids)) < 0)
		return -ENOMEM;
	off = m->n_kids;
	m->n_kids += h.nr;
	for (uint32_t i = 0; i < h.nr; i++) {
		const struct tm_node *k;

		if ((c = load(m, kids[i], depth + 1)) < 0)
			return c;
		k = &m->nodes[c];
		if (k->leaf && k->n == 0)
			return damage(m, -EBADMSG, "btree node %llu: empty child %llu",
				      (unsigned long long)blk, (unsigned long long)kids[i]);
		if (height >= 0 && k->height != height)
			return damage(m, -EBADMSG, "btree node %llu: children of unequal height",
				      (unsigned long long)blk);
		if (k->first < keys[i])
			return damage(m, -EBADMSG, "btree node %llu: child %llu below its key",
				      (unsigned long long)blk, (unsigned long long)kids[i]);
		height = k->height;
		paths = paths + k->paths < paths ? UINT64_MAX : paths + k->paths;
		m->kids[off + i] = (uint32_t)c;
	}
	m->nodes[idx].height = (uint8_t)(height + 1);
	m->nodes[idx].off = (uint32_t)off;
	m->nodes[idx].n = h.nr;
	m->nodes[idx].first = m->nodes[m->kids[off]].first;
	m->nodes[idx].last = m->nodes[m->kids[off + h.nr - 1]].last;
	m->nodes[idx].paths = paths;
	m->nodes[idx].state = NS_DONE;
	return idx;
}

/* ---- pass 3: reference counts ---- */

struct tm_ev {
	uint64_t pos;
	int64_t delta;
};

static int ev_cmp(const void *x, const void *y)
{
	const struct tm_ev *a = x, *b = y;

	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The data ranges referenced more than once, sorted and disjoint: a sweep
 * over every leaf run weighted by how many paths reach its leaf. Memory
 * follows the metadata, not the size of the pool. */
static int shared_ranges(struct lvt_meta *m, struct tm_ev **ret, size_t *ret_n)
{
	struct tm_ev *ev = NULL, *out = NULL;
	size_t n = 0, cap = 0, n_out = 0;
	int64_t cover = 0;

	for (size_t i = 0; i < m->n_nodes; i++) {
		const struct tm_node *nd = &m->nodes[i];

		if (!nd->leaf || !nd->mult)
			continue;
		if (qs_grow((void **)&ev, &cap, n + 2 * (size_t)nd->n, sizeof(*ev)) < 0) {
			free(ev);
			return -ENOMEM;
		}
		for (uint32_t k = 0; k < nd->n; k++) {
			const struct tm_run *run = &m->runs[nd->off + k];

			ev[n++] = (struct tm_ev){ run->d, nd->mult };
			ev[n++] = (struct tm_ev){ run->d + run->len, -(int64_t)nd->mult };
		}
	}
	if (n)
		qsort(ev, n, sizeof(*ev), ev_cmp);
	/* out: pairs (start, end) in pos of two entries, reusing the type */
	out = malloc((n ? n : 1) * sizeof(*out));
	if (!out) {
		free(ev);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n;) {
		uint64_t pos = ev[i].pos;
		bool was = cover > 1;

		while (i < n && ev[i].pos == pos)
			cover += ev[i++].delta;
		if (!was && cover > 1)
			out[n_out++].pos = pos;
		else if (was && cover <= 1)
			out[n_out++].pos = pos;
	}
	free(ev);
	*ret = out;
	*ret_n = n_out / 2;
	return 0;
}

static int count(struct lvt_meta *m)
{
	struct tm_ev *sh = NULL;   /* sh[2k].pos .. sh[2k+1].pos: shared */
	struct tm_run *split = NULL;
	size_t n_sh = 0, n_split = 0, cap_split = 0;
	int max_h = 0, r = -ENOMEM;

	for (size_t i = 0; i < m->n_devs; i++) {
		struct tm_node *root = &m->nodes[m->devs[i].root];

		if (root->paths > m->n_leaves)
			return damage(m, -EBADMSG, "device %llu: its tree repeats a node",
				      (unsigned long long)m->devs[i].dev_id);
		root->mult = root->mult ? 2 : 1;
	}
	for (size_t i = 0; i < m->n_nodes; i++)
		if (m->nodes[i].height > max_h)
			max_h = m->nodes[i].height;
	/* parents before children: a child is exactly one lower */
	for (int hgt = max_h; hgt > 0; hgt--)
		for (size_t i = 0; i < m->n_nodes; i++) {
			const struct tm_node *nd = &m->nodes[i];

			if (nd->height != hgt || !nd->mult)
				continue;
			for (uint32_t k = 0; k < nd->n; k++) {
				struct tm_node *c = &m->nodes[m->kids[nd->off + k]];
				unsigned s = c->mult + nd->mult;

				c->mult = (uint8_t)(s > 2 ? 2 : s);
			}
		}
	if (shared_ranges(m, &sh, &n_sh) < 0)
		goto out;
	/* split runs where sharing changes */
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct tm_node *nd = &m->nodes[i];
		size_t start = n_split;

		if (!nd->leaf)
			continue;
		for (uint32_t k = 0; k < nd->n; k++) {
			const struct tm_run *run = &m->runs[nd->off + k];
			uint64_t d = run->d, end = run->d + run->len;
			size_t lo = 0, hi = n_sh;

			/* the first shared range ending after d */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (sh[2 * mid + 1].pos <= d)
					lo = mid + 1;
				else
					hi = mid;
			}
			while (d < end) {
				uint64_t e = end;
				uint32_t shared = 0;

				if (lo < n_sh && sh[2 * lo].pos <= d) {
					shared = 1;
					if (sh[2 * lo + 1].pos < e)
						e = sh[2 * lo + 1].pos;
					lo++;
				} else if (lo < n_sh && sh[2 * lo].pos < e) {
					e = sh[2 * lo].pos;
				}
				if (qs_grow((void **)&split, &cap_split, n_split + 1, sizeof(*split)) < 0)
					goto out;
				split[n_split++] = (struct tm_run){ .v = run->v + (d - run->d), .d = d,
								    .len = (uint32_t)(e - d),
								    .shared = shared };
				d = e;
			}
		}
		if (n_split > UINT32_MAX)
			goto out;
		nd->off = (uint32_t)start;
		nd->n = (uint32_t)(n_split - start);
	}
	free(m->runs);
	m->runs = split;
	m->n_runs = n_split;
	m->cap_runs = cap_split;
	split = NULL;
	r = 0;
out:
	free(sh);
	free(split);
	return r;
}

/* ---- the whole pool ---- */

int lvt_meta_load(lvt_meta_read_fn read, void *ctx, bool snap, struct lvt_meta **ret,
		  char *why, size_t why_len)
{
	struct lvt_meta *m = calloc(1, sizeof(*m));
	struct small_walk w;
	uint64_t held, bytes;
	void *buf = NULL;
	int r;

	if (why && why_len)
		why[0] = '\0';
	if (!m || posix_memalign(&buf, LVT_META_BLOCK, LVT_META_BLOCK) != 0) {
		free(m);
		if (why && why_len)
			snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	m->buf = buf;
	m->read = read;
	m->ctx = ctx;
	m->why = why;
	m->why_len = why_len;
	m->nr_meta_blocks = 1;
	if ((r = read_block(m, 0)) < 0 || (r = check_super(m, 0, "superblock")) < 0)
		goto fail;
	/* the space maps' sizes follow resizes; the snapshot's copy has none */
	m->nr_data_blocks = le64(m->buf + 64);
	m->nr_meta_blocks = le64(m->buf + 192);
	if (!m->nr_meta_blocks)
		m->nr_meta_blocks = le64(m->buf + 344);
	m->block_sectors = le32(m->buf + 336);
	held = le64(m->buf + 56);
	m->map_root = le64(m->buf + 320);
	m->details_root = le64(m->buf + 328);
	if (m->nr_meta_blocks < 2 || m->block_sectors == 0 || m->block_sectors > (1u << 24)) {
		r = damage(m, -EBADMSG, "superblock: %llu metadata blocks, data block of %u "
			   "sectors", (unsigned long long)m->nr_meta_blocks, m->block_sectors);
		goto fail;
	}
	bytes = (uint64_t)m->block_sectors * 512;
	m->max_vblock = UINT64_MAX / bytes - 1;
	if (m->nr_data_blocks > m->max_vblock) {
		r = damage(m, -EBADMSG, "superblock: %llu data blocks",
			   (unsigned long long)m->nr_data_blocks);
		goto fail;
	}
	if (snap) {
		if (!held) {
			r = damage(m, -ENOENT, "no metadata snapshot is held");
			goto fail;
		}
		if ((r = read_block(m, held)) < 0 ||
		    (r = check_super(m, held, "metadata snapshot")) < 0)
			goto fail;
		if (le32(m->buf + 336) != m->block_sectors) {
			r = damage(m, -EBADMSG, "metadata snapshot: another data block size");
			goto fail;
		}
		m->map_root = le64(m->buf + 320);
		m->details_root = le64(m->buf + 328);
	}
	w = (struct small_walk){ .details = false };
	if ((r = walk_small(m, &w, m->map_root, 0)) < 0)
		goto fail;
	w = (struct small_walk){ .details = true };
	if ((r = walk_small(m, &w, m->details_root, 0)) < 0)
		goto fail;
	if (w.next != m->n_devs) {
		r = damage(m, -EBADMSG, "device %llu: in one device tree but not the other",
			   (unsigned long long)m->devs[w.next].dev_id);
		goto fail;
	}
	free(m->seen);
	m->seen = NULL;
	m->n_seen = m->seen_size = 0;
	for (size_t i = 0; i < m->n_devs; i++) {
		int64_t idx = load(m, m->root_blk[i], 0);

		if (idx < 0) {
			r = (int)idx;
			goto fail;
		}
		m->devs[i].root = (uint32_t)idx;
	}
	if ((r = count(m)) < 0)
		goto fail;
	m->why = NULL;
	m->why_len = 0;
	*ret = m;
	return 0;
fail:
	if (r == -ENOMEM && why && why_len && !why[0])
		snprintf(why, why_len, "out of memory");
	lvt_meta_free(m);
	return r;
}

void lvt_meta_free(struct lvt_meta *m)
{
	if (!m)
		return;
	free(m->buf);
	free(m->devs);
	free(m->root_blk);
	free(m->nodes);
	free(m->ntab);
	free(m->kids);
	free(m->runs);
	free(m->seen);
	free(m);
}

uint32_t lvt_meta_block_sectors(const struct lvt_meta *m)
{
	return m->block_sectors;
}

uint64_t lvt_meta_data_blocks(const struct lvt_meta *m)
{
	return m->nr_data_blocks;
}

const struct lvt_meta_dev *lvt_meta_devices(const struct lvt_meta *m, size_t *ret_n)
{
	*ret_n = m->n_devs;
	return m->devs;
}

/* ---- emission ---- */

struct emit {
	lvt_meta_extent_fn cb;
	void *ctx;
	size_t i;
	bool have, any;
	struct tm_run cur;      /* pending run (len as u64 in cur_len) */
	uint64_t cur_len;
	uint64_t next_v;        /* lowest virtual block the next leaf may hold */
};

static int emit_flush(struct emit *e)
{
	int r = 0;

	if (e->have)
		r = e->cb(e->ctx, e->i, e->cur.v, e->cur.d, e->cur_len, e->cur.shared);
	e->have = false;
	return r;
}

static int emit_node(struct lvt_meta *m, struct emit *e, uint32_t idx)
{
	const struct tm_node *nd = &m->nodes[idx];
	int r;

	if (!nd->leaf) {
		for (uint32_t k = 0; k < nd->n; k++)
			if ((r = emit_node(m, e, m->kids[nd->off + k])) != 0)
				return r;
		return 0;
	}
	if (nd->n == 0)
		return 0;
	if (e->any && nd->first < e->next_v)
		return damage(m, -EBADMSG, "btree node %llu: virtual blocks out of order "
			      "across leaves", (unsigned long long)nd->blk);
	e->any = true;
	e->next_v = nd->last + 1;
	for (uint32_t k = 0; k < nd->n; k++) {
		const struct tm_run *run = &m->runs[nd->off + k];

		if (e->have && e->cur.v + e->cur_len == run->v && e->cur.d + e->cur_len == run->d &&
		    e->cur.shared == run->shared) {
			e->cur_len += run->len;
			continue;
		}
		if ((r = emit_flush(e)) != 0)
			return r;
		e->cur = *run;
		e->cur_len = run->len;
		e->have = true;
	}
	return 0;
}

int lvt_meta_extents(struct lvt_meta *m, const uint64_t *ids, size_t n,
		     lvt_meta_extent_fn cb, void *ctx, char *why, size_t why_len)
{
	int r = 0;

	m->why = why;
	m->why_len = why_len;
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t lo = 0, hi = m->n_devs;
		struct emit e = { .cb = cb, .ctx = ctx, .i = i };

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (m->devs[mid].dev_id < ids[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == m->n_devs || m->devs[lo].dev_id != ids[i])
			continue;
		r = emit_node(m, &e, m->devs[lo].root);
		if (r == 0)
			r = emit_flush(&e);
	}
	m->why = NULL;
	m->why_len = 0;
	return r;
}
