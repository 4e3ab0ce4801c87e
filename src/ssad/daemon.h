/* SPDX-License-Identifier: MIT */
/**
 * @file daemon.h
 * @brief The daemon's shared state: policy, contexts, loop, statistics.
 */
#ifndef SSAD_DAEMON_H
#define SSAD_DAEMON_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "engine/config.h"
#include "event_loop.h"
#include "engine/policy.h"
#include "../proto/wire.h"

struct ssa_conn;
struct ssa_ctl_client;

#define SSA_FAILURE_KINDS 32

/** Handshake failures counted by reason (the reason up to " ("). */
struct ssa_failure_count {
	char reason[96];
	uint64_t count;
};

/** Upper bounds (ms) of the handshake duration histogram's buckets; one
 * more bucket counts the rest (+Inf). */
#define SSA_HS_BUCKET_BOUNDS_MS { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 }
#define SSA_HS_BUCKETS 14

struct ssa_stats {
	struct ssa_failure_count failures[SSA_FAILURE_KINDS];
	uint64_t sockets_created;
	uint64_t handshakes_ok;
	uint64_t handshakes_failed;
	uint64_t hs_bucket[SSA_HS_BUCKETS]; /**< successful handshakes by duration (not cumulative) */
	uint64_t hs_sum_us;                 /**< their total duration */
	uint64_t bad_requests;
	/** Socket requests answered (SOCKET, SETOPT, GETOPT, CONNECT, INFO,
	 * BIND, LISTEN), by message type: each is one control round trip of
	 * an application's socket call (issue 15). Admin requests not counted. */
	uint64_t ctl_requests[SSA_MSG_TYPE_MAX + 1];
	uint64_t conns_live;
	uint64_t clients_live;
};

struct ssad {
	struct ssa_policy_set *policy; /**< current policies (swapped on reload) */
	uint64_t generation;           /**< policy generation, 1 at start */
	uint64_t instance;             /**< random, new at every start: lets the
					*   front ends tell a restart from a close */
	struct ssa_loop loop;     /**< one worker for now; see README "threading" */
	struct ssa_watch listener;
	struct ssa_deadline listener_pause; /**< re-enable after EMFILE */
	const char *socket_path;
	uint64_t started_ms;
	struct ssa_stats stats;
	struct ssa_conn *conns;   /**< list of live connections */
	struct ssa_ctl_client *clients; /**< list of control clients */
};

/**
 * Load the configuration again and swap the policies in.
 * @retval 0 done; -1 refused (err says why; the old policy stays)
 */
int ssad_reload(struct ssad *d, char *err, size_t errlen);

/**
 * Count a successful handshake that began at start_us (ssa_now_us()) (stats.c):
 * handshakes_ok and the duration histogram.
 */
void ssad_count_handshake(struct ssad *d, uint64_t start_us);

/** Count a handshake failure under its reason. */
void ssad_count_failure(struct ssad *d, const char *reason);

#endif
