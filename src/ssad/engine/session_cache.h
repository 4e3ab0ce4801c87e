/* SPDX-License-Identifier: MIT */
/**
 * @file session_cache.h
 * @brief Client session cache: TLS sessions that client sockets may resume.
 *
 * A session is stored under a key that names everything its verification
 * depended on or that it authenticates: the user and the policy profile
 * (and its generation: a reload starts afresh), the name verified and the
 * peer's address and port, the client identity offered, the application's
 * extra trust anchors, ALPN list and tightening. A connection resumes only
 * a session made under the same key, so resumption never skips a check
 * that a full handshake of that connection would have made, and never
 * lends one user's or profile's client identity to another.
 *
 * TLS 1.3 tickets are used once: taking a session removes it (a server
 * normally sends a fresh ticket on the resumed connection). Up to
 * SSA_SESSION_PER_KEY sessions are kept per key, max-sessions-per-user per
 * user and SSA_SESSION_MAX in all, the least recently stored going first. Sessions expire after the
 * shortest of the server's ticket lifetime, the policy's session-timeout
 * and the application's TLS_SESSION_TTL.
 *
 * Thread-safe: a TLS 1.2 session is stored by a handshake worker.
 */
#ifndef SSAD_SESSION_CACHE_H
#define SSAD_SESSION_CACHE_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SSA_SESSION_MAX 8192
#define SSA_SESSION_PER_KEY 4

struct ssa_policy;
struct ssa_tls_opts;

/** Make a client context store its new sessions here (policy allowing). */
void ssa_session_cache_ctx(SSL_CTX *ctx);

/**
 * Prepare a client connection whose SSL object is fully set up: when the
 * policy and the application allow resumption, give it a cached session
 * of its key (if any) and mark it so that its new sessions are stored.
 * @param ssl the connection, made from pol->client_ctx
 * @param pol the policy it runs under
 * @param o its TLS options (the key covers them)
 * @param peer the server's address (as connected to), peer_len its size
 * @param uid the user it is made for (whose sessions it may take)
 * @retval 0 done (whether or not a session was found)
 * @retval -1 out of memory
 */
int ssa_session_cache_prepare(SSL *ssl, const struct ssa_policy *pol,
			      const struct ssa_tls_opts *o, const struct sockaddr *peer,
			      socklen_t peer_len, uid_t uid);

/** At most n sessions per user (max-sessions-per-user): a user at her
 * bound replaces her own oldest session, never another user's. */
void ssa_session_cache_per_user(size_t n);

/** Drop every cached session (reload, exit). */
void ssa_session_cache_flush(void);

/** Sessions held now (ssactl status). */
size_t ssa_session_cache_count(void);

#endif
