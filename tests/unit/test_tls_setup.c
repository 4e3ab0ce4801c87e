/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the one TLS set-up both front ends use
 * (src/ssad/engine/tls_setup.c): the identity rule, what a client
 * verifies, and the server context's session and peer-auth settings.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../../src/ssad/engine/policy.h"
#include "../../src/ssad/engine/tls_setup.h"

struct fixture {
	struct ssa_policy pol;
	struct ssa_tls_opts o;
	struct sockaddr_in peer4;
	struct sockaddr_in6 peer6;
	int sv[2];
	char why[256];
};

/* A self-signed P-256 identity for "localhost" (chain and key). */
static int make_identity(struct ssa_identity *id)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	if (!key || !x)
		return -1;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost");
	if (!ext || !X509_add_ext(x, ext, -1) || !X509_sign(x, key, EVP_sha256()))
		return -1;
	X509_EXTENSION_free(ext);
	id->chain = sk_X509_new_null();
	sk_X509_push(id->chain, x);
	id->key = key;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f || ssa_config_defaults(&f->pol.cfg) != 0)
		return -1;
	free(f->pol.cfg.trust_store);
	f->pol.cfg.trust_store = strdup("/etc/ssl/certs/ca-certificates.crt");
	f->pol.name = strdup("unit");
	f->pol.client_ctx = ssa_tls_client_ctx_new(&f->pol.cfg, f->why, sizeof f->why);
	if (!f->pol.client_ctx) {
		fprintf(stderr, "client context: %s\n", f->why);
		return -1;
	}
	f->o.tighten.session_ttl = -1;
	f->o.tighten.session_reuse = -1;
	f->peer4.sin_family = AF_INET;
	f->peer4.sin_port = htons(443);
	inet_pton(AF_INET, "192.0.2.7", &f->peer4.sin_addr);
	f->peer6.sin6_family = AF_INET6;
	f->peer6.sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::7", &f->peer6.sin6_addr);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < f->o.n_ids; i++)
		ssa_identity_clear(&f->o.ids[i]);
	ssa_identity_clear(&f->pol.granted);
	SSL_CTX_free(f->pol.client_ctx);
	ssa_config_free(&f->pol.cfg);
	free(f->pol.name);
	close(f->sv[0]);
	close(f->sv[1]);
	free(f);
	return 0;
}

static SSL *client(struct fixture *f, const struct sockaddr *peer, socklen_t len, int *err)
{
	const struct ssa_tls_client_peer p = { .addr = peer, .len = len, .uid = 1000 };

	f->why[0] = '\0';
	return ssa_tls_client_new(&f->pol, &f->o, &p, f->sv[0], NULL, err, f->why, sizeof f->why);
}

/* The IP address a client will verify ("" if none). */
static void assert_ip(SSL *ssl, const char *want)
{
	char *ip = X509_VERIFY_PARAM_get1_ip_asc(SSL_get0_param(ssl));

	assert_string_equal(ip ? ip : "", want);
	OPENSSL_free(ip);
}

static void key_missing_refused_both_roles(void **state)
{
	struct fixture *f = *state;
	int err = 0;

	assert_int_equal(make_identity(&f->o.ids[0]), 0);
	EVP_PKEY_free(f->o.ids[0].key);
	f->o.ids[0].key = NULL;
	f->o.n_ids = 1;
	assert_null(client(f, (struct sockaddr *)&f->peer4, sizeof f->peer4, &err));
	assert_int_equal(err, EINVAL);
	assert_string_equal(f->why, "TLS_PRIVATE_KEY missing for the last TLS_CERTIFICATE_CHAIN");
	err = 0;
	assert_null(ssa_tls_server_ctx_build(&f->pol, &f->o, SSA_TLS_SERVER_ONE_CONNECTION, false,
					     &err, f->why, sizeof f->why));
	assert_int_equal(err, EINVAL);
	assert_string_equal(f->why, "TLS_PRIVATE_KEY missing for the last TLS_CERTIFICATE_CHAIN");
	/* ... also with a granted identity that could stand in */
	assert_int_equal(make_identity(&f->pol.granted), 0);
	assert_int_equal(ssa_tls_identities_check(&f->pol, &f->o, true, f->why, sizeof f->why),
			 EINVAL);
	assert_int_equal(ssa_tls_identities_check(&f->pol, &f->o, false, f->why, sizeof f->why),
			 EINVAL);
}

static void server_needs_an_identity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_tls_identities_check(&f->pol, &f->o, true, f->why, sizeof f->why),
			 EINVAL);
	assert_non_null(strstr(f->why, "no certificate"));
	assert_int_equal(ssa_tls_identities_check(&f->pol, &f->o, false, f->why, sizeof f->why), 0);
	assert_int_equal(make_identity(&f->pol.granted), 0);
	assert_int_equal(ssa_tls_identities_check(&f->pol, &f->o, true, f->why, sizeof f->why), 0);
}

static void client_host_name(void **state)
{
	struct fixture *f = *state;
	int err = 0;
	SSL *ssl;

	snprintf(f->o.hostname, sizeof f->o.hostname, "www.example.org");
	ssl = client(f, (struct sockaddr *)&f->peer4, sizeof f->peer4, &err);
	assert_non_null(ssl);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), "www.example.org");
	assert_string_equal(X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0), "www.example.org");
	assert_true(X509_VERIFY_PARAM_get_hostflags(SSL_get0_param(ssl)) &
		    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	assert_ip(ssl, "");
	SSL_free(ssl);
}

static void client_ip_literal(void **state)
{
	struct fixture *f = *state;
	int err = 0;
	SSL *ssl;

	snprintf(f->o.hostname, sizeof f->o.hostname, "198.51.100.1");
	ssl = client(f, (struct sockaddr *)&f->peer4, sizeof f->peer4, &err);
	assert_non_null(ssl);
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	assert_null(X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0));
	assert_ip(ssl, "198.51.100.1");
	SSL_free(ssl);
}

static void client_no_name_verifies_peer_address(void **state)
{
	struct fixture *f = *state;
	int err = 0;
	SSL *ssl;

	ssl = client(f, (struct sockaddr *)&f->peer4, sizeof f->peer4, &err);
	assert_non_null(ssl);
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	assert_ip(ssl, "192.0.2.7");
	SSL_free(ssl);
	ssl = client(f, (struct sockaddr *)&f->peer6, sizeof f->peer6, &err);
	assert_non_null(ssl);
	assert_ip(ssl, "2001:DB8:0:0:0:0:0:7");
	SSL_free(ssl);
}

static void client_identity_own_else_granted(void **state)
{
	struct fixture *f = *state;
	int err = 0;
	SSL *ssl;

	assert_int_equal(make_identity(&f->pol.granted), 0);
	ssl = client(f, (struct sockaddr *)&f->peer4, sizeof f->peer4, &err);
	assert_non_null(ssl);
	assert_ptr_equal(SSL_get_certificate(ssl), sk_X509_value(f->pol.granted.chain, 0));
	SSL_free(ssl);
	assert_int_equal(make_identity(&f->o.ids[0]), 0);
	f->o.n_ids = 1;
	ssl = client(f, (struct sockaddr *)&f->peer4, sizeof f->peer4, &err);
	assert_non_null(ssl);
	assert_ptr_equal(SSL_get_certificate(ssl), sk_X509_value(f->o.ids[0].chain, 0));
	SSL_free(ssl);
}

static void server_sessions_by_use(void **state)
{
	struct fixture *f = *state;
	SSL_CTX *ctx;
	int err = 0;

	assert_int_equal(make_identity(&f->o.ids[0]), 0);
	f->o.n_ids = 1;
	f->pol.cfg.session_tickets = true; /* the policy allows resumption */
	f->pol.cfg.session_timeout = 300;
	ctx = ssa_tls_server_ctx_build(&f->pol, &f->o, SSA_TLS_SERVER_LISTENER, false, &err, f->why,
				       sizeof f->why);
	assert_non_null(ctx);
	assert_true(SSL_CTX_get_num_tickets(ctx) > 0);
	assert_false(SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET);
	SSL_CTX_free(ctx);
	/* one connection per context (the kernel front end): no tickets */
	ctx = ssa_tls_server_ctx_build(&f->pol, &f->o, SSA_TLS_SERVER_ONE_CONNECTION, false, &err,
				       f->why, sizeof f->why);
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_num_tickets(ctx), 0);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET);
	assert_int_equal(SSL_CTX_get_session_cache_mode(ctx), SSL_SESS_CACHE_OFF);
	SSL_CTX_free(ctx);
	/* a listener whose application switched resumption off */
	f->o.tighten.session_reuse = 0;
	ctx = ssa_tls_server_ctx_build(&f->pol, &f->o, SSA_TLS_SERVER_LISTENER, false, &err, f->why,
				       sizeof f->why);
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_num_tickets(ctx), 0);
	SSL_CTX_free(ctx);
}

static void server_peer_auth_raised_to_policy(void **state)
{
	struct fixture *f = *state;
	SSL_CTX *ctx;
	int err = 0;

	assert_int_equal(make_identity(&f->o.ids[0]), 0);
	f->o.n_ids = 1;
	f->pol.cfg.request_peer_auth = 2;
	f->o.peer_auth = 0;
	ctx = ssa_tls_server_ctx_build(&f->pol, &f->o, SSA_TLS_SERVER_LISTENER, false, &err, f->why,
				       sizeof f->why);
	assert_non_null(ctx);
	assert_int_equal(f->o.peer_auth, 2);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx),
			 SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	SSL_CTX_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(key_missing_refused_both_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(server_needs_an_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(client_host_name, setup, teardown),
		cmocka_unit_test_setup_teardown(client_ip_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(client_no_name_verifies_peer_address, setup,
						teardown),
		cmocka_unit_test_setup_teardown(client_identity_own_else_granted, setup, teardown),
		cmocka_unit_test_setup_teardown(server_sessions_by_use, setup, teardown),
		cmocka_unit_test_setup_teardown(server_peer_auth_raised_to_policy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
