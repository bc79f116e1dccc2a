/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * format.h - every output of the tools, as pure functions from the
 * library's structs to a FILE *, so the unit tests can compare exact text.
 *
 * Tables are laid out like `column -t` (which Qubes' tools pipe through):
 * each column as wide as its widest cell, two spaces between columns, the
 * last column not padded.
 */
#ifndef QSTOR_FORMAT_H
#define QSTOR_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "qstor.h"

/* ---- qvm-volume ---- */

/* POOL:VOLUME VMNAME VOLUME_NAME REVERT_POSSIBLE, sorted by pool, vid, VM
 * and volume. elide_repeats (a terminal without --full, as Qubes does):
 * rows that repeat the previous row's POOL:VOLUME leave it blank. */
void fmt_volume_list(FILE *f, const qstor_volume_info *const *v, size_t n,
		     bool elide_repeats);
/* Every property, one "key  value" line each, then the revisions block. */
void fmt_volume_info(FILE *f, const qstor_volume_info *v);
/* One property's bare value ("revisions": one id a line). */
int fmt_volume_property(FILE *f, const qstor_volume_info *v, const char *prop);
bool fmt_volume_property_known(const char *prop);
/* For messages: "pool, vid, rw, ..." */
const char *fmt_volume_property_names(void);

/* ---- qvm-pool ---- */

void fmt_pool_list(FILE *f, const qstor_pool_info *p, size_t n);
/* name first, then every other key sorted; pools separated by a blank line */
/* du[i] (may be NULL, or du NULL): pool i's exact disk use, as rows
 * vms_mapped, vms_exclusive, vms_shared */
void fmt_pool_info(FILE *f, const qstor_pool_info *p, const qstor_du_pool *const *du,
		   size_t n);
/* DRIVER OPTIONS; options_of as qstor_driver_options */
void fmt_drivers(FILE *f, const char *const *drivers,
		 const char *const *(*options_of)(const char *driver));

/* ---- qstor ---- */

void fmt_vm_list(FILE *f, const qstor_vm_info *v, size_t n);
void fmt_vm_list_json(FILE *f, const qstor_vm_info *v, size_t n);
/* "VOLUME DEVICE rw|ro", one line per volume */
void fmt_devices(FILE *f, const qstor_device *d, size_t n);
void fmt_devices_json(FILE *f, const qstor_device *d, size_t n);
/* bytes: plain byte counts instead of IEC units */
void fmt_du(FILE *f, const qstor_du_vm *v, size_t n, bool bytes);
void fmt_du_json(FILE *f, const qstor_du_vm *v, size_t n);

#endif
