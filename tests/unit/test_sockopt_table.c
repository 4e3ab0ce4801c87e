/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the IPPROTO_TLS option table's core
 * (src/ssad/engine/opt_table.c) over (policy, options, stage): the
 * errnos of in_tls.h and opt_table.h and the order in which they are given
 * (unknown option, read-only, size, value, stage, policy), every row's
 * value kind and stage, values read back, ERANGE and ENOTCONN; and the
 * files of file options read into options without a connection
 * (src/ssad/engine/opt_files.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "policy_fixture.h"
#include "../../src/ssad/engine/opt_files.h"
#include "../../src/ssad/engine/opt_table.h"
#include "../../src/proto/wire.h"

/* ---- helpers ------------------------------------------------------------- */

static int set_int(struct fixture *f, int pol, enum ssa_opt_stage st, int name, int v)
{
	return ssa_sockopt_set_tls(&f->pol[pol], &f->o, st, name, &v, sizeof v);
}

static int set_long(struct fixture *f, int pol, enum ssa_opt_stage st, int name, long v)
{
	return ssa_sockopt_set_tls(&f->pol[pol], &f->o, st, name, &v, sizeof v);
}

static int set_str_opt(struct fixture *f, int pol, enum ssa_opt_stage st, int name,
		       const char *s)
{
	return ssa_sockopt_set_tls(&f->pol[pol], &f->o, st, name, s, strlen(s) + 1);
}

static int get(struct fixture *f, int pol, int name, void *out, size_t cap, size_t *len)
{
	struct ssa_opt_view v = { .pol = &f->pol[pol], .o = &f->o, .ssl = NULL, .id = 42 };

	return ssa_sockopt_get_tls(&v, name, out, cap, len);
}

static int get_int(struct fixture *f, int pol, int name)
{
	int v = -12345;
	size_t len = 0;

	assert_int_equal(get(f, pol, name, &v, sizeof v, &len), 0);
	assert_int_equal(len, sizeof v);
	return v;
}

static const int int_opts[] = { TLS_REQUEST_PEER_AUTH, TLS_REVOCATION_CHECKS,
				TLS_OCSP_STAPLED_CHECKS, TLS_OCSP_CHECKS, TLS_CRL_CHECKS,
				TLS_CACHED_REV_CHECKS, TLS_SESSION_REUSE, TLS_VERSION_MIN,
				TLS_VERSION_MAX };
static const int str_opts[] = { TLS_REMOTE_HOSTNAME, TLS_ALPN, TLS_DISABLE_CIPHER,
				TLS_ENABLE_CIPHER };
static const int file_opts[] = { TLS_TRUSTED_PEER_CERTIFICATES, TLS_CERTIFICATE_CHAIN,
				 TLS_PRIVATE_KEY };
static const int readonly_opts[] = { TLS_HOSTNAME, TLS_PEER_IDENTITY,
				     TLS_PEER_CERTIFICATE_CHAIN, TLS_ID, TLS_TRUSTED_CIPHERS,
				     TLS_CHOSEN_CIPHER, TLS_ERROR, TLS_RESUMED_SESSION,
				     TLS_CHOSEN_VERSION };
static const int unknown_opts[] = { 0, 84, 99, 101, TLS_CONTEXT, 114, TLS_SERVER_OCSP_STAPLING,
				    TLS_UPGRADE, 124, 205, -1 };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A valid value of each settable option that no policy refuses. */
static int set_valid(struct fixture *f, enum ssa_opt_stage st, int name)
{
	switch (name) {
	case TLS_REMOTE_HOSTNAME:
		return set_str_opt(f, LAX, st, name, "example.org");
	case TLS_ALPN:
		return set_str_opt(f, LAX, st, name, "h2");
	case TLS_DISABLE_CIPHER:
	case TLS_ENABLE_CIPHER:
		return set_str_opt(f, LAX, st, name, "TLS_AES_128_GCM_SHA256");
	case TLS_SESSION_TTL:
		return set_long(f, LAX, st, name, 10);
	case TLS_VERSION_MIN:
	case TLS_VERSION_MAX:
		return set_int(f, LAX, st, name, TLS_VERSION_1_3);
	default:
		return set_int(f, LAX, st, name, 1);
	}
}

/* ---- ENOPROTOOPT, EOPNOTSUPP for read-only --------------------------------------- */

static void unknown_options(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	size_t len;

	for (size_t i = 0; i < N(unknown_opts); i++) {
		assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, unknown_opts[i], 1), ENOPROTOOPT);
		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_LATE,
						     unknown_opts[i], NULL, 0), ENOPROTOOPT);
		assert_int_equal(get(f, LAX, unknown_opts[i], buf, sizeof buf, &len), ENOPROTOOPT);
		assert_false(ssa_sockopt_is_file(unknown_opts[i]));
	}
}

static void read_only_options(void **state)
{
	struct fixture *f = *state;

	/* whatever the value, its size and the stage */
	for (size_t i = 0; i < N(readonly_opts); i++) {
		assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, readonly_opts[i], 1), EOPNOTSUPP);
		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_LATE,
						     readonly_opts[i], "x", 7), EOPNOTSUPP);
		assert_false(ssa_sockopt_is_file(readonly_opts[i]));
	}
}

static void set_only_options(void **state)
{
	struct fixture *f = *state;
	static const int set_only[] = { TLS_TRUSTED_PEER_CERTIFICATES, TLS_PRIVATE_KEY,
					TLS_DISABLE_CIPHER, TLS_ENABLE_CIPHER };
	char buf[64];
	size_t len;

	for (size_t i = 0; i < N(set_only); i++)
		assert_int_equal(get(f, LAX, set_only[i], buf, sizeof buf, &len), ENOPROTOOPT);
}

/* ---- EINVAL: sizes and strings, before the stage ---------------------------------- */

static void int_sizes(void **state)
{
	struct fixture *f = *state;
	long long big = 1;
	short small = 1;

	for (size_t i = 0; i < N(int_opts); i++) {
		int name = int_opts[i];

		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_FRESH, name,
						     &small, sizeof small), EINVAL);
		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_LATE, name,
						     &big, sizeof big), EINVAL);
		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_FRESH, name,
						     NULL, 0), EINVAL);
	}
	/* TLS_SESSION_TTL is a long */
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_SESSION_TTL, 10), EINVAL);
	assert_int_equal(set_long(f, LAX, SSA_OPT_FRESH, TLS_SESSION_TTL, 10), 0);
}

static void strings(void **state)
{
	struct fixture *f = *state;
	char big[2048];

	memset(big, 'a', sizeof big);
	big[sizeof big - 1] = '\0';
	for (size_t i = 0; i < N(str_opts) + N(file_opts); i++) {
		int name = i < N(str_opts) ? str_opts[i] : file_opts[i - N(str_opts)];

		/* no NUL, an embedded NUL, empty, too long: at any stage */
		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_LATE, name,
						     "abc", 3), EINVAL);
		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_FRESH, name,
						     "a\0b", 4), EINVAL);
		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_FRESH, name,
						     "", 0), EINVAL);
		assert_int_equal(ssa_sockopt_set_tls(&f->pol[LAX], &f->o, SSA_OPT_LATE, name, big,
						     sizeof big), EINVAL);
	}
	/* the longest of each */
	memset(big, 'a', 63);
	big[63] = '\0';
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, TLS_REMOTE_HOSTNAME, big), 0);
	memset(big, 'a', 300);
	big[300] = '\0';
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, TLS_REMOTE_HOSTNAME, big), EINVAL);
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, TLS_DISABLE_CIPHER, big), EINVAL);
	memset(big, 'a', 1024);
	big[1024] = '\0';
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, TLS_ALPN, big), EINVAL); /* > 255 */
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_LATE, TLS_ALPN, big), EOPNOTSUPP);
	memset(big, 'a', 1025);
	big[1025] = '\0';
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_LATE, TLS_ALPN, big), EINVAL);
}

static void files_need_their_files(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < N(file_opts); i++) {
		assert_true(ssa_sockopt_is_file(file_opts[i]));
		assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, file_opts[i], "/etc/x.pem"),
				 EINVAL);
	}
	assert_false(ssa_sockopt_is_file(TLS_ALPN));
}

/* A file option's path: a string of at most the control protocol's longest
 * option value, for the file options only. */
static void file_paths(void **state)
{
	static char big[SSA_WIRE_MAX_OPTVAL + 2];
	const char *p = NULL;

	(void)state;
	for (size_t i = 0; i < N(file_opts); i++) {
		p = NULL;
		assert_int_equal(ssa_sockopt_file_path(file_opts[i], "/etc/x.pem", 11, &p), 0);
		assert_string_equal(p, "/etc/x.pem");
		assert_int_equal(ssa_sockopt_file_path(file_opts[i], "/etc/x.pem", 10, &p), EINVAL);
		assert_int_equal(ssa_sockopt_file_path(file_opts[i], "a\0b", 4, &p), EINVAL);
	}
	assert_int_equal(ssa_sockopt_file_path(TLS_REMOTE_HOSTNAME, "x.pem", 6, &p), EINVAL);
	assert_int_equal(ssa_sockopt_file_path(TLS_ERROR, "x.pem", 6, &p), EINVAL);
	memset(big, 'a', SSA_WIRE_MAX_OPTVAL);
	big[SSA_WIRE_MAX_OPTVAL] = '\0';
	assert_int_equal(ssa_sockopt_file_path(TLS_PRIVATE_KEY, big, SSA_WIRE_MAX_OPTVAL + 1, &p),
			 0);
	big[SSA_WIRE_MAX_OPTVAL] = 'a';
	big[SSA_WIRE_MAX_OPTVAL + 1] = '\0';
	assert_int_equal(ssa_sockopt_file_path(TLS_PRIVATE_KEY, big, SSA_WIRE_MAX_OPTVAL + 2, &p),
			 EINVAL);
}

/* ---- values before the stage, the stage before the policy ------------------------- */

static void values_before_stage(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(set_int(f, LAX, SSA_OPT_LATE, TLS_VERSION_MIN, 0x0301), EPERM);
	assert_non_null(strstr(f->o.error, "TLS version 0x0301 is never allowed"));
	assert_int_equal(set_int(f, LAX, SSA_OPT_LATE, TLS_VERSION_MAX, 0x0302), EPERM);
	assert_int_equal(set_int(f, LAX, SSA_OPT_LATE, TLS_VERSION_MIN, 7), EINVAL);
	assert_int_equal(set_int(f, LAX, SSA_OPT_LATE, TLS_REQUEST_PEER_AUTH, 3), EINVAL);
	assert_int_equal(set_int(f, LAX, SSA_OPT_LATE, TLS_SESSION_REUSE, 2), EINVAL);
	assert_int_equal(set_int(f, LAX, SSA_OPT_LATE, TLS_CRL_CHECKS, -1), EINVAL);
	assert_int_equal(set_long(f, LAX, SSA_OPT_LATE, TLS_SESSION_TTL, -1), EINVAL);
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_LATE, TLS_REMOTE_HOSTNAME, "a..b"), EINVAL);
	/* what only the policy or the rule can judge comes after the stage */
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_LATE, TLS_DISABLE_CIPHER, "NOPE"), EOPNOTSUPP);
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_LATE, TLS_ALPN, "a,,b"), EOPNOTSUPP);
	assert_int_equal(set_int(f, STRICT, SSA_OPT_LATE, TLS_VERSION_MIN, TLS_VERSION_1_2),
			 EOPNOTSUPP);
	assert_int_equal(set_long(f, DEFAULT, SSA_OPT_LATE, TLS_SESSION_TTL, 99999), EOPNOTSUPP);
}

static void stages(void **state)
{
	struct fixture *f = *state;
	static const int settable[] = { TLS_REMOTE_HOSTNAME, TLS_ALPN, TLS_SESSION_TTL,
					TLS_DISABLE_CIPHER, TLS_ENABLE_CIPHER, TLS_REQUEST_PEER_AUTH,
					TLS_REVOCATION_CHECKS, TLS_OCSP_STAPLED_CHECKS,
					TLS_CRL_CHECKS, TLS_CACHED_REV_CHECKS, TLS_SESSION_REUSE,
					TLS_VERSION_MIN, TLS_VERSION_MAX };

	for (size_t i = 0; i < N(settable); i++) {
		int name = settable[i];

		assert_int_equal(set_valid(f, SSA_OPT_LATE, name), EOPNOTSUPP);
		/* an accepted socket before its handshake: only the host name */
		assert_int_equal(set_valid(f, SSA_OPT_UNCONNECTED, name),
				 name == TLS_REMOTE_HOSTNAME ? 0 : EOPNOTSUPP);
		assert_int_equal(set_valid(f, SSA_OPT_FRESH, name), 0);
	}
	assert_int_equal(set_int(f, LAX, SSA_OPT_LATE, TLS_OCSP_CHECKS, 0), EOPNOTSUPP);
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_OCSP_CHECKS, 0), 0);
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_OCSP_CHECKS, 1), EOPNOTSUPP);
}

static void policy_last(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(set_int(f, STRICT, SSA_OPT_FRESH, TLS_VERSION_MIN, TLS_VERSION_1_2), EPERM);
	assert_non_null(strstr(f->o.error, "(profile strict)"));
	assert_int_equal(set_int(f, STRICT, SSA_OPT_FRESH, TLS_REQUEST_PEER_AUTH, 1), EPERM);
	assert_int_equal(set_long(f, STRICT, SSA_OPT_FRESH, TLS_SESSION_TTL, 301), EPERM);
	assert_int_equal(set_int(f, DEFAULT, SSA_OPT_FRESH, TLS_SESSION_REUSE, 1), EPERM);
	assert_int_equal(set_int(f, DEFAULT, SSA_OPT_FRESH, TLS_REVOCATION_CHECKS, 0), EPERM);
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_CACHED_REV_CHECKS, 0), EPERM);
	assert_int_equal(set_str_opt(f, DEFAULT, SSA_OPT_FRESH, TLS_ENABLE_CIPHER, "AES128-SHA"),
			 EPERM);
	assert_int_equal(set_int(f, TLS12, SSA_OPT_FRESH, TLS_VERSION_MAX, TLS_VERSION_1_3), EPERM);
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, TLS_DISABLE_CIPHER, "NOPE"), EINVAL);
	assert_int_equal(set_int(f, STRICT, SSA_OPT_FRESH, TLS_VERSION_MAX, TLS_VERSION_1_2), EINVAL);
}

/* ---- file options: may they be set? ---------------------------------------------- */

static void file_options_allowed(void **state)
{
	struct fixture *f = *state;
	struct ssa_policy *lax = &f->pol[LAX], *def = &f->pol[DEFAULT];

	assert_int_equal(ssa_sockopt_file_allowed(lax, &f->o, SSA_OPT_FRESH, TLS_ALPN, "p", 1),
			 EINVAL);
	for (size_t i = 0; i < N(file_opts); i++) {
		assert_int_equal(ssa_sockopt_file_allowed(lax, &f->o, SSA_OPT_LATE, file_opts[i], "p",
							  1), EOPNOTSUPP);
		assert_int_equal(ssa_sockopt_file_allowed(lax, &f->o, SSA_OPT_UNCONNECTED,
							  file_opts[i], "p", 1), EOPNOTSUPP);
	}
	assert_int_equal(ssa_sockopt_file_allowed(lax, &f->o, SSA_OPT_FRESH,
						  TLS_CERTIFICATE_CHAIN, "c", 2), EINVAL);
	assert_int_equal(ssa_sockopt_file_allowed(lax, &f->o, SSA_OPT_FRESH,
						  TLS_CERTIFICATE_CHAIN, "c", 1), 0);
	assert_int_equal(ssa_sockopt_file_allowed(lax, &f->o, SSA_OPT_FRESH, TLS_PRIVATE_KEY, "k",
						  1), EINVAL); /* no chain yet */
	assert_non_null(strstr(f->o.error, "k: set TLS_CERTIFICATE_CHAIN first"));
	/* anchors: several files, by policy */
	assert_int_equal(ssa_sockopt_file_allowed(lax, &f->o, SSA_OPT_FRESH,
						  TLS_TRUSTED_PEER_CERTIFICATES, "a", 3), 0);
	assert_int_equal(ssa_sockopt_file_allowed(def, &f->o, SSA_OPT_FRESH,
						  TLS_TRUSTED_PEER_CERTIFICATES, "a", 1), EPERM);
	assert_non_null(strstr(f->o.error, "app-trust-anchors = no"));
	assert_int_equal(set_int(f, DEFAULT, SSA_OPT_FRESH, TLS_REQUEST_PEER_AUTH, 1), 0);
	assert_int_equal(ssa_sockopt_file_allowed(def, &f->o, SSA_OPT_FRESH,
						  TLS_TRUSTED_PEER_CERTIFICATES, "a", 1), 0);
}

/* ---- get ---------------------------------------------------------------------------- */

static void values_in_force(void **state)
{
	struct fixture *f = *state;
	char buf[4096];
	size_t len = 0;
	long ttl = 0;
	uint64_t id = 0;

	assert_int_equal(get_int(f, STRICT, TLS_VERSION_MIN), TLS_VERSION_1_3);
	assert_int_equal(get_int(f, STRICT, TLS_VERSION_MAX), TLS_VERSION_1_3);
	assert_int_equal(get_int(f, STRICT, TLS_REQUEST_PEER_AUTH), 2);
	assert_int_equal(get_int(f, STRICT, TLS_SESSION_REUSE), 0);
	assert_int_equal(get_int(f, LAX, TLS_SESSION_REUSE), 1);
	assert_int_equal(get_int(f, STRICT, TLS_CRL_CHECKS), 1);
	assert_int_equal(get_int(f, LAX, TLS_REVOCATION_CHECKS), 0);
	assert_int_equal(get_int(f, DEFAULT, TLS_OCSP_STAPLED_CHECKS), 1);
	assert_int_equal(get_int(f, DEFAULT, TLS_OCSP_CHECKS), 0);
	assert_int_equal(get_int(f, DEFAULT, TLS_CACHED_REV_CHECKS), 1);
	assert_int_equal(get(f, STRICT, TLS_SESSION_TTL, &ttl, sizeof ttl, &len), 0);
	assert_int_equal(len, sizeof ttl);
	assert_int_equal(ttl, 300);
	assert_int_equal(get(f, LAX, TLS_ID, &id, sizeof id, &len), 0);
	assert_int_equal(id, 42);
	assert_int_equal(get(f, LAX, TLS_REMOTE_HOSTNAME, buf, sizeof buf, &len), 0);
	assert_int_equal(len, 1);
	assert_string_equal(buf, "");
	assert_int_equal(get(f, LAX, TLS_CERTIFICATE_CHAIN, buf, sizeof buf, &len), 0);
	assert_string_equal(buf, "");
	assert_int_equal(get(f, STRICT, TLS_TRUSTED_CIPHERS, buf, sizeof buf, &len), 0);
	assert_string_equal(buf, "TLS_AES_128_GCM_SHA256");
	assert_int_equal(len, strlen(buf) + 1);
}

static void set_then_get(void **state)
{
	struct fixture *f = *state;
	char buf[512];
	size_t len = 0;
	long ttl = 0;

	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, TLS_REMOTE_HOSTNAME, "example.org"), 0);
	assert_int_equal(get(f, LAX, TLS_REMOTE_HOSTNAME, buf, sizeof buf, &len), 0);
	assert_string_equal(buf, "example.org");
	assert_int_equal(len, sizeof "example.org");
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_VERSION_MAX, TLS_VERSION_1_2), 0);
	assert_int_equal(get_int(f, LAX, TLS_VERSION_MAX), TLS_VERSION_1_2);
	assert_int_equal(set_long(f, LAX, SSA_OPT_FRESH, TLS_SESSION_TTL, 60), 0);
	assert_int_equal(get(f, LAX, TLS_SESSION_TTL, &ttl, sizeof ttl, &len), 0);
	assert_int_equal(ttl, 60);
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_SESSION_REUSE, 0), 0);
	assert_int_equal(get_int(f, LAX, TLS_SESSION_REUSE), 0);
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_REQUEST_PEER_AUTH, 2), 0);
	assert_int_equal(get_int(f, LAX, TLS_REQUEST_PEER_AUTH), 2);
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_CRL_CHECKS, 1), 0);
	assert_int_equal(get_int(f, LAX, TLS_CRL_CHECKS), 1);
	assert_int_equal(get_int(f, LAX, TLS_OCSP_STAPLED_CHECKS), 0);
	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, TLS_DISABLE_CIPHER,
				     "ECDHE-RSA-AES128-GCM-SHA256"), 0);
	assert_int_equal(get(f, LAX, TLS_TRUSTED_CIPHERS, buf, sizeof buf, &len), 0);
	assert_null(strstr(buf, "ECDHE-RSA-AES128-GCM-SHA256"));
	assert_non_null(strstr(buf, "ECDHE-RSA-AES256-GCM-SHA384"));
	/* a refused option leaves TLS_ERROR readable */
	assert_int_equal(set_int(f, LAX, SSA_OPT_FRESH, TLS_VERSION_MIN, 0x0300), EPERM);
	assert_int_equal(get(f, LAX, TLS_ERROR, buf, sizeof buf, &len), 0);
	assert_string_equal(buf, "TLS version 0x0300 is never allowed");
}

static void erange(void **state)
{
	struct fixture *f = *state;
	char buf[8];
	size_t len = 0;
	int v;

	assert_int_equal(set_str_opt(f, LAX, SSA_OPT_FRESH, TLS_REMOTE_HOSTNAME, "example.org"), 0);
	assert_int_equal(get(f, LAX, TLS_REMOTE_HOSTNAME, buf, sizeof buf, &len), ERANGE);
	assert_int_equal(len, sizeof "example.org");
	assert_int_equal(get(f, LAX, TLS_VERSION_MIN, &v, sizeof v - 1, &len), ERANGE);
	assert_int_equal(len, sizeof v);
	assert_int_equal(get(f, LAX, TLS_TRUSTED_CIPHERS, buf, sizeof buf, &len), ERANGE);
	assert_true(len > sizeof buf);
	assert_int_equal(get(f, LAX, TLS_ID, buf, 7, &len), ERANGE);
	assert_int_equal(len, 8);
}

static void results_need_a_session(void **state)
{
	struct fixture *f = *state;
	static const int results[] = { TLS_HOSTNAME, TLS_ALPN, TLS_PEER_IDENTITY,
				       TLS_PEER_CERTIFICATE_CHAIN, TLS_CHOSEN_CIPHER,
				       TLS_RESUMED_SESSION, TLS_CHOSEN_VERSION };
	char buf[64];
	size_t len;

	for (size_t i = 0; i < N(results); i++)
		assert_int_equal(get(f, LAX, results[i], buf, sizeof buf, &len), ENOTCONN);
	/* not results: readable before */
	assert_int_equal(get(f, LAX, TLS_ERROR, buf, sizeof buf, &len), 0);
	assert_int_equal(get(f, LAX, TLS_REMOTE_HOSTNAME, buf, sizeof buf, &len), 0);
}

static void every_row_is_reachable(void **state)
{
	struct fixture *f = *state;
	char buf[4096];
	size_t len;

	/* Each option of in_tls.h is either in the table (set or get works
	 * or gives a documented errno) or ENOPROTOOPT for both. */
	for (int name = 80; name <= 130; name++) {
		int s = set_valid(f, SSA_OPT_FRESH, name);
		int g = get(f, LAX, name, buf, sizeof buf, &len);

		assert_true(s == 0 || s == EINVAL || s == EOPNOTSUPP || s == ENOPROTOOPT);
		assert_true(g == 0 || g == ENOTCONN || g == ENOPROTOOPT);
		if (s == ENOPROTOOPT)
			assert_int_equal(g, ENOPROTOOPT);
		ssa_tls_opts_clear(&f->o);
	}
}

/* ---- files of file options, without a connection ------------------------------- */

/* A regular file in memory holding text (closed by the caller). */
static int mem_file(const char *text)
{
	int fd = memfd_create("ssa-unit", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

/* The PEM of a chain's certificates or of a key, in a file. */
static int pem_file(STACK_OF(X509) *chain, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *text, *p;
	long n;
	int fd;

	assert_non_null(b);
	for (int i = 0; chain && i < sk_X509_num(chain); i++)
		assert_true(PEM_write_bio_X509(b, sk_X509_value(chain, i)));
	if (key)
		assert_true(PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
	n = BIO_get_mem_data(b, &p);
	text = strndup(p, (size_t)n);
	assert_non_null(text);
	fd = mem_file(text);
	free(text);
	BIO_free(b);
	return fd;
}

static int load(struct fixture *f, int pol, const struct ssa_limits *lim,
		enum ssa_opt_stage st, int name, const int *fds, int nfds)
{
	return ssa_sockopt_load_file(&f->pol[pol], lim, NULL, &f->o, st, name, "f.pem", fds,
				     nfds);
}

static void load_identity(void **state)
{
	struct fixture *f = *state;
	const struct ssa_limits *lim = &f->pol[LAX].cfg.limits;
	EVP_PKEY *k1 = new_key(), *k2 = new_key();
	STACK_OF(X509) *c1 = chain_of(k1);
	int chain = pem_file(c1, NULL), key1 = pem_file(NULL, k1), key2 = pem_file(NULL, k2);

	assert_int_equal(load(f, LAX, lim, SSA_OPT_LATE, TLS_CERTIFICATE_CHAIN, &chain, 1),
			 EOPNOTSUPP);
	assert_int_equal(load(f, LAX, lim, SSA_OPT_FRESH, TLS_PRIVATE_KEY, &key1, 1), EINVAL);
	assert_non_null(strstr(f->o.error, "f.pem: set TLS_CERTIFICATE_CHAIN first"));
	assert_int_equal(load(f, LAX, lim, SSA_OPT_FRESH, TLS_CERTIFICATE_CHAIN, &chain, 1), 0);
	assert_int_equal(f->o.n_ids, 1);
	assert_int_equal(sk_X509_num(f->o.ids[0].chain), 1);
	assert_int_equal(load(f, LAX, lim, SSA_OPT_FRESH, TLS_PRIVATE_KEY, &key2, 1), EINVAL);
	assert_non_null(strstr(f->o.error, "f.pem: "));
	assert_null(f->o.ids[0].key);
	assert_int_equal(load(f, LAX, lim, SSA_OPT_FRESH, TLS_PRIVATE_KEY, &key1, 1), 0);
	assert_non_null(f->o.ids[0].key);
	assert_int_equal(EVP_PKEY_eq(f->o.ids[0].key, k1), 1);
	close(chain);
	close(key1);
	close(key2);
	sk_X509_pop_free(c1, X509_free);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static void load_bad_files(void **state)
{
	struct fixture *f = *state;
	struct ssa_limits lim = f->pol[LAX].cfg.limits;
	EVP_PKEY *k = new_key();
	STACK_OF(X509) *c = chain_of(k);
	int text = mem_file("hello\n"), chain = pem_file(c, NULL), pipefd[2];

	assert_int_equal(load(f, LAX, &lim, SSA_OPT_FRESH, TLS_CERTIFICATE_CHAIN, &text, 1), EINVAL);
	assert_string_equal(f->o.error, "f.pem: no PEM certificate in the file");
	assert_int_equal(load(f, LAX, &lim, SSA_OPT_FRESH, TLS_CERTIFICATE_CHAIN, &chain, 2),
			 EINVAL); /* one file per chain */
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(load(f, LAX, &lim, SSA_OPT_FRESH, TLS_CERTIFICATE_CHAIN, pipefd, 1),
			 EINVAL); /* not a regular file */
	lim.pem_size = 100;
	assert_int_equal(load(f, LAX, &lim, SSA_OPT_FRESH, TLS_CERTIFICATE_CHAIN, &chain, 1), EFBIG);
	assert_non_null(strstr(f->o.error, "bytes of PEM, more than max-pem-size (100)"));
	assert_int_equal(f->o.n_ids, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	close(text);
	close(chain);
	sk_X509_pop_free(c, X509_free);
	EVP_PKEY_free(k);
}

static void load_anchors(void **state)
{
	struct fixture *f = *state;
	struct ssa_limits lim = f->pol[LAX].cfg.limits;
	EVP_PKEY *k = new_key();
	STACK_OF(X509) *c = chain_of(k);
	int fds[2] = { pem_file(c, NULL), pem_file(c, NULL) };

	assert_int_equal(load(f, DEFAULT, &lim, SSA_OPT_FRESH, TLS_TRUSTED_PEER_CERTIFICATES, fds,
			      2), EPERM);
	assert_null(f->o.trusted);
	assert_int_equal(load(f, LAX, &lim, SSA_OPT_FRESH, TLS_TRUSTED_PEER_CERTIFICATES, fds, 2),
			 0);
	assert_int_equal(sk_X509_num(f->o.trusted), 2);
	assert_int_equal(load(f, LAX, &lim, SSA_OPT_FRESH, TLS_TRUSTED_PEER_CERTIFICATES, fds, 1),
			 0); /* replaces */
	assert_int_equal(sk_X509_num(f->o.trusted), 1);
	lim.trusted_per_socket = 1;
	assert_int_equal(load(f, LAX, &lim, SSA_OPT_FRESH, TLS_TRUSTED_PEER_CERTIFICATES, fds, 2),
			 EFBIG);
	assert_non_null(strstr(f->o.error, "more than 1 certificates (max-trusted-certificates)"));
	assert_int_equal(sk_X509_num(f->o.trusted), 1);
	close(fds[0]);
	close(fds[1]);
	sk_X509_pop_free(c, X509_free);
	EVP_PKEY_free(k);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(unknown_options),
		T(read_only_options),
		T(set_only_options),
		T(int_sizes),
		T(strings),
		T(files_need_their_files),
		T(file_paths),
		T(values_before_stage),
		T(stages),
		T(policy_last),
		T(file_options_allowed),
		T(values_in_force),
		T(set_then_get),
		T(erange),
		T(results_need_a_session),
		T(every_row_is_reachable),
		T(load_identity),
		T(load_bad_files),
		T(load_anchors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
