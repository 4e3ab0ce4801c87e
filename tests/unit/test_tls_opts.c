/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the tighten-only rules (src/ssad/engine/tls_opts.c): every
 * row of the bypass matrix (tls_opts.h). Each weakening is refused with
 * EPERM, gives a reason and leaves the options unchanged; each tightening
 * is accepted and shows in the effective values; options accepted under
 * one policy are checked again under a stricter one (a reload).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ssa/in_tls.h"
#include "../../src/ssad/engine/config.h"
#include "../../src/ssad/engine/policy.h"
#include "../../src/ssad/engine/tls_opts.h"

#include "policy_fixture.h"

/* ---- helpers -------------------------------------------------------------- */

/* The options before a rule ran, up to the error text (which may change). */
struct snapshot {
	unsigned char bytes[offsetof(struct ssa_tls_opts, error)];
};

static void snap(struct snapshot *s, const struct ssa_tls_opts *o)
{
	memcpy(s->bytes, o, sizeof s->bytes);
}

static void assert_unchanged(const struct snapshot *s, const struct ssa_tls_opts *o)
{
	assert_memory_equal(s->bytes, o, sizeof s->bytes);
}

/* The error text says why (reason NULL: anything, or nothing). */
static void assert_reason(const struct ssa_tls_opts *o, const char *reason)
{
	if (reason && !strstr(o->error, reason))
		fail_msg("reason '%s' lacks '%s'", o->error, reason);
}

/* expr must be refused with err, say why and change nothing. */
#define REFUSED(f, expr, err, reason)                                                   \
	do {                                                                            \
		struct snapshot s_;                                                     \
		snap(&s_, &(f)->o);                                                     \
		(f)->o.error[0] = '\0';                                                 \
		assert_int_equal((expr), (err));                                        \
		assert_unchanged(&s_, &(f)->o);                                         \
		assert_reason(&(f)->o, (reason));                                       \
	} while (0)

#define WEAKENING(f, expr, reason) REFUSED(f, expr, EPERM, reason)

#define P(f, i) (&(f)->pol[i])

/* ---- versions --------------------------------------------------------------- */

static void version_values(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_opts_version_value(&f->o, TLS_VERSION_1_2), 0);
	assert_int_equal(ssa_opts_version_value(&f->o, TLS_VERSION_1_3), 0);
	for (int v = 0x0300; v < TLS_VERSION_1_2; v++)
		WEAKENING(f, ssa_opts_version_value(&f->o, v), "is never allowed");
	REFUSED(f, ssa_opts_version_value(&f->o, 0), EINVAL, NULL);
	REFUSED(f, ssa_opts_version_value(&f->o, 0x0305), EINVAL, NULL);
	REFUSED(f, ssa_opts_version_value(&f->o, -1), EINVAL, NULL);
}

static void version_min_obsolete_refused(void **state)
{
	struct fixture *f = *state;

	for (int v = 0x0300; v <= 0x0302; v++) {
		WEAKENING(f, ssa_opts_set_version_min(P(f, LAX), &f->o, v), "never allowed");
		WEAKENING(f, ssa_opts_set_version_max(P(f, LAX), &f->o, v), "never allowed");
	}
	assert_int_equal(ssa_opts_version_min(P(f, LAX), &f->o), TLS_VERSION_1_2);
}

static void version_min_below_policy_refused(void **state)
{
	struct fixture *f = *state;

	WEAKENING(f, ssa_opts_set_version_min(P(f, STRICT), &f->o, TLS_VERSION_1_2),
		  "TLS_VERSION_MIN 0x0303 is below the policy minimum 0x0304 (profile strict)");
	assert_int_equal(ssa_opts_version_min(P(f, STRICT), &f->o), TLS_VERSION_1_3);
}

static void version_max_above_policy_refused(void **state)
{
	struct fixture *f = *state;

	WEAKENING(f, ssa_opts_set_version_max(P(f, TLS12), &f->o, TLS_VERSION_1_3),
		  "TLS_VERSION_MAX 0x0304 is above the policy maximum 0x0303 (profile tls12)");
	assert_int_equal(ssa_opts_version_max(P(f, TLS12), &f->o), TLS_VERSION_1_2);
}

static void version_tightening_accepted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_opts_set_version_min(P(f, DEFAULT), &f->o, TLS_VERSION_1_2), 0);
	assert_int_equal(ssa_opts_set_version_min(P(f, DEFAULT), &f->o, TLS_VERSION_1_3), 0);
	assert_int_equal(ssa_opts_version_min(P(f, DEFAULT), &f->o), TLS_VERSION_1_3);
	assert_int_equal(ssa_opts_set_version_max(P(f, DEFAULT), &f->o, TLS_VERSION_1_3), 0);
	assert_int_equal(ssa_opts_version_max(P(f, DEFAULT), &f->o), TLS_VERSION_1_3);

	ssa_tls_opts_clear(&f->o);
	assert_int_equal(ssa_opts_set_version_max(P(f, DEFAULT), &f->o, TLS_VERSION_1_2), 0);
	assert_int_equal(ssa_opts_version_max(P(f, DEFAULT), &f->o), TLS_VERSION_1_2);
	assert_int_equal(ssa_opts_version_min(P(f, DEFAULT), &f->o), TLS_VERSION_1_2);
}

static void version_nothing_left_is_einval(void **state)
{
	struct fixture *f = *state;

	/* Under a TLS 1.3 floor a TLS 1.2 ceiling leaves no version. */
	REFUSED(f, ssa_opts_set_version_max(P(f, STRICT), &f->o, TLS_VERSION_1_2), EINVAL,
		"TLS_VERSION_MAX below the minimum version");
	/* A minimum above a maximum the socket set. */
	assert_int_equal(ssa_opts_set_version_max(P(f, DEFAULT), &f->o, TLS_VERSION_1_2), 0);
	REFUSED(f, ssa_opts_set_version_min(P(f, DEFAULT), &f->o, TLS_VERSION_1_3), EINVAL,
		"TLS_VERSION_MIN above the maximum version");
	/* ... and above the policy's own maximum. */
	ssa_tls_opts_clear(&f->o);
	REFUSED(f, ssa_opts_set_version_min(P(f, TLS12), &f->o, TLS_VERSION_1_3), EINVAL,
		"above the maximum version");
}

/* ---- ciphers ---------------------------------------------------------------- */

static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ':') && (p[n] == ':' || p[n] == '\0'))
			return true;
	return false;
}

static void cipher_enable_outside_policy_refused(void **state)
{
	struct fixture *f = *state;
	char *list;

	WEAKENING(f, ssa_opts_enable_cipher(P(f, DEFAULT), &f->o, "AES128-SHA"),
		  "cipher AES128-SHA is not allowed by the policy (profile global)");
	WEAKENING(f, ssa_opts_enable_cipher(P(f, DEFAULT), &f->o, "ECDHE-RSA-AES128-SHA"),
		  "not allowed by the policy");
	/* by its IANA name */
	WEAKENING(f, ssa_opts_enable_cipher(P(f, DEFAULT), &f->o,
					    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
		  "cipher ECDHE-ECDSA-AES128-SHA is not allowed");
	/* a TLS 1.3 suite the profile left out */
	WEAKENING(f, ssa_opts_enable_cipher(P(f, STRICT), &f->o, "TLS_AES_256_GCM_SHA384"),
		  "(profile strict)");
	list = ssa_opts_trusted_ciphers(P(f, DEFAULT), &f->o);
	assert_non_null(list);
	assert_false(in_list(list, "AES128-SHA"));
	assert_true(in_list(list, "TLS_AES_256_GCM_SHA384"));
	free(list);
}

static void cipher_disable_accepted(void **state)
{
	struct fixture *f = *state;
	char *list;

	assert_int_equal(ssa_opts_disable_cipher(&f->o, "TLS_AES_256_GCM_SHA384"), 0);
	assert_int_equal(ssa_opts_disable_cipher(&f->o, "ECDHE-RSA-AES256-GCM-SHA384"), 0);
	/* by IANA name, and twice: kept once */
	assert_int_equal(ssa_opts_disable_cipher(&f->o,
						 "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"), 0);
	assert_int_equal(f->o.tighten.n_disabled, 2);
	/* even one the policy never allowed: still a tightening */
	assert_int_equal(ssa_opts_disable_cipher(&f->o, "AES128-SHA"), 0);
	list = ssa_opts_trusted_ciphers(P(f, DEFAULT), &f->o);
	assert_non_null(list);
	assert_false(in_list(list, "TLS_AES_256_GCM_SHA384"));
	assert_false(in_list(list, "ECDHE-RSA-AES256-GCM-SHA384"));
	assert_true(in_list(list, "TLS_AES_128_GCM_SHA256"));
	free(list);
}

static void cipher_bad_names_einval(void **state)
{
	struct fixture *f = *state;

	REFUSED(f, ssa_opts_disable_cipher(&f->o, "NO-SUCH-CIPHER"), EINVAL,
		"unknown cipher 'NO-SUCH-CIPHER'");
	REFUSED(f, ssa_opts_enable_cipher(P(f, LAX), &f->o, "NO-SUCH-CIPHER"), EINVAL,
		"unknown cipher");
	REFUSED(f, ssa_opts_disable_cipher(&f->o, ""), EINVAL, "unknown cipher");
}

static void cipher_too_many_disabled(void **state)
{
	struct fixture *f = *state;
	STACK_OF(SSL_CIPHER) *all;
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	int n = 0, max = (int)(sizeof f->o.tighten.disabled / sizeof f->o.tighten.disabled[0]);

	assert_non_null(ctx);
	SSL_CTX_set_security_level(ctx, 0);
	assert_true(SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL"));
	all = SSL_CTX_get_ciphers(ctx);
	for (int i = 0; i < sk_SSL_CIPHER_num(all) && n < max; i++, n++)
		assert_int_equal(ssa_opts_disable_cipher(&f->o, SSL_CIPHER_get_name(
							 sk_SSL_CIPHER_value(all, i))), 0);
	assert_int_equal(f->o.tighten.n_disabled, max);
	REFUSED(f, ssa_opts_disable_cipher(&f->o, SSL_CIPHER_get_name(
						   sk_SSL_CIPHER_value(all, max))),
		EINVAL, "too many disabled ciphers");
	/* one already disabled is still fine */
	assert_int_equal(ssa_opts_disable_cipher(&f->o, SSL_CIPHER_get_name(
							 sk_SSL_CIPHER_value(all, 0))), 0);
	SSL_CTX_free(ctx);
}

static void cipher_reenable_within_policy(void **state)
{
	struct fixture *f = *state;
	char *list;

	assert_int_equal(ssa_opts_disable_cipher(&f->o, "TLS_AES_256_GCM_SHA384"), 0);
	assert_int_equal(ssa_opts_disable_cipher(&f->o, "TLS_CHACHA20_POLY1305_SHA256"), 0);
	assert_int_equal(ssa_opts_enable_cipher(P(f, DEFAULT), &f->o, "TLS_AES_256_GCM_SHA384"), 0);
	assert_int_equal(f->o.tighten.n_disabled, 1);
	assert_string_equal(f->o.tighten.disabled[0], "TLS_CHACHA20_POLY1305_SHA256");
	list = ssa_opts_trusted_ciphers(P(f, DEFAULT), &f->o);
	assert_non_null(list);
	assert_true(in_list(list, "TLS_AES_256_GCM_SHA384"));
	assert_false(in_list(list, "TLS_CHACHA20_POLY1305_SHA256"));
	free(list);
	/* enabling one never disabled changes nothing */
	assert_int_equal(ssa_opts_enable_cipher(P(f, DEFAULT), &f->o, "TLS_AES_128_GCM_SHA256"), 0);
	assert_int_equal(f->o.tighten.n_disabled, 1);
}

/* ---- sessions ---------------------------------------------------------------- */

static void session_ttl_above_policy_refused(void **state)
{
	struct fixture *f = *state;

	WEAKENING(f, ssa_opts_set_session_ttl(P(f, DEFAULT), &f->o, 7201),
		  "TLS_SESSION_TTL 7201 exceeds the policy's 7200 s (profile global)");
	WEAKENING(f, ssa_opts_set_session_ttl(P(f, STRICT), &f->o, 301), "(profile strict)");
	WEAKENING(f, ssa_opts_set_session_ttl(P(f, STRICT), &f->o, 0x7fffffffL), "exceeds");
	assert_int_equal(ssa_opts_session_ttl(P(f, STRICT), &f->o), 300);
}

static void session_ttl_tightening_accepted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_opts_set_session_ttl(P(f, DEFAULT), &f->o, 7200), 0);
	assert_int_equal(ssa_opts_session_ttl(P(f, DEFAULT), &f->o), 7200);
	assert_int_equal(ssa_opts_set_session_ttl(P(f, DEFAULT), &f->o, 60), 0);
	assert_int_equal(ssa_opts_session_ttl(P(f, DEFAULT), &f->o), 60);
	assert_int_equal(ssa_opts_set_session_ttl(P(f, DEFAULT), &f->o, 0), 0);
	assert_int_equal(ssa_opts_session_ttl(P(f, DEFAULT), &f->o), 0);
	REFUSED(f, ssa_opts_set_session_ttl(P(f, DEFAULT), &f->o, -1), EINVAL, NULL);
	assert_int_equal(ssa_opts_ttl_value(-5), EINVAL);
	assert_int_equal(ssa_opts_ttl_value(5), 0);
}

static void session_reuse_without_tickets_refused(void **state)
{
	struct fixture *f = *state;

	WEAKENING(f, ssa_opts_set_session_reuse(P(f, DEFAULT), &f->o, 1),
		  "session resumption is disabled by the policy (session-tickets = no, "
		  "profile global)");
	assert_int_equal(ssa_opts_session_reuse(P(f, DEFAULT), &f->o), 0);
}

static void session_reuse_tightening_accepted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_opts_session_reuse(P(f, LAX), &f->o), 1);
	assert_int_equal(ssa_opts_set_session_reuse(P(f, LAX), &f->o, 0), 0);
	assert_int_equal(ssa_opts_session_reuse(P(f, LAX), &f->o), 0);
	assert_int_equal(ssa_opts_set_session_reuse(P(f, LAX), &f->o, 1), 0);
	assert_int_equal(ssa_opts_session_reuse(P(f, LAX), &f->o), 1);
	assert_int_equal(ssa_opts_set_session_reuse(P(f, DEFAULT), &f->o, 0), 0);
	REFUSED(f, ssa_opts_set_session_reuse(P(f, LAX), &f->o, 2), EINVAL, NULL);
	REFUSED(f, ssa_opts_set_session_reuse(P(f, LAX), &f->o, -1), EINVAL, NULL);
}

/* ---- revocation ---------------------------------------------------------------- */

static const int rev_names[] = { TLS_REVOCATION_CHECKS, TLS_OCSP_STAPLED_CHECKS,
				 TLS_OCSP_CHECKS, TLS_CRL_CHECKS, TLS_CACHED_REV_CHECKS };

static void revocation_off_refused_where_required(void **state)
{
	struct fixture *f = *state;

	/* The defaults check stapled OCSP responses. */
	WEAKENING(f, ssa_opts_set_revocation(P(f, DEFAULT), &f->o, TLS_REVOCATION_CHECKS, 0),
		  "revocation checks are required by the policy (profile global)");
	WEAKENING(f, ssa_opts_set_revocation(P(f, DEFAULT), &f->o, TLS_OCSP_STAPLED_CHECKS, 0),
		  "required by the policy");
	/* strict also checks CRLs */
	WEAKENING(f, ssa_opts_set_revocation(P(f, STRICT), &f->o, TLS_CRL_CHECKS, 0),
		  "(profile strict)");
	WEAKENING(f, ssa_opts_set_revocation(P(f, STRICT), &f->o, TLS_REVOCATION_CHECKS, 0),
		  "required");
	/* Checks of locally held data cannot be switched off at all. */
	WEAKENING(f, ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_CACHED_REV_CHECKS, 0),
		  "cannot be switched off");
	assert_int_equal(ssa_opts_revocation(P(f, DEFAULT), &f->o, TLS_OCSP_STAPLED_CHECKS), 1);
	assert_int_equal(ssa_opts_revocation(P(f, STRICT), &f->o, TLS_CRL_CHECKS), 1);
}

static void revocation_off_where_not_required(void **state)
{
	struct fixture *f = *state;

	/* Nothing the policy checks: off is accepted and changes nothing. */
	for (size_t i = 0; i < sizeof rev_names / sizeof rev_names[0]; i++) {
		if (rev_names[i] == TLS_CACHED_REV_CHECKS)
			continue;
		REFUSED(f, ssa_opts_set_revocation(P(f, LAX), &f->o, rev_names[i], 0), 0, NULL);
	}
	/* Default: no crl-file, so CRL checks may be "off" (they are). */
	REFUSED(f, ssa_opts_set_revocation(P(f, DEFAULT), &f->o, TLS_CRL_CHECKS, 0), 0, NULL);
	/* Once the socket turned them on itself, off does not undo that. */
	assert_int_equal(ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_CRL_CHECKS, 1), 0);
	REFUSED(f, ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_CRL_CHECKS, 0), 0, NULL);
	assert_int_equal(ssa_opts_revocation(P(f, LAX), &f->o, TLS_CRL_CHECKS), 1);
}

static void revocation_on_accepted(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof rev_names / sizeof rev_names[0]; i++)
		assert_int_equal(ssa_opts_revocation(P(f, LAX), &f->o, rev_names[i]),
				 rev_names[i] == TLS_CACHED_REV_CHECKS);
	assert_int_equal(ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_CRL_CHECKS, 1), 0);
	assert_true(f->o.tighten.crl_checks);
	assert_false(f->o.tighten.ocsp_stapled);
	assert_int_equal(ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_OCSP_STAPLED_CHECKS, 1), 0);
	assert_true(f->o.tighten.ocsp_stapled);
	assert_int_equal(ssa_opts_revocation(P(f, LAX), &f->o, TLS_REVOCATION_CHECKS), 1);
	assert_int_equal(ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_CACHED_REV_CHECKS, 1), 0);

	ssa_tls_opts_clear(&f->o);
	assert_int_equal(ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_REVOCATION_CHECKS, 1), 0);
	assert_true(f->o.tighten.crl_checks && f->o.tighten.ocsp_stapled);
	assert_int_equal(ssa_opts_revocation(P(f, LAX), &f->o, TLS_CRL_CHECKS), 1);
	assert_int_equal(ssa_opts_revocation(P(f, LAX), &f->o, TLS_OCSP_STAPLED_CHECKS), 1);
}

static void revocation_bad_values(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof rev_names / sizeof rev_names[0]; i++) {
		REFUSED(f, ssa_opts_set_revocation(P(f, LAX), &f->o, rev_names[i], 2), EINVAL, NULL);
		REFUSED(f, ssa_opts_set_revocation(P(f, LAX), &f->o, rev_names[i], -1), EINVAL, NULL);
	}
	REFUSED(f, ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_ALPN, 1), EINVAL, NULL);
	/* Online OCSP is not offered; asking for it is not a weakening. */
	REFUSED(f, ssa_opts_set_revocation(P(f, LAX), &f->o, TLS_OCSP_CHECKS, 1), EOPNOTSUPP,
		"online OCSP is not offered");
	REFUSED(f, ssa_opts_set_revocation(P(f, DEFAULT), &f->o, TLS_OCSP_CHECKS, 0), 0, NULL);
}

/* ---- peer authentication --------------------------------------------------------- */

static void peer_auth_below_policy_refused(void **state)
{
	struct fixture *f = *state;

	WEAKENING(f, ssa_opts_set_peer_auth(P(f, STRICT), &f->o, TLS_PEER_AUTH_NONE),
		  "TLS_REQUEST_PEER_AUTH 0 is below the policy's 2 (profile strict)");
	WEAKENING(f, ssa_opts_set_peer_auth(P(f, STRICT), &f->o, TLS_PEER_AUTH_REQUEST),
		  "TLS_REQUEST_PEER_AUTH 1 is below the policy's 2");
	assert_int_equal(ssa_opts_peer_auth(P(f, STRICT), &f->o), TLS_PEER_AUTH_REQUIRE);
}

static void peer_auth_raise_accepted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_opts_peer_auth(P(f, DEFAULT), &f->o), TLS_PEER_AUTH_NONE);
	assert_int_equal(ssa_opts_set_peer_auth(P(f, DEFAULT), &f->o, TLS_PEER_AUTH_REQUEST), 0);
	assert_int_equal(ssa_opts_peer_auth(P(f, DEFAULT), &f->o), TLS_PEER_AUTH_REQUEST);
	assert_int_equal(ssa_opts_set_peer_auth(P(f, DEFAULT), &f->o, TLS_PEER_AUTH_REQUIRE), 0);
	assert_int_equal(ssa_opts_peer_auth(P(f, DEFAULT), &f->o), TLS_PEER_AUTH_REQUIRE);
	assert_int_equal(ssa_opts_set_peer_auth(P(f, STRICT), &f->o, TLS_PEER_AUTH_REQUIRE), 0);
	REFUSED(f, ssa_opts_set_peer_auth(P(f, DEFAULT), &f->o, 3), EINVAL, NULL);
	REFUSED(f, ssa_opts_set_peer_auth(P(f, DEFAULT), &f->o, -1), EINVAL, NULL);
	assert_int_equal(ssa_opts_peer_auth_value(2), 0);
	assert_int_equal(ssa_opts_peer_auth_value(3), EINVAL);
}

/* ---- trust anchors ---------------------------------------------------------------- */

static void anchors_refused_without_app_trust_anchors(void **state)
{
	struct fixture *f = *state;

	WEAKENING(f, ssa_opts_may_add_anchors(P(f, DEFAULT), &f->o),
		  "policy does not let applications add trust anchors (app-trust-anchors = no)");
	WEAKENING(f, ssa_opts_may_add_anchors(P(f, STRICT), &f->o), "app-trust-anchors = no");
	/* A client that set peer authentication first (posing as a server)
	 * gets its anchors past the option, but not past connect. */
	assert_int_equal(ssa_opts_set_peer_auth(P(f, DEFAULT), &f->o, 1), 0);
	assert_int_equal(ssa_opts_may_add_anchors(P(f, DEFAULT), &f->o), 0);
	f->o.trusted = sk_X509_new_null();
	assert_non_null(f->o.trusted);
	WEAKENING(f, ssa_opts_check_client(P(f, DEFAULT), &f->o),
		  "policy does not let applications add trust anchors");
}

static void anchors_accepted_where_allowed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_opts_may_add_anchors(P(f, LAX), &f->o), 0);
	f->o.trusted = sk_X509_new_null();
	assert_non_null(f->o.trusted);
	assert_int_equal(ssa_opts_check_client(P(f, LAX), &f->o), 0);
	/* no anchors: nothing to refuse at connect */
	sk_X509_free(f->o.trusted);
	f->o.trusted = NULL;
	assert_int_equal(ssa_opts_check_client(P(f, DEFAULT), &f->o), 0);
}

/* ---- host name and ALPN -------------------------------------------------------------- */

static void hostname_rules(void **state)
{
	struct fixture *f = *state;
	char name[300];

	assert_int_equal(ssa_opts_set_hostname(&f->o, "www.example.com"), 0);
	assert_string_equal(f->o.hostname, "www.example.com");
	assert_int_equal(ssa_opts_set_hostname(&f->o, "127.0.0.1"), 0);
	assert_int_equal(ssa_opts_set_hostname(&f->o, "::1"), 0);
	assert_int_equal(ssa_opts_set_hostname(&f->o, "_srv.Host-1"), 0);
	assert_string_equal(f->o.hostname, "_srv.Host-1");
	REFUSED(f, ssa_opts_set_hostname(&f->o, ""), EINVAL, NULL);
	REFUSED(f, ssa_opts_set_hostname(&f->o, "a..b"), EINVAL, NULL);
	REFUSED(f, ssa_opts_set_hostname(&f->o, ".a"), EINVAL, NULL);
	REFUSED(f, ssa_opts_set_hostname(&f->o, "a b"), EINVAL, NULL);
	REFUSED(f, ssa_opts_set_hostname(&f->o, "evil\n[ssad] forged"), EINVAL, NULL);
	REFUSED(f, ssa_opts_set_hostname(&f->o, "a/b"), EINVAL, NULL);
	memset(name, 'a', 64);
	name[64] = '\0';
	REFUSED(f, ssa_opts_set_hostname(&f->o, name), EINVAL, NULL); /* 64-byte label */
	name[63] = '\0';
	assert_int_equal(ssa_opts_set_hostname(&f->o, name), 0);
	/* 256 bytes in labels of 63: too long */
	for (int i = 0; i < 256; i++)
		name[i] = i % 64 == 63 ? '.' : 'a';
	name[256] = '\0';
	REFUSED(f, ssa_opts_set_hostname(&f->o, name), EINVAL, NULL);
	name[255] = '\0';
	assert_int_equal(ssa_opts_set_hostname(&f->o, name), 0);
	assert_int_equal(strlen(f->o.hostname), 255);
}

static void alpn_rules(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_opts_set_alpn(&f->o, "h2,http/1.1"), 0);
	assert_int_equal(f->o.alpn_len, 12);
	assert_memory_equal(f->o.alpn, "\x02h2\x08http/1.1", 12);
	/* A bad list leaves no list at all (as ssad always did). */
	assert_int_equal(ssa_opts_set_alpn(&f->o, "h2,,x"), EINVAL);
	assert_non_null(strstr(f->o.error, "TLS_ALPN: 'h2,,x' is not a list"));
	assert_int_equal(f->o.alpn_len, 0);
	assert_int_equal(ssa_opts_set_alpn(&f->o, "h2,"), EINVAL);
	assert_int_equal(ssa_opts_set_alpn(&f->o, ""), EINVAL);
}

/* ---- identities --------------------------------------------------------------------- */

static void identity_order(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *k1 = new_key(), *k2 = new_key();
	STACK_OF(X509) *c1 = chain_of(k1);

	REFUSED(f, ssa_opts_may_set_key(&f->o, "k.pem"), EINVAL,
		"k.pem: set TLS_CERTIFICATE_CHAIN first");
	REFUSED(f, ssa_opts_set_key(&f->o, k1, "k.pem"), EINVAL, "set TLS_CERTIFICATE_CHAIN first");
	assert_int_equal(ssa_opts_add_chain(&f->o, c1, "c.pem"), 0);
	assert_int_equal(f->o.n_ids, 1);
	/* a second chain before the first one's key */
	REFUSED(f, ssa_opts_may_add_chain(&f->o, "c2.pem"), EINVAL,
		"c2.pem: set TLS_PRIVATE_KEY for the previous chain first");
	/* a key that is not the chain's */
	REFUSED(f, ssa_opts_set_key(&f->o, k2, "k2.pem"), EINVAL, "k2.pem: ");
	assert_null(f->o.ids[0].key);
	assert_int_equal(ssa_opts_set_key(&f->o, k1, "k.pem"), 0);
	assert_ptr_equal(f->o.ids[0].key, k1);
	REFUSED(f, ssa_opts_may_set_key(&f->o, "k.pem"), EINVAL, "set TLS_CERTIFICATE_CHAIN first");
	EVP_PKEY_free(k2);
}

static void identity_limit(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *k = new_key();

	for (int i = 0; i < SSA_MAX_IDENTITIES; i++) {
		assert_int_equal(ssa_opts_add_chain(&f->o, chain_of(k), "c.pem"), 0);
		assert_true(EVP_PKEY_up_ref(k));
		assert_int_equal(ssa_opts_set_key(&f->o, k, "k.pem"), 0);
	}
	REFUSED(f, ssa_opts_may_add_chain(&f->o, "c.pem"), EINVAL, "at most 8 identities");
	EVP_PKEY_free(k);
}

/* ---- reload: the same options under a stricter policy -------------------------------- */

static void reload_stricter_policy(void **state)
{
	struct fixture *f = *state;
	struct ssa_tls_opts *o = &f->o;
	struct ssa_policy *lax = P(f, LAX), *strict = P(f, STRICT);

	assert_int_equal(ssa_opts_set_version_min(lax, o, TLS_VERSION_1_2), 0);
	assert_int_equal(ssa_opts_set_session_ttl(lax, o, 3600), 0);
	assert_int_equal(ssa_opts_set_session_reuse(lax, o, 1), 0);
	assert_int_equal(ssa_opts_set_peer_auth(lax, o, TLS_PEER_AUTH_REQUEST), 0);
	assert_int_equal(ssa_opts_may_add_anchors(lax, o), 0);
	o->trusted = sk_X509_new_null();
	assert_non_null(o->trusted);
	assert_int_equal(ssa_opts_check(lax, o), 0);

	/* Each setting now weakens the new policy, in turn. */
	WEAKENING(f, ssa_opts_check(strict, o), "TLS_REQUEST_PEER_AUTH 1 is below the policy's 2");
	o->peer_auth = TLS_PEER_AUTH_REQUIRE;
	WEAKENING(f, ssa_opts_check(strict, o), "TLS_VERSION_MIN 0x0303 is below the policy minimum");
	o->tighten.min_version = TLS_VERSION_1_3;
	WEAKENING(f, ssa_opts_check(strict, o), "TLS_SESSION_TTL 3600 exceeds the policy's 300 s");
	o->tighten.session_ttl = 300;
	WEAKENING(f, ssa_opts_check(strict, o), "session-tickets = no, profile strict");
	o->tighten.session_reuse = 0;
	/* anchors: this socket asked for client certificates, so they name
	 * client CAs; a client without peer auth is refused */
	assert_int_equal(ssa_opts_check(strict, o), 0);
	o->peer_auth = 0;
	WEAKENING(f, ssa_opts_check(P(f, DEFAULT), o), "app-trust-anchors = no");
	WEAKENING(f, ssa_opts_check_client(strict, o), "app-trust-anchors = no");
	sk_X509_free(o->trusted);
	o->trusted = NULL;
	assert_int_equal(ssa_opts_check(strict, o), 0);

	/* A maximum fine before is above the new ceiling. */
	o->tighten.min_version = 0;
	o->tighten.max_version = TLS_VERSION_1_3;
	WEAKENING(f, ssa_opts_check(P(f, TLS12), o), "TLS_VERSION_MAX 0x0304 is above");
	/* ... or leaves nothing under the new floor */
	o->tighten.max_version = TLS_VERSION_1_2;
	REFUSED(f, ssa_opts_check(strict, o), EINVAL, "TLS_VERSION_MIN above the maximum version");
}

static void reload_effective_values_follow_policy(void **state)
{
	struct fixture *f = *state;
	struct ssa_tls_opts *o = &f->o;

	/* Nothing set: every value is the policy's, whichever it is. */
	assert_int_equal(ssa_opts_version_min(P(f, LAX), o), TLS_VERSION_1_2);
	assert_int_equal(ssa_opts_version_min(P(f, STRICT), o), TLS_VERSION_1_3);
	assert_int_equal(ssa_opts_session_ttl(P(f, STRICT), o), 300);
	assert_int_equal(ssa_opts_session_reuse(P(f, LAX), o), 1);
	assert_int_equal(ssa_opts_session_reuse(P(f, STRICT), o), 0);
	assert_int_equal(ssa_opts_peer_auth(P(f, STRICT), o), TLS_PEER_AUTH_REQUIRE);
	assert_int_equal(ssa_opts_check(P(f, STRICT), o), 0);
	/* Tightened under lax: under strict the tighter of the two holds. */
	assert_int_equal(ssa_opts_set_version_max(P(f, LAX), o, TLS_VERSION_1_3), 0);
	assert_int_equal(ssa_opts_set_peer_auth(P(f, LAX), o, TLS_PEER_AUTH_REQUEST), 0);
	assert_int_equal(ssa_opts_peer_auth(P(f, STRICT), o), TLS_PEER_AUTH_REQUIRE);
	assert_int_equal(ssa_opts_revocation(P(f, STRICT), o, TLS_CRL_CHECKS), 1);
	assert_int_equal(ssa_opts_revocation(P(f, LAX), o, TLS_CRL_CHECKS), 0);
}

/* ---- the value itself ---------------------------------------------------------------- */

static void init_and_clear(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *k = new_key();

	assert_int_equal(f->o.tighten.session_ttl, -1);
	assert_int_equal(f->o.tighten.session_reuse, -1);
	assert_int_equal(ssa_opts_add_chain(&f->o, chain_of(k), "c.pem"), 0);
	assert_int_equal(ssa_opts_set_key(&f->o, k, "k.pem"), 0);
	assert_int_equal(ssa_opts_disable_cipher(&f->o, "AES128-SHA"), 0);
	f->o.trusted = sk_X509_new_null();
	assert_int_equal(ssa_opts_fail(&f->o, EIO, "why %d", 7), EIO);
	assert_string_equal(f->o.error, "why 7");
	ssa_tls_opts_clear(&f->o);
	assert_int_equal(f->o.n_ids, 0);
	assert_null(f->o.trusted);
	assert_int_equal(f->o.tighten.n_disabled, 0);
	assert_int_equal(f->o.tighten.session_ttl, -1);
	assert_string_equal(f->o.error, "");
	ssa_tls_opts_clear(&f->o); /* twice is fine */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(version_values),
		T(version_min_obsolete_refused),
		T(version_min_below_policy_refused),
		T(version_max_above_policy_refused),
		T(version_tightening_accepted),
		T(version_nothing_left_is_einval),
		T(cipher_enable_outside_policy_refused),
		T(cipher_disable_accepted),
		T(cipher_bad_names_einval),
		T(cipher_too_many_disabled),
		T(cipher_reenable_within_policy),
		T(session_ttl_above_policy_refused),
		T(session_ttl_tightening_accepted),
		T(session_reuse_without_tickets_refused),
		T(session_reuse_tightening_accepted),
		T(revocation_off_refused_where_required),
		T(revocation_off_where_not_required),
		T(revocation_on_accepted),
		T(revocation_bad_values),
		T(peer_auth_below_policy_refused),
		T(peer_auth_raise_accepted),
		T(anchors_refused_without_app_trust_anchors),
		T(anchors_accepted_where_allowed),
		T(hostname_rules),
		T(alpn_rules),
		T(identity_order),
		T(identity_limit),
		T(reload_stricter_policy),
		T(reload_effective_values_follow_policy),
		T(init_and_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
