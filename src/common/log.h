/* SPDX-License-Identifier: MIT */
/** @file log.h  Logging to stderr (journald picks it up under systemd). */
#ifndef SSA_COMMON_LOG_H
#define SSA_COMMON_LOG_H

enum ssa_log_level { SSA_LOG_ERR = 0, SSA_LOG_WARN, SSA_LOG_INFO, SSA_LOG_DEBUG };

extern enum ssa_log_level ssa_log_threshold;

/** Parse "error", "warning", "info" or "debug"; -1 if unknown. */
int ssa_log_level_parse(const char *s);

void ssa_log(enum ssa_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) ssa_log(SSA_LOG_ERR, __VA_ARGS__)
#define log_warn(...) ssa_log(SSA_LOG_WARN, __VA_ARGS__)
#define log_info(...) ssa_log(SSA_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                    \
	do {                                              \
		if (ssa_log_threshold >= SSA_LOG_DEBUG)   \
			ssa_log(SSA_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
