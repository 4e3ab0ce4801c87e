/* SPDX-License-Identifier: MIT */
/**
 * @file notify_msg.h
 * @brief The worker's sd_notify datagrams, as its supervisor reads them: a
 *        parser with no I/O (fuzzed: fuzz/fuzz_notify.c).
 *
 * The worker says what a service manager would be told ("READY=1",
 * "RELOADING=1", "STOPPING=1", "FDSTORE=1\nFDNAME=x" with descriptors,
 * "FDSTOREREMOVE=1\nFDNAME=x"), and one line of its own,
 * "X_SSA_CONFIG=<64 hex digits>": the SHA-256 of the configuration it now
 * runs (supervisor/cfg_access.h); one datagram of newline-separated
 * KEY=VALUE lines. The supervisor trusts none of it: a line it does not
 * know is ignored, a malformed datagram is refused whole.
 */
#ifndef SSAD_NOTIFY_MSG_H
#define SSAD_NOTIFY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest datagram the supervisor reads. */
#define SSA_NOTIFY_MAX 4096
/** Longest FDNAME= (systemd's own limit, FDNAME_MAX). */
#define SSA_NOTIFY_NAME_MAX 255

/** What one datagram says. */
struct ssa_notify_msg {
	bool ready, reloading, stopping;
	bool fdstore, fdstore_remove;
	/** FDNAME=, NUL-terminated; "" when absent */
	char name[SSA_NOTIFY_NAME_MAX + 1];
	/** X_SSA_CONFIG=: the configuration the worker runs (has_config) */
	bool has_config;
	uint8_t config[32];
};

/**
 * Parse len bytes of one datagram into m.
 * @retval 0 parsed (unknown lines ignored)
 * @retval EINVAL a NUL byte, a line without '=', an FDNAME that is empty,
 *         too long or holds a byte that is not printable ASCII or is ':'
 *         (systemd's rule), FDSTORE and FDSTOREREMOVE both, or either
 *         without FDNAME, an X_SSA_CONFIG that is not 64 lowercase hex
 *         digits
 * @retval EMSGSIZE more than SSA_NOTIFY_MAX bytes
 */
int ssa_notify_parse(const char *buf, size_t len, struct ssa_notify_msg *m);

#endif
