/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared setup of the core's unit tests: a temporary state dir and pool dir,
 * an open handle and a "fake" pool named "default"; helpers to read and write
 * the fake driver's object files and to compare the pool's files before and
 * after an operation.
 */
#ifndef QSTOR_UNIT_ENV_H
#define QSTOR_UNIT_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "qstor.h"

struct qs_driver;

#define UNIT_KiB 1024ULL
#define UNIT_MiB (1024ULL * 1024)
#define UNIT_GiB (1024ULL * 1024 * 1024)

/* Small sizes for VMs that are started: the fake driver copies whole files. */
#define UNIT_ROOT_SIZE (256 * UNIT_KiB)
#define UNIT_PRIV_SIZE (128 * UNIT_KiB)
#define UNIT_VOLA_SIZE (64 * UNIT_KiB)

/* The checksum of a file that does not exist. */
#define UNIT_NO_FILE UINT64_MAX

struct unit_env {
	char root[512];       /* mkdtemp'd, removed by unit_env_free */
	char state_dir[600];  /* root/state */
	char pool_dir[600];   /* root/pool: dir_path of the pool "default" */
	qstor *q;
};

/* The driver registered (default: fake_driver); a test may wrap it. */
extern const struct qs_driver *unit_driver;

/* New environment with the pool "default" (driver "fake", dir_path and the
 * given extra options). NULL on failure, after printing why. */
struct unit_env *unit_env_new_opts(const qstor_kv *extra, size_t n_extra);
struct unit_env *unit_env_new(void);
/* qstor_close + rm -rf + free */
void unit_env_free(struct unit_env *e);
/* Close the handle (e->q NULL), e.g. before fork(). */
void unit_env_close(struct unit_env *e);
/* Open it again (closing it first if open). 0 or negative errno. */
int unit_env_reopen(struct unit_env *e);

/* cmocka setup/teardown: *state is a struct unit_env * */
int unit_env_setup(void **state);
int unit_env_teardown(void **state);

/* Path of a fake object: pool_dir/VM/VOL.SUFFIX (suffix "committed",
 * "running", "import", "precache", "tmp"). Returns buf. */
char *unit_obj_path(const struct unit_env *e, const char *vm, const char *vol,
		    const char *suffix, char *buf, size_t len);

bool unit_exists(const char *path);
/* Size of a file, -1 if missing. */
int64_t unit_file_size(const char *path);
/* Write len bytes at off into an existing file (no create, no truncate),
 * fsync. 0 or -errno. */
int unit_write_at(const char *path, uint64_t off, const void *data, size_t len);
/* Write len bytes of a pattern derived from seed at off. */
int unit_write_pattern(const char *path, uint64_t off, size_t len, uint32_t seed);
/* Fill buf with the pattern of seed. */
void unit_pattern(unsigned char *buf, size_t len, uint32_t seed);
/* Read a whole file (malloc'd). 0 or -errno. */
int unit_read_file(const char *path, unsigned char **ret, size_t *ret_len);
/* Write a new file of exactly these bytes (create/truncate). */
int unit_write_file(const char *path, const void *data, size_t len);
/* A checksum of the content and length (FNV-1a 64 over the size and every
 * non-zero 4 KiB block with its offset, so holes and written zeros are the
 * same content). UNIT_NO_FILE if the file does not exist. */
uint64_t unit_checksum(const char *path);
/* Checksum of a buffer, the same function as unit_checksum of a file with
 * these bytes. */
uint64_t unit_checksum_buf(const unsigned char *buf, size_t len);
/* Checksum of a file of len zero bytes. */
uint64_t unit_checksum_zeros(uint64_t len);
/* true if every byte of the file is zero */
bool unit_all_zero(const char *path);

/* Every regular file under dir (recursively), as sorted relative paths,
 * with their checksums. */
struct unit_files {
	char **names;
	uint64_t *sums;
	size_t n;
};
int unit_list_files(const char *dir, struct unit_files *ret);
void unit_files_free(struct unit_files *f);
/* true if same names and sums; otherwise why names the first difference */
bool unit_files_equal(const struct unit_files *a, const struct unit_files *b, char *why,
		      size_t len);
/* Number of files whose name ends with suffix / contains substr. */
size_t unit_files_count_suffix(const struct unit_files *f, const char *suffix);
size_t unit_files_count_substr(const struct unit_files *f, const char *substr);
/* Print the list on stderr (debugging a failure). */
void unit_files_dump(const struct unit_files *f, const char *title);

/* rm -rf path */
int unit_rm_rf(const char *path);

/* Sorted, comma-separated names of the catalog's VMs (malloc'd), NULL on
 * error. */
char *unit_vm_names(qstor *q);

/* Create a VM with the small test sizes (template/standalone: root, private
 * and volatile; app/disposable: private and volatile). tpl: NULL for
 * template/standalone. Returns the API's result. */
int unit_create_vm(struct unit_env *e, const char *name, qstor_vm_class klass, const char *tpl,
		   qstor_error *err);

/* Start vm and copy the device path of vol into path ("" if none). */
int unit_start(struct unit_env *e, const char *vm, qstor_error *err);
int unit_start_devs(struct unit_env *e, const char *vm, qstor_device **ret, size_t *ret_n,
		    qstor_error *err);
const char *unit_dev(const qstor_device *devs, size_t n, const char *vol);

/* Revision ids of vm:vol, oldest first, as one comma-separated string
 * (malloc'd); NULL on error. */
char *unit_revisions(qstor *q, const char *vm, const char *vol);
/* Path of the fake revision object with this id (pool_dir/VM/VOL.rev.ID.TIME),
 * "" if there is none. Returns buf. */
char *unit_rev_path(const struct unit_env *e, const char *vm, const char *vol, const char *id,
		    char *buf, size_t len);
/* Checksums of vm:vol's revisions, oldest first (info order); returns the
 * number (at most max), -1 on error. */
int unit_rev_sums(struct unit_env *e, const char *vm, const char *vol, uint64_t *sums, int max);
/* Number of revisions, -1 on error. */
int unit_n_revisions(qstor *q, const char *vm, const char *vol);

#endif
