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

/**
 * Build the client context for a policy.
 * @retval NULL on failure; err explains (for example an unreadable trust store)
 */
SSL_CTX *ssa_tls_client_ctx_new(const struct ssa_config *cfg, char *err, size_t errlen);

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
