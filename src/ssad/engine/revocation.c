/* SPDX-License-Identifier: MIT */
#include "revocation.h"
#include "cfg_files.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

/* Seconds of clock skew tolerated in a response's validity period. */
#define OCSP_SKEW_S 300

static int reason_idx = -1;
static pthread_once_t reason_once = PTHREAD_ONCE_INIT;

static void reason_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void reason_init(void)
{
	reason_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, reason_free);
}

static void set_reason(SSL *ssl, const char *what, const char *detail)
{
	char buf[200];
	char *old;

	snprintf(buf, sizeof buf, "%s%s", what, detail);
	if (reason_idx < 0)
		return;
	old = SSL_get_ex_data(ssl, reason_idx);
	free(old);
	SSL_set_ex_data(ssl, reason_idx, strdup(buf));
}

const char *ssa_revocation_failure(SSL *ssl)
{
	pthread_once(&reason_once, reason_init);
	return reason_idx < 0 ? NULL : SSL_get_ex_data(ssl, reason_idx);
}

/* The certificate in chain that issued cert, or NULL. */
static X509 *issuer_in(STACK_OF(X509) *chain, X509 *cert)
{
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);

		if (X509_check_issued(c, cert) == X509_V_OK)
			return c;
	}
	return NULL;
}

/*
 * The client's status callback: runs once the server's certificate chain
 * is in (and verified). 1 accepts, 0 ends the handshake.
 */
static int stapled_cb(SSL *ssl, void *arg)
{
	const unsigned char *p = NULL;
	long len = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl), *issuer;
	X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
	OCSP_RESPONSE *rsp = NULL;
	OCSP_BASICRESP *basic = NULL;
	OCSP_CERTID *id = NULL;
	ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
	int status, why, ok = 0;

	(void)arg;
	if (len <= 0 || !p)
		return 1; /* nothing stapled: nothing to check */
	rsp = d2i_OCSP_RESPONSE(NULL, &p, len);
	if (!rsp) {
		set_reason(ssl, "stapled OCSP response is malformed", "");
		goto out;
	}
	if (OCSP_response_status(rsp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		ok = 1; /* "try later" and the like say nothing about the certificate */
		goto out;
	}
	basic = OCSP_response_get1_basic(rsp);
	if (!basic || !leaf || !chain) {
		set_reason(ssl, "stapled OCSP response is malformed", "");
		goto out;
	}
	if (OCSP_basic_verify(basic, chain, store, 0) <= 0) {
		set_reason(ssl, "stapled OCSP response does not verify", "");
		goto out;
	}
	issuer = issuer_in(chain, leaf);
	if (!issuer) {
		/* The issuer may be a trust anchor the server did not send. */
		ok = 1;
		goto out;
	}
	id = OCSP_cert_to_id(NULL, leaf, issuer);
	if (!id || !OCSP_resp_find_status(basic, id, &status, &why, &rev, &thisupd, &nextupd)) {
		ok = 1; /* a response about another certificate: no information */
		goto out;
	}
	if (!OCSP_check_validity(thisupd, nextupd, OCSP_SKEW_S, -1)) {
		set_reason(ssl, "stapled OCSP response is out of date", "");
		goto out;
	}
	if (status == V_OCSP_CERTSTATUS_REVOKED) {
		set_reason(ssl, "certificate revoked (stapled OCSP response), reason: ",
			   why >= 0 ? OCSP_crl_reason_str(why) : "unspecified");
		goto out;
	}
	ok = 1;
out:
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(basic);
	OCSP_RESPONSE_free(rsp);
	ERR_clear_error();
	return ok;
}

int ssa_revocation_ctx(SSL_CTX *ctx, const struct ssa_config *cfg, bool client,
		       char *err, size_t errlen)
{
	pthread_once(&reason_once, reason_init);
	if (cfg->crl_file) {
		char why[160];

		if (ssa_cfg_load_pem(SSL_CTX_get_cert_store(ctx), cfg->crl_file, false, true, why,
				     sizeof why) != 0) {
			snprintf(err, errlen, "crl-file %s: no usable CRL (%s)", cfg->crl_file, why);
			return -1;
		}
	}
	if (ssa_config_crl_checks(cfg))
		X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
					    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (client) {
		SSL_CTX_set_tlsext_status_cb(ctx, stapled_cb);
		if (cfg->ocsp_stapled_checks)
			SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
	}
	return 0;
}

void ssa_revocation_ssl(SSL *ssl, bool crl_checks, bool ocsp_stapled)
{
	if (crl_checks)
		X509_VERIFY_PARAM_set_flags(SSL_get0_param(ssl),
					    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (ocsp_stapled && !SSL_is_server(ssl))
		SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
}
