/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ephemeral volatile volumes: a dm-crypt mapping with a random key made at
 * each start and forgotten at stop, so nothing the VM wrote can be read
 * back afterwards. The key lives only in the kernel's table.
 * libdevmapper is used here for a crypt target over the volume's device,
 * never for thin devices (those belong to LVM).
 */
#include <errno.h>
#include <fcntl.h>
#include <libdevmapper.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "core.h"

/* dm names hold at most 127 bytes: a readable prefix plus a hash of the
 * full VM:VOLUME keeps them unique */
static void eph_name(const char *vm, const char *vol, char *buf, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = vm; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ ':') * 1099511628211ULL;
	for (const char *p = vol; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(buf, len, "qstor-eph-%.40s-%.20s-%016llx", vm, vol, (unsigned long long)h);
}

static void quiet_log(int level, const char *file, int line, int dm_errno, const char *f, ...)
{
}

static int dm_run(int type, const char *name, const char *table_dev, uint64_t sectors,
		  const char *key_hex, qstor_error *err)
{
	struct dm_task *dmt;
	char params[512];
	int r = 0;

	dm_log_with_errno_init(quiet_log);
	dm_udev_set_sync_support(0);
	if (!(dmt = dm_task_create(type)))
		return qs_err(err, -ENOMEM, "cannot create device-mapper task");
	if (!dm_task_set_name(dmt, name)) {
		r = qs_err(err, -EINVAL, "invalid device-mapper name '%s'", name);
		goto out;
	}
	if (table_dev) {
		snprintf(params, sizeof(params), "aes-xts-plain64 %s 0 %s 0 1 allow_discards", key_hex,
			 table_dev);
		if (!dm_task_add_target(dmt, 0, sectors, "crypt", params)) {
			r = qs_err(err, -ENOMEM, "cannot add crypt target");
			goto out;
		}
	}
	if (!dm_task_run(dmt)) {
		int e = dm_task_get_errno(dmt);

		r = qs_err(err, e ? -e : -EIO, "device-mapper %s of '%s' failed%s", table_dev ?
			   "create" : "remove", name, access("/dev/mapper/control", F_OK) ? ": no "
			   "device-mapper in this kernel (ephemeral volumes need dm-crypt)" : "");
		goto out;
	}
	dm_task_update_nodes();
out:
	explicit_bzero(params, sizeof(params));
	dm_task_destroy(dmt);
	return r;
}

int qs_eph_open(const char *vm, const char *vol, const char *dev, char *ret_path, size_t len,
		qstor_error *err)
{
	unsigned char key[64];
	char hex[129], name[128];
	uint64_t bytes = 0;
	int fd, r;

	eph_name(vm, vol, name, sizeof(name));
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return qs_err(err, -errno, "cannot open '%s': %s", QS_ESC_PATH(dev),
			      strerror(errno));
	r = ioctl(fd, BLKGETSIZE64, &bytes) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return qs_err(err, r, "cannot read the size of '%s': %s",
			      QS_ESC_PATH(dev), strerror(-r));
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return qs_err(err, -EIO, "cannot get a random key");
	for (size_t i = 0; i < sizeof(key); i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	explicit_bzero(key, sizeof(key));
	qs_eph_close(vm, vol, NULL);  /* a mapping left by a crash */
	r = dm_run(DM_DEVICE_CREATE, name, dev, bytes / 512, hex, err);
	explicit_bzero(hex, sizeof(hex));
	if (r < 0)
		return r;
	snprintf(ret_path, len, "/dev/mapper/%s", name);
	return 0;
}

int qs_eph_close(const char *vm, const char *vol, qstor_error *err)
{
	char name[128], path[160];

	eph_name(vm, vol, name, sizeof(name));
	snprintf(path, sizeof(path), "/dev/mapper/%s", name);
	if (access(path, F_OK) < 0)
		return 0;
	return dm_run(DM_DEVICE_REMOVE, name, NULL, 0, NULL, err);
}
