/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * replay-main.c - a main for the fuzz targets when they are not built with
 * libFuzzer (make check with gcc): runs LLVMFuzzerTestOneInput once on each
 * file named, or on each file of each directory named, as libFuzzer does
 * when given files. Exits 0 when every input passed (an invariant broken
 * aborts).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!nb)
				abort();
			buf = nb;
		}
		size_t k = fread(buf + n, 1, cap - n, f);

		if (k == 0)
			break;
		n += k;
	}
	fclose(f);
	/* a copy of exactly n bytes, so ASan sees reads past the input */
	uint8_t *in = malloc(n ? n : 1);

	if (!in)
		abort();
	memcpy(in, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(in, n);
	free(in);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	unsigned runs = 0, errors = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (argv[i][0] == '-')
			continue;  /* libFuzzer flags: ignored here */
		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			errors++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			errors += run_file(argv[i]) < 0;
			runs++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;

		if (!d) {
			perror(argv[i]);
			errors++;
			continue;
		}
		while ((de = readdir(d))) {
			char *p;

			if (de->d_name[0] == '.')
				continue;
			if (asprintf(&p, "%s/%s", argv[i], de->d_name) < 0)
				abort();
			names = realloc(names, (n + 1) * sizeof(*names));
			if (!names)
				abort();
			names[n++] = p;
		}
		closedir(d);
		qsort(names, n, sizeof(*names), by_name);
		for (size_t k = 0; k < n; k++) {
			errors += run_file(names[k]) < 0;
			runs++;
			free(names[k]);
		}
		free(names);
	}
	printf("%s: %u inputs replayed, %u unreadable\n", argv[0], runs, errors);
	return errors ? 1 : 0;
}
