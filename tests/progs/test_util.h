/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the test programs. */
#ifndef SSA_TEST_UTIL_H
#define SSA_TEST_UTIL_H

#include <string.h>
#include <time.h>

/* Monotonic time in milliseconds. */
static inline double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* "ECONNRESET" for ECONNRESET. */
static inline const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

#endif
