/* SPDX-License-Identifier: MIT */
/**
 * @file daemon.h
 * @brief The daemon's shared state: policy, contexts, loop, statistics.
 */
#ifndef SSAD_DAEMON_H
#define SSAD_DAEMON_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "config.h"
#include "event_loop.h"

struct ssa_conn;

struct ssa_stats {
	uint64_t sockets_created;
	uint64_t handshakes_ok;
	uint64_t handshakes_failed;
	uint64_t bad_requests;
	uint64_t conns_live;
	uint64_t clients_live;
};

struct ssad {
	struct ssa_config cfg;
	SSL_CTX *client_ctx;      /**< shared by every client connection */
	struct ssa_loop loop;     /**< one worker for now; see README "threading" */
	struct ssa_watch listener;
	struct ssa_deadline listener_pause; /**< re-enable after EMFILE */
	const char *socket_path;
	uint64_t started_ms;
	struct ssa_stats stats;
	struct ssa_conn *conns;   /**< list of live connections */
};

#endif
