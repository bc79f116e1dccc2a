/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The liblvm2cmd seam: one process-wide handle, one mutex, the log
 * callback that captures what a command prints.
 *
 * How liblvm2cmd behaves (lvm2 2.03, read in tools/lvmcmdlib.c,
 * tools/lvmcmdline.c, lib/log/log.c, device_mapper/libdm-report.c, and
 * checked against the installed liblvm2cmd 2.03.16):
 *  - lvm2_run(handle, line) splits line with lvm_split() and runs the
 *    command in this process; it returns ECMD_PROCESSED (1) on success,
 *    ENO_SUCH_CMD (2), EINVALID_CMD_LINE (3), EINIT_FAILED (4) or
 *    ECMD_FAILED (5).
 *  - Once lvm2_log_fn() installed a callback, _vprint_log() hands every
 *    message of every level to it (formatted into a 4096-byte buffer) and
 *    prints nothing itself. Errors come at level 3 (LVM2_LOG_ERROR).
 *  - Report output goes through libdevmapper's log_print (print_log_libdm)
 *    and arrives at level 4 (LVM2_LOG_PRINT), one line per call, from
 *    file ".../libdm-report.c"; other level-4 messages ("Logical volume
 *    created", warnings) come from other files and are not report. Error
 *    lines may arrive between report lines ("Volume group not found").
 *  - lvm2_init() runs create_toolcontext(), which calls
 *    setlocale(LC_ALL, ""), mallopt(M_MMAP_MAX, 0), openlog("lvm"), and,
 *    only when called on the main thread (gettid() == getpid()), reopens
 *    stdin and stdout with its own line buffers. We therefore initialise
 *    from a short-lived helper thread and restore the locale afterwards.
 *  - --config on a command line reloads the whole configuration
 *    (refresh_toolcontext) on every call: never used here.
 *  - liblvm2cmd 2.03 links its own private copy of libdevmapper
 *    (device_mapper/, not exported): its messages come to log_cb too, and
 *    libdevmapper.so used by dmtask.c is a separate instance.
 *  - When a device-mapper target module is missing, lvm runs modprobe as a
 *    child process of its own; the test VM loads the modules beforehand.
 */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lvm2cmd.h>

#include "lvmcmd.h"

/* ---- the seam: one handle, one mutex, one capture per calling thread ---- */

static pthread_mutex_t lvm_lock = PTHREAD_MUTEX_INITIALIZER;
static void *lvm_handle;
static int lvm_init_err;
static unsigned long lvm_runs;
static __thread struct lvt_out *capture;

/* QSTOR_LVM_TRACE=1: every command line, its result and its time on
 * stderr ("qstor-lvm: ..."), and the count of lvm2_run calls at exit. */
static int trace = -1;

static void trace_exit(void)
{
	if (lvm_runs)
		fprintf(stderr, "qstor-lvm: %lu lvm2_run calls\n", lvm_runs);
}

static bool tracing(void)
{
	if (trace < 0) {
		const char *e = getenv("QSTOR_LVM_TRACE");

		trace = e && *e && strcmp(e, "0") != 0;
		if (trace)
			atexit(trace_exit);
	}
	return trace;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool from_reporter(const char *file)
{
	size_t n = file ? strlen(file) : 0;
	static const char tail[] = "libdm-report.c";

	return n >= sizeof(tail) - 1 && strcmp(file + n - (sizeof(tail) - 1), tail) == 0;
}

static void append_report(struct lvt_out *o, const char *msg)
{
	size_t n = strlen(msg);

	if (o->report_len + n + 2 > o->report_cap) {
		size_t cap = o->report_cap ? o->report_cap : 4096;
		char *p;

		while (cap < o->report_len + n + 2)
			cap *= 2;
		p = realloc(o->report, cap);
		if (!p) {
			o->truncated = true;
			return;
		}
		o->report = p;
		o->report_cap = cap;
	}
	memcpy(o->report + o->report_len, msg, n);
	o->report_len += n;
	o->report[o->report_len++] = '\n';
	o->report[o->report_len] = '\0';
}

static void append_error(struct lvt_out *o, const char *msg)
{
	size_t used = strlen(o->errors);

	if (!o->error[0])
		snprintf(o->error, sizeof(o->error), "%s", msg);
	if (used + 2 < sizeof(o->errors))
		snprintf(o->errors + used, sizeof(o->errors) - used, "%s%s",
			 used ? "\n" : "", msg);
}

/* Called by liblvm2cmd (and, through lvm's print_log_libdm, by
 * libdevmapper) for every message; nothing is printed. */
static void log_cb(int level, const char *file, int line, int dm_errno,
		   const char *msg)
{
	struct lvt_out *o = capture;

	(void)line;
	(void)dm_errno;
	if (!o || !msg)
		return;
	if (level == LVM2_LOG_PRINT && from_reporter(file))
		append_report(o, msg);
	else if (level >= LVM2_LOG_FATAL && level <= LVM2_LOG_ERROR && *msg)
		append_error(o, msg);
}

static void *init_thread(void *arg)
{
	(void)arg;
	lvm_handle = lvm2_init();
	return NULL;
}

/* Caller holds lvm_lock. */
static int init_locked(void)
{
	pthread_t t;
	char *locale;
	int r;

	if (lvm_handle)
		return 0;
	if (lvm_init_err)
		return lvm_init_err;
	double t0 = tracing() ? now_ms() : 0;

	lvm2_log_fn(log_cb);
	locale = setlocale(LC_ALL, NULL);
	locale = locale ? strdup(locale) : NULL;
	r = pthread_create(&t, NULL, init_thread, NULL);
	if (r == 0)
		pthread_join(t, NULL);
	else
		init_thread(NULL);
	if (locale) {
		setlocale(LC_ALL, locale);
		free(locale);
	}
	if (!lvm_handle)
		lvm_init_err = -EIO;
	if (tracing())
		fprintf(stderr, "qstor-lvm: [%d] %.0f ms: lvm2_init\n", (int)getpid(), now_ms() - t0);
	return lvm_handle ? 0 : lvm_init_err;
}

int lvt_lvm_init(void)
{
	int r;

	pthread_mutex_lock(&lvm_lock);
	r = init_locked();
	pthread_mutex_unlock(&lvm_lock);
	return r;
}

int lvt_run(const char *cmdline, struct lvt_out *out)
{
	struct lvt_out scratch = { 0 };
	struct lvt_out *o = out ? out : &scratch;
	int r, rc;

	o->error[0] = '\0';
	o->errors[0] = '\0';
	o->truncated = false;
	o->report_len = 0;
	if (o->report)
		o->report[0] = '\0';

	pthread_mutex_lock(&lvm_lock);
	r = init_locked();
	if (r < 0) {
		pthread_mutex_unlock(&lvm_lock);
		snprintf(o->error, sizeof(o->error), "cannot initialise liblvm2cmd");
		lvt_out_free(&scratch);
		return r;
	}
	capture = o;
	{
		bool tr = tracing();
		double t0 = tr ? now_ms() : 0;

		rc = lvm2_run(lvm_handle, cmdline);
		if (tr)
			fprintf(stderr, "qstor-lvm: [%d] %.0f ms rc=%d: %s\n", (int)getpid(),
				now_ms() - t0, rc, cmdline);
	}
	capture = NULL;
	lvm_runs++;
	pthread_mutex_unlock(&lvm_lock);

	r = lvt_rc_to_errno(rc, o->errors);
	if (r == 0 && o->truncated)
		r = -ENOMEM;
	if (r < 0 && !o->error[0])
		snprintf(o->error, sizeof(o->error), "lvm command failed (code %d)", rc);
	lvt_out_free(&scratch);
	return r;
}

unsigned long lvt_run_count(void)
{
	unsigned long n;

	pthread_mutex_lock(&lvm_lock);
	n = lvm_runs;
	pthread_mutex_unlock(&lvm_lock);
	return n;
}
