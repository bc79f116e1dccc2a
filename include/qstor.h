/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qstor.h - the whole public API of libqstor.
 *
 * Conventions:
 *  - every function returns 0 (or a non-negative count) on success and a
 *    negative errno on failure;
 *  - the last argument is an optional qstor_error *: on failure it receives
 *    the same code and a one-line, lowercase message naming the subject,
 *    e.g. "cannot revert 'work:private': volume is running";
 *  - ret_* output parameters are written only on success;
 *  - names (pools, VMs, volumes) are validated here, at the API: 1..64
 *    bytes of [A-Za-z0-9_.+-], not starting with '-', not "." or "..".
 *  - the library never logs; the caller prints the message once.
 */
#ifndef QSTOR_H
#define QSTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QSTOR_NAME_MAX 64
#define QSTOR_MSG_MAX 512

typedef struct qstor_error {
	int code;                 /* negative errno, 0 when no error */
	char msg[QSTOR_MSG_MAX];  /* one line, no trailing newline */
} qstor_error;

typedef struct qstor qstor;  /* opaque handle: state dir + catalog */

/* Open the state directory: state_dir, else $QSTOR_STATE_DIR, else
 * /var/lib/qstor. Creates it (mode 0700) and the catalog if missing. */
int qstor_open(const char *state_dir, qstor **ret, qstor_error *err);
void qstor_close(qstor *q);
const char *qstor_state_dir(const qstor *q);

/* ---- parsing helpers (also used by the tools) ---- */

/* "1024", "10G" (x1000^3), "10GiB"/"10Gi" (x1024^3), K M G T, Ki Mi Gi Ti.
 * Zero, negative, non-numeric or overflowing values are refused. */
int qstor_parse_size(const char *s, uint64_t *ret, qstor_error *err);
/* what: "pool", "vm", "volume" (used in the message) */
int qstor_check_name(const char *what, const char *name, qstor_error *err);
/* "VM:VOL" -> vm, vol (each validated) */
int qstor_parse_vmvol(const char *s, char vm[QSTOR_NAME_MAX + 1],
		      char vol[QSTOR_NAME_MAX + 1], qstor_error *err);

/* ---- pools ---- */

typedef struct qstor_kv {
	char *key;
	char *value;
} qstor_kv;

typedef struct qstor_pool_info {
	char name[QSTOR_NAME_MAX + 1];
	char driver[32];
	qstor_kv *options;        /* as configured */
	size_t n_options;
	int revisions_to_keep;
	uint64_t size;            /* data bytes, 0 if unknown */
	uint64_t usage;           /* data bytes used */
	uint64_t metadata_size;   /* 0 if the driver has none */
	uint64_t metadata_usage;
} qstor_pool_info;

/* NULL-terminated list of driver names: "file-reflink", "lvm_thin" */
const char *const *qstor_drivers(void);
/* The option keys a driver knows (NULL-terminated), NULL if unknown driver */
const char *const *qstor_driver_options(const char *driver);

/* options: n key=value pairs. The driver checks the setup (a missing VG, a
 * directory without reflink support...) before anything is recorded. */
int qstor_pool_add(qstor *q, const char *name, const char *driver,
		   const qstor_kv *options, size_t n, qstor_error *err);
/* Refused while any VM has volumes in it. */
int qstor_pool_remove(qstor *q, const char *name, qstor_error *err);
int qstor_pool_set(qstor *q, const char *name, const qstor_kv *options,
		   size_t n, qstor_error *err);
/* ret: malloc'd array of names, free with qstor_strv_free */
int qstor_pool_list(qstor *q, char ***ret, size_t *ret_n, qstor_error *err);
int qstor_pool_info_get(qstor *q, const char *name, qstor_pool_info *ret,
			qstor_error *err);
void qstor_pool_info_free(qstor_pool_info *info);
/* NULL pool: "default" if it exists, else the only pool, else an error */
int qstor_pool_resolve(qstor *q, const char *pool,
		       char ret[QSTOR_NAME_MAX + 1], qstor_error *err);

void qstor_strv_free(char **v, size_t n);

/* ---- VMs ---- */

typedef enum qstor_vm_class {
	QSTOR_CLASS_TEMPLATE,
	QSTOR_CLASS_APP,
	QSTOR_CLASS_STANDALONE,
	QSTOR_CLASS_DISPOSABLE,
} qstor_vm_class;

const char *qstor_class_name(qstor_vm_class c);
int qstor_class_parse(const char *s, qstor_vm_class *ret);

typedef struct qstor_vm_spec {
	const char *name;
	qstor_vm_class klass;
	const char *template_vm;  /* app: a template; disposable: an app VM */
	const char *pool;         /* NULL: default pool */
	uint64_t root_size;       /* 0: default (10 GiB) */
	uint64_t private_size;    /* 0: default (2 GiB) */
	uint64_t volatile_size;   /* 0: default (10 GiB, 12 GiB disposable) */
} qstor_vm_spec;

typedef struct qstor_vm_info {
	char name[QSTOR_NAME_MAX + 1];
	qstor_vm_class klass;
	char template_vm[QSTOR_NAME_MAX + 1];  /* "" if none */
	char pool[QSTOR_NAME_MAX + 1];
	bool running;
} qstor_vm_info;

typedef struct qstor_device {
	char volume[QSTOR_NAME_MAX + 1];
	char path[256];           /* block device */
	bool rw;
} qstor_device;

/* Existing committed objects with the VM's names in the pool (a pool made
 * by Qubes OS) are adopted, not overwritten. */
int qstor_vm_create(qstor *q, const qstor_vm_spec *spec, qstor_error *err);
/* Same class and template as src; volumes cloned (thin snapshot or reflink
 * within a pool, sparse copy across pools). pool NULL: src's pool. */
int qstor_vm_clone(qstor *q, const char *src, const char *dst,
		   const char *pool, qstor_error *err);
/* Refused while running or while another VM is based on it. */
int qstor_vm_remove(qstor *q, const char *name, qstor_error *err);
/* *ret: malloc'd array, free with free() */
int qstor_vm_list(qstor *q, qstor_vm_info **ret, size_t *ret_n,
		  qstor_error *err);
int qstor_vm_get(qstor *q, const char *name, qstor_vm_info *ret,
		 qstor_error *err);
/* ret: one device per volume (root, private, volatile), malloc'd: free() */
int qstor_vm_start(qstor *q, const char *name, qstor_device **ret,
		   size_t *ret_n, qstor_error *err);
/* Idempotent: stopping a stopped VM succeeds. */
int qstor_vm_stop(qstor *q, const char *name, qstor_error *err);
/* After a host crash (or an interrupted qstor): commit or clean what was
 * left. Leaves VMs that are running healthily alone. ret_fixed: number of
 * volumes repaired. */
int qstor_recover(qstor *q, unsigned *ret_fixed, qstor_error *err);

/* ---- volumes ---- */

typedef struct qstor_revision {
	char id[64];              /* what revert takes */
	int64_t time;             /* unix seconds */
} qstor_revision;

typedef struct qstor_volume_info {
	char vm[QSTOR_NAME_MAX + 1];
	char name[QSTOR_NAME_MAX + 1];
	char pool[QSTOR_NAME_MAX + 1];
	char vid[256];
	char source[2 * QSTOR_NAME_MAX + 2];  /* "VM:VOL" or "" */
	char source_vid[256];
	uint64_t size;
	uint64_t usage;           /* bytes mapped by the committed state */
	bool rw, snap_on_start, save_on_stop, ephemeral;
	int revisions_to_keep;
	bool running;             /* started by qstor */
	bool is_dirty;            /* running copy left by a crash */
	bool is_outdated;         /* running on an older source state */
	char content[32];         /* libblkid probe: ext4, swap, ..., empty */
	qstor_revision *revisions; /* oldest first */
	size_t n_revisions;
} qstor_volume_info;

/* vm NULL: every VM; pool NULL: every pool */
int qstor_volume_list(qstor *q, const char *pool, const char *vm,
		      qstor_volume_info **ret, size_t *ret_n, qstor_error *err);
int qstor_volume_info_get(qstor *q, const char *vm, const char *vol,
			  qstor_volume_info *ret, qstor_error *err);
void qstor_volume_info_free(qstor_volume_info *v);
void qstor_volume_infos_free(qstor_volume_info *v, size_t n);

/* prop: "rw", "revisions_to_keep", "ephemeral" */
int qstor_volume_set(qstor *q, const char *vm, const char *vol,
		     const char *prop, const char *value, qstor_error *err);
int qstor_volume_resize(qstor *q, const char *vm, const char *vol,
			uint64_t size, bool force, qstor_error *err);
/* rev NULL: newest. The replaced state becomes a revision (undoable). */
int qstor_volume_revert(qstor *q, const char *vm, const char *vol,
			const char *rev, qstor_error *err);
/* Reads exactly size bytes from fd (size 0: the volume's size; with
 * resize=true the volume takes that size first). A short or long read fails
 * the import and changes nothing. */
int qstor_volume_import(qstor *q, const char *vm, const char *vol, int fd,
			uint64_t size, bool resize, qstor_error *err);
int qstor_volume_clone(qstor *q, const char *src_vm, const char *src_vol,
		       const char *dst_vm, const char *dst_vol,
		       qstor_error *err);
int qstor_volume_clear(qstor *q, const char *vm, const char *vol,
		       qstor_error *err);
/* The committed state as a readable path (free with free()); call
 * qstor_volume_export_end when done. */
int qstor_volume_export(qstor *q, const char *vm, const char *vol,
			char **ret_path, qstor_error *err);
int qstor_volume_export_end(qstor *q, const char *vm, const char *vol,
			    qstor_error *err);

/* ---- disk use ---- */

typedef struct qstor_du_volume {
	char vm[QSTOR_NAME_MAX + 1];
	char volume[QSTOR_NAME_MAX + 1];
	char pool[QSTOR_NAME_MAX + 1];
	uint64_t size;        /* virtual */
	uint64_t mapped;      /* bytes referenced, all of the volume's objects */
	uint64_t exclusive;   /* referenced by this volume's objects alone */
	uint64_t shared;      /* mapped - exclusive */
	uint64_t reclaimable; /* mapped but unused by its ext4 (0 if unknown) */
} qstor_du_volume;

/* A pool as a whole: every VM in it counted, not only those asked about. */
typedef struct qstor_du_pool {
	char pool[QSTOR_NAME_MAX + 1];
	uint64_t data_size, data_used;  /* the pool's own figures */
	uint64_t meta_size, meta_used;  /* 0, 0 where it has no metadata */
	bool exact;            /* false: the driver gives per-object usage only;
				* mapped, shared, vm_exclusive are then 0 */
	uint64_t mapped;       /* bytes any volume in the catalog references (union) */
	uint64_t vm_exclusive; /* sum of every VM's vm_exclusive in this pool */
	uint64_t shared;       /* mapped - vm_exclusive: referenced by two VMs or
				* more, or by one and something outside the
				* catalog (the templates' data) */
} qstor_du_pool;

typedef struct qstor_du_vm {
	char vm[QSTOR_NAME_MAX + 1];
	uint64_t size;
	uint64_t mapped;       /* union over the VM's volumes, not their sum */
	uint64_t exclusive;    /* sum of its volumes' exclusive */
	uint64_t shared;       /* mapped - exclusive */
	uint64_t vm_exclusive; /* freed by removing the whole VM */
	qstor_du_volume *volumes;
	size_t n_volumes;
	/* appended: the pools this VM's volumes are in (a copy each) */
	qstor_du_pool *pools;
	size_t n_pools;
} qstor_du_vm;

/*
 * Disk use, measured from the pools themselves. Where the driver gives
 * extent maps, figures are exact and set-aware: every object (committed,
 * running, revisions, precache, temporaries) of every volume of every VM
 * in the pool is walked, and a byte counts as exclusive to a volume (VM)
 * when no object of another volume (VM) references it, nor anything
 * outside the catalog that the pool flags. Otherwise (no extent maps),
 * per object: mapped and exclusive of the current state.
 * vms NULL / n 0: every VM.
 */
int qstor_du(qstor *q, const char *const *vms, size_t n, qstor_du_vm **ret,
	     size_t *ret_n, qstor_error *err);
void qstor_du_free(qstor_du_vm *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
