/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One lock per VM: a flock on STATE/locks/NAME.lock. Operations on one VM
 * serialize; different VMs proceed in parallel. A VM that reads another
 * (an app VM's start reads its template's committed root) takes that VM's
 * lock shared, always after its own: dependents lock before sources and the
 * source graph has no cycles, so no deadlock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "core.h"

int qs_lock_vm(qstor *q, const char *vm, bool shared, int *ret_fd, qstor_error *err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/locks", q->state_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return qs_err(err, -errno, "cannot create lock directory '%s': %s",
			      QS_ESC_PATH(path), strerror(errno));
	snprintf(path, sizeof(path), "%s/locks/%s.lock", q->state_dir, vm);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return qs_err(err, -errno, "cannot open lock '%s': %s", QS_ESC_PATH(path),
			      strerror(errno));
	while (flock(fd, shared ? LOCK_SH : LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int r = -errno;
		close(fd);
		return qs_err(err, r, "cannot lock vm '%s': %s", vm, strerror(-r));
	}
	*ret_fd = fd;
	return 0;
}

void qs_unlock(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}
