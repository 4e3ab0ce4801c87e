/* SPDX-License-Identifier: MIT */
/**
 * @file tls_setup.h
 * @brief One TLS set-up for both front ends: a client SSL, and a server
 *        context with its connections, from a policy and a socket's TLS
 *        options.
 *
 * The libssa front end (libssa_front/conn.c, listener.c) and the kernel
 * front end (kernel_front/kernel_hs.c) call these and keep no set-up of
 * their own, so that a fix of the TLS set-up reaches both.
 *
 * Identities: an identity is a certificate chain with its private key.
 * Options can hold a chain whose key has not come yet (only the last one:
 * TLS_CERTIFICATE_CHAIN is refused until the previous chain has its key).
 * Such a chain is never used and never silently replaced by another
 * identity (an earlier one, or the one the profile grants): neither role
 * starts a handshake with it, both fail with EINVAL and "TLS_PRIVATE_KEY
 * missing for the last TLS_CERTIFICATE_CHAIN" (ssa_tls_identities_check()).
 * Otherwise a client offers its first identity, or the profile's granted
 * one when it set none; a server serves all of its identities (chosen by
 * SNI, the first by default), then the granted one.
 */
#ifndef SSAD_TLS_SETUP_H
#define SSAD_TLS_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <openssl/ssl.h>

#include "ktls_keys.h"
#include "policy.h"
#include "tls_opts.h"

/** Where a client connection goes, and whom it is made for. */
struct ssa_tls_client_peer {
	const struct sockaddr *addr; /**< the server's address, as connected to */
	socklen_t len;               /**< its size */
	uid_t uid;                   /**< the user the connection is made for
				      *   (whose cached sessions it may resume) */
};

/** How a server context will be used (ssa_tls_server_ctx_build()). */
enum ssa_tls_server_use {
	/**
	 * The context serves connections of one listener for its life
	 * (libssa listeners): it issues session tickets and keeps a session
	 * cache, as the policy and the application's tightening allow.
	 */
	SSA_TLS_SERVER_LISTENER = 0,
	/**
	 * The context serves a single accepted connection and goes with it
	 * (the kernel front end: ssa.ko hands ssad each accepted TCP socket
	 * alone, ssad holds no listener). Its ticket keys and session cache
	 * would die with it, so a ticket could never be redeemed: no tickets,
	 * no session cache (a client is not handed a useless ticket).
	 */
	SSA_TLS_SERVER_ONE_CONNECTION = 1,
};

/**
 * The identity rule (see above), for a server or a client socket.
 * @retval 0 the identities can be used
 * @retval EINVAL the last chain has no key, or (server) there is no
 *         identity at all, neither the socket's nor a granted one; why says
 *         which
 */
int ssa_tls_identities_check(const struct ssa_policy *pol, const struct ssa_tls_opts *o,
			     bool server, char *why, size_t wl);

/**
 * A client connection on a connected TCP socket, ready for its handshake:
 * server name (SNI) and verification of the host name, or of the IP
 * address when the host name is an address literal or unset (then the
 * peer's address is verified), the identity offered, the policy's lists
 * and the application's restrictions, ALPN, the application's extra trust
 * anchors, and last (its key covers all of these) a cached session to
 * resume where the policy and the application allow it.
 * @param pol the policy (its client context)
 * @param o the socket's options
 * @param peer the server's address and the user
 * @param fd the TCP socket
 * @param ktls non-NULL: prepared for kernel TLS (offload on, no
 *        read-ahead, the receive secret kept there; ktls_keys.h)
 * @param err receives the errno on failure
 * @param why receives the reason on failure
 * @param wl size of why
 * @retval the SSL (the caller frees it)
 * @retval NULL with *err EINVAL (identity rule) or ENOMEM (anything else:
 *         "cannot set up the TLS session")
 */
SSL *ssa_tls_client_new(const struct ssa_policy *pol, const struct ssa_tls_opts *o,
			const struct ssa_tls_client_peer *peer, int fd,
			struct ssa_ktls_secret *ktls, int *err, char *why, size_t wl);

/**
 * A server context from a policy and a socket's options: its identities
 * with their keys and the granted one, ALPN, client authentication (the
 * socket's, raised to the policy's floor: o->peer_auth is raised in place,
 * what getsockopt(TLS_REQUEST_PEER_AUTH) reports), the accepted client CAs
 * (the socket's trust anchors, else the policy's trust store), the
 * policy's lists and the application's restrictions, session tickets and
 * cache as use says, and keylog capture for kernel TLS when ktls.
 * @param pol the policy
 * @param o the socket's options (peer_auth may be raised)
 * @param use what the context serves (enum ssa_tls_server_use)
 * @param ktls its connections may go to kernel TLS
 * @param err receives the errno on failure
 * @param why receives the reason on failure
 * @param wl size of why
 * @retval the context (the caller frees it)
 * @retval NULL with *err EINVAL (identity rule, or the restrictions leave
 *         nothing usable, or OpenSSL refused the identities or anchors) or
 *         ENOMEM
 */
SSL_CTX *ssa_tls_server_ctx_build(const struct ssa_policy *pol, struct ssa_tls_opts *o,
				  enum ssa_tls_server_use use, bool ktls, int *err, char *why,
				  size_t wl);

/**
 * A server connection of ctx on an accepted TCP socket, ready for its
 * handshake.
 * @param ktls non-NULL: prepared for kernel TLS, as for a client
 * @retval the SSL, or NULL when out of memory
 */
SSL *ssa_tls_server_new(SSL_CTX *ctx, int fd, struct ssa_ktls_secret *ktls);

#endif
