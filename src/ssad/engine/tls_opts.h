/* SPDX-License-Identifier: MIT */
/**
 * @file tls_opts.h
 * @brief A socket's TLS options as one value, and the tighten-only rules.
 *
 * What an application asked of one IPPROTO_TLS socket, whichever front end
 * it came through (libssa's control requests or ssa.ko's netlink
 * messages): the peer's host name, its own identities, extra trust anchors,
 * ALPN, peer authentication and the restrictions that tighten the policy.
 * The engine builds a client SSL or a server context from a policy and one
 * of these (tls_setup.h).
 *
 * The rules that keep options tighten-only are pure functions over
 * (policy, options): no I/O, no connection. An application may only
 * tighten the administrator's policy (ssa.conf(5)):
 *
 * | option                         | tightening (0)          | weakening (EPERM)            |
 * |--------------------------------|-------------------------|------------------------------|
 * | TLS_VERSION_MIN                | at or above the floor   | below it; any SSL 3..TLS 1.1 |
 * | TLS_VERSION_MAX                | at or below the ceiling | above it; any SSL 3..TLS 1.1 |
 * | TLS_DISABLE_CIPHER             | always                  | -                            |
 * | TLS_ENABLE_CIPHER              | within the policy       | outside the policy           |
 * | TLS_SESSION_TTL                | up to session-timeout   | above it                     |
 * | TLS_SESSION_REUSE              | 0; 1 if session-tickets | 1 under session-tickets = no |
 * | TLS_REVOCATION/CRL/OCSP_STAPLED| 1; 0 if policy has none | 0 where the policy checks    |
 * | TLS_CACHED_REV_CHECKS          | 1                       | 0 (always on)                |
 * | TLS_REQUEST_PEER_AUTH          | at or above the floor   | below request-peer-auth      |
 * | TLS_TRUSTED_PEER_CERTIFICATES  | app-trust-anchors = yes,| otherwise                    |
 * |                                | or a server's client CAs|                              |
 *
 * Every rule returns 0 or an errno and, where there is one to give, writes
 * a readable reason into the options' error text (TLS_ERROR). A refused
 * option leaves the options as they were (the error text aside; the one
 * exception, a bad ALPN list, is documented at ssa_opts_set_alpn()).
 */
#ifndef SSAD_TLS_OPTS_H
#define SSAD_TLS_OPTS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "identity.h"
#include "tls_context.h"

#define SSA_HOSTNAME_MAX 255
#define SSA_ERROR_MAX 256

struct ssa_policy;

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

/** Empty options: nothing set, every value the policy's. */
void ssa_tls_opts_init(struct ssa_tls_opts *o);

/** Free what the options hold (identities, anchors, disabled ciphers) and
 * empty them again (ssa_tls_opts_init()). */
void ssa_tls_opts_clear(struct ssa_tls_opts *o);

/**
 * Write a readable reason into o->error and return err, so that a rule
 * can end with `return ssa_opts_fail(o, EPERM, "...", ...)`.
 * @return err
 */
__attribute__((format(printf, 3, 4)))
int ssa_opts_fail(struct ssa_tls_opts *o, int err, const char *fmt, ...);

/* --- values, checked without a policy ----------------------------------- */

/** A DNS name or an IP literal: letters, digits, '-', '_', '.', ':' only,
 * labels of 1..63 bytes. */
bool ssa_opts_hostname_ok(const char *name);

/**
 * TLS_VERSION_MIN / TLS_VERSION_MAX values.
 * @retval 0 TLS_VERSION_1_2 or TLS_VERSION_1_3
 * @retval EPERM SSL 3.0 .. TLS 1.1: below any policy (reason set)
 * @retval EINVAL anything else
 */
int ssa_opts_version_value(struct ssa_tls_opts *o, int v);

/** TLS_REQUEST_PEER_AUTH values. @retval 0 0..2 @retval EINVAL otherwise */
int ssa_opts_peer_auth_value(int v);

/** On/off switches (TLS_SESSION_REUSE, revocation). @retval 0 0 or 1
 * @retval EINVAL otherwise */
int ssa_opts_bool_value(int v);

/** TLS_SESSION_TTL values. @retval 0 ttl >= 0 @retval EINVAL negative */
int ssa_opts_ttl_value(long ttl);

/* --- the rules ------------------------------------------------------------ */

/**
 * TLS_REMOTE_HOSTNAME: the SNI name and the name the peer must prove.
 * @retval 0 set
 * @retval EINVAL longer than SSA_HOSTNAME_MAX or not a host name
 */
int ssa_opts_set_hostname(struct ssa_tls_opts *o, const char *name);

/**
 * TLS_ALPN: "h2,http/1.1" into wire format.
 * @retval 0 set
 * @retval EINVAL not a list of 1..255-byte names (reason set); as ssad
 *         always did, the socket is then left without any ALPN list
 */
int ssa_opts_set_alpn(struct ssa_tls_opts *o, const char *list);

/**
 * TLS_REQUEST_PEER_AUTH: client-certificate authentication of a server.
 * @retval 0 set
 * @retval EINVAL not 0, 1 or 2
 * @retval EPERM below the policy's request-peer-auth (reason set)
 */
int ssa_opts_set_peer_auth(const struct ssa_policy *pol, struct ssa_tls_opts *o, int v);

/**
 * TLS_VERSION_MIN: raise the lowest version.
 * @retval 0 set
 * @retval EPERM below the policy's min-version, or an obsolete version
 * @retval EINVAL not a version, or above the (effective) maximum
 */
int ssa_opts_set_version_min(const struct ssa_policy *pol, struct ssa_tls_opts *o, int v);

/**
 * TLS_VERSION_MAX: lower the highest version.
 * @retval 0 set
 * @retval EPERM above the policy's max-version, or an obsolete version
 * @retval EINVAL not a version, or below the (effective) minimum
 */
int ssa_opts_set_version_max(const struct ssa_policy *pol, struct ssa_tls_opts *o, int v);

/**
 * TLS_DISABLE_CIPHER: never use a cipher (OpenSSL or IANA name).
 * @retval 0 disabled (or already was)
 * @retval EINVAL unknown cipher, or too many disabled (reason set)
 * @retval ENOMEM no memory
 */
int ssa_opts_disable_cipher(struct ssa_tls_opts *o, const char *name);

/**
 * TLS_ENABLE_CIPHER: undo TLS_DISABLE_CIPHER, within the policy only.
 * @retval 0 enabled
 * @retval EINVAL unknown cipher (reason set)
 * @retval EPERM the policy does not allow that cipher (reason set)
 */
int ssa_opts_enable_cipher(const struct ssa_policy *pol, struct ssa_tls_opts *o,
			   const char *name);

/**
 * TLS_SESSION_TTL: shorten the session lifetime (0: no resumption).
 * @retval 0 set
 * @retval EINVAL negative
 * @retval EPERM above the policy's session-timeout (reason set)
 */
int ssa_opts_set_session_ttl(const struct ssa_policy *pol, struct ssa_tls_opts *o, long ttl);

/**
 * TLS_SESSION_REUSE: resumption on (1) or off (0).
 * @retval 0 set
 * @retval EINVAL not 0 or 1
 * @retval EPERM on, under session-tickets = no (reason set)
 */
int ssa_opts_set_session_reuse(const struct ssa_policy *pol, struct ssa_tls_opts *o, int v);

/**
 * The revocation switches: TLS_REVOCATION_CHECKS (both kinds),
 * TLS_CRL_CHECKS, TLS_OCSP_STAPLED_CHECKS, TLS_OCSP_CHECKS and
 * TLS_CACHED_REV_CHECKS. On tightens; off is accepted only where the
 * policy checks nothing of that kind (and then changes nothing).
 * @retval 0 set
 * @retval EINVAL not 0 or 1, or not a revocation option
 * @retval EPERM off where the policy checks, or cached checks off
 *         (reason set)
 * @retval EOPNOTSUPP online OCSP asked for (reason set)
 */
int ssa_opts_set_revocation(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
			    int v);

/**
 * May a TLS_CERTIFICATE_CHAIN be added now? (path: for the reason only)
 * @retval 0 yes
 * @retval EINVAL SSA_MAX_IDENTITIES held, or the previous chain has no
 *         key yet (reason set)
 */
int ssa_opts_may_add_chain(struct ssa_tls_opts *o, const char *path);

/**
 * May a TLS_PRIVATE_KEY be set now? (path: for the reason only)
 * @retval 0 yes
 * @retval EINVAL no chain waits for its key (reason set)
 */
int ssa_opts_may_set_key(struct ssa_tls_opts *o, const char *path);

/**
 * May TLS_TRUSTED_PEER_CERTIFICATES be set? A client only where the policy
 * lets applications add trust anchors; a socket that asked for client
 * certificates first names the client CAs it accepts, which extends
 * nobody's trust (ssa_opts_check_client() refuses it at connect where the
 * policy forbids anchors).
 * @retval 0 yes
 * @retval EPERM app-trust-anchors = no (reason set)
 */
int ssa_opts_may_add_anchors(const struct ssa_policy *pol, struct ssa_tls_opts *o);

/**
 * Add an identity's chain (after ssa_opts_may_add_chain()). chain moves
 * into the options.
 * @retval 0 added
 * @retval EINVAL as ssa_opts_may_add_chain() (chain is then the caller's)
 */
int ssa_opts_add_chain(struct ssa_tls_opts *o, STACK_OF(X509) *chain, const char *path);

/**
 * The key of the last chain. key moves into the options on success.
 * @retval 0 set
 * @retval EINVAL no chain waits for a key, or the key does not match it or
 *         is too weak (reason set; key is then the caller's)
 */
int ssa_opts_set_key(struct ssa_tls_opts *o, EVP_PKEY *key, const char *path);

/**
 * A client's whole options at connect: extra anchors only where the policy
 * allows them (whatever else the socket set).
 * @retval 0 fine
 * @retval EPERM anchors under app-trust-anchors = no (reason set)
 */
int ssa_opts_check_client(const struct ssa_policy *pol, struct ssa_tls_opts *o);

/**
 * Would every option these options hold be accepted under pol? For options
 * set under one policy and used under another (a reload, or the kernel
 * front end replaying a socket's options at its handshake). o is not
 * changed (the error text aside).
 * @retval 0 all within pol
 * @retval EPERM one of them weakens pol (reason set)
 * @retval EINVAL the minimum version is above the maximum (reason set)
 */
int ssa_opts_check(const struct ssa_policy *pol, struct ssa_tls_opts *o);

/* --- effective values (getsockopt) -------------------------------------- */

/** The peer authentication in force: the higher of the socket's and the
 * policy's. */
int ssa_opts_peer_auth(const struct ssa_policy *pol, const struct ssa_tls_opts *o);
/** The lowest version in force. */
int ssa_opts_version_min(const struct ssa_policy *pol, const struct ssa_tls_opts *o);
/** The highest version in force. */
int ssa_opts_version_max(const struct ssa_policy *pol, const struct ssa_tls_opts *o);
/** The session lifetime in force, seconds. */
long ssa_opts_session_ttl(const struct ssa_policy *pol, const struct ssa_tls_opts *o);
/** Resumption in force: 1 or 0. */
int ssa_opts_session_reuse(const struct ssa_policy *pol, const struct ssa_tls_opts *o);
/** A revocation switch in force (name as ssa_opts_set_revocation()): 1 or 0. */
int ssa_opts_revocation(const struct ssa_policy *pol, const struct ssa_tls_opts *o, int name);
/** The ciphers the socket may use, ':'-separated OpenSSL names; malloc'ed,
 * NULL if out of memory. */
char *ssa_opts_trusted_ciphers(const struct ssa_policy *pol, const struct ssa_tls_opts *o);

#endif
