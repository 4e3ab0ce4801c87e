/* SPDX-License-Identifier: MIT */
/* One TLS set-up for both front ends: see tls_setup.h. */
#include "tls_setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "session_cache.h"
#include "tls_context.h"

int ssa_tls_identities_check(const struct ssa_policy *pol, const struct ssa_tls_opts *o,
			     bool server, char *why, size_t wl)
{
	if (o->n_ids && !o->ids[o->n_ids - 1].key) {
		snprintf(why, wl, "TLS_PRIVATE_KEY missing for the last TLS_CERTIFICATE_CHAIN");
		return EINVAL;
	}
	if (server && !o->n_ids && !pol->granted.chain) {
		snprintf(why, wl, "no certificate: set TLS_CERTIFICATE_CHAIN and TLS_PRIVATE_KEY "
			 "before listen()");
		return EINVAL;
	}
	return 0;
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* What the client verifies: the host name if one was set (and sends it as
 * SNI), an IP literal as an address, and without a name the peer's own
 * address. @retval 0 or -1 */
static int client_verify_peer(SSL *ssl, const char *hostname, const struct sockaddr *peer)
{
	char ip[INET6_ADDRSTRLEN];
	const void *addr;

	if (hostname[0] && is_ip_literal(hostname))
		return SSL_set1_host(ssl, NULL) &&
		       X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), hostname) ? 0 : -1;
	if (hostname[0]) {
		if (!SSL_set_tlsext_host_name(ssl, hostname) || !SSL_set1_host(ssl, hostname))
			return -1;
		/* No partial wildcards such as f*.example.com; a name is a
		 * subjectAltName (RFC 6125, CA/B BR): never the subject's CN. */
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
				  X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
		return 0;
	}
	if (peer->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)peer)->sin_addr;
	else if (peer->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)peer)->sin6_addr;
	else
		return -1;
	if (!inet_ntop(peer->sa_family, addr, ip, sizeof ip) ||
	    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip))
		return -1;
	return 0;
}

/* Everything of a client connection but the session cache. @retval 0 or -1 */
static int client_configure(SSL *ssl, const struct ssa_policy *pol, const struct ssa_tls_opts *o,
			    const struct sockaddr *peer)
{
	/* A client certificate: the application's, or the one its profile grants. */
	if (o->n_ids && ssa_tls_use_identity(ssl, &o->ids[0]) != 0)
		return -1;
	if (!o->n_ids && pol->granted.chain && ssa_tls_use_identity(ssl, &pol->granted) != 0)
		return -1;
	if (ssa_tls_restrict_ssl(ssl, &pol->cfg, &o->tighten) != 0)
		return -1;
	if (o->alpn_len && SSL_set_alpn_protos(ssl, o->alpn, (unsigned)o->alpn_len) != 0)
		return -1;
	if (o->trusted && ssa_tls_add_anchors(ssl, pol->client_ctx, o->trusted) != 0)
		return -1;
	return client_verify_peer(ssl, o->hostname, peer);
}

SSL *ssa_tls_client_new(const struct ssa_policy *pol, const struct ssa_tls_opts *o,
			const struct ssa_tls_client_peer *peer, int fd,
			struct ssa_ktls_secret *ktls, int *err, char *why, size_t wl)
{
	SSL *ssl;

	if ((*err = ssa_tls_identities_check(pol, o, false, why, wl)) != 0)
		return NULL;
	ssl = SSL_new(pol->client_ctx);
	if (!ssl || !SSL_set_fd(ssl, fd))
		goto fail;
	SSL_set_connect_state(ssl);
	if (ktls)
		ssa_ktls_prepare_ssl(ssl, pol->client_ctx, ktls);
	if (client_configure(ssl, pol, o, peer->addr) != 0)
		goto fail;
	/* Last: the session cache's key covers everything set above. */
	if (ssa_session_cache_prepare(ssl, pol, o, peer->addr, peer->len, peer->uid) != 0)
		goto fail;
	return ssl;
fail:
	SSL_free(ssl);
	ERR_clear_error();
	*err = ENOMEM;
	snprintf(why, wl, "cannot set up the TLS session");
	return NULL;
}

/* What a server context serves: the socket's identities, then the granted
 * one (all with their keys: ssa_tls_identities_check() passed), and ALPN.
 * @retval NULL when out of memory */
static struct ssa_srv *server_identities(const struct ssa_policy *pol,
					 const struct ssa_tls_opts *o)
{
	struct ssa_srv *srv = calloc(1, sizeof *srv);

	if (!srv)
		return NULL;
	for (int i = 0; i < o->n_ids; i++) {
		srv->ids[i].chain = X509_chain_up_ref(o->ids[i].chain);
		srv->ids[i].key = o->ids[i].key;
		EVP_PKEY_up_ref(o->ids[i].key);
		srv->n_ids++;
	}
	/* The identity the administrator granted this program's profile. */
	if (pol->granted.chain && srv->n_ids < SSA_MAX_IDENTITIES) {
		srv->ids[srv->n_ids].chain = X509_chain_up_ref(pol->granted.chain);
		srv->ids[srv->n_ids].key = pol->granted.key;
		EVP_PKEY_up_ref(pol->granted.key);
		srv->n_ids++;
	}
	memcpy(srv->alpn, o->alpn, o->alpn_len);
	srv->alpn_len = o->alpn_len;
	return srv;
}

/* Session tickets and the session cache of a server context. */
static void server_sessions(SSL_CTX *ctx, const struct ssa_restrict *t,
			    enum ssa_tls_server_use use)
{
	/* One connection: see enum ssa_tls_server_use. Otherwise the
	 * application may shorten or switch off resumption, never extend it. */
	if (use == SSA_TLS_SERVER_ONE_CONNECTION || t->session_reuse == 0 ||
	    t->session_ttl == 0) {
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	} else if (t->session_ttl > 0) {
		SSL_CTX_set_timeout(ctx, t->session_ttl);
	}
}

SSL_CTX *ssa_tls_server_ctx_build(const struct ssa_policy *pol, struct ssa_tls_opts *o,
				  enum ssa_tls_server_use use, bool ktls, int *err, char *why,
				  size_t wl)
{
	struct ssa_srv *srv;
	SSL_CTX *ctx;

	if ((*err = ssa_tls_identities_check(pol, o, true, why, wl)) != 0)
		return NULL;
	srv = server_identities(pol, o);
	if (!srv) {
		*err = ENOMEM;
		snprintf(why, wl, "out of memory");
		return NULL;
	}
	/* The policy's client-authentication floor applies whatever the app says. */
	if (o->peer_auth < pol->cfg.request_peer_auth)
		o->peer_auth = pol->cfg.request_peer_auth;
	ctx = ssa_tls_server_ctx_new(&pol->cfg, srv, o->peer_auth, o->trusted, why, wl);
	if (!ctx) {
		*err = EINVAL;
		return NULL;
	}
	server_sessions(ctx, &o->tighten, use);
	if (ssa_tls_restrict_ctx(ctx, &pol->cfg, &o->tighten) != 0) {
		SSL_CTX_free(ctx);
		*err = EINVAL;
		snprintf(why, wl, "the socket's cipher and version restrictions leave nothing usable");
		return NULL;
	}
	if (ktls)
		ssa_ktls_prepare_ctx(ctx);
	return ctx;
}

SSL *ssa_tls_server_new(SSL_CTX *ctx, int fd, struct ssa_ktls_secret *ktls)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl || !SSL_set_fd(ssl, fd)) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	if (ktls)
		ssa_ktls_prepare_ssl(ssl, ctx, ktls);
	return ssl;
}
