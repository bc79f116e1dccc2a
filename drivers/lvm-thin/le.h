/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Little-endian fields of on-disk LVM and dm-thin metadata. */
#ifndef QSTOR_LVT_LE_H
#define QSTOR_LVT_LE_H

#include <stdint.h>

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

#endif
