/* SPDX-License-Identifier: MIT */
/* ssa-bench helpers: time, errors, limits, percentiles. */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ssa-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) die("out of memory");
	return p;
}

/* 10,000 held connections need more descriptors than the usual 1024: take
 * 200000 where allowed (root), else the hard limit. */
void raise_nofile(void)
{
	struct rlimit rl = { 200000, 200000 };

	if (setrlimit(RLIMIT_NOFILE, &rl) == 0) return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0..100) of v[0..n); sorts v. */
double percentile(double *v, size_t n, double p)
{
	size_t k;

	if (n == 0) return 0;
	qsort(v, n, sizeof *v, cmp_double);
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1) k = 1;
	if (k > n) k = n;
	return v[k - 1];
}
