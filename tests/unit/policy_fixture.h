/* SPDX-License-Identifier: MIT */
/*
 * The policies the option unit tests run under (test_tls_opts.c,
 * test_sockopt_table.c): the built-in defaults ("global"), a lax one
 * ("lax": anchors, resumption, no revocation checks), a strict one
 * ("strict": TLS 1.3, client certificates required, 300 s sessions, CRL
 * checks, one suite) and a TLS 1.2 ceiling ("tls12"); empty options; and
 * keys and self-signed certificates made on the spot.
 * Included once per test program, after cmocka.h.
 */
#ifndef SSA_TEST_POLICY_FIXTURE_H
#define SSA_TEST_POLICY_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ssa/in_tls.h"
#include "../../src/ssad/engine/config.h"
#include "../../src/ssad/engine/policy.h"
#include "../../src/ssad/engine/tls_opts.h"

/* tls_context.c prepares contexts for kernel TLS; no context made here
 * goes that far. A real definition, where linked, wins. */
void ssa_ktls_prepare_ctx(SSL_CTX *ctx);
__attribute__((weak)) void ssa_ktls_prepare_ctx(SSL_CTX *ctx)
{
	(void)ctx;
}

/* ---- policies ----------------------------------------------------------- */

enum { LAX, DEFAULT, STRICT, TLS12, N_POL };

struct fixture {
	struct ssa_policy pol[N_POL];
	struct ssa_tls_opts o;
};

/* The client context a policy shares: its versions and cipher lists, as
 * tls_context.c sets them (no trust store: nothing is verified here). */
static SSL_CTX *policy_ctx(const struct ssa_config *cfg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());

	assert_non_null(ctx);
	SSL_CTX_set_security_level(ctx, 2);
	assert_true(SSL_CTX_set_min_proto_version(ctx, cfg->min_version));
	assert_true(SSL_CTX_set_max_proto_version(ctx, cfg->max_version));
	assert_true(SSL_CTX_set_cipher_list(ctx, cfg->ciphers));
	assert_true(SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites));
	return ctx;
}

static void set_str(char **p, const char *v)
{
	free(*p);
	*p = v ? strdup(v) : NULL;
	if (v)
		assert_non_null(*p);
}

static void make_policy(struct ssa_policy *p, const char *name, int which)
{
	struct ssa_config *c = &p->cfg;

	memset(p, 0, sizeof *p);
	assert_int_equal(ssa_config_defaults(c), 0);
	p->refs = 1;
	p->name = strdup(name);
	assert_non_null(p->name);
	switch (which) {
	case LAX: /* everything an administrator may hand out */
		c->app_trust_anchors = true;
		c->session_tickets = true;
		c->ocsp_stapled_checks = false;
		c->crl_checks = 0;
		break;
	case STRICT:
		c->min_version = TLS1_3_VERSION;
		c->request_peer_auth = TLS_PEER_AUTH_REQUIRE;
		c->session_timeout = 300;
		c->crl_checks = 1;
		set_str(&c->ciphersuites, "TLS_AES_128_GCM_SHA256");
		break;
	case TLS12:
		c->max_version = TLS1_2_VERSION;
		break;
	default: /* the built-in defaults */
		break;
	}
	p->client_ctx = policy_ctx(c);
}

static int setup(void **state)
{
	static const char *const names[N_POL] = { "lax", "global", "strict", "tls12" };
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	for (int i = 0; i < N_POL; i++)
		make_policy(&f->pol[i], names[i], i);
	ssa_tls_opts_init(&f->o);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ssa_tls_opts_clear(&f->o);
	for (int i = 0; i < N_POL; i++) {
		SSL_CTX_free(f->pol[i].client_ctx);
		ssa_config_free(&f->pol[i].cfg);
		free(f->pol[i].name);
	}
	free(f);
	return 0;
}

/* ---- identities ---------------------------------------------------------- */

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

/* A self-signed leaf for key, as a one-certificate chain. */
static STACK_OF(X509) *chain_of(EVP_PKEY *key)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x = X509_new();

	assert_non_null(sk);
	assert_non_null(x);
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					       (const unsigned char *)"unit.test", -1, -1, 0));
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(x)));
	assert_true(X509_set_pubkey(x, key));
	assert_true(X509_sign(x, key, EVP_sha256()));
	assert_true(sk_X509_push(sk, x));
	return sk;
}

#endif
