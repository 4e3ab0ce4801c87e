/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum ssa_log_level ssa_log_threshold = SSA_LOG_INFO;

static const char *const names[] = { "error", "warning", "info", "debug" };

int ssa_log_level_parse(const char *s)
{
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void ssa_log(enum ssa_log_level lvl, const char *fmt, ...)
{
	/* "<N>" prefixes are understood by journald (sd-daemon(3)). */
	static const int prio[] = { 3, 4, 6, 7 };
	char line[1024];
	va_list ap;

	if (lvl > ssa_log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One write per line so that threads do not interleave. */
	fprintf(stderr, "<%d>ssad: %s: %s\n", prio[lvl], names[lvl], line);
}
