/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a volume holds, as libblkid sees it. */
#include <blkid/blkid.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

void qs_probe_content(const char *path, char *buf, size_t len)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	const char *val = NULL;

	snprintf(buf, len, "unknown");
	if (!pr)
		return;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	if (blkid_do_safeprobe(pr) == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &val, NULL) == 0 ||
		    blkid_probe_lookup_value(pr, "PTTYPE", &val, NULL) == 0)
			snprintf(buf, len, "%s", val);
	} else {
		/* nothing recognised: "empty" if the first MiB is all zeros */
		unsigned char b[4096];
		int fd = blkid_probe_get_fd(pr);
		bool zero = true;

		for (off_t off = 0; zero && off < (1 << 20); off += sizeof(b)) {
			ssize_t n = pread(fd, b, sizeof(b), off);

			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				if (b[i]) {
					zero = false;
					break;
				}
		}
		snprintf(buf, len, zero ? "empty" : "data");
	}
	blkid_free_probe(pr);
}
