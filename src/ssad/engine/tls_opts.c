/* SPDX-License-Identifier: MIT */
/* A socket's TLS options and the tighten-only rules over (policy, options):
 * no I/O, no connection (tls_opts.h). */
#include "tls_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssa/in_tls.h"
#include "../../proto/wire.h"
#include "config.h"
#include "policy.h"

void ssa_tls_opts_init(struct ssa_tls_opts *o)
{
	memset(o, 0, sizeof *o);
	o->tighten.session_ttl = -1;
	o->tighten.session_reuse = -1;
}

void ssa_tls_opts_clear(struct ssa_tls_opts *o)
{
	for (int i = 0; i < o->n_ids; i++)
		ssa_identity_clear(&o->ids[i]);
	sk_X509_pop_free(o->trusted, X509_free);
	ssa_restrict_clear(&o->tighten);
	ssa_tls_opts_init(o);
}

int ssa_opts_fail(struct ssa_tls_opts *o, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->error, sizeof o->error, fmt, ap);
	va_end(ap);
	return err;
}

/* --- values --------------------------------------------------------------- */

_Static_assert(SSA_HOSTNAME_MAX == SSA_WIRE_HOSTNAME_MAX, "libssa checks host names alike");

bool ssa_opts_hostname_ok(const char *s)
{
	/* One definition for ssad and libssa, which checks before deferring
	 * the option to the CONNECT (wire.h, SSA_CONNECT_HOSTNAME). */
	return ssa_hostname_ok(s);
}

int ssa_opts_version_value(struct ssa_tls_opts *o, int v)
{
	/* SSL 3.0 .. TLS 1.1 exist but are below any policy: weakening. */
	if (v >= 0x0300 && v < TLS_VERSION_1_2)
		return ssa_opts_fail(o, EPERM, "TLS version 0x%04x is never allowed", v);
	if (v != TLS_VERSION_1_2 && v != TLS_VERSION_1_3)
		return EINVAL;
	return 0;
}

int ssa_opts_peer_auth_value(int v)
{
	return v < TLS_PEER_AUTH_NONE || v > TLS_PEER_AUTH_REQUIRE ? EINVAL : 0;
}

int ssa_opts_bool_value(int v)
{
	return v != 0 && v != 1 ? EINVAL : 0;
}

int ssa_opts_ttl_value(long ttl)
{
	return ttl < 0 ? EINVAL : 0;
}

/* --- rules ---------------------------------------------------------------- */

int ssa_opts_set_hostname(struct ssa_tls_opts *o, const char *name)
{
	size_t n = strlen(name);

	if (n > SSA_HOSTNAME_MAX || !ssa_opts_hostname_ok(name))
		return EINVAL;
	memcpy(o->hostname, name, n + 1);
	return 0;
}

int ssa_opts_set_alpn(struct ssa_tls_opts *o, const char *list)
{
	unsigned char wire[sizeof o->alpn];
	size_t n = 0;

	if (ssa_alpn_encode(list, wire, sizeof wire, &n)) {
		o->alpn_len = 0;
		return ssa_opts_fail(o, EINVAL, "TLS_ALPN: '%s' is not a list of 1..255-byte names",
				     list);
	}
	memcpy(o->alpn, wire, n);
	o->alpn_len = n;
	return 0;
}

int ssa_opts_set_peer_auth(const struct ssa_policy *pol, struct ssa_tls_opts *o, int v)
{
	if (ssa_opts_peer_auth_value(v))
		return EINVAL;
	if (v < pol->cfg.request_peer_auth)
		return ssa_opts_fail(o, EPERM, "TLS_REQUEST_PEER_AUTH %d is below the policy's %d "
				     "(profile %s)", v, pol->cfg.request_peer_auth, pol->name);
	o->peer_auth = v;
	return 0;
}

int ssa_opts_set_version_min(const struct ssa_policy *pol, struct ssa_tls_opts *o, int v)
{
	struct ssa_restrict *t = &o->tighten;
	int err = ssa_opts_version_value(o, v);

	if (err)
		return err;
	if (v < pol->cfg.min_version)
		return ssa_opts_fail(o, EPERM, "TLS_VERSION_MIN 0x%04x is below the policy minimum "
				     "0x%04x (profile %s)", v, pol->cfg.min_version, pol->name);
	if (v > (t->max_version ? t->max_version : pol->cfg.max_version))
		return ssa_opts_fail(o, EINVAL, "TLS_VERSION_MIN above the maximum version");
	t->min_version = v;
	return 0;
}

int ssa_opts_set_version_max(const struct ssa_policy *pol, struct ssa_tls_opts *o, int v)
{
	struct ssa_restrict *t = &o->tighten;
	int err = ssa_opts_version_value(o, v);

	if (err)
		return err;
	if (v > pol->cfg.max_version)
		return ssa_opts_fail(o, EPERM, "TLS_VERSION_MAX 0x%04x is above the policy maximum "
				     "0x%04x (profile %s)", v, pol->cfg.max_version, pol->name);
	if (v < (t->min_version ? t->min_version : pol->cfg.min_version))
		return ssa_opts_fail(o, EINVAL, "TLS_VERSION_MAX below the minimum version");
	t->max_version = v;
	return 0;
}

int ssa_opts_disable_cipher(struct ssa_tls_opts *o, const char *name)
{
	struct ssa_restrict *t = &o->tighten;
	const char *cn = ssa_tls_cipher_name(name);

	if (!cn)
		return ssa_opts_fail(o, EINVAL, "unknown cipher '%s'", name);
	for (int i = 0; i < t->n_disabled; i++)
		if (strcmp(t->disabled[i], cn) == 0)
			return 0;
	if (t->n_disabled == (int)(sizeof t->disabled / sizeof t->disabled[0]))
		return ssa_opts_fail(o, EINVAL, "too many disabled ciphers");
	if (!(t->disabled[t->n_disabled] = strdup(cn)))
		return ENOMEM;
	t->n_disabled++;
	return 0;
}

/** Is the cipher (OpenSSL name) among those the policy itself allows? */
static bool policy_allows(const struct ssa_policy *pol, const char *cn)
{
	char *list = ssa_tls_trusted_ciphers(pol->client_ctx, &pol->cfg,
					     &(struct ssa_restrict){ .session_ttl = -1 });
	char *tok, *save;
	bool allowed = false;

	for (tok = list ? strtok_r(list, ":", &save) : NULL; tok; tok = strtok_r(NULL, ":", &save))
		if (strcmp(tok, cn) == 0)
			allowed = true;
	free(list);
	return allowed;
}

int ssa_opts_enable_cipher(const struct ssa_policy *pol, struct ssa_tls_opts *o,
			   const char *name)
{
	struct ssa_restrict *t = &o->tighten;
	const char *cn = ssa_tls_cipher_name(name);

	if (!cn)
		return ssa_opts_fail(o, EINVAL, "unknown cipher '%s'", name);
	if (!policy_allows(pol, cn))
		return ssa_opts_fail(o, EPERM, "cipher %s is not allowed by the policy (profile %s)",
				     cn, pol->name);
	for (int i = 0; i < t->n_disabled; i++) {
		if (strcmp(t->disabled[i], cn) == 0) {
			free(t->disabled[i]);
			t->disabled[i] = t->disabled[--t->n_disabled];
			break;
		}
	}
	return 0;
}

int ssa_opts_set_session_ttl(const struct ssa_policy *pol, struct ssa_tls_opts *o, long ttl)
{
	if (ssa_opts_ttl_value(ttl))
		return EINVAL;
	if (ttl > pol->cfg.session_timeout)
		return ssa_opts_fail(o, EPERM, "TLS_SESSION_TTL %ld exceeds the policy's %ld s "
				     "(profile %s)", ttl, pol->cfg.session_timeout, pol->name);
	o->tighten.session_ttl = ttl;
	return 0;
}

int ssa_opts_set_session_reuse(const struct ssa_policy *pol, struct ssa_tls_opts *o, int v)
{
	if (ssa_opts_bool_value(v))
		return EINVAL;
	if (v && !pol->cfg.session_tickets)
		return ssa_opts_fail(o, EPERM, "session resumption is disabled by the policy "
				     "(session-tickets = no, profile %s)", pol->name);
	o->tighten.session_reuse = v;
	return 0;
}

/** Is name one of the revocation switches (102..106)? */
static bool is_revocation(int name)
{
	return name == TLS_REVOCATION_CHECKS || name == TLS_CRL_CHECKS ||
	       name == TLS_OCSP_STAPLED_CHECKS || name == TLS_OCSP_CHECKS ||
	       name == TLS_CACHED_REV_CHECKS;
}

/** Switching one kind of check off: only where it is not on by policy.
 * @retval 0 accepted (nothing changes) @retval EPERM required (reason set) */
static int revocation_off(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name)
{
	const struct ssa_config *cfg = &pol->cfg;

	if (ssa_opts_revocation(pol, o, name) &&
	    ((name != TLS_OCSP_STAPLED_CHECKS && ssa_config_crl_checks(cfg)) ||
	     (name != TLS_CRL_CHECKS && cfg->ocsp_stapled_checks)))
		return ssa_opts_fail(o, EPERM, "revocation checks are required by the policy "
				     "(profile %s)", pol->name);
	return 0; /* off unless the policy says so: nothing to undo */
}

int ssa_opts_set_revocation(const struct ssa_policy *pol, struct ssa_tls_opts *o, int name,
			    int v)
{
	if (ssa_opts_bool_value(v) || !is_revocation(name))
		return EINVAL;
	if (name == TLS_OCSP_CHECKS)
		return v ? ssa_opts_fail(o, EOPNOTSUPP, "online OCSP is not offered: ssad checks "
					 "CRLs (crl-file) and stapled OCSP responses") : 0;
	if (name == TLS_CACHED_REV_CHECKS)
		return v ? 0 : ssa_opts_fail(o, EPERM, "ssad only ever checks locally held "
					     "revocation data; it cannot be switched off");
	if (!v)
		return revocation_off(pol, o, name);
	/* Tightening: on, for this socket. CRL checks without a crl-file
	 * refuse every certificate, as asked. */
	if (name != TLS_OCSP_STAPLED_CHECKS)
		o->tighten.crl_checks = true;
	if (name != TLS_CRL_CHECKS)
		o->tighten.ocsp_stapled = true;
	return 0;
}

int ssa_opts_may_add_chain(struct ssa_tls_opts *o, const char *path)
{
	if (o->n_ids == SSA_MAX_IDENTITIES)
		return ssa_opts_fail(o, EINVAL, "at most %d identities per socket",
				     SSA_MAX_IDENTITIES);
	if (o->n_ids && !o->ids[o->n_ids - 1].key)
		return ssa_opts_fail(o, EINVAL, "%s: set TLS_PRIVATE_KEY for the previous chain "
				     "first", path);
	return 0;
}

int ssa_opts_may_set_key(struct ssa_tls_opts *o, const char *path)
{
	if (o->n_ids == 0 || o->ids[o->n_ids - 1].key)
		return ssa_opts_fail(o, EINVAL, "%s: set TLS_CERTIFICATE_CHAIN first", path);
	return 0;
}

int ssa_opts_may_add_anchors(const struct ssa_policy *pol, struct ssa_tls_opts *o)
{
	if (!pol->cfg.app_trust_anchors && !o->peer_auth)
		return ssa_opts_fail(o, EPERM, "%s", "policy does not let applications add trust "
				     "anchors (app-trust-anchors = no)");
	return 0;
}

int ssa_opts_add_chain(struct ssa_tls_opts *o, STACK_OF(X509) *chain, const char *path)
{
	int err = ssa_opts_may_add_chain(o, path);

	if (err)
		return err;
	o->ids[o->n_ids].chain = chain;
	o->ids[o->n_ids].key = NULL;
	o->n_ids++;
	return 0;
}

int ssa_opts_set_key(struct ssa_tls_opts *o, EVP_PKEY *key, const char *path)
{
	struct ssa_identity *id;
	char r[200];
	int err = ssa_opts_may_set_key(o, path);

	if (err)
		return err;
	id = &o->ids[o->n_ids - 1];
	id->key = key;
	if ((err = ssa_identity_check(id, r, sizeof r)) != 0) {
		id->key = NULL;
		return ssa_opts_fail(o, err, "%s: %s", path, r);
	}
	return 0;
}

int ssa_opts_check_client(const struct ssa_policy *pol, struct ssa_tls_opts *o)
{
	if (o->trusted && !pol->cfg.app_trust_anchors)
		return ssa_opts_fail(o, EPERM, "policy does not let applications add trust anchors "
				     "(app-trust-anchors = no)");
	return 0;
}

int ssa_opts_check(const struct ssa_policy *pol, struct ssa_tls_opts *o)
{
	const struct ssa_config *cfg = &pol->cfg;
	const struct ssa_restrict *t = &o->tighten;

	if (o->peer_auth && o->peer_auth < cfg->request_peer_auth)
		return ssa_opts_fail(o, EPERM, "TLS_REQUEST_PEER_AUTH %d is below the policy's %d "
				     "(profile %s)", o->peer_auth, cfg->request_peer_auth, pol->name);
	if (t->min_version && t->min_version < cfg->min_version)
		return ssa_opts_fail(o, EPERM, "TLS_VERSION_MIN 0x%04x is below the policy minimum "
				     "0x%04x (profile %s)", t->min_version, cfg->min_version,
				     pol->name);
	if (t->max_version && t->max_version > cfg->max_version)
		return ssa_opts_fail(o, EPERM, "TLS_VERSION_MAX 0x%04x is above the policy maximum "
				     "0x%04x (profile %s)", t->max_version, cfg->max_version,
				     pol->name);
	if (ssa_opts_version_min(pol, o) > ssa_opts_version_max(pol, o))
		return ssa_opts_fail(o, EINVAL, "TLS_VERSION_MIN above the maximum version");
	if (t->session_ttl > cfg->session_timeout)
		return ssa_opts_fail(o, EPERM, "TLS_SESSION_TTL %ld exceeds the policy's %ld s "
				     "(profile %s)", t->session_ttl, cfg->session_timeout, pol->name);
	if (t->session_reuse == 1 && !cfg->session_tickets)
		return ssa_opts_fail(o, EPERM, "session resumption is disabled by the policy "
				     "(session-tickets = no, profile %s)", pol->name);
	if (o->trusted)
		return ssa_opts_may_add_anchors(pol, o);
	return 0;
}

/* --- effective values ------------------------------------------------------ */

int ssa_opts_peer_auth(const struct ssa_policy *pol, const struct ssa_tls_opts *o)
{
	return o->peer_auth > pol->cfg.request_peer_auth ? o->peer_auth :
							   pol->cfg.request_peer_auth;
}

int ssa_opts_version_min(const struct ssa_policy *pol, const struct ssa_tls_opts *o)
{
	int t = o->tighten.min_version;

	return t > pol->cfg.min_version ? t : pol->cfg.min_version;
}

int ssa_opts_version_max(const struct ssa_policy *pol, const struct ssa_tls_opts *o)
{
	int t = o->tighten.max_version;

	return t && t < pol->cfg.max_version ? t : pol->cfg.max_version;
}

long ssa_opts_session_ttl(const struct ssa_policy *pol, const struct ssa_tls_opts *o)
{
	return o->tighten.session_ttl >= 0 ? o->tighten.session_ttl : pol->cfg.session_timeout;
}

int ssa_opts_session_reuse(const struct ssa_policy *pol, const struct ssa_tls_opts *o)
{
	return o->tighten.session_reuse >= 0 ? o->tighten.session_reuse :
					       pol->cfg.session_tickets;
}

int ssa_opts_revocation(const struct ssa_policy *pol, const struct ssa_tls_opts *o, int name)
{
	bool crl = o->tighten.crl_checks || ssa_config_crl_checks(&pol->cfg);
	bool stapled = o->tighten.ocsp_stapled || pol->cfg.ocsp_stapled_checks;

	switch (name) {
	case TLS_CRL_CHECKS:
		return crl;
	case TLS_OCSP_STAPLED_CHECKS:
		return stapled;
	case TLS_OCSP_CHECKS:
		return 0;
	case TLS_CACHED_REV_CHECKS:
		return 1;
	default:
		return crl || stapled;
	}
}

char *ssa_opts_trusted_ciphers(const struct ssa_policy *pol, const struct ssa_tls_opts *o)
{
	return ssa_tls_trusted_ciphers(pol->client_ctx, &pol->cfg, &o->tighten);
}
