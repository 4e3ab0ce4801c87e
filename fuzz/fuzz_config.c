/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the ssa.conf parser (src/ssad/config.c).
 *
 * The input is the text of a configuration file. It is parsed on top of the
 * defaults, as ssad does on start-up and on SIGHUP; whatever the outcome,
 * the result must be freed without leaks, an error must be reported as
 * "name:line: reason" (or "name: reason" for the cross-key checks), and an
 * accepted configuration must satisfy every bound the parser promises.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "../src/common/log.h"
#include "../src/ssad/engine/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                  \
	do {                      \
		if (!(c))         \
			abort();  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssa_config cfg;
	char err[512];
	char *text;
	int rc;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	CHECK(ssa_config_defaults(&cfg) == 0);
	err[0] = '\0';
	rc = ssa_config_parse_string(text, "fuzz.conf", &cfg, err, sizeof err);
	if (rc == 0) {
		CHECK(cfg.trust_store && cfg.trust_store[0] == '/');
		CHECK(cfg.ciphers && cfg.ciphersuites && cfg.groups);
		CHECK(cfg.min_version == TLS1_2_VERSION || cfg.min_version == TLS1_3_VERSION);
		CHECK(cfg.max_version == TLS1_2_VERSION || cfg.max_version == TLS1_3_VERSION);
		CHECK(cfg.min_version <= cfg.max_version);
		CHECK(cfg.verify_depth >= 1 && cfg.verify_depth <= 32);
		CHECK(cfg.handshake_timeout_ms >= 100 && cfg.handshake_timeout_ms <= 3600u * 1000);
		CHECK(cfg.log_level >= SSA_LOG_ERR && cfg.log_level <= SSA_LOG_DEBUG);
	} else {
		CHECK(rc == -1);
		CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		CHECK(strlen(err) < sizeof err);
	}
	ssa_config_free(&cfg);
	CHECK(cfg.trust_store == NULL && cfg.ciphers == NULL);
	free(text);
	return 0;
}
