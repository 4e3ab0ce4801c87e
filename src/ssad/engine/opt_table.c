/* SPDX-License-Identifier: MIT */
/* The IPPROTO_TLS options as one table, and its core over (policy,
 * options) that both front ends share (opt_table.h): the options of design
 * §3 that this version provides; the others answer ENOPROTOOPT until their
 * feature lands. No connection here: the libssa front end adds one
 * (libssa_front/sockopt_conn.c). */
#include "opt_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ssa/in_tls.h"
#include "../../proto/wire.h"
#include "policy.h"
#include "tls_context.h"
#include "tls_opts.h"

/* --- values --------------------------------------------------------------- */

/** How an option's value travels. */
enum opt_kind {
	K_READONLY, /**< get only: set answers EOPNOTSUPP */
	K_INT,      /**< int */
	K_LONG,     /**< long */
	K_STR,      /**< NUL-terminated string of at most row->max bytes */
	K_FILE,     /**< a path, with its files (opt_files.h) */
};

/** When an option may be set. */
enum opt_when {
	W_FRESH,       /**< before connect(), listen() or accept */
	W_UNCONNECTED, /**< ... or on an accepted socket before its handshake */
};

/** A decoded option value. */
union opt_val {
	int i;
	long l;
	const char *s;
};

/** Where a get handler writes. */
struct opt_out {
	void *buf;
	size_t cap;
	size_t *len;
};

/** One row of the table: one IPPROTO_TLS option of in_tls.h. */
struct opt_row {
	int name;              /**< TLS_... */
	enum opt_kind kind;
	enum opt_when when;
	bool needs_session;    /**< get: ENOTCONN until established */
	size_t max;            /**< K_STR, K_FILE: longest string (NUL excluded) */
	/** The value alone, judged before the stage (may be NULL). */
	int (*check)(struct ssa_tls_opts *o, const union opt_val *v);
	/** The rule: tighten o under pol. */
	int (*set)(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
		   const union opt_val *v);
	/** The value in force, or a result of the handshake (NULL: set only). */
	int (*get)(const struct ssa_opt_view *v, int name, struct opt_out *out);
};

int ssa_sockopt_put(void *out, size_t cap, size_t *len, const void *v, size_t n)
{
	*len = n;
	if (n > cap)
		return ERANGE;
	memcpy(out, v, n);
	return 0;
}

/** Copy n bytes of value out (ERANGE: *len says how many are needed). */
static int put(struct opt_out *out, const void *v, size_t n)
{
	return ssa_sockopt_put(out->buf, out->cap, out->len, v, n);
}

/** A string value, with its NUL. */
static int put_str(struct opt_out *out, const char *s)
{
	return put(out, s, strlen(s) + 1);
}

/** An int value. */
static int put_int(struct opt_out *out, int v)
{
	return put(out, &v, sizeof v);
}

/** Copy a malloc'ed PEM text of n bytes out (with its NUL) and free it. */
static int put_pem(struct opt_out *out, char *pem, size_t n)
{
	int rc;

	if (!pem)
		return ENOMEM;
	rc = put(out, pem, n + 1);
	free(pem);
	return rc;
}

/** @name Value checks: the value alone, before the stage (opt_row.check)
 * @{ */

static int check_hostname(struct ssa_tls_opts *o, const union opt_val *v)
{
	(void)o;
	return ssa_opts_hostname_ok(v->s) ? 0 : EINVAL;
}

static int check_version(struct ssa_tls_opts *o, const union opt_val *v)
{
	return ssa_opts_version_value(o, v->i);
}

static int check_peer_auth(struct ssa_tls_opts *o, const union opt_val *v)
{
	(void)o;
	return ssa_opts_peer_auth_value(v->i);
}

static int check_bool(struct ssa_tls_opts *o, const union opt_val *v)
{
	(void)o;
	return ssa_opts_bool_value(v->i);
}

static int check_ttl(struct ssa_tls_opts *o, const union opt_val *v)
{
	(void)o;
	return ssa_opts_ttl_value(v->l);
}

/** @} */

/** @name Set handlers: the engine's rules (tls_opts.h) (opt_row.set)
 * @{ */

static int set_hostname(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
			const union opt_val *v)
{
	(void)pol;
	(void)name;
	return ssa_opts_set_hostname(o, v->s);
}

static int set_alpn(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
		    const union opt_val *v)
{
	(void)pol;
	(void)name;
	return ssa_opts_set_alpn(o, v->s);
}

static int set_peer_auth(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
			 const union opt_val *v)
{
	(void)name;
	return ssa_opts_set_peer_auth(pol, o, v->i);
}

static int set_version(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
		       const union opt_val *v)
{
	return name == TLS_VERSION_MIN ? ssa_opts_set_version_min(pol, o, v->i) :
					 ssa_opts_set_version_max(pol, o, v->i);
}

static int set_cipher(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
		      const union opt_val *v)
{
	return name == TLS_DISABLE_CIPHER ? ssa_opts_disable_cipher(o, v->s) :
					    ssa_opts_enable_cipher(pol, o, v->s);
}

static int set_session_ttl(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
			   const union opt_val *v)
{
	(void)name;
	return ssa_opts_set_session_ttl(pol, o, v->l);
}

static int set_session_reuse(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
			     const union opt_val *v)
{
	(void)name;
	return ssa_opts_set_session_reuse(pol, o, v->i);
}

static int set_revocation(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
			  const union opt_val *v)
{
	return ssa_opts_set_revocation(pol, o, name, v->i);
}

/** @} */

/** @name Get handlers: values in force (opt_row.get)
 * @{ */

static int get_remote_hostname(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	(void)name;
	return put_str(out, v->o->hostname);
}

static int get_peer_auth(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	(void)name;
	return put_int(out, ssa_opts_peer_auth(v->pol, v->o));
}

static int get_version(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	return put_int(out, name == TLS_VERSION_MIN ? ssa_opts_version_min(v->pol, v->o) :
						      ssa_opts_version_max(v->pol, v->o));
}

static int get_trusted_ciphers(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	char *list = ssa_opts_trusted_ciphers(v->pol, v->o);
	int rc;

	(void)name;
	if (!list)
		return ENOMEM;
	rc = put_str(out, list);
	free(list);
	return rc;
}

static int get_session_ttl(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	long ttl = ssa_opts_session_ttl(v->pol, v->o);

	(void)name;
	return put(out, &ttl, sizeof ttl);
}

static int get_session_reuse(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	(void)name;
	return put_int(out, ssa_opts_session_reuse(v->pol, v->o));
}

static int get_revocation(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	return put_int(out, ssa_opts_revocation(v->pol, v->o, name));
}

static int get_error(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	(void)name;
	return put_str(out, v->o->error);
}

static int get_id(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	(void)name;
	return put(out, &v->id, sizeof v->id);
}

/** Own chain: the one in use once connected, else the first set. */
static int get_certificate_chain(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	X509 *leaf = v->ssl ? SSL_get_certificate(v->ssl) : NULL;
	STACK_OF(X509) *chain = NULL, *all;
	size_t n = 0;
	char *pem;

	(void)name;
	if (!leaf && !v->o->n_ids)
		return put_str(out, "");
	if (!leaf)
		return put_pem(out, ssa_chain_pem(v->o->ids[0].chain, &n), n);
	SSL_get0_chain_certs(v->ssl, &chain);
	all = chain ? sk_X509_dup(chain) : sk_X509_new_null();
	if (!all || !sk_X509_insert(all, leaf, 0)) {
		sk_X509_free(all);
		return ENOMEM;
	}
	pem = ssa_chain_pem(all, &n);
	sk_X509_free(all);
	return put_pem(out, pem, n);
}

/** @} */

/** @name Get handlers: results of the handshake, v->ssl set (opt_row.get)
 * @{ */

static int get_hostname(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	const char *sni = SSL_is_server(v->ssl) ?
			  SSL_get_servername(v->ssl, TLSEXT_NAMETYPE_host_name) : v->o->hostname;

	(void)name;
	return put_str(out, sni ? sni : "");
}

static int get_alpn(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	const unsigned char *p = NULL;
	unsigned n = 0;
	char sel[256];

	(void)name;
	SSL_get0_alpn_selected(v->ssl, &p, &n);
	memcpy(sel, p ? (const char *)p : "", n);
	sel[n] = '\0';
	return put_str(out, sel);
}

static int get_resumed(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	(void)name;
	return put_int(out, SSL_session_reused(v->ssl));
}

static int get_chosen_version(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	(void)name;
	return put_int(out, SSL_version(v->ssl));
}

static int get_chosen_cipher(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	(void)name;
	return put_str(out, SSL_CIPHER_standard_name(SSL_get_current_cipher(v->ssl)));
}

static int get_peer_identity(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	X509 *peer = SSL_get0_peer_certificate(v->ssl);
	char id[4096];

	(void)name;
	if (!peer)
		return put_str(out, "");
	if (ssa_tls_identity(peer, id, sizeof id) != 0)
		return ENOMEM;
	return put_str(out, id);
}

static int get_peer_chain(const struct ssa_opt_view *v, int name, struct opt_out *out)
{
	size_t n = 0;
	char *pem = ssa_tls_peer_chain_pem(v->ssl, &n);

	(void)name;
	return pem ? put_pem(out, pem, n) : put_str(out, "");
}

/** @} */

/* --- the table ---------------------------------------------------------------------- */

/** A settable option (and its get handler, if any). */
#define SET(nm, k, mx, w, chk, st, gt) \
	{ .name = (nm), .kind = (k), .when = (w), .max = (mx), .check = (chk), .set = (st), \
	  .get = (gt) }
/** A read-only option. */
#define GET(nm, gt, session) \
	{ .name = (nm), .kind = K_READONLY, .when = W_FRESH, .get = (gt), .needs_session = (session) }

/**
 * The options: name, value kind, longest string, when settable, value
 * check, set rule, get handler (and, for ALPN and the read-only ones,
 * whether reading needs an established session). Options of in_tls.h
 * that are not here (TLS_CONTEXT, TLS_SERVER_OCSP_STAPLING, TLS_UPGRADE)
 * answer ENOPROTOOPT.
 */
static const struct opt_row opt_table[] = {
	SET(TLS_REMOTE_HOSTNAME, K_STR, SSA_HOSTNAME_MAX, W_UNCONNECTED, check_hostname,
	    set_hostname, get_remote_hostname),
	SET(TLS_TRUSTED_PEER_CERTIFICATES, K_FILE, SSA_WIRE_MAX_OPTVAL, W_FRESH, NULL, NULL, NULL),
	SET(TLS_CERTIFICATE_CHAIN, K_FILE, SSA_WIRE_MAX_OPTVAL, W_FRESH, NULL, NULL,
	    get_certificate_chain),
	SET(TLS_PRIVATE_KEY, K_FILE, SSA_WIRE_MAX_OPTVAL, W_FRESH, NULL, NULL, NULL),
	SET(TLS_SESSION_TTL, K_LONG, 0, W_FRESH, check_ttl, set_session_ttl, get_session_ttl),
	SET(TLS_DISABLE_CIPHER, K_STR, 128, W_FRESH, NULL, set_cipher, NULL),
	SET(TLS_ENABLE_CIPHER, K_STR, 128, W_FRESH, NULL, set_cipher, NULL),
	SET(TLS_REQUEST_PEER_AUTH, K_INT, 0, W_FRESH, check_peer_auth, set_peer_auth,
	    get_peer_auth),
	SET(TLS_REVOCATION_CHECKS, K_INT, 0, W_FRESH, check_bool, set_revocation, get_revocation),
	SET(TLS_OCSP_STAPLED_CHECKS, K_INT, 0, W_FRESH, check_bool, set_revocation,
	    get_revocation),
	SET(TLS_OCSP_CHECKS, K_INT, 0, W_FRESH, check_bool, set_revocation, get_revocation),
	SET(TLS_CRL_CHECKS, K_INT, 0, W_FRESH, check_bool, set_revocation, get_revocation),
	SET(TLS_CACHED_REV_CHECKS, K_INT, 0, W_FRESH, check_bool, set_revocation, get_revocation),
	SET(TLS_SESSION_REUSE, K_INT, 0, W_FRESH, check_bool, set_session_reuse,
	    get_session_reuse),
	SET(TLS_VERSION_MIN, K_INT, 0, W_FRESH, check_version, set_version, get_version),
	SET(TLS_VERSION_MAX, K_INT, 0, W_FRESH, check_version, set_version, get_version),
	/* set before connect; get: what the handshake chose */
	{ .name = TLS_ALPN, .kind = K_STR, .max = 1024, .when = W_FRESH, .set = set_alpn, .get = get_alpn,
	  .needs_session = true },
	GET(TLS_HOSTNAME, get_hostname, true),
	GET(TLS_PEER_IDENTITY, get_peer_identity, true),
	GET(TLS_PEER_CERTIFICATE_CHAIN, get_peer_chain, true),
	GET(TLS_ID, get_id, false),
	GET(TLS_TRUSTED_CIPHERS, get_trusted_ciphers, false),
	GET(TLS_CHOSEN_CIPHER, get_chosen_cipher, true),
	GET(TLS_ERROR, get_error, false),
	GET(TLS_RESUMED_SESSION, get_resumed, true),
	GET(TLS_CHOSEN_VERSION, get_chosen_version, true),
};

/** The table's row of an option, NULL if this version has none. */
static const struct opt_row *row_of(int name)
{
	for (size_t i = 0; i < sizeof opt_table / sizeof opt_table[0]; i++)
		if (opt_table[i].name == name)
			return &opt_table[i];
	return NULL;
}

bool ssa_sockopt_is_file(int name)
{
	const struct opt_row *r = row_of(name);

	return r && r->kind == K_FILE;
}

/* --- the core: (policy, options) ----------------------------------------------------- */

/** The value of val/len as the row's kind wants it. @retval 0 @retval EINVAL bad size or string */
static int decode(const struct opt_row *r, const void *val, size_t len, union opt_val *v)
{
	switch (r->kind) {
	case K_INT:
		if (len != sizeof v->i)
			return EINVAL;
		memcpy(&v->i, val, sizeof v->i);
		return 0;
	case K_LONG:
		if (len != sizeof v->l)
			return EINVAL;
		memcpy(&v->l, val, sizeof v->l);
		return 0;
	case K_STR:
	case K_FILE:
		if (ssa_check_string(val, len, r->max))
			return EINVAL;
		v->s = val;
		return 0;
	default:
		return EINVAL;
	}
}

/** May the row's option be set at stage st? */
static bool settable(const struct opt_row *r, enum ssa_opt_stage st)
{
	return st == SSA_OPT_FRESH || (r->when == W_UNCONNECTED && st == SSA_OPT_UNCONNECTED);
}

int ssa_sockopt_set_tls(const struct ssa_policy *pol, struct ssa_tls_opts *o,
			enum ssa_opt_stage st, int name, const void *val, size_t len)
{
	const struct opt_row *r = row_of(name);
	union opt_val v;
	int err;

	if (!r)
		return ENOPROTOOPT;
	if (r->kind == K_READONLY)
		return EOPNOTSUPP;
	/* The value first (EINVAL, or EPERM for what no policy allows), then
	 * the stage, then the policy. */
	if ((err = decode(r, val, len, &v)) != 0 || (r->check && (err = r->check(o, &v)) != 0))
		return err;
	if (r->kind == K_FILE)
		return EINVAL; /* its files come through opt_files.h */
	if (!settable(r, st))
		return EOPNOTSUPP;
	return r->set(pol, o, name, &v);
}

int ssa_sockopt_file_path(int name, const void *val, size_t len, const char **path)
{
	const struct opt_row *r = row_of(name);
	union opt_val v;

	if (!r || r->kind != K_FILE || decode(r, val, len, &v) != 0)
		return EINVAL;
	*path = v.s;
	return 0;
}

int ssa_sockopt_file_allowed(const struct ssa_policy *pol, struct ssa_tls_opts *o,
			     enum ssa_opt_stage st, int name, const char *path, int nfds)
{
	if (!ssa_sockopt_is_file(name))
		return EINVAL;
	if (st != SSA_OPT_FRESH)
		return EOPNOTSUPP;
	switch (name) {
	case TLS_CERTIFICATE_CHAIN:
		return nfds != 1 ? EINVAL : ssa_opts_may_add_chain(o, path);
	case TLS_PRIVATE_KEY:
		return nfds != 1 ? EINVAL : ssa_opts_may_set_key(o, path);
	default:
		/* Client or server: tls_opts.h, ssa_opts_may_add_anchors().
		 * Either way the files are bounded. */
		return ssa_opts_may_add_anchors(pol, o);
	}
}

int ssa_sockopt_get_tls(const struct ssa_opt_view *v, int name, void *out, size_t cap,
			size_t *len)
{
	const struct opt_row *r = row_of(name);
	struct opt_out o = { out, cap, len };

	if (!r || !r->get)
		return ENOPROTOOPT;
	if (r->needs_session && !v->ssl)
		return ENOTCONN;
	return r->get(v, name, &o);
}
