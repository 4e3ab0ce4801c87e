/* SPDX-License-Identifier: MIT */
/** @file log.h  Logging to stderr (journald picks it up under systemd). */
#ifndef SSA_COMMON_LOG_H
#define SSA_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ssa_log_level { SSA_LOG_ERR = 0, SSA_LOG_WARN, SSA_LOG_INFO, SSA_LOG_DEBUG };

extern enum ssa_log_level ssa_log_threshold;

/** Parse "error", "warning", "info" or "debug"; -1 if unknown. */
int ssa_log_level_parse(const char *s);

void ssa_log(enum ssa_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * Like ssa_log, rate-limited per (site, source) by a token bucket: a burst
 * of `burst` lines, then `per_sec` a second; what was dropped is counted and reported ("N similar
 * messages suppressed") before the next line that passes. site is the call
 * site (the format string), source whoever caused it (a uid, an address).
 */
void ssa_log_limited(enum ssa_log_level lvl, const void *site, uint64_t source,
		     unsigned burst, unsigned per_sec, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/**
 * Escape a string for a log line: control characters, DEL, bytes >= 0x80
 * and the backslash become \xNN; the rest is copied. Every line ssad
 * logs goes through it. @return the length written (out is NUL-terminated,
 * truncated to cap)
 */
size_t ssa_log_escape(const char *in, char *out, size_t cap);

/**
 * What an event is about, for a structured log (the journal's fields):
 * set for the next line of this thread with ssa_log_with(). Any member
 * may be NULL (or -1 for the numbers): not known.
 */
struct ssa_log_fields {
	const char *program; /**< the application's executable */
	long pid;            /**< its process */
	long uid;            /**< its user */
	const char *profile; /**< the policy it was under */
	const char *peer;    /**< the remote address "host:port" */
	const char *sni;     /**< server name asked for (client: the host name) */
	const char *reason;  /**< why it failed */
};

/**
 * Attach f to the next line this thread logs (until ssa_log_with(NULL)).
 * Only a structured sink uses it; stderr gets the line as before.
 */
void ssa_log_with(const struct ssa_log_fields *f);

/**
 * A structured destination for every line (the journal, journal.h): called
 * with the escaped line and the fields attached by ssa_log_with(), or
 * NULL. Returns true when the line needs no copy on stderr.
 */
typedef bool (*ssa_log_sink_fn)(enum ssa_log_level lvl, const char *line,
				const struct ssa_log_fields *f);

/** Install (or with NULL remove) the structured sink. Before threads start. */
void ssa_log_set_sink(ssa_log_sink_fn sink);

#define log_limited(lvl, source, burst, per_sec, fmt, ...) \
	ssa_log_limited(lvl, fmt, (uint64_t)(source), burst, per_sec, fmt, __VA_ARGS__)

#define log_err(...) ssa_log(SSA_LOG_ERR, __VA_ARGS__)
#define log_warn(...) ssa_log(SSA_LOG_WARN, __VA_ARGS__)
#define log_info(...) ssa_log(SSA_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                    \
	do {                                              \
		if (ssa_log_threshold >= SSA_LOG_DEBUG)   \
			ssa_log(SSA_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
