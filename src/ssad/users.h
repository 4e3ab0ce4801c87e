/* SPDX-License-Identifier: MIT */
/**
 * @file users.h
 * @brief What ssad holds on each local user's behalf, and her limits.
 *
 * Every resource ssad keeps for a user is counted under her uid (from
 * SO_PEERCRED of the control connection; a server's accepted connections
 * are its owner's): TLS sockets (live, and released ones whose descriptor
 * the application still holds: their SO_ERROR/TLS_ERROR record), client
 * handshakes in progress, control connections, trust anchors, and the
 * loop time her requests cost. The limits are the [global] max-* keys of
 * ssa.conf(5); a user at a limit gets EMFILE/EAGAIN/ENOBUFS/EFBIG and
 * nobody else notices.
 *
 * Loop thread only.
 */
#ifndef SSAD_USERS_H
#define SSAD_USERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ssad;
struct ssa_limits;

struct ssa_user {
	uid_t uid;
	unsigned sockets;     /**< connection records and tombs */
	unsigned handshakes;  /**< client connects in progress */
	unsigned clients;     /**< control connections */
	unsigned trusted;     /**< certificates held for TLS_TRUSTED_PEER_CERTIFICATES */
	double debt_ms;       /**< loop time spent on her requests, leaking away */
	uint64_t debt_at_ms;
	uint64_t gc_at_ms;    /**< last tomb collection asked for her */
	uint64_t active_ms;   /**< her last control request */
};

/** Remember the daemon (timers) and the descriptor limit; arm the sweep. */
void ssa_users_init(struct ssad *d);
void ssa_users_fini(void);

/** The record of uid, made on first use; NULL when out of memory. */
struct ssa_user *ssa_user_of(uid_t uid);

/** The effective max-sockets-per-user. */
unsigned ssa_users_max_sockets(const struct ssad *d);

/**
 * Is a new descriptor numbered fd inside ssad's reserve (the last
 * descriptors, kept so that per-user limits are reached before ssad runs
 * out)? Descriptors are numbered lowest first, so a high number means few
 * are left.
 */
bool ssa_fd_in_reserve(int fd);

/**
 * May u have one more socket? At her limit, first forget the records of
 * sockets she has closed since (ssa_registry_gc), at most every 100 ms.
 */
bool ssa_user_socket_ok(struct ssad *d, struct ssa_user *u);

/** Log (at most once a second per user) that u hit the limit named key. */
void ssa_user_refused(struct ssa_user *u, const char *key, unsigned limit, int pid);

/** Has u used up her share of the loop's time (max-request-ms-per-user)
 * while another user needs it (made a request in the last second)? Alone,
 * a user may have all of it. */
bool ssa_user_busy(const struct ssad *d, struct ssa_user *u);
/** Charge ms of loop time to u. */
void ssa_user_charge(struct ssa_user *u, double ms);

/** Give freed memory back to the system soon (malloc_trim), once. */
void ssa_trim_soon(void);

#endif
