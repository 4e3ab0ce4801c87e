/* SPDX-License-Identifier: MIT */
/**
 * @file journal.h
 * @brief Log lines as structured journal entries when ssad runs under
 *        systemd (the journal's native protocol, written out: no libsystemd).
 *
 * Each line becomes one datagram on the journal's socket: PRIORITY=,
 * SYSLOG_IDENTIFIER=ssad, MESSAGE= and, for a failed handshake or connect,
 * the fields of struct ssa_log_fields as PROGRAM=, PROGRAM_PID=, UID=,
 * PROFILE=, PEER=, SNI= and REASON=. Values that came from outside are
 * escaped and bounded as log lines are (log.h). Where the journal is not
 * reachable a line goes to stderr as before.
 */
#ifndef SSAD_JOURNAL_H
#define SSAD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/log.h"

/** The journal's socket (systemd-journald.socket). */
#define SSA_JOURNAL_SOCKET "/run/systemd/journal/socket"

/**
 * Under systemd ($JOURNAL_STREAM or $INVOCATION_ID set), send every log line
 * to the journal from now on. $SSA_JOURNAL_SOCKET names another socket
 * (tests). Call once, before threads start.
 * @retval true lines go to the journal (and to stderr too unless stderr is
 *         the journal's stream already)
 * @retval false not under systemd, or no journal socket: stderr only
 */
bool ssa_journal_start(void);

/** Stop sending to the journal (exit). */
void ssa_journal_stop(void);

/**
 * One journal entry in the native format: for each (key, value) pair
 * "KEY=value\n", or for a value holding a newline the binary-safe form
 * "KEY\n", its length as 64-bit little endian, the bytes, "\n".
 * Keys must be journal field names (A-Z, 0-9, '_'; not starting with '_').
 * @retval the entry's length, or 0 when it does not fit in cap or a key is
 *         not a valid field name
 */
size_t ssa_journal_format(char *out, size_t cap, const char *const *keys,
			  const char *const *values, size_t n);

#endif
