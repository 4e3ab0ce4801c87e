/* SPDX-License-Identifier: MIT */
/**
 * @file tls_context.h
 * @brief Shared OpenSSL contexts built from the policy.
 *
 * One SSL_CTX per role and policy generation, built once (the trust store
 * is loaded once) and shared by every connection made under that policy.
 */
#ifndef SSAD_TLS_CONTEXT_H
#define SSAD_TLS_CONTEXT_H

#include <openssl/ssl.h>

#include "config.h"
#include "identity.h"

/** What an application narrowed on its socket (tighten-only options). */
struct ssa_restrict {
	int min_version, max_version;  /**< 0: the policy's */
	char *disabled[32];            /**< OpenSSL names of disabled ciphers */
	int n_disabled;
	long session_ttl;              /**< -1: the policy's */
	int session_reuse;             /**< -1: the policy's */
	bool crl_checks;               /**< the application turned CRL checks on */
	bool ocsp_stapled;             /**< ... and stapled OCSP checks */
};

/**
 * Find a cipher by OpenSSL or IANA name among all ciphers OpenSSL knows.
 * @retval its OpenSSL name (static storage) or NULL if unknown
 */
const char *ssa_tls_cipher_name(const char *name);

/** Apply the policy's lists and the application's restrictions to one
 * connection or to a listener's context. @retval 0 or -1 */
int ssa_tls_restrict_ssl(SSL *ssl, const struct ssa_config *cfg, const struct ssa_restrict *r);
int ssa_tls_restrict_ctx(SSL_CTX *ctx, const struct ssa_config *cfg,
			 const struct ssa_restrict *r);

/** The ciphers a connection under cfg and r may use, ':'-separated
 * OpenSSL names; malloc'ed. */
char *ssa_tls_trusted_ciphers(SSL_CTX *ctx, const struct ssa_config *cfg,
			      const struct ssa_restrict *r);

void ssa_restrict_clear(struct ssa_restrict *r);

/** What a listener's context serves: identities (chosen by SNI, first is
 * the default) and the ALPN preference list. Owned by the context. */
struct ssa_srv {
	struct ssa_identity ids[SSA_MAX_IDENTITIES];
	int n_ids;
	unsigned char alpn[256]; /**< wire format; empty: no ALPN */
	size_t alpn_len;
};

/**
 * Build the client context for a policy.
 * @retval NULL on failure; err explains (for example an unreadable trust store)
 */
SSL_CTX *ssa_tls_client_ctx_new(const struct ssa_config *cfg, char *err, size_t errlen);

/**
 * Build a listener's context. srv moves into the context (freed with it),
 * also on failure.
 * @param peer_auth 0 none, 1 request, 2 require a client certificate
 * @param client_cas accepted client-certificate issuers, or NULL for the
 *        policy trust store
 * @retval NULL on failure (err says why)
 */
SSL_CTX *ssa_tls_server_ctx_new(const struct ssa_config *cfg, struct ssa_srv *srv,
				int peer_auth, STACK_OF(X509) *client_cas, char *err,
				size_t errlen);

/** Encode "h2,http/1.1" as ALPN wire format. @retval 0 or EINVAL */
int ssa_alpn_encode(const char *list, unsigned char *out, size_t cap, size_t *len);

/** Trust extra anchors (and pinned peers) on one client connection, on top
 * of the context's trust store. @retval 0 or -1 */
int ssa_tls_add_anchors(SSL *ssl, SSL_CTX *ctx, STACK_OF(X509) *extra);

/** Use an identity on one connection (client certificates). @retval 0 or -1 */
int ssa_tls_use_identity(SSL *ssl, const struct ssa_identity *id);

/**
 * A readable reason for a failed handshake on ssl, from the verification
 * result and the OpenSSL error queue (which is cleared).
 */
void ssa_tls_failure_reason(SSL *ssl, int ssl_err, char *buf, size_t len);

/** "subject=...; san=DNS:...,IP:..." of a certificate. */
int ssa_tls_identity(X509 *cert, char *buf, size_t len);

/** PEM of the peer's chain as sent, leaf first. Returns malloc'ed text or NULL. */
char *ssa_tls_peer_chain_pem(SSL *ssl, size_t *len);

#endif
