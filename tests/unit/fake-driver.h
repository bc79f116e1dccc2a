/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fake driver for unit tests: objects are plain files under the pool's
 * dir_path, copies are full copies, and any op can be made to fail. */
#ifndef QSTOR_FAKE_DRIVER_H
#define QSTOR_FAKE_DRIVER_H

#include "driver.h"

extern const struct qs_driver fake_driver;

/* Make the nth (1-based) next call of op ("create", "snapshot", "rename",
 * "remove", "resize", "activate", "deactivate") fail with code. */
void fake_fail(const char *op, int nth, int code);
void fake_fail_reset(void);
/* Calls of op since the last reset. */
int fake_calls(const char *op);
/* Pretend the pool is this full (data_used of data_size); 0, 0: no usage. */
void fake_set_usage(uint64_t size, uint64_t used);

#endif
