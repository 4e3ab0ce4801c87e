/* SPDX-License-Identifier: MIT */
/* Unit tests of the ssa.conf parser (src/ssad/config.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "../../src/common/log.h"
#include "../../src/ssad/engine/config.h"

struct fixture {
	struct ssa_config cfg;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f || ssa_config_defaults(&f->cfg) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ssa_config_free(&f->cfg);
	free(f);
	return 0;
}

static int parse(struct fixture *f, const char *text)
{
	f->err[0] = '\0';
	return ssa_config_parse_string(text, "t.conf", &f->cfg, f->err, sizeof f->err);
}

/* Parse from the defaults (parse() accumulates, as a reload does not). */
static int parse_fresh(struct fixture *f, const char *text)
{
	ssa_config_free(&f->cfg);
	assert_int_equal(ssa_config_defaults(&f->cfg), 0);
	return parse(f, text);
}

/* "[global]\n<line>\n" must fail with "t.conf:2: <reason>". */
static void bad_line(struct fixture *f, const char *line, const char *reason)
{
	char text[1024], want[1024];

	snprintf(text, sizeof text, "[global]\n%s\n", line);
	snprintf(want, sizeof want, "t.conf:2: %s", reason);
	assert_int_equal(parse(f, text), -1);
	assert_string_equal(f->err, want);
}

static void good_line(struct fixture *f, const char *line)
{
	char text[1024];

	snprintf(text, sizeof text, "[global]\n%s\n", line);
	if (parse(f, text) != 0)
		fail_msg("'%s' refused: %s", line, f->err);
}

/* ---- defaults ------------------------------------------------------------- */

static void defaults(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(f->cfg.trust_store, SSA_DEFAULT_TRUST_STORE);
	assert_int_equal(f->cfg.min_version, TLS1_2_VERSION);
	assert_int_equal(f->cfg.max_version, TLS1_3_VERSION);
	assert_string_equal(f->cfg.ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20");
	assert_string_equal(f->cfg.ciphersuites,
			    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
	assert_string_equal(f->cfg.groups, "X25519:P-256:P-384");
	assert_int_equal(f->cfg.verify_depth, 8);
	assert_int_equal(f->cfg.handshake_timeout_ms, 10000);
	assert_int_equal(f->cfg.log_level, SSA_LOG_INFO);
}

static void empty_text_keeps_defaults(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, ""), 0);
	assert_int_equal(parse(f, "; only a comment\n# and another\n\n"), 0);
	assert_int_equal(parse(f, "[global]\n"), 0);
	assert_int_equal(f->cfg.verify_depth, 8);
	assert_string_equal(f->cfg.trust_store, SSA_DEFAULT_TRUST_STORE);
}

static void free_twice_is_safe(void **state)
{
	struct fixture *f = *state;

	ssa_config_free(&f->cfg);
	assert_null(f->cfg.trust_store);
	assert_null(f->cfg.ciphers);
	ssa_config_free(&f->cfg); /* fields were cleared: no double free */
	assert_int_equal(ssa_config_defaults(&f->cfg), 0);
}

static void parse_version(void **state)
{
	(void)state;
	assert_int_equal(ssa_config_parse_version("TLSv1.2"), TLS1_2_VERSION);
	assert_int_equal(ssa_config_parse_version("TLSv1.3"), TLS1_3_VERSION);
	assert_int_equal(ssa_config_parse_version("TLSv1.1"), -1);
	assert_int_equal(ssa_config_parse_version("tlsv1.3"), -1);
	assert_int_equal(ssa_config_parse_version("TLSv1.3 "), -1);
	assert_int_equal(ssa_config_parse_version(""), -1);
}

/* ---- every key, valid values ------------------------------------------------- */

static void all_keys_valid(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "; policy\n"
				  "[global]\n"
				  "trust-store = /etc/ssa/trust.pem\n"
				  "min-version = TLSv1.3\n"
				  "max-version = TLSv1.3\n"
				  "ciphers = ECDHE+AESGCM\n"
				  "ciphersuites = TLS_AES_128_GCM_SHA256\n"
				  "groups = P-256\n"
				  "verify-depth = 4\n"
				  "handshake-timeout = 2500ms\n"
				  "log-level = debug\n"),
			 0);
	assert_string_equal(f->cfg.trust_store, "/etc/ssa/trust.pem");
	assert_int_equal(f->cfg.min_version, TLS1_3_VERSION);
	assert_int_equal(f->cfg.max_version, TLS1_3_VERSION);
	assert_string_equal(f->cfg.ciphers, "ECDHE+AESGCM");
	assert_string_equal(f->cfg.ciphersuites, "TLS_AES_128_GCM_SHA256");
	assert_string_equal(f->cfg.groups, "P-256");
	assert_int_equal(f->cfg.verify_depth, 4);
	assert_int_equal(f->cfg.handshake_timeout_ms, 2500);
	assert_int_equal(f->cfg.log_level, SSA_LOG_DEBUG);
}

static void trust_store(void **state)
{
	struct fixture *f = *state;

	good_line(f, "trust-store = /etc/ssl/certs");
	assert_string_equal(f->cfg.trust_store, "/etc/ssl/certs");
	bad_line(f, "trust-store = certs.pem",
		 "trust-store must be an absolute path: 'certs.pem'");
	bad_line(f, "trust-store = ./certs.pem",
		 "trust-store must be an absolute path: './certs.pem'");
	bad_line(f, "trust-store =", "trust-store must be an absolute path: ''");
}

static void versions(void **state)
{
	struct fixture *f = *state;

	good_line(f, "min-version = TLSv1.3");
	assert_int_equal(f->cfg.min_version, TLS1_3_VERSION);
	good_line(f, "min-version = TLSv1.2");
	assert_int_equal(f->cfg.min_version, TLS1_2_VERSION);
	good_line(f, "max-version = TLSv1.2");
	assert_int_equal(f->cfg.max_version, TLS1_2_VERSION);
	good_line(f, "max-version = TLSv1.3");
	bad_line(f, "min-version = TLSv1.1", "min-version: 'TLSv1.1' is not TLSv1.2 or TLSv1.3");
	bad_line(f, "max-version = 1.3", "max-version: '1.3' is not TLSv1.2 or TLSv1.3");
	bad_line(f, "min-version = tlsv1.2", "min-version: 'tlsv1.2' is not TLSv1.2 or TLSv1.3");
	bad_line(f, "max-version =", "max-version: '' is not TLSv1.2 or TLSv1.3");
}

static void min_above_max(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "[global]\nmin-version = TLSv1.3\nmax-version = TLSv1.2\n"), -1);
	assert_string_equal(f->err, "t.conf:3: min-version is above max-version");
	ssa_config_free(&f->cfg);
	assert_int_equal(ssa_config_defaults(&f->cfg), 0);
	/* the default maximum is TLSv1.3, so min alone never conflicts... */
	assert_int_equal(parse(f, "[global]\nmin-version = TLSv1.3\n"), 0);
	ssa_config_free(&f->cfg);
	assert_int_equal(ssa_config_defaults(&f->cfg), 0);
	/* ...but max 1.2 with the default min 1.2 is fine, and equal bounds too */
	assert_int_equal(parse(f, "[global]\nmax-version = TLSv1.2\n"), 0);
	assert_int_equal(parse(f, "[global]\nmin-version = TLSv1.2\nmax-version = TLSv1.2\n"), 0);
}

static void ciphers(void **state)
{
	struct fixture *f = *state;

	good_line(f, "ciphers = ECDHE+CHACHA20");
	assert_string_equal(f->cfg.ciphers, "ECDHE+CHACHA20");
	good_line(f, "ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384");
	bad_line(f, "ciphers = NOPE", "ciphers: 'NOPE' selects no TLS 1.2 cipher");
	bad_line(f, "ciphers =", "ciphers: '' selects no TLS 1.2 cipher");
	/* a TLS 1.3 suite name is no TLS 1.2 cipher */
	bad_line(f, "ciphers = TLS_AES_128_GCM_SHA256",
		 "ciphers: 'TLS_AES_128_GCM_SHA256' selects no TLS 1.2 cipher");
	/* the refused value did not replace the accepted one */
	assert_string_equal(f->cfg.ciphers,
			    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384");
}

static void ciphersuites(void **state)
{
	struct fixture *f = *state;

	good_line(f, "ciphersuites = TLS_CHACHA20_POLY1305_SHA256");
	assert_string_equal(f->cfg.ciphersuites, "TLS_CHACHA20_POLY1305_SHA256");
	bad_line(f, "ciphersuites = ECDHE+AESGCM",
		 "ciphersuites: 'ECDHE+AESGCM' is not a valid TLS 1.3 suite list");
	bad_line(f, "ciphersuites = TLS_NOPE",
		 "ciphersuites: 'TLS_NOPE' is not a valid TLS 1.3 suite list");
}

static void groups(void **state)
{
	struct fixture *f = *state;

	good_line(f, "groups = X25519:P-384");
	assert_string_equal(f->cfg.groups, "X25519:P-384");
	bad_line(f, "groups = nope", "groups: 'nope' is not a valid group list");
	bad_line(f, "groups = X25519:nope", "groups: 'X25519:nope' is not a valid group list");
	bad_line(f, "groups =", "groups: '' is not a valid group list");
}

static void verify_depth(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "0", "33", "-1", "abc", "8x", "0x10", "1.5",
					   "99999999999999999999", "" };
	char line[128], reason[128];

	good_line(f, "verify-depth = 1");
	assert_int_equal(f->cfg.verify_depth, 1);
	good_line(f, "verify-depth = 32");
	assert_int_equal(f->cfg.verify_depth, 32);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(line, sizeof line, "verify-depth = %s", bad[i]);
		snprintf(reason, sizeof reason, "verify-depth: '%s' is not an integer in 1..32",
			 bad[i]);
		bad_line(f, line, reason);
	}
	assert_int_equal(f->cfg.verify_depth, 32);
}

static void handshake_timeout(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *v;
		unsigned ms;
	} good[] = {
		{ "10", 10000 },    { "10s", 10000 },     { "2500ms", 2500 },
		{ "100ms", 100 },   { "3600s", 3600000 }, { "3600000ms", 3600000 },
		{ "1", 1000 },
	};
	static const char *const bad[] = { "99ms", "0", "0s", "3601s", "3600001ms", "1h",
					   "0.5s", "-5", "abc", "", "10 s", "10S", "ms",
					   "18446744073709551616" };
	char line[128], reason[160];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(line, sizeof line, "handshake-timeout = %s", good[i].v);
		good_line(f, line);
		assert_int_equal(f->cfg.handshake_timeout_ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(line, sizeof line, "handshake-timeout = %s", bad[i]);
		snprintf(reason, sizeof reason,
			 "handshake-timeout: '%s' is not a duration between 100ms and 3600s", bad[i]);
		bad_line(f, line, reason);
	}
}

/* 18446744073709552 s is 2^64 + 384 ms: the multiplication by 1000 wraps
 * and the value passes the range check as 384 ms. */
static void handshake_timeout_overflow(void **state)
{
	struct fixture *f = *state;
	int rc = parse(f, "[global]\nhandshake-timeout = 18446744073709552s\n");

	assert_true(rc == -1);
	assert_int_equal(rc, -1);
}

static void log_level(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *v;
		int level;
	} good[] = {
		{ "error", SSA_LOG_ERR }, { "warning", SSA_LOG_WARN },
		{ "info", SSA_LOG_INFO }, { "debug", SSA_LOG_DEBUG },
	};
	char line[64];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(line, sizeof line, "log-level = %s", good[i].v);
		good_line(f, line);
		assert_int_equal(f->cfg.log_level, good[i].level);
	}
	bad_line(f, "log-level = verbose", "log-level: 'verbose' is not error, warning, info or debug");
	bad_line(f, "log-level = DEBUG", "log-level: 'DEBUG' is not error, warning, info or debug");
	bad_line(f, "log-level = warn", "log-level: 'warn' is not error, warning, info or debug");
}

/* ---- structure and error reporting --------------------------------------- */

static void unknown_key(void **state)
{
	struct fixture *f = *state;

	bad_line(f, "foo = 1", "unknown key 'foo' in [global]");
	bad_line(f, "Min-Version = TLSv1.3", "unknown key 'Min-Version' in [global]");
	bad_line(f, "min_version = TLSv1.3", "unknown key 'min_version' in [global]");
}

static void unknown_section(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "[tls]\nmin-version = TLSv1.3\n"), -1);
	assert_string_equal(f->err, "t.conf:1: unknown section [tls]");
	assert_int_equal(parse(f, "[global]\nverify-depth = 3\n\n[Global]\nverify-depth = 4\n"), -1);
	assert_string_equal(f->err, "t.conf:4: unknown section [Global]");
	/* a key before any section */
	assert_int_equal(parse(f, "verify-depth = 3\n"), -1);
	assert_string_equal(f->err, "t.conf:1: unknown section []");
}

static void app_section_rejected(void **state)
{
	struct fixture *f = *state;

	/* A profile must say whom it applies to. */
	assert_int_equal(parse_fresh(f, "[global]\nverify-depth = 3\n[app \"curl\"]\nmin-version = TLSv1.3\n"),
			 -1);
	assert_string_equal(f->err, "t.conf:3: [app \"curl\"] matches nothing: set match-exe, "
				    "match-user or match-group");
	assert_int_equal(parse_fresh(f, "[app \"bad name\"]\nmatch-user = root\n"), -1);
	assert_int_equal(parse_fresh(f, "[app \"x\"]\nmatch-user = no-such-user-xyz\n"), -1);
	assert_string_equal(f->err, "t.conf:2: match-user: no user 'no-such-user-xyz'");
	assert_int_equal(parse_fresh(f, "[app \"x\"]\nmatch-exe = relative/path\n"), -1);
	assert_int_equal(parse_fresh(f, "[app \"x\"]\nmatch-user = root\nfrobnicate = 1\n"), -1);
	assert_string_equal(f->err, "t.conf:3: unknown key 'frobnicate' in [app \"x\"]");
	assert_int_equal(parse_fresh(f, "[app \"x\"]\nmatch-user = root\ncertificate = /a.pem\n"), -1);
	assert_string_equal(f->err, "t.conf:1: [app \"x\"]: certificate and private-key go "
				    "together");
	assert_int_equal(parse_fresh(f, "[global]\nmatch-user = root\n"), -1);
	assert_string_equal(f->err, "t.conf:2: 'match-user' belongs in an [app \"NAME\"] section");
	assert_int_equal(parse_fresh(f, "[app \"x\"]\nmatch-user = root\nmin-version = TLSv1.3\n"
				  "max-version = TLSv1.2\n"), -1);
	assert_string_equal(f->err, "t.conf:1: [app \"x\"]: min-version is above max-version");
	/* one section per profile */
	assert_int_equal(parse_fresh(f, "[app \"x\"]\nmatch-user = root\n[app \"x\"]\n"
					"min-version = TLSv1.3\n"), -1);
	assert_string_equal(f->err, "t.conf:3: a second [app] section of the same name");
	/* [global] is a floor for every profile */
	assert_int_equal(parse_fresh(f, "[global]\nmin-version = TLSv1.3\n[app \"x\"]\n"
					"match-user = root\nmin-version = TLSv1.2\n"), -1);
	assert_string_equal(f->err, "t.conf:3: [app \"x\"]: min-version below the [global] floor");
	/* a granted key is bound to an account, not only to a path */
	assert_int_equal(parse_fresh(f, "[app \"w\"]\nmatch-exe = /usr/bin/w\ncertificate = /a.pem\n"
					"private-key = /a.key\n"), -1);
	assert_string_equal(f->err, "t.conf:1: [app \"w\"]: a granted certificate needs match-user "
				    "(a dedicated account): an executable alone can be impersonated");
}

/* A profile overlays [global], whatever the order of the sections. */
static void profile_overlay(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse_fresh(f, "[app \"w\"]\nmatch-exe = /usr/bin/wget\nmin-version = TLSv1.3\n"
				  "[global]\nverify-depth = 3\nrequest-peer-auth = request\n"), 0);
	assert_int_equal(f->cfg.n_profiles, 1);
	assert_string_equal(f->cfg.profiles[0].name, "w");
	assert_string_equal(f->cfg.profiles[0].match_exe, "/usr/bin/wget");
	assert_int_equal(f->cfg.profiles[0].cfg.min_version, TLS1_3_VERSION);
	assert_int_equal(f->cfg.profiles[0].cfg.verify_depth, 3);
	assert_int_equal(f->cfg.profiles[0].cfg.request_peer_auth, 1);
	assert_int_equal(f->cfg.min_version, TLS1_2_VERSION);
}

/* A section header without keys never reaches libinih's key handler; the
 * pre-scan checks headers itself. */
static void empty_unknown_section(void **state)
{
	struct fixture *f = *state;
	int rc = parse_fresh(f, "[global]\nverify-depth = 3\n[app \"curl\"]\n");

	assert_true(rc == -1);
	assert_string_equal(f->err, "t.conf:3: [app \"curl\"] matches nothing: set match-exe, "
				    "match-user or match-group");
	assert_int_equal(parse_fresh(f, "[global]\n[other]\n"), -1);
	assert_string_equal(f->err, "t.conf:2: unknown section [other]");
}

static void syntax_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "[global]\nverify-depth = 3\nnot a key value\n"), -1);
	assert_string_equal(f->err, "t.conf:3: syntax error");
	assert_int_equal(parse(f, "[global]\n[global\n"), -1);
	assert_string_equal(f->err, "t.conf:2: syntax error");
}

/* libinih goes on after a syntax error and returns the line of the first
 * error, while the reason kept is the first one a key handler gave: with a
 * syntax error before a bad key, the line and the reason do not match. */
static void error_line_matches_reason(void **state)
{
	struct fixture *f = *state;
	int rc = parse(f, "[global]\nnot a key value\nfoo = 1\n");

	assert_int_equal(rc, -1);
	assert_true(strcmp(f->err, "t.conf:2: syntax error") == 0);
	assert_string_equal(f->err, "t.conf:2: syntax error");
}

static void first_error_wins(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "; comment\n\n[global]\nverify-depth = 0\nfoo = 1\n"
				  "log-level = loud\n"),
			 -1);
	assert_string_equal(f->err, "t.conf:4: verify-depth: '0' is not an integer in 1..32");
}

static void last_value_wins(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "[global]\ntrust-store = /a\ntrust-store = /b\n"
				  "verify-depth = 2\nverify-depth = 3\n"),
			 0);
	assert_string_equal(f->cfg.trust_store, "/b"); /* and /a was freed (ASan) */
	assert_int_equal(f->cfg.verify_depth, 3);
}

static void whitespace_and_comments(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "\xef\xbb\xbf[global]\n  verify-depth=9   \n"
				  "log-level = error ; inline comment\n"),
			 0);
	assert_int_equal(f->cfg.verify_depth, 9);
	assert_int_equal(f->cfg.log_level, SSA_LOG_ERR);
	/* '#' starts a comment only at the beginning of a line */
	bad_line(f, "verify-depth = 8 # eight", "verify-depth: '8 # eight' is not an integer in 1..32");
}

/* libinih reads lines of at most 199 bytes: the rest of a longer line is
 * parsed as a line of its own, so the tail of a value can set another key. */
static void long_line_split(void **state)
{
	struct fixture *f = *state;
	char text[512], path[200];
	int rc;

	memset(path, 'a', 184);
	path[184] = '\0';
	snprintf(text, sizeof text, "[global]\ntrust-store = /%sverify-depth=32\n", path);
	rc = parse(f, text);
	assert_int_equal(rc, -1);
	assert_string_equal(f->err, "t.conf:2: line longer than 190 characters");
}

/* ---- loading files --------------------------------------------------------- */

static void load_missing_default(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ssa_config_load("/nonexistent/ssa.conf", false, &f->cfg, f->err,
					 sizeof f->err),
			 0);
	assert_int_equal(f->cfg.verify_depth, 8);
	assert_int_equal(ssa_config_load("/nonexistent/ssa.conf", true, &f->cfg, f->err,
					 sizeof f->err),
			 -1);
	assert_string_equal(f->err, "/nonexistent/ssa.conf: No such file or directory");
}

static void load_file(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/ssa-unit-XXXXXX";
	char want[128];
	int fd = mkstemp(path);
	FILE *fp;

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs("[global]\nverify-depth = 5\nhandshake-timeout = 1s\n", fp);
	fclose(fp);
	assert_int_equal(ssa_config_load(path, true, &f->cfg, f->err, sizeof f->err), 0);
	assert_int_equal(f->cfg.verify_depth, 5);
	assert_int_equal(f->cfg.handshake_timeout_ms, 1000);

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[global]\n\nbogus = 1\n", fp);
	fclose(fp);
	assert_int_equal(ssa_config_load(path, false, &f->cfg, f->err, sizeof f->err), -1);
	snprintf(want, sizeof want, "%s:3: unknown key 'bogus' in [global]", path);
	assert_string_equal(f->err, want);

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[global]\nmin-version = TLSv1.3\nmax-version = TLSv1.2\n", fp);
	fclose(fp);
	assert_int_equal(ssa_config_load(path, true, &f->cfg, f->err, sizeof f->err), -1);
	snprintf(want, sizeof want, "%s:3: min-version is above max-version", path);
	assert_string_equal(f->err, want);
	unlink(path);
}

static void error_truncated_safely(void **state)
{
	struct fixture *f = *state;
	char small[16];

	assert_int_equal(ssa_config_parse_string("[global]\nfoo = 1\n", "t.conf", &f->cfg, small,
						 sizeof small),
			 -1);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_memory_equal(small, "t.conf:2: unkno", 15);
}

/* The per-user limits: defaults, every key, ranges, [global] only. */
static void limits(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->cfg.limits.sockets_per_user, 0); /* automatic */
	assert_int_equal(f->cfg.limits.handshakes_per_user, 1024);
	assert_int_equal(f->cfg.limits.ctl_per_user, 256);
	assert_int_equal(f->cfg.limits.handshakes_per_listener, 1024);
	assert_int_equal(f->cfg.limits.pem_size, 256 << 10);
	assert_int_equal(f->cfg.limits.trusted_per_socket, 64);
	assert_int_equal(f->cfg.limits.trusted_per_user, 4096);
	assert_int_equal(f->cfg.limits.request_ms_per_user, 250);
	assert_int_equal(f->cfg.limits.sessions_per_user, 2048);
	assert_int_equal(f->cfg.limits.keys_per_user, 256);
	assert_int_equal(parse_fresh(f, "[global]\nmax-sockets-per-user = 10\n"
				     "max-handshakes-per-user = 5\n"
				     "max-control-connections-per-user = 4\n"
				     "max-handshakes-per-listener = 16\nmax-pem-size = 65536\n"
				     "max-trusted-certificates = 10\n"
				     "max-trusted-certificates-per-user = 100\n"
				     "max-request-ms-per-user = 50\nmax-keys-per-user = 3\n"), 0);
	assert_int_equal(f->cfg.limits.sockets_per_user, 10);
	assert_int_equal(f->cfg.limits.handshakes_per_user, 5);
	assert_int_equal(f->cfg.limits.ctl_per_user, 4);
	assert_int_equal(f->cfg.limits.handshakes_per_listener, 16);
	assert_int_equal(f->cfg.limits.pem_size, 65536);
	assert_int_equal(f->cfg.limits.trusted_per_socket, 10);
	assert_int_equal(f->cfg.limits.trusted_per_user, 100);
	assert_int_equal(f->cfg.limits.request_ms_per_user, 50);
	assert_int_equal(f->cfg.limits.keys_per_user, 3);
	assert_int_equal(parse_fresh(f, "[global]\nmax-sockets-per-user = 0\n"), -1);
	assert_non_null(strstr(f->err, "t.conf:2: max-sockets-per-user: '0' is not an integer"));
	assert_int_equal(parse_fresh(f, "[global]\nmax-keys-per-user = 0\n"), -1);
	assert_int_equal(parse_fresh(f, "[global]\nmax-keys-per-user = 65537\n"), -1);
	assert_int_equal(parse_fresh(f, "[global]\nmax-pem-size = 100\n"), -1);
	assert_int_equal(parse_fresh(f, "[global]\nmax-request-ms-per-user = 1001\n"), -1);
	assert_int_equal(parse_fresh(f, "[global]\nmax-handshakes-per-user = 5x\n"), -1);
	assert_int_equal(parse_fresh(f, "[app \"a\"]\nmatch-user = root\n"
				     "max-sockets-per-user = 5\n"), -1);
	assert_non_null(strstr(f->err, "unknown key 'max-sockets-per-user'"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(defaults),
		T(empty_text_keeps_defaults),
		T(free_twice_is_safe),
		T(parse_version),
		T(all_keys_valid),
		T(trust_store),
		T(versions),
		T(min_above_max),
		T(ciphers),
		T(ciphersuites),
		T(groups),
		T(verify_depth),
		T(handshake_timeout),
		T(handshake_timeout_overflow),
		T(log_level),
		T(unknown_key),
		T(unknown_section),
		T(app_section_rejected),
		T(profile_overlay),
		T(empty_unknown_section),
		T(syntax_error),
		T(error_line_matches_reason),
		T(first_error_wins),
		T(last_value_wins),
		T(whitespace_and_comments),
		T(long_line_split),
		T(load_missing_default),
		T(load_file),
		T(error_truncated_safely),
		T(limits),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
