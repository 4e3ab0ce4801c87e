/* SPDX-License-Identifier: MIT */
/* ssa.conf parsing with libinih; every key is checked, unknown ones are errors. */
#include "config.h"
#include "cfg_files.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <ini.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/log.h"

struct parse_state {
	struct ssa_config *cfg;
	char reason[256];
};

int ssa_config_parse_version(const char *s)
{
	if (strcmp(s, "TLSv1.2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(s, "TLSv1.3") == 0)
		return TLS1_3_VERSION;
	return -1;
}

static int set_str(char **dst, const char *v)
{
	char *d = strdup(v);

	if (!d)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

/* Duration: "10", "10s", "2500ms". Bounds: 100 ms .. 1 hour. */
static int parse_duration_ms(const char *v, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || v[0] == '-')
		return -1;
	if (n > 3600UL * 1000)
		return -1; /* before scaling: no wrap-around */
	if (strcmp(end, "ms") == 0)
		;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		n *= 1000;
	else
		return -1;
	if (n < 100 || n > 3600UL * 1000)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int parse_int_range(const char *v, int lo, int hi, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return -1;
	*out = (int)n;
	return 0;
}

/* Check a cipher string against OpenSSL without keeping anything. */
static int check_cipher_list(const char *v, bool tls13)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	int ok;

	if (!ctx)
		return -1;
	/* Judge the list as it will be used: at security level 2. */
	SSL_CTX_set_security_level(ctx, 2);
	ok = tls13 ? SSL_CTX_set_ciphersuites(ctx, v) : SSL_CTX_set_cipher_list(ctx, v);
	if (ok && !tls13) {
		/* A list that leaves no TLS 1.2 cipher is useless. */
		ok = sk_SSL_CIPHER_num(SSL_CTX_get_ciphers(ctx)) > 0;
	}
	SSL_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int check_groups(const char *v)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	int ok;

	if (!ctx)
		return -1;
	ok = SSL_CTX_set1_groups_list(ctx, v);
	SSL_CTX_free(ctx);
	return ok ? 0 : -1;
}

#define FAIL(...)                                                  \
	do {                                                       \
		if (!st->reason[0]) /* keep the first error */     \
			snprintf(st->reason, sizeof st->reason, __VA_ARGS__); \
		return 0;                                          \
	} while (0)

static int parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/*
 * A policy key, valid in [global] and in profiles. Returns 1 if applied,
 * 0 on a bad value (st->reason says why), -1 if name is no policy key.
 */
static int policy_key(struct parse_state *st, struct ssa_config *cfg, const char *name,
		      const char *value)
{
	if (strcmp(name, "trust-store") == 0) {
		if (value[0] != '/')
			FAIL("trust-store must be an absolute path: '%s'", value);
		if (set_str(&cfg->trust_store, value))
			FAIL("out of memory");
	} else if (strcmp(name, "min-version") == 0 || strcmp(name, "max-version") == 0) {
		int v = ssa_config_parse_version(value);

		if (v < 0)
			FAIL("%s: '%s' is not TLSv1.2 or TLSv1.3", name, value);
		if (name[1] == 'i')
			cfg->min_version = v;
		else
			cfg->max_version = v;
	} else if (strcmp(name, "ciphers") == 0) {
		if (check_cipher_list(value, false))
			FAIL("ciphers: '%s' selects no TLS 1.2 cipher", value);
		if (set_str(&cfg->ciphers, value))
			FAIL("out of memory");
	} else if (strcmp(name, "ciphersuites") == 0) {
		if (check_cipher_list(value, true))
			FAIL("ciphersuites: '%s' is not a valid TLS 1.3 suite list", value);
		if (set_str(&cfg->ciphersuites, value))
			FAIL("out of memory");
	} else if (strcmp(name, "groups") == 0) {
		if (check_groups(value))
			FAIL("groups: '%s' is not a valid group list", value);
		if (set_str(&cfg->groups, value))
			FAIL("out of memory");
	} else if (strcmp(name, "verify-depth") == 0) {
		if (parse_int_range(value, 1, 32, &cfg->verify_depth))
			FAIL("verify-depth: '%s' is not an integer in 1..32", value);
	} else if (strcmp(name, "handshake-timeout") == 0) {
		if (parse_duration_ms(value, &cfg->handshake_timeout_ms))
			FAIL("handshake-timeout: '%s' is not a duration between 100ms and 3600s",
			     value);
	} else if (strcmp(name, "app-trust-anchors") == 0) {
		if (parse_bool(value, &cfg->app_trust_anchors))
			FAIL("app-trust-anchors: '%s' is not yes or no", value);
	} else if (strcmp(name, "crl-file") == 0) {
		if (value[0] != '/')
			FAIL("crl-file must be an absolute path: '%s'", value);
		if (set_str(&cfg->crl_file, value))
			FAIL("out of memory");
	} else if (strcmp(name, "crl-checks") == 0) {
		bool b;

		if (parse_bool(value, &b))
			FAIL("crl-checks: '%s' is not yes or no", value);
		cfg->crl_checks = b;
	} else if (strcmp(name, "ocsp-stapled-checks") == 0) {
		if (parse_bool(value, &cfg->ocsp_stapled_checks))
			FAIL("ocsp-stapled-checks: '%s' is not yes or no", value);
	} else if (strcmp(name, "session-tickets") == 0) {
		if (parse_bool(value, &cfg->session_tickets))
			FAIL("session-tickets: '%s' is not yes or no", value);
	} else if (strcmp(name, "session-timeout") == 0) {
		int v;

		if (parse_int_range(value, 0, 7 * 24 * 3600, &v))
			FAIL("session-timeout: '%s' is not a number of seconds in 0..604800", value);
		cfg->session_timeout = v;
	} else if (strcmp(name, "request-peer-auth") == 0) {
		if (strcmp(value, "none") == 0)
			cfg->request_peer_auth = 0;
		else if (strcmp(value, "request") == 0)
			cfg->request_peer_auth = 1;
		else if (strcmp(value, "require") == 0)
			cfg->request_peer_auth = 2;
		else
			FAIL("request-peer-auth: '%s' is not none, request or require", value);
	} else {
		return -1;
	}
	return 1;
}

static struct ssa_profile *profile_of(struct ssa_config *cfg, const char *name)
{
	struct ssa_profile *p;

	for (int i = 0; i < cfg->n_profiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	p = realloc(cfg->profiles, (size_t)(cfg->n_profiles + 1) * sizeof *p);
	if (!p)
		return NULL;
	cfg->profiles = p;
	p = &cfg->profiles[cfg->n_profiles];
	memset(p, 0, sizeof *p);
	p->name = strdup(name);
	if (!p->name)
		return NULL;
	cfg->n_profiles++;
	return p;
}

static int remember(struct ssa_profile *p, const char *name, const char *value)
{
	char **k = realloc(p->keys, (size_t)(p->n_keys + 1) * sizeof *k);
	char **v;

	if (!k)
		return -1;
	p->keys = k;
	v = realloc(p->values, (size_t)(p->n_keys + 1) * sizeof *v);
	if (!v)
		return -1;
	p->values = v;
	p->keys[p->n_keys] = strdup(name);
	p->values[p->n_keys] = strdup(value);
	if (!p->keys[p->n_keys] || !p->values[p->n_keys]) {
		free(p->keys[p->n_keys]);
		free(p->values[p->n_keys]);
		return -1;
	}
	p->n_keys++;
	return 0;
}

static int profile_key(struct parse_state *st, struct ssa_profile *p, const char *name,
		       const char *value)
{
	if (strcmp(name, "match-exe") == 0) {
		if (value[0] != '/')
			FAIL("match-exe must be an absolute path: '%s'", value);
		if (set_str(&p->match_exe, value))
			FAIL("out of memory");
	} else if (strcmp(name, "match-user") == 0) {
		struct passwd *pw = getpwnam(value);
		int id;

		if (pw)
			p->uid = pw->pw_uid;
		else if (parse_int_range(value, 0, INT_MAX, &id) == 0)
			p->uid = (uid_t)id;
		else
			FAIL("match-user: no user '%s'", value);
		p->has_user = true;
	} else if (strcmp(name, "match-group") == 0) {
		struct group *gr = getgrnam(value);
		int id;

		if (gr)
			p->gid = gr->gr_gid;
		else if (parse_int_range(value, 0, INT_MAX, &id) == 0)
			p->gid = (gid_t)id;
		else
			FAIL("match-group: no group '%s'", value);
		p->has_group = true;
	} else if (strcmp(name, "certificate") == 0 || strcmp(name, "private-key") == 0) {
		if (value[0] != '/')
			FAIL("%s must be an absolute path: '%s'", name, value);
		if (set_str(name[0] == 'c' ? &p->cfg.certificate : &p->cfg.private_key, value))
			FAIL("out of memory");
	} else {
		/* A policy key: check the value now (so errors carry this line),
		 * apply it over [global] once the whole file is read. */
		struct ssa_config scratch;
		int rc;

		if (ssa_config_defaults(&scratch) != 0)
			FAIL("out of memory");
		rc = policy_key(st, &scratch, name, value);
		ssa_config_free(&scratch);
		if (rc < 0)
			FAIL("unknown key '%s' in [app \"%s\"]", name, p->name);
		if (rc == 0)
			return 0;
		if (remember(p, name, value))
			FAIL("out of memory");
	}
	return 1;
}

/* The per-user limits ([global] only): 1 set, 0 failed, -1 not a limit. */
static int limit_key(struct parse_state *st, struct ssa_config *cfg, const char *name,
		     const char *value)
{
	static const struct {
		const char *name;
		size_t off;
		int lo, hi;
	} keys[] = {
		{ "max-sockets-per-user", offsetof(struct ssa_limits, sockets_per_user), 1, 1 << 24 },
		{ "max-handshakes-per-user", offsetof(struct ssa_limits, handshakes_per_user), 1,
		  1 << 20 },
		{ "max-control-connections-per-user", offsetof(struct ssa_limits, ctl_per_user), 1,
		  1 << 20 },
		{ "max-handshakes-per-listener", offsetof(struct ssa_limits, handshakes_per_listener),
		  1, 1 << 20 },
		{ "max-pem-size", offsetof(struct ssa_limits, pem_size), 1024, 16 << 20 },
		{ "max-trusted-certificates", offsetof(struct ssa_limits, trusted_per_socket), 1,
		  1 << 16 },
		{ "max-trusted-certificates-per-user", offsetof(struct ssa_limits, trusted_per_user),
		  1, 1 << 24 },
		{ "max-request-ms-per-user", offsetof(struct ssa_limits, request_ms_per_user), 1,
		  1000 },
		{ "max-sessions-per-user", offsetof(struct ssa_limits, sessions_per_user), 1,
		  1 << 20 },
		{ "max-keys-per-user", offsetof(struct ssa_limits, keys_per_user), 1, 65536 },
	};

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		int v;

		if (strcmp(name, keys[i].name) != 0)
			continue;
		if (parse_int_range(value, keys[i].lo, keys[i].hi, &v))
			FAIL("%s: '%s' is not an integer in %d..%d", name, value, keys[i].lo,
			     keys[i].hi);
		*(int *)((char *)&cfg->limits + keys[i].off) = v;
		return 1;
	}
	return -1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	struct ssa_config *cfg = st->cfg;
	int rc;

	if (!name) /* a bare section header: checked by the pre-scan */
		return 1;
	if (strncmp(section, "app \"", 5) == 0) {
		char pname[128];
		size_t n = strlen(section + 5);
		struct ssa_profile *p;

		if (n < 2 || n - 1 >= sizeof pname || section[5 + n - 1] != '"')
			FAIL("bad section name [%s]", section);
		memcpy(pname, section + 5, n - 1);
		pname[n - 1] = '\0';
		p = profile_of(cfg, pname);
		if (!p)
			FAIL("out of memory");
		return profile_key(st, p, name, value);
	}
	if (strcmp(section, "global") != 0)
		FAIL("unknown section [%s]", section);
	rc = policy_key(st, cfg, name, value);
	if (rc >= 0)
		return rc;
	if (strcmp(name, "log-level") == 0) {
		int l = ssa_log_level_parse(value);

		if (l < 0)
			FAIL("log-level: '%s' is not error, warning, info or debug", value);
		cfg->log_level = l;
	} else if (strcmp(name, "admin-group") == 0) {
		if (set_str(&cfg->admin_group, value))
			FAIL("out of memory");
	} else if ((rc = limit_key(st, cfg, name, value)) >= 0) {
		return rc;
	} else if (strcmp(name, "certificate") == 0 || strcmp(name, "private-key") == 0 ||
		   strncmp(name, "match-", 6) == 0) {
		FAIL("'%s' belongs in an [app \"NAME\"] section", name);
	} else {
		FAIL("unknown key '%s' in [global]", name);
	}
	return 1;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

int ssa_config_copy(struct ssa_config *dst, const struct ssa_config *src)
{
	bool oom = false;

	*dst = *src;
	dst->profiles = NULL;
	dst->n_profiles = 0;
	dst->trust_store = dup_or_null(src->trust_store, &oom);
	dst->ciphers = dup_or_null(src->ciphers, &oom);
	dst->ciphersuites = dup_or_null(src->ciphersuites, &oom);
	dst->groups = dup_or_null(src->groups, &oom);
	dst->crl_file = dup_or_null(src->crl_file, &oom);
	dst->admin_group = dup_or_null(src->admin_group, &oom);
	dst->certificate = NULL;
	dst->private_key = NULL;
	if (oom) {
		ssa_config_free(dst);
		return -1;
	}
	return 0;
}

bool ssa_config_crl_checks(const struct ssa_config *cfg)
{
	return cfg->crl_checks < 0 ? cfg->crl_file != NULL : cfg->crl_checks != 0;
}

int ssa_config_defaults(struct ssa_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->min_version = TLS1_2_VERSION;
	cfg->max_version = TLS1_3_VERSION;
	cfg->verify_depth = 8;
	cfg->handshake_timeout_ms = 10000;
	cfg->log_level = SSA_LOG_INFO;
	cfg->session_tickets = false;
	cfg->session_timeout = 7200;
	cfg->crl_checks = -1;
	cfg->ocsp_stapled_checks = true;
	cfg->limits.sockets_per_user = 0; /* a quarter of the descriptors */
	cfg->limits.handshakes_per_user = 1024;
	cfg->limits.ctl_per_user = 256;
	cfg->limits.handshakes_per_listener = 1024;
	cfg->limits.pem_size = 256 << 10;
	cfg->limits.trusted_per_socket = 64;
	cfg->limits.trusted_per_user = 4096;
	cfg->limits.request_ms_per_user = 250;
	cfg->limits.sessions_per_user = 2048;
	cfg->limits.keys_per_user = 256;
	if (set_str(&cfg->trust_store, SSA_DEFAULT_TRUST_STORE) ||
	    set_str(&cfg->ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20") ||
	    set_str(&cfg->ciphersuites,
		    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256") ||
	    set_str(&cfg->groups, "X25519:P-256:P-384") || set_str(&cfg->admin_group, "ssa")) {
		ssa_config_free(cfg);
		return -1;
	}
	return 0;
}

/* The line of the last "key =" in [global] (for messages), or 0. */
static int global_key_line(const char *text, const char *key)
{
	int line = 1, found = 0;
	bool global = false;
	size_t kl = strlen(key);

	for (const char *p = text; *p; line++) {
		size_t n = strcspn(p, "\n");
		const char *q = p;

		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (*q == '[')
			global = strncmp(q, "[global]", 8) == 0;
		else if (global && strncmp(q, key, kl) == 0 && strchr(" \t=:", q[kl]))
			found = line;
		p += n;
		if (*p == '\n')
			p++;
	}
	return found;
}

static int finish(struct ssa_config *cfg, const char *text, const char *name, char *err,
		  size_t errlen)
{
	if (cfg->min_version > cfg->max_version) {
		int a = global_key_line(text, "min-version"), b = global_key_line(text, "max-version");

		snprintf(err, errlen, "%s:%d: min-version is above max-version", name, a > b ? a : b);
		return -1;
	}
	/* Files are read later (policy.c); their errors name these lines. */
	cfg->trust_store_line = global_key_line(text, "trust-store");
	cfg->crl_file_line = global_key_line(text, "crl-file");
	for (int i = 0; i < cfg->n_profiles; i++) {
		struct ssa_profile *p = &cfg->profiles[i];
		struct parse_state st = { .cfg = &p->cfg };
		char *cert = p->cfg.certificate, *key = p->cfg.private_key;

		if (!p->match_exe && !p->has_user && !p->has_group) {
			snprintf(err, errlen, "%s:%d: [app \"%s\"] matches nothing: set match-exe, "
				 "match-user or match-group", name, p->line, p->name);
			return -1;
		}
		if (!cert != !key) {
			snprintf(err, errlen, "%s:%d: [app \"%s\"]: certificate and private-key go "
				 "together", name, p->line, p->name);
			return -1;
		}
		/* A path can be impersonated: whoever may run the binary may preload
		 * code into it. The account is the boundary of a granted key. */
		if (cert && !p->has_user) {
			snprintf(err, errlen, "%s:%d: [app \"%s\"]: a granted certificate needs "
				 "match-user (a dedicated account): an executable alone can be "
				 "impersonated", name, p->line, p->name);
			return -1;
		}
		if (ssa_config_copy(&p->cfg, cfg) != 0) {
			snprintf(err, errlen, "%s: out of memory", name);
			return -1;
		}
		p->cfg.certificate = cert;
		p->cfg.private_key = key;
		for (int k = 0; k < p->n_keys; k++)
			policy_key(&st, &p->cfg, p->keys[k], p->values[k]);
		if (p->cfg.min_version < cfg->min_version) {
			snprintf(err, errlen, "%s:%d: [app \"%s\"]: min-version below the [global] "
				 "floor", name, p->line, p->name);
			return -1;
		}
		if (p->cfg.min_version > p->cfg.max_version) {
			snprintf(err, errlen, "%s:%d: [app \"%s\"]: min-version is above max-version",
				 name, p->line, p->name);
			return -1;
		}
	}
	return 0;
}

/* libinih reads lines into a 200-byte buffer and silently splits longer
 * ones; refuse them instead. */
#define MAX_LINE 190
#define MAX_FILE SSA_CONFIG_MAX_BYTES

/* [app "NAME"] with a plain NAME. */
static bool valid_app_section(const char *s, size_t len)
{
	if (len < 7 || strncmp(s, "app \"", 5) != 0 || s[len - 1] != '"')
		return false;
	for (size_t i = 5; i < len - 1; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return len - 6 < 100;
}

/*
 * Checks libinih cannot make: line length, NUL bytes, and section headers
 * (a section with no keys never reaches the key handler).
 */
static int prescan(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
	int line = 1;

	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "%s: the file contains a NUL byte", name);
		return -1;
	}
	for (const char *p = text; *p; line++) {
		size_t n = strcspn(p, "\n");
		const char *q = p;

		if (n > MAX_LINE) {
			snprintf(err, errlen, "%s:%d: line longer than %d characters", name, line,
				 MAX_LINE);
			return -1;
		}
		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (*q == '[') {
			const char *e = memchr(q, ']', (size_t)(p + n - q));
			size_t sl = e ? (size_t)(e - q - 1) : 0;

			if (e && !(sl == 6 && strncmp(q + 1, "global", 6) == 0) &&
			    !valid_app_section(q + 1, sl)) {
				snprintf(err, errlen, "%s:%d: %s [%.*s]", name, line,
					 strncmp(q + 1, "app", 3) == 0 ?
					 "bad profile section (want [app \"NAME\"], NAME of letters, "
					 "digits, '.', '_', '-'):" : "unknown section",
					 (int)sl, q + 1);
				return -1;
			}
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return 0;
}

/* Give every [app "NAME"] section its header line; sections without keys
 * never reached the key handler and are created here. Returns 0, -1 (out
 * of memory) or the line of a second section of the same name. */
static int note_profile_headers(const char *text, struct ssa_config *cfg)
{
	int line = 1;

	for (const char *p = text; *p; line++) {
		size_t n = strcspn(p, "\n");
		const char *q = p;

		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (strncmp(q, "[app \"", 6) == 0) {
			const char *e = memchr(q + 6, '"', (size_t)(p + n - q - 6));
			char pname[128];
			struct ssa_profile *prof;

			if (e && (size_t)(e - q - 6) < sizeof pname) {
				memcpy(pname, q + 6, (size_t)(e - q - 6));
				pname[e - q - 6] = '\0';
				prof = profile_of(cfg, pname);
				if (!prof)
					return -1;
				if (prof->line)
					return line;
				prof->line = line;
			}
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return 0;
}

/* libinih reports the first bad line, but keeps parsing: find out whether
 * that line failed in our handler (and why) by parsing only up to it. */
static void reason_for_line(const char *text, int line, char *out, size_t len)
{
	struct ssa_config scratch;
	struct parse_state st = { .cfg = &scratch };
	const char *p = text;
	char *prefix;

	for (int i = 0; i < line && *p; i++) {
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	snprintf(out, len, "syntax error");
	prefix = strndup(text, (size_t)(p - text));
	if (!prefix || ssa_config_defaults(&scratch) != 0) {
		free(prefix);
		return;
	}
	if (ini_parse_string(prefix, on_key, &st) == line && st.reason[0])
		snprintf(out, len, "%s", st.reason);
	ssa_config_free(&scratch);
	free(prefix);
}

int ssa_config_parse_string(const char *text, const char *name,
			    struct ssa_config *cfg, char *err, size_t errlen)
{
	struct parse_state st = { .cfg = cfg };
	int line;

	if (prescan(text, strlen(text), name, err, errlen))
		return -1;
	line = ini_parse_string(text, on_key, &st);
	if (line != 0) {
		char why[sizeof st.reason];

		reason_for_line(text, line, why, sizeof why);
		snprintf(err, errlen, "%s:%d: %s", name, line, why);
		return -1;
	}
	line = note_profile_headers(text, cfg);
	if (line < 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: a second [app] section of the same name", name, line);
		return -1;
	}
	return finish(cfg, text, name, err, errlen);
}

int ssa_config_digest(const char *text, size_t n, uint8_t out[SSA_CONFIG_DIGEST_LEN])
{
	unsigned int len = 0;

	return EVP_Digest(text, n, out, &len, EVP_sha256(), NULL) == 1 &&
		       len == SSA_CONFIG_DIGEST_LEN ? 0 : -1;
}

int ssa_config_load(const char *path, bool explicit_path, struct ssa_config *cfg,
		    char *err, size_t errlen)
{
	int fd = ssa_cfg_open(path); /* in the worker: by the supervisor */
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *text;
	size_t n;
	int rc;

	if (!f) {
		if (fd >= 0)
			close(fd);
		if (errno == ENOENT && !explicit_path) {
			if (ssa_config_digest("", 0, cfg->digest) == 0)
				return 0;
			snprintf(err, errlen, "%s: no SHA-256", path);
			return -1;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(MAX_FILE + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(text, 1, MAX_FILE + 1, f);
	rc = ferror(f);
	fclose(f);
	if (rc || n > MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path, rc ? "read error" : "file larger than 1 MiB");
		free(text);
		return -1;
	}
	if (memchr(text, '\0', n)) {
		snprintf(err, errlen, "%s: the file contains a NUL byte", path);
		free(text);
		return -1;
	}
	text[n] = '\0';
	rc = ssa_config_parse_string(text, path, cfg, err, errlen);
	if (rc == 0 && ssa_config_digest(text, n, cfg->digest) != 0) {
		snprintf(err, errlen, "%s: no SHA-256", path);
		rc = -1;
	}
	free(text);
	return rc;
}

void ssa_config_free(struct ssa_config *cfg)
{
	for (int i = 0; i < cfg->n_profiles; i++) {
		struct ssa_profile *p = &cfg->profiles[i];

		for (int k = 0; k < p->n_keys; k++) {
			free(p->keys[k]);
			free(p->values[k]);
		}
		free(p->keys);
		free(p->values);
		free(p->name);
		free(p->match_exe);
		ssa_config_free(&p->cfg);
	}
	free(cfg->profiles);
	free(cfg->trust_store);
	free(cfg->ciphers);
	free(cfg->ciphersuites);
	free(cfg->groups);
	free(cfg->crl_file);
	free(cfg->admin_group);
	free(cfg->certificate);
	free(cfg->private_key);
	memset(cfg, 0, sizeof *cfg);
}
