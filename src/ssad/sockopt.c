/* SPDX-License-Identifier: MIT */
/* The options of design §3 that this version provides; the others answer
 * ENOPROTOOPT until their feature lands. */
#include "sockopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/ssa/in_tls.h"
#include "../proto/wire.h"
#include "conn.h"
#include "tls_context.h"

/* A DNS name or an IP literal: letters, digits, '-', '.', ':' (IPv6) only;
 * labels of 1..63 bytes. */
static int valid_hostname(const char *s)
{
	size_t label = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		char ch = *s;

		if (ch == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == ':' || ch == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

int ssa_sockopt_set(struct ssa_conn *c, int level, int name, const void *val, size_t len)
{
	if (level != IPPROTO_TLS)
		return ENOPROTOOPT;
	switch (name) {
	case TLS_REMOTE_HOSTNAME:
		if (ssa_check_string(val, len, SSA_HOSTNAME_MAX) || !valid_hostname(val))
			return EINVAL;
		if (c->state != SSA_STATE_NEW)
			return EOPNOTSUPP;
		memcpy(c->hostname, val, len);
		return 0;
	case TLS_HOSTNAME:
	case TLS_PEER_IDENTITY:
	case TLS_PEER_CERTIFICATE_CHAIN:
	case TLS_ID:
	case TLS_TRUSTED_CIPHERS:
	case TLS_CHOSEN_CIPHER:
	case TLS_ERROR:
	case TLS_RESUMED_SESSION:
	case TLS_CHOSEN_VERSION:
		return EOPNOTSUPP; /* read-only */
	default:
		return ENOPROTOOPT;
	}
}

static int put(void *out, size_t cap, size_t *len, const void *v, size_t n)
{
	*len = n;
	if (n > cap)
		return ERANGE;
	memcpy(out, v, n);
	return 0;
}

static int put_str(void *out, size_t cap, size_t *len, const char *s)
{
	return put(out, cap, len, s, strlen(s) + 1);
}

int ssa_sockopt_get(struct ssa_conn *c, int level, int name, void *out, size_t cap,
		    size_t *len)
{
	bool up = c->state == SSA_STATE_ESTABLISHED && c->ssl;

	if (level != IPPROTO_TLS)
		return ENOPROTOOPT;
	switch (name) {
	case TLS_REMOTE_HOSTNAME:
		return put_str(out, cap, len, c->hostname);
	case TLS_ERROR:
		return put_str(out, cap, len, c->error);
	case TLS_ID:
		return put(out, cap, len, &c->id, sizeof c->id);
	case TLS_CHOSEN_VERSION: {
		int v;

		if (!up)
			return ENOTCONN;
		v = SSL_version(c->ssl);
		return put(out, cap, len, &v, sizeof v);
	}
	case TLS_CHOSEN_CIPHER:
		if (!up)
			return ENOTCONN;
		return put_str(out, cap, len,
			       SSL_CIPHER_standard_name(SSL_get_current_cipher(c->ssl)));
	case TLS_PEER_IDENTITY: {
		char id[4096];
		X509 *peer;
		int rc;

		if (!up)
			return ENOTCONN;
		peer = SSL_get0_peer_certificate(c->ssl);
		if (!peer)
			return put_str(out, cap, len, "");
		if (ssa_tls_identity(peer, id, sizeof id) != 0)
			return ENOMEM;
		rc = put_str(out, cap, len, id);
		return rc;
	}
	case TLS_PEER_CERTIFICATE_CHAIN: {
		size_t n = 0;
		char *pem;
		int rc;

		if (!up)
			return ENOTCONN;
		pem = ssa_tls_peer_chain_pem(c->ssl, &n);
		if (!pem)
			return put_str(out, cap, len, "");
		rc = put(out, cap, len, pem, n + 1);
		free(pem);
		return rc;
	}
	default:
		return ENOPROTOOPT;
	}
}
