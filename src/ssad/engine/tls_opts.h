/* SPDX-License-Identifier: MIT */
/**
 * @file tls_opts.h
 * @brief A socket's TLS options as one value.
 *
 * What an application asked of one IPPROTO_TLS socket, whichever front end
 * it came through (libssa's control requests or ssa.ko's netlink
 * messages): the peer's host name, its own identities, extra trust anchors,
 * ALPN, peer authentication and the restrictions that tighten the policy.
 * The engine builds a client SSL or a server context from a policy and one
 * of these (tls_setup.h); the rules that keep options tighten-only are pure
 * functions over (policy, options).
 */
#ifndef SSAD_TLS_OPTS_H
#define SSAD_TLS_OPTS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "identity.h"
#include "tls_context.h"

#define SSA_HOSTNAME_MAX 255
#define SSA_ERROR_MAX 256

struct ssa_tls_opts {
	char hostname[SSA_HOSTNAME_MAX + 1];         /**< TLS_REMOTE_HOSTNAME */
	struct ssa_identity ids[SSA_MAX_IDENTITIES]; /**< own chains and keys */
	int n_ids;
	STACK_OF(X509) *trusted;      /**< TLS_TRUSTED_PEER_CERTIFICATES */
	unsigned char alpn[256];      /**< ALPN wire format, preference order */
	size_t alpn_len;
	int peer_auth;                /**< TLS_REQUEST_PEER_AUTH */
	struct ssa_restrict tighten;  /**< the application's tightening of the policy */
	char error[SSA_ERROR_MAX];    /**< why the last option or handshake failed */
};

#endif
