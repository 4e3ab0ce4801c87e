/* SPDX-License-Identifier: MIT */
/**
 * @file libssa.h
 * @brief What libssa's own files share: the names it exports (the C
 *        library's socket calls it interposes) and its errno convention.
 */
#ifndef LIBSSA_LIBSSA_H
#define LIBSSA_LIBSSA_H

#include <errno.h>

/** A C library name libssa provides in place of the C library's (every
 * other symbol of libssa is hidden). */
#define EXPORT __attribute__((visibility("default")))

/** Set errno to err and return -1, as a failed system call. */
static inline int ssa_fail(int err)
{
	errno = err;
	return -1;
}

#endif
