/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum ssa_log_level ssa_log_threshold = SSA_LOG_INFO;

static const char *const names[] = { "error", "warning", "info", "debug" };

int ssa_log_level_parse(const char *s)
{
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

size_t ssa_log_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!cap)
		return 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f && *p != '\\';

		if (o + (plain ? 1 : 4) >= cap)
			break;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return o;
}

static ssa_log_sink_fn sink;
static _Thread_local const struct ssa_log_fields *fields;

void ssa_log_with(const struct ssa_log_fields *f)
{
	fields = f;
}

void ssa_log_set_sink(ssa_log_sink_fn s)
{
	sink = s;
}

static void emit(enum ssa_log_level lvl, const char *line)
{
	/* "<N>" prefixes are understood by journald (sd-daemon(3)). */
	static const int prio[] = { 3, 4, 6, 7 };
	char safe[4 * 1024];

	/* Whatever came from outside (program paths, SNI names, reasons) can
	 * hold newlines or terminal escapes: one event is one line. */
	ssa_log_escape(line, safe, sizeof safe);
	if (sink && sink(lvl, safe, fields))
		return;
	/* One write per line so that threads do not interleave. */
	fprintf(stderr, "<%d>ssad: %s: %s\n", prio[lvl], names[lvl], safe);
}

void ssa_log(enum ssa_log_level lvl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (lvl > ssa_log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	emit(lvl, line);
}

/*
 * Rate limits: one token bucket per (message, source), in a small table;
 * when it is full the bucket unused for longest is taken over (its
 * suppressed count is reported first).
 */
#define BUCKETS 128

struct bucket {
	const void *site;
	uint64_t source;
	double tokens;
	double last;      /**< seconds (CLOCK_MONOTONIC) of the last refill */
	unsigned long suppressed;
};

static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bucket buckets[BUCKETS];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ssa_log_limited(enum ssa_log_level lvl, const void *site, uint64_t source,
		     unsigned burst, unsigned per_sec, const char *fmt, ...)
{
	struct bucket *b = NULL, *oldest = &buckets[0];
	unsigned long dropped = 0;
	double t = now_s();
	char line[1024];
	bool allow;
	va_list ap;

	if (lvl > ssa_log_threshold)
		return;
	pthread_mutex_lock(&rl_lock);
	for (int i = 0; i < BUCKETS; i++) {
		struct bucket *c = &buckets[i];

		if (c->site == site && c->source == source) {
			b = c;
			break;
		}
		if (!c->site || (oldest->site && c->last < oldest->last))
			oldest = c;
	}
	if (!b) {
		b = oldest;
		dropped = b->site ? b->suppressed : 0;
		*b = (struct bucket){ .site = site, .source = source, .tokens = burst, .last = t };
	}
	b->tokens += (t - b->last) * per_sec;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last = t;
	allow = b->tokens >= 1.0;
	if (allow) {
		b->tokens -= 1.0;
		dropped += b->suppressed;
		b->suppressed = 0;
	} else {
		b->suppressed++;
	}
	pthread_mutex_unlock(&rl_lock);
	if (dropped) {
		const struct ssa_log_fields *f = fields;

		snprintf(line, sizeof line, "%lu similar messages suppressed (rate limit)", dropped);
		fields = NULL; /* not about the event at hand */
		emit(lvl, line);
		fields = f;
	}
	if (!allow)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	emit(lvl, line);
}
