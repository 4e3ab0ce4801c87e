/* SPDX-License-Identifier: MIT */
/**
 * @file config.h
 * @brief ssa.conf: the administrator's policy, parsed and validated.
 *
 * A configuration is an immutable value: a reload builds a new one and
 * swaps it in; live connections keep the policy they were made with.
 *
 * [global] sets the policy for everything; each [app "NAME"] section is a
 * profile that applies to the programs it matches (match-exe, match-user,
 * match-group: all given ones must match) and overrides [global] keys.
 * Where several profiles match, the most specific wins: an executable
 * match counts 4, a user 2, a group 1; equal scores go to the first in the
 * file.
 */
#ifndef SSAD_CONFIG_H
#define SSAD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define SSA_DEFAULT_CONFIG "/etc/ssa/ssa.conf"
#define SSA_DEFAULT_TRUST_STORE "/etc/ssl/certs/ca-certificates.crt"
/** The largest configuration file read, in bytes. */
#define SSA_CONFIG_MAX_BYTES (1u << 20)
/** Length of a configuration's digest (SHA-256). */
#define SSA_CONFIG_DIGEST_LEN 32

struct ssa_profile;

/** The policy values; [global] and each profile's effective policy. */
struct ssa_config {
	char *trust_store;      /**< PEM bundle or hashed directory */
	int min_version;        /**< TLS1_2_VERSION or TLS1_3_VERSION */
	int max_version;
	char *ciphers;          /**< TLS 1.2 cipher list (OpenSSL syntax) */
	char *ciphersuites;     /**< TLS 1.3 suites */
	char *groups;           /**< key-exchange groups */
	int verify_depth;
	unsigned handshake_timeout_ms;
	bool app_trust_anchors; /**< may clients add CAs (TLS_TRUSTED_PEER_CERTIFICATES)? */
	int request_peer_auth;  /**< floor for servers: 0 none, 1 request, 2 require */
	bool session_tickets;   /**< may sessions be resumed (and tickets issued)? */
	long session_timeout;   /**< seconds, upper bound of TLS_SESSION_TTL */
	char *crl_file;         /**< PEM CRLs for the trust store, or NULL */
	int trust_store_line;   /**< [global]: the line of trust-store, 0 if not set there */
	int crl_file_line;      /**< [global]: the line of crl-file, 0 if not set there */
	int crl_checks;         /**< 1 check CRLs, 0 not, -1 when crl-file is set */
	bool ocsp_stapled_checks; /**< ask for and check stapled OCSP responses */
	char *certificate;      /**< profile: identity granted by the administrator */
	char *private_key;

	/* [global] only */
	struct ssa_limits {
		int sockets_per_user;   /**< max-sockets-per-user (0: a quarter of
					 *   ssad's descriptor limit) */
		int handshakes_per_user;   /**< max-handshakes-per-user */
		int ctl_per_user;          /**< max-control-connections-per-user */
		int handshakes_per_listener; /**< max-handshakes-per-listener */
		int pem_size;              /**< max-pem-size (bytes per request) */
		int trusted_per_socket;    /**< max-trusted-certificates */
		int trusted_per_user;      /**< max-trusted-certificates-per-user */
		int request_ms_per_user;   /**< max-request-ms-per-user (per second) */
		int sessions_per_user;     /**< max-sessions-per-user (session cache) */
		int keys_per_user;         /**< max-keys-per-user (key keeper slots) */
	} limits;
	int log_level;
	char *admin_group;      /**< besides root, who may use admin requests */
	struct ssa_profile *profiles;
	int n_profiles;
	/** SHA-256 of the bytes ssa_config_load() read ("" when no file):
	 *  which version the worker runs, told to its supervisor */
	uint8_t digest[SSA_CONFIG_DIGEST_LEN];
};

struct ssa_profile {
	char *name;
	int line;               /**< of its section header */
	char *match_exe;        /**< absolute path, compared with /proc/PID/exe */
	bool has_user, has_group;
	uid_t uid;
	gid_t gid;
	struct ssa_config cfg;  /**< [global] overlaid with this section */
	char **keys, **values;  /**< the section's own policy keys, in order */
	int n_keys;
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

/** out = SHA-256 of n bytes of text (n may be 0). @retval 0 or -1 */
int ssa_config_digest(const char *text, size_t n, uint8_t out[SSA_CONFIG_DIGEST_LEN]);

/** Parse a config held in memory (used by the fuzzer and ssa_config_load). */
int ssa_config_parse_string(const char *text, const char *name,
			    struct ssa_config *cfg, char *err, size_t errlen);

void ssa_config_free(struct ssa_config *cfg);

/** A deep copy of the policy values (not the profiles, nor the identity
 * paths). @retval 0 or -1 (out of memory) */
int ssa_config_copy(struct ssa_config *dst, const struct ssa_config *src);

/** Are CRLs checked under this policy? */
bool ssa_config_crl_checks(const struct ssa_config *cfg);

/** "TLSv1.2" / "TLSv1.3" -> OpenSSL version constant, -1 if unknown. */
int ssa_config_parse_version(const char *s);

#endif
