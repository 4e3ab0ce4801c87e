/* SPDX-License-Identifier: MIT */
/* OpenSSL context construction and failure reporting. */
#include "tls_context.h"
#include "cfg_files.h"
#include "ktls_keys.h"
#include "revocation.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void set_err_from_openssl(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

/* OpenSSL's own security callback (security level checks), kept under ours. */
static int (*openssl_security_cb)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);

/*
 * A server never picks a TLS 1.2 cipher with RSA key exchange: the private
 * keys are in the key keeper, whose forwarding keys cannot do libssl's
 * RSA_PKCS1_WITH_TLS_PADDING decryption (that needs an OpenSSL provider,
 * engine/remote_key.c). Vetoed at cipher selection, a client that also
 * offers an ECDHE suite gets that one, and one that offers nothing else
 * gets "no shared cipher" at once instead of a failure after the key
 * exchange. Everything else is OpenSSL's default callback's to decide.
 */
static int no_rsa_kx_security_cb(const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid,
				 void *other, void *ex)
{
	if (s && SSL_is_server((SSL *)s) && op == SSL_SECOP_CIPHER_SHARED && other &&
	    SSL_CIPHER_get_kx_nid((const SSL_CIPHER *)other) == NID_kx_rsa)
		return 0;
	return openssl_security_cb ? openssl_security_cb(s, ctx, op, bits, nid, other, ex) : 1;
}

/* The policy settings every context shares. */
static int apply_policy(SSL_CTX *ctx, const struct ssa_config *cfg, char *err, size_t errlen)
{
	/* Security level 2: at least 112-bit keys (RSA/DH >= 2048, ECC >= 224),
	 * no SHA-1 signatures. Weak peer keys fail verification. */
	SSL_CTX_set_security_level(ctx, 2);
	if (!openssl_security_cb)
		openssl_security_cb = SSL_CTX_get_security_callback(ctx);
	SSL_CTX_set_security_callback(ctx, no_rsa_kx_security_cb);
	if (!SSL_CTX_set_min_proto_version(ctx, cfg->min_version) ||
	    !SSL_CTX_set_max_proto_version(ctx, cfg->max_version) ||
	    !SSL_CTX_set_cipher_list(ctx, cfg->ciphers) ||
	    !SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites) ||
	    !SSL_CTX_set1_groups_list(ctx, cfg->groups)) {
		set_err_from_openssl(err, errlen, "policy rejected by OpenSSL");
		return -1;
	}
	SSL_CTX_set_verify_depth(ctx, cfg->verify_depth);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* Renegotiation is never wanted by a proxy. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	/* Resumption only where the policy allows it: servers issue tickets,
	 * clients use the session cache (policy.c: client_ctx_new). */
	SSL_CTX_set_session_cache_mode(ctx, cfg->session_tickets ? SSL_SESS_CACHE_SERVER :
							       SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, cfg->session_tickets && cfg->session_timeout > 0 ? 2 : 0);
	if (!cfg->session_tickets)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_timeout(ctx, cfg->session_timeout);
	return 0;
}

static int load_trust_store(SSL_CTX *ctx, const struct ssa_config *cfg, char *err, size_t errlen)
{
	struct stat st;
	char why[160];

	if (ssa_cfg_stat(cfg->trust_store, &st) != 0) {
		snprintf(err, errlen, "trust-store %s: %s", cfg->trust_store, strerror(errno));
		return -1;
	}
	/* Read through cfg_files.h: in the worker the supervisor opens it. */
	if (ssa_cfg_load_pem(SSL_CTX_get_cert_store(ctx), cfg->trust_store, true, true, why,
			     sizeof why) != 0) {
		snprintf(err, errlen, "trust-store %s unusable: %s", cfg->trust_store, why);
		return -1;
	}
	return 0;
}

SSL_CTX *ssa_tls_client_ctx_new(const struct ssa_config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		set_err_from_openssl(err, errlen, "cannot create TLS context");
		return NULL;
	}
	if (apply_policy(ctx, cfg, err, errlen) || load_trust_store(ctx, cfg, err, errlen) ||
	    ssa_revocation_ctx(ctx, cfg, true, err, errlen)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Kernel-TLS hand-offs need the peer's traffic secret: the callback is
	 * set now, before any handshake can run on the context. */
	ssa_ktls_prepare_ctx(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* --- server contexts ---------------------------------------------------- */

static int srv_index = -1;
static pthread_once_t srv_once = PTHREAD_ONCE_INIT;

static void srv_free(struct ssa_srv *srv)
{
	if (!srv)
		return;
	for (int i = 0; i < srv->n_ids; i++)
		ssa_identity_clear(&srv->ids[i]);
	free(srv);
}

static void srv_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	srv_free(ptr);
}

static void srv_index_init(void)
{
	srv_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, srv_ex_free);
}

int ssa_tls_use_identity(SSL *ssl, const struct ssa_identity *id)
{
	STACK_OF(X509) *extra = sk_X509_dup(id->chain);
	int ok;

	if (!extra)
		return -1;
	(void)sk_X509_shift(extra); /* the leaf */
	ok = SSL_use_cert_and_key(ssl, sk_X509_value(id->chain, 0), id->key, extra, 1);
	sk_X509_free(extra);
	return ok == 1 ? 0 : -1;
}

/* Choose the identity for the SNI name the client sent (first = default). */
static int pick_identity(SSL *ssl, void *arg)
{
	struct ssa_srv *srv = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	int pick = 0;

	for (int i = 0; name && i < srv->n_ids; i++) {
		if (X509_check_host(sk_X509_value(srv->ids[i].chain, 0), name, 0,
				    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1) {
			pick = i;
			break;
		}
	}
	return ssa_tls_use_identity(ssl, &srv->ids[pick]) == 0 ? 1 : 0;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	struct ssa_srv *srv = arg;
	unsigned char *sel;

	(void)ssl;
	if (!srv->alpn_len)
		return SSL_TLSEXT_ERR_NOACK;
	/* The server's order decides. No overlap: no_application_protocol. */
	if (SSL_select_next_proto(&sel, outlen, srv->alpn, (unsigned)srv->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *ssa_tls_server_ctx_new(const struct ssa_config *cfg, struct ssa_srv *srv,
				int peer_auth, STACK_OF(X509) *client_cas, char *err,
				size_t errlen)
{
	SSL_CTX *ctx;

	pthread_once(&srv_once, srv_index_init);
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || srv_index < 0 || !SSL_CTX_set_ex_data(ctx, srv_index, srv)) {
		set_err_from_openssl(err, errlen, "cannot create TLS context");
		SSL_CTX_free(ctx);
		srv_free(srv);
		return NULL;
	}
	/* From here on srv is freed with ctx. */
	if (apply_policy(ctx, cfg, err, errlen))
		goto fail;
	SSL_CTX_set_cert_cb(ctx, pick_identity, srv);
	SSL_CTX_set_alpn_select_cb(ctx, select_alpn, srv);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (peer_auth) {
		if (client_cas) {
			X509_STORE *store = X509_STORE_new();

			if (!store)
				goto fail;
			SSL_CTX_set_cert_store(ctx, store);
			for (int i = 0; i < sk_X509_num(client_cas); i++) {
				X509 *ca = sk_X509_value(client_cas, i);

				X509_STORE_add_cert(store, ca);
				SSL_CTX_add_client_CA(ctx, ca);
			}
		} else if (load_trust_store(ctx, cfg, err, errlen)) {
			goto fail;
		}
		/* Client certificates are checked against the policy's CRLs too. */
		if (ssa_revocation_ctx(ctx, cfg, false, err, errlen))
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (peer_auth == 2 ?
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int ssa_alpn_encode(const char *list, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	const char *p = list;

	while (*p) {
		size_t l = strcspn(p, ",");

		if (l == 0 || l > 255 || n + 1 + l > cap)
			return EINVAL;
		out[n++] = (unsigned char)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == ',') {
			p++;
			if (!*p)
				return EINVAL;
		}
	}
	if (n == 0)
		return EINVAL;
	*len = n;
	return 0;
}

static const char *verify_reason(long v, bool server)
{
	switch (v) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "certificate has expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate is not yet valid";
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return "certificate does not match the requested hostname";
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "certificate does not match the connected IP address";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "certificate is self-signed and not trusted";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return "self-signed certificate in chain: unknown CA";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return "certificate issued by an unknown CA";
	case X509_V_ERR_EE_KEY_TOO_SMALL:
		return "certificate key too weak for policy";
	case X509_V_ERR_CA_KEY_TOO_SMALL:
		return "CA key too weak for policy";
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return "certificate signature algorithm too weak for policy";
	case X509_V_ERR_CERT_REVOKED:
		return "certificate revoked by its issuer's CRL";
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return "no CRL for the certificate's issuer, and revocation checks are on";
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return "the issuer's CRL has expired";
	case X509_V_ERR_INVALID_PURPOSE:
		return server ? "certificate not valid for TLS client authentication" :
				"certificate not valid for TLS server authentication";
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return "certificate chain too long for policy";
	default:
		return NULL;
	}
}

void ssa_tls_failure_reason(SSL *ssl, int ssl_err, char *buf, size_t len)
{
	long v = SSL_get_verify_result(ssl);
	unsigned long e = ERR_peek_error();
	const char *r = ssa_revocation_failure(ssl);

	if (r) {
		snprintf(buf, len, "%s", r);
	} else if (v != X509_V_OK) {
		r = verify_reason(v, SSL_is_server(ssl) == 1);
		if (r)
			snprintf(buf, len, "%s (%s)", r, X509_verify_cert_error_string(v));
		else
			snprintf(buf, len, "certificate verification failed: %s",
				 X509_verify_cert_error_string(v));
	} else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
		   (ERR_GET_REASON(e) == SSL_R_UNSUPPORTED_PROTOCOL ||
		    ERR_GET_REASON(e) == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
		    ERR_GET_REASON(e) == SSL_R_NO_PROTOCOLS_AVAILABLE ||
		    ERR_GET_REASON(e) == SSL_R_WRONG_SSL_VERSION)) {
		snprintf(buf, len, "peer's TLS version is below the policy minimum (%s)",
			 ERR_reason_error_string(e));
	} else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
		   ERR_GET_REASON(e) > SSL_AD_REASON_OFFSET &&
		   ERR_GET_REASON(e) < SSL_AD_REASON_OFFSET + 256) {
		/* The peer refused, with an alert (e.g. it did not trust us). */
		snprintf(buf, len, "peer refused the handshake: %s alert",
			 SSL_alert_desc_string_long(ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET));
	} else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
		   (ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST ||
		    ERR_GET_REASON(e) == SSL_R_HTTPS_PROXY_REQUEST)) {
		snprintf(buf, len, "peer spoke plain HTTP, not TLS");
	} else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
		   ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(buf, len, "peer closed the connection during the handshake");
	} else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
		   ERR_GET_REASON(e) == SSL_R_NO_SHARED_CIPHER) {
		snprintf(buf, len, "no cipher in common with the peer");
	} else if (e) {
		char s[256];

		ERR_error_string_n(e, s, sizeof s);
		snprintf(buf, len, "TLS handshake failed: %s", s);
	} else if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN) {
		snprintf(buf, len, "peer closed the connection during the handshake");
	} else {
		snprintf(buf, len, "TLS handshake failed (SSL error %d)", ssl_err);
	}
	ERR_clear_error();
}

/*
 * A SAN value as TLS_PEER_IDENTITY shows it: the certificate's bytes, except
 * that every byte outside 0x21..0x7e and the characters , ; = \ are written
 * \xNN (two lower-case hex digits). A value can thus never look like two
 * (a dNSName "a,DNS:b"), nor carry a control character.
 */
static void put_san_value(BIO *b, const ASN1_STRING *v)
{
	const unsigned char *p = ASN1_STRING_get0_data(v);
	int n = ASN1_STRING_length(v);

	for (int i = 0; i < n; i++) {
		if (p[i] > 0x20 && p[i] < 0x7f && !strchr(",;=\\", p[i]))
			BIO_write(b, &p[i], 1);
		else
			BIO_printf(b, "\\x%02x", p[i]);
	}
}

int ssa_tls_identity(X509 *cert, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	GENERAL_NAMES *sans;
	int first = 1;
	char *data;
	long n;

	if (!b)
		return -1;
	BIO_puts(b, "subject=");
	X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

		if (g->type == GEN_DNS) {
			BIO_printf(b, "%sDNS:", first ? "; san=" : ",");
			put_san_value(b, g->d.dNSName);
			first = 0;
		} else if (g->type == GEN_IPADD) {
			char ip[INET6_ADDRSTRLEN];
			const ASN1_OCTET_STRING *o = g->d.iPAddress;
			int n_ip = ASN1_STRING_length(o);
			int fam = n_ip == 4 ? AF_INET : n_ip == 16 ? AF_INET6 : 0;

			if (fam && inet_ntop(fam, ASN1_STRING_get0_data(o), ip, sizeof ip)) {
				BIO_printf(b, "%sIP:%s", first ? "; san=" : ",", ip);
				first = 0;
			}
		} else if (g->type == GEN_EMAIL) {
			BIO_printf(b, "%semail:", first ? "; san=" : ",");
			put_san_value(b, g->d.rfc822Name);
			first = 0;
		}
	}
	GENERAL_NAMES_free(sans);
	n = BIO_get_mem_data(b, &data);
	if (n < 0 || (size_t)n >= len) {
		BIO_free(b);
		return -1;
	}
	memcpy(buf, data, (size_t)n);
	buf[n] = '\0';
	BIO_free(b);
	return 0;
}

char *ssa_tls_peer_chain_pem(SSL *ssl, size_t *len)
{
	STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl), *all;
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	char *out;

	if (!leaf)
		return NULL;
	if (!SSL_is_server(ssl))
		return ssa_chain_pem(sent, len); /* a client's list holds the leaf */
	/* A server's list lacks the client's leaf. */
	all = sent ? sk_X509_dup(sent) : sk_X509_new_null();
	if (!all || !sk_X509_insert(all, leaf, 0)) {
		sk_X509_free(all);
		return NULL;
	}
	out = ssa_chain_pem(all, len);
	sk_X509_free(all);
	return out;
}

int ssa_tls_add_anchors(SSL *ssl, SSL_CTX *ctx, STACK_OF(X509) *extra)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
	int ok = store != NULL;

	for (int i = 0; ok && i < sk_X509_OBJECT_num(objs); i++) {
		X509_OBJECT *o = sk_X509_OBJECT_value(objs, i);
		X509 *x = X509_OBJECT_get0_X509(o);
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(o);

		/* The policy's CRLs (crl-file) come along: without them every
		 * chain would fail for want of a CRL while CRL checks are on. */
		if (x)
			ok = X509_STORE_add_cert(store, x);
		else if (crl)
			ok = X509_STORE_add_crl(store, crl);
	}
	for (int i = 0; ok && i < sk_X509_num(extra); i++)
		ok = X509_STORE_add_cert(store, sk_X509_value(extra, i));
	/* A pinned end-entity certificate is a trust anchor of its own. */
	if (ok)
		ok = X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (ok)
		ok = SSL_set1_verify_cert_store(ssl, store);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* --- tightening ----------------------------------------------------------- */

static SSL_CTX *universe;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void universe_init(void)
{
	universe = SSL_CTX_new(TLS_method());
	if (!universe)
		return;
	SSL_CTX_set_security_level(universe, 0);
	SSL_CTX_set_cipher_list(universe, "ALL:COMPLEMENTOFALL");
	SSL_CTX_set_ciphersuites(universe, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
				 "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
				 "TLS_AES_128_CCM_8_SHA256");
	ERR_clear_error();
}

static STACK_OF(SSL_CIPHER) *all_ciphers(void)
{

	pthread_once(&once, universe_init);
	return universe ? SSL_CTX_get_ciphers(universe) : NULL;
}

const char *ssa_tls_cipher_name(const char *name)
{
	STACK_OF(SSL_CIPHER) *all = all_ciphers();

	for (int i = 0; all && i < sk_SSL_CIPHER_num(all); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
		const char *std = SSL_CIPHER_standard_name(c);

		if (strcmp(SSL_CIPHER_get_name(c), name) == 0 || (std && strcmp(std, name) == 0))
			return SSL_CIPHER_get_name(c);
	}
	return NULL;
}

static bool disabled(const struct ssa_restrict *r, const char *name)
{
	for (int i = 0; i < r->n_disabled; i++)
		if (strcmp(r->disabled[i], name) == 0)
			return true;
	return false;
}

/* The policy's lists minus the disabled ciphers. */
static int narrowed_lists(const struct ssa_config *cfg, const struct ssa_restrict *r,
			  char *tls12, size_t l12, char *tls13, size_t l13)
{
	const char *p = cfg->ciphersuites;
	size_t n = 0;
	int w = snprintf(tls12, l12, "%s", cfg->ciphers);

	for (int i = 0; i < r->n_disabled && w > 0 && (size_t)w < l12; i++)
		w += snprintf(tls12 + w, l12 - (size_t)w, ":!%s", r->disabled[i]);
	if (w <= 0 || (size_t)w >= l12)
		return -1;
	tls13[0] = '\0';
	while (*p) {
		size_t len = strcspn(p, ":");
		char one[128];

		if (len < sizeof one) {
			memcpy(one, p, len);
			one[len] = '\0';
			if (!disabled(r, one)) {
				if (n + len + 2 > l13)
					return -1;
				n += (size_t)snprintf(tls13 + n, l13 - n, "%s%s", n ? ":" : "", one);
			}
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}

static int effective_min(const struct ssa_config *cfg, const struct ssa_restrict *r)
{
	return r->min_version > cfg->min_version ? r->min_version : cfg->min_version;
}

static int effective_max(const struct ssa_config *cfg, const struct ssa_restrict *r)
{
	return r->max_version && r->max_version < cfg->max_version ? r->max_version :
								   cfg->max_version;
}

int ssa_tls_restrict_ssl(SSL *ssl, const struct ssa_config *cfg, const struct ssa_restrict *r)
{
	char l12[1024], l13[512];

	ssa_revocation_ssl(ssl, r->crl_checks, r->ocsp_stapled);
	if (!r->n_disabled && !r->min_version && !r->max_version)
		return 0;
	if (narrowed_lists(cfg, r, l12, sizeof l12, l13, sizeof l13))
		return -1;
	/* An empty TLS 1.2 list is fine when TLS 1.3 remains, and vice versa. */
	(void)SSL_set_cipher_list(ssl, l12);
	if (!SSL_set_ciphersuites(ssl, l13) ||
	    !SSL_set_min_proto_version(ssl, effective_min(cfg, r)) ||
	    !SSL_set_max_proto_version(ssl, effective_max(cfg, r))) {
		ERR_clear_error();
		return -1;
	}
	ERR_clear_error();
	return 0;
}

int ssa_tls_restrict_ctx(SSL_CTX *ctx, const struct ssa_config *cfg,
			 const struct ssa_restrict *r)
{
	char l12[1024], l13[512];

	if (r->crl_checks) /* client certificates of this listener */
		X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
					    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (!r->n_disabled && !r->min_version && !r->max_version)
		return 0;
	if (narrowed_lists(cfg, r, l12, sizeof l12, l13, sizeof l13))
		return -1;
	(void)SSL_CTX_set_cipher_list(ctx, l12);
	if (!SSL_CTX_set_ciphersuites(ctx, l13) ||
	    !SSL_CTX_set_min_proto_version(ctx, effective_min(cfg, r)) ||
	    !SSL_CTX_set_max_proto_version(ctx, effective_max(cfg, r))) {
		ERR_clear_error();
		return -1;
	}
	ERR_clear_error();
	return 0;
}

char *ssa_tls_trusted_ciphers(SSL_CTX *ctx, const struct ssa_config *cfg,
			      const struct ssa_restrict *r)
{
	SSL *ssl = SSL_new(ctx);
	STACK_OF(SSL_CIPHER) *sk;
	char *out = NULL;
	size_t n = 0, cap = 4096;

	if (!ssl)
		return NULL;
	SSL_set_connect_state(ssl);
	if (ssa_tls_restrict_ssl(ssl, cfg, r) == 0 && (sk = SSL_get1_supported_ciphers(ssl)) &&
	    (out = malloc(cap))) {
		out[0] = '\0';
		for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
			const char *name = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i));

			if (n + strlen(name) + 2 > cap)
				break;
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ":" : "", name);
		}
		sk_SSL_CIPHER_free(sk);
	}
	SSL_free(ssl);
	ERR_clear_error();
	return out;
}

void ssa_restrict_clear(struct ssa_restrict *r)
{
	for (int i = 0; i < r->n_disabled; i++)
		free(r->disabled[i]);
	r->n_disabled = 0;
}
