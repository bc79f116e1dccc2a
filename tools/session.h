/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * session.h - how a tool gets at the state: the root check, then
 * qstor_open. Kept apart from cli.c because it needs the whole library,
 * which the unit tests of cli.c do not link.
 */
#ifndef QSTOR_SESSION_H
#define QSTOR_SESSION_H

#include "qstor.h"

/* Refuses non-root callers ("prog: must be root") unless
 * QSTOR_ALLOW_NONROOT=1, then opens state_dir (NULL: $QSTOR_STATE_DIR, else
 * the default). Prints the error itself; returns 0 or a negative errno. */
int cli_open(const char *prog, const char *state_dir, qstor **ret);

#endif
