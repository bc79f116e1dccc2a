/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The du accumulator (src/du.c, included here for its static functions)
 * against a brute force: random objects of random volumes of random VMs,
 * each referencing random ranges of a small address space, some the very
 * same ranges as another object (grouped), some flagged shared; every
 * figure is then recomputed byte by byte. Also times the scale case: 300
 * objects referencing one 49,000-range template (printed, not asserted).
 */
#include "../../src/du.c"

#include <time.h>

#define SPACE 2048
#define MAX_VOLS 12
#define MAX_VMS 5
#define MAX_OBJS 40
#define MAX_RNG 12

struct tobj {
	uint32_t vol;
	size_t n;
	struct du_rng r[MAX_RNG];
};

static uint64_t seed = 88172645463325252ULL;

static uint64_t rnd(uint64_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed % n;
}

static int failures;

#define EXPECT(what, i, want, got)                                                     \
	do {                                                                           \
		if ((want) != (got)) {                                                 \
			fprintf(stderr, "round %d: %s[%zu]: want %llu, got %llu\n", round, \
				what, (size_t)(i), (unsigned long long)(want),          \
				(unsigned long long)(got));                             \
			failures++;                                                    \
		}                                                                      \
	} while (0)

static void one_round(int round)
{
	size_t n_vms = 1 + rnd(MAX_VMS), n_vols = 1 + rnd(MAX_VOLS), n_objs = rnd(MAX_OBJS);
	uint32_t vol_vm[MAX_VOLS];
	struct tobj o[MAX_OBJS];
	uint64_t vm_[MAX_VMS] = { 0 }, vx[MAX_VMS] = { 0 }, vlm[MAX_VOLS] = { 0 },
		 vlx[MAX_VOLS] = { 0 }, pm = 0, ps = 0;
	uint64_t r_vlm[MAX_VOLS] = { 0 }, r_vlx[MAX_VOLS] = { 0 }, r_vm[MAX_VMS] = { 0 },
		 r_vx[MAX_VMS] = { 0 };
	struct du_result res = { r_vlm, r_vlx, r_vm, r_vx, 0, 0 };
	struct du_acc acc;

	for (size_t v = 0; v < n_vols; v++)
		vol_vm[v] = (uint32_t)rnd(n_vms);
	for (size_t i = 0; i < n_objs; i++) {
		o[i].vol = (uint32_t)rnd(n_vols);
		if (i && rnd(3) == 0) {  /* the same ranges as an earlier object */
			struct tobj *src = &o[rnd(i)];

			o[i].n = src->n;
			memcpy(o[i].r, src->r, sizeof(o[i].r));
			for (size_t k = 0; k + 1 < o[i].n; k++) {  /* in another order */
				size_t j = k + rnd(o[i].n - k);
				struct du_rng t = o[i].r[k];

				o[i].r[k] = o[i].r[j];
				o[i].r[j] = t;
			}
			continue;
		}
		/* disjoint ranges, sometimes adjacent, in random order */
		o[i].n = 0;
		for (uint64_t at = rnd(200); at < SPACE && o[i].n < MAX_RNG;) {
			uint64_t len = 1 + rnd(300);

			if (at + len > SPACE)
				len = SPACE - at;
			o[i].r[o[i].n++] = (struct du_rng){ at, at + len,
							    rnd(4) == 0 ? QS_EXTENT_SHARED : 0 };
			at += len + (rnd(3) ? rnd(400) : 0);
		}
		for (size_t k = 0; k + 1 < o[i].n; k++) {
			size_t j = k + rnd(o[i].n - k);
			struct du_rng t = o[i].r[k];

			o[i].r[k] = o[i].r[j];
			o[i].r[j] = t;
		}
	}
	/* the brute force */
	for (uint64_t a = 0; a < SPACE; a++) {
		bool vol_in[MAX_VOLS] = { 0 }, vm_in[MAX_VMS] = { 0 }, shared = false;
		size_t nobj = 0, nv = 0, nm = 0;

		for (size_t i = 0; i < n_objs; i++)
			for (size_t k = 0; k < o[i].n; k++)
				if (o[i].r[k].start <= a && a < o[i].r[k].end) {
					nobj++;
					shared |= o[i].r[k].flags != 0;
					nv += !vol_in[o[i].vol];
					vol_in[o[i].vol] = true;
					nm += !vm_in[vol_vm[o[i].vol]];
					vm_in[vol_vm[o[i].vol]] = true;
				}
		if (!nobj)
			continue;
		bool outside = shared && nobj == 1;

		pm++;
		ps += nm > 1 || outside;
		for (size_t v = 0; v < n_vols; v++)
			if (vol_in[v]) {
				vlm[v]++;
				vlx[v] += nv == 1 && !outside;
			}
		for (size_t m = 0; m < n_vms; m++)
			if (vm_in[m]) {
				vm_[m]++;
				vx[m] += nm == 1 && !outside;
			}
	}
	/* the accumulator */
	du_acc_init(&acc, n_vols, vol_vm, n_vms);
	for (size_t i = 0; i < n_objs; i++) {
		du_acc_begin(&acc, o[i].vol);
		for (size_t k = 0; k < o[i].n; k++)
			if (du_acc_add(&acc, o[i].r[k].start, o[i].r[k].end - o[i].r[k].start,
				       o[i].r[k].flags) < 0)
				abort();
		if (du_acc_end(&acc) < 0)
			abort();
	}
	if (du_acc_sweep(&acc, &res) < 0)
		abort();
	du_acc_free(&acc);
	EXPECT("pool mapped", 0, pm, res.pool_mapped);
	EXPECT("pool shared", 0, ps, res.pool_shared);
	for (size_t v = 0; v < n_vols; v++) {
		EXPECT("vol mapped", v, vlm[v], r_vlm[v]);
		EXPECT("vol exclusive", v, vlx[v], r_vlx[v]);
	}
	for (size_t m = 0; m < n_vms; m++) {
		EXPECT("vm mapped", m, vm_[m], r_vm[m]);
		EXPECT("vm exclusive", m, vx[m], r_vx[m]);
	}
}

/* 300 app VMs (root precache + private), each precache the very same
 * 49,000 ranges as the template's root; each private 100 ranges of its own */
static void scale(void)
{
	enum { APPS = 300, EXTS = 49000 };
	size_t n_vols = 1 + 2 * APPS, n_vms = 1 + APPS;
	uint32_t *vol_vm = calloc(n_vols, sizeof(*vol_vm));
	uint64_t *a = calloc(2 * n_vols + 2 * n_vms, sizeof(uint64_t));
	struct du_result res = { a, a + n_vols, a + 2 * n_vols, a + 2 * n_vols + n_vms, 0, 0 };
	struct timespec t0, t1;
	struct du_acc acc;

	if (!vol_vm || !a)
		abort();
	for (size_t i = 0; i < APPS; i++)
		vol_vm[1 + 2 * i] = vol_vm[2 + 2 * i] = (uint32_t)(1 + i);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	du_acc_init(&acc, n_vols, vol_vm, n_vms);
	for (size_t obj = 0; obj <= APPS; obj++) {
		du_acc_begin(&acc, obj ? (uint32_t)(1 + 2 * (obj - 1)) : 0);
		for (uint64_t e = 0; e < EXTS; e++)
			if (du_acc_add(&acc, e * 8192, 4096, QS_EXTENT_SHARED) < 0)
				abort();
		if (du_acc_end(&acc) < 0)
			abort();
		if (obj) {
			du_acc_begin(&acc, (uint32_t)(2 + 2 * (obj - 1)));
			for (uint64_t e = 0; e < 100; e++)
				if (du_acc_add(&acc, (1ULL << 40) + (obj * 1000 + e) * 8192, 4096, 0) < 0)
					abort();
			if (du_acc_end(&acc) < 0)
				abort();
		}
	}
	if (du_acc_sweep(&acc, &res) < 0)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	du_acc_free(&acc);
	printf("scale: %d objects x %d ranges + %d privates: %.1f ms\n", APPS + 1, EXTS, APPS,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	if (res.vol_mapped[0] != (uint64_t)EXTS * 4096 || res.vol_excl[0] != 0 ||
	    res.vol_mapped[1] != (uint64_t)EXTS * 4096 || res.vm_excl[1] != 100 * 4096 ||
	    res.pool_shared != (uint64_t)EXTS * 4096 ||
	    res.pool_mapped != (uint64_t)EXTS * 4096 + APPS * 100 * 4096) {
		fprintf(stderr, "scale: wrong figures\n");
		failures++;
	}
	free(vol_vm);
	free(a);
}

int main(void)
{
	for (int round = 0; round < 3000; round++)
		one_round(round);
	scale();
	printf("%s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
