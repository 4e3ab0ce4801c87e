/* SPDX-License-Identifier: MIT */
/**
 * @file revocation.h
 * @brief Certificate revocation: CRLs from the policy's crl-file, and
 *        OCSP responses stapled by the peer.
 *
 * ssad never fetches anything from the network on a handshake's behalf:
 * it checks the revocation data it has (CRLs the administrator installed,
 * responses the peer staples). Online OCSP is not offered.
 *
 * CRL checking is hard-fail: with it on, a certificate whose issuer has no
 * CRL is refused ("unable to get certificate CRL"). Stapled checking is
 * soft-fail on absence (most servers staple nothing) and hard-fail on
 * content: a response that does not verify, is stale, or says "revoked"
 * ends the handshake.
 */
#ifndef SSAD_REVOCATION_H
#define SSAD_REVOCATION_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "config.h"

/**
 * Load the policy's CRLs into ctx's store and switch on what the policy
 * asks for (CRL checks on the whole chain; stapled OCSP for clients).
 * @retval 0, or -1 with err set (for example an unreadable crl-file)
 */
int ssa_revocation_ctx(SSL_CTX *ctx, const struct ssa_config *cfg, bool client,
		       char *err, size_t errlen);

/** What an application turned on for one connection (tighten-only). */
void ssa_revocation_ssl(SSL *ssl, bool crl_checks, bool ocsp_stapled);

/** The reason a stapled response was refused in this handshake, or NULL. */
const char *ssa_revocation_failure(SSL *ssl);

#endif
