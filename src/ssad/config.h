/* SPDX-License-Identifier: MIT */
/**
 * @file config.h
 * @brief ssa.conf: the administrator's policy, parsed and validated.
 *
 * The configuration is an immutable value: a reload builds a new one and
 * swaps it in; live connections keep the context they were made with.
 */
#ifndef SSAD_CONFIG_H
#define SSAD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define SSA_DEFAULT_CONFIG "/etc/ssa/ssa.conf"
#define SSA_DEFAULT_TRUST_STORE "/etc/ssl/certs/ca-certificates.crt"

struct ssa_config {
	char *trust_store;      /**< PEM bundle or hashed directory */
	int min_version;        /**< TLS1_2_VERSION or TLS1_3_VERSION */
	int max_version;
	char *ciphers;          /**< TLS 1.2 cipher list (OpenSSL syntax) */
	char *ciphersuites;     /**< TLS 1.3 suites */
	char *groups;           /**< key-exchange groups */
	int verify_depth;
	unsigned handshake_timeout_ms;
	int log_level;
	bool app_trust_anchors; /**< may clients add CAs (TLS_TRUSTED_PEER_CERTIFICATES)? */
};

/** Fill cfg with the built-in secure defaults. */
int ssa_config_defaults(struct ssa_config *cfg);

/**
 * Load and validate a configuration file on top of the defaults.
 * A missing file at the default path is not an error (defaults apply);
 * any other problem is.
 * @param explicit_path true when the path was given on the command line
 * @retval 0 loaded
 * @retval -1 error; err holds "file:line: reason"
 */
int ssa_config_load(const char *path, bool explicit_path, struct ssa_config *cfg,
		    char *err, size_t errlen);

/** Parse a config held in memory (used by the fuzzer and ssa_config_load). */
int ssa_config_parse_string(const char *text, const char *name,
			    struct ssa_config *cfg, char *err, size_t errlen);

void ssa_config_free(struct ssa_config *cfg);

/** "TLSv1.2" / "TLSv1.3" -> OpenSSL version constant, -1 if unknown. */
int ssa_config_parse_version(const char *s);

#endif
