/* SPDX-License-Identifier: MIT */
/**
 * @file handover_state.h
 * @brief The listeners' settings as they travel from one ssad to the next
 *        (handover.h): a versioned binary format, its writer and its parser.
 *
 * Layout, all integers little endian:
 *
 *     "SSAHOVR\0"  u32 version (1)  u64 generation  u32 listeners
 *     per listener: u32 length, then that many bytes of fields,
 *     each field: u16 tag, u32 length, value
 *
 * Every listener must carry each required field exactly once; repeated
 * fields (identities' chains and keys, disabled ciphers) in order; an
 * unknown tag, a length past the end, a string with a NUL or over its
 * bound, a count over its limit: the whole state is refused, with a
 * reason. The parser is pure (no descriptors, no OpenSSL): fuzzed by
 * fuzz/fuzz_handover.c, unit-tested by tests/unit/test_handover_state.c.
 *
 * The state holds the listeners' private keys (PEM): buffers are wiped
 * before they are freed (ssa_ho_state_clear, ssa_ho_wipe_free).
 */
#ifndef SSAD_HANDOVER_STATE_H
#define SSAD_HANDOVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSA_HO_MAGIC "SSAHOVR"        /**< 8 bytes with its NUL */
#define SSA_HO_VERSION 1u
#define SSA_HO_MAX_LISTENERS 4096
#define SSA_HO_MAX_IDS 8              /**< as SSA_MAX_IDENTITIES */
#define SSA_HO_MAX_DISABLED 32        /**< as struct ssa_restrict */
#define SSA_HO_MAX_PEM (1u << 20)     /**< as SSA_MAX_PEM_FILE */
#define SSA_HO_MAX_TOTAL (64u << 20)  /**< the whole state */
#define SSA_HO_NAME_MAX 255           /**< profile names, cipher names */
#define SSA_HO_PATH_MAX 4095          /**< program paths */

/** A PEM text (malloc'ed, NUL-terminated) and its length. */
struct ssa_ho_pem {
	char *pem;
	size_t len;
};

/** One listener: what a new ssad needs to rebuild it. */
struct ssa_ho_listener {
	uint64_t id;                /**< TLS_ID; names its descriptors "ssa-l-<id>" */
	int32_t domain;             /**< AF_INET or AF_INET6 */
	int32_t backlog;
	uint32_t uid, gid;          /**< owner */
	int32_t pid;                /**< the process that made it */
	char *program;              /**< its executable ("?" unknown) */
	char *profile;              /**< the policy's name, when it was made */
	uint64_t key_dev, key_ino, key_cookie; /**< registry key of the app's end */
	bool ktls_want;
	int32_t nodelay;
	int32_t peer_auth;
	unsigned char alpn[256];
	uint32_t alpn_len;
	int32_t min_version, max_version;
	int64_t session_ttl;
	int32_t session_reuse;
	bool crl_checks, ocsp_stapled;
	char *disabled[SSA_HO_MAX_DISABLED];
	uint32_t n_disabled;
	struct ssa_ho_pem chain[SSA_HO_MAX_IDS];
	struct ssa_ho_pem key[SSA_HO_MAX_IDS]; /**< secret: wiped on clear */
	uint32_t n_ids;
	struct ssa_ho_pem trusted;  /**< TLS_TRUSTED_PEER_CERTIFICATES, or empty */
};

struct ssa_ho_state {
	uint64_t generation;
	struct ssa_ho_listener *l;
	uint32_t n;
};

/**
 * Encode a state. *out is malloc'ed (the caller wipes and frees it with
 * ssa_ho_wipe_free).
 * @retval 0 done
 * @retval EINVAL a value over its bound
 * @retval ENOMEM no memory
 */
int ssa_ho_encode(const struct ssa_ho_state *s, uint8_t **out, size_t *len);

/**
 * Parse and check a state. On failure nothing is kept and why says what
 * was wrong (for the log).
 * @retval 0 s filled (free with ssa_ho_state_clear)
 * @retval EINVAL malformed, unknown version, or over a limit
 * @retval ENOMEM no memory
 */
int ssa_ho_decode(const uint8_t *buf, size_t len, struct ssa_ho_state *s, char *why,
		  size_t wlen);

/** Free what one listener holds, wiping key material. */
void ssa_ho_listener_clear(struct ssa_ho_listener *l);

/** Free a state, wiping key material. */
void ssa_ho_state_clear(struct ssa_ho_state *s);

/** Wipe len bytes at p and free p. */
void ssa_ho_wipe_free(void *p, size_t len);

#endif
