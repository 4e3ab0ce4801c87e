/* SPDX-License-Identifier: MIT */
/**
 * @file identity.h
 * @brief Certificates and private keys handed over as open files.
 *
 * The front end opens a certificate or key file with the application's own
 * credentials and passes the open descriptor; ssad reads it from there.
 * ssad therefore never opens a path on behalf of a caller (no confused
 * deputy), and key bytes never pass through the application's memory.
 */
#ifndef SSAD_IDENTITY_H
#define SSAD_IDENTITY_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

/** Largest certificate or key file accepted. */
#define SSA_MAX_PEM_FILE (1u << 20)
/** Identities (certificate chain + key) one socket may hold (SNI). */
#define SSA_MAX_IDENTITIES 8

/**
 * The whole of an open regular file of at most max bytes, read
 * from the start with pread (the caller's file offset is left alone), NUL
 * terminated. *out is the caller's to free.
 * @retval 0 read, *outlen bytes
 * @retval EINVAL not a regular file, or too large (why says)
 * @retval EIO a read failed or the file shrank (why says)
 * @retval ENOMEM no memory
 */
int ssa_read_fd_file(int fd, size_t max, char **out, size_t *outlen, char *why, size_t wlen);

struct ssa_identity {
	STACK_OF(X509) *chain; /**< leaf first */
	EVP_PKEY *key;         /**< NULL until TLS_PRIVATE_KEY */
};

/**
 * Read a PEM certificate chain (leaf first) from an open regular file.
 * @retval 0 *chain holds at least one certificate
 * @retval EINVAL not a regular file, too large, or no certificate (why says)
 * @retval EIO read error
 */
int ssa_load_chain_fd(int fd, STACK_OF(X509) **chain, char *why, size_t len);

struct ssa_key_owner;

/** Read a PEM private key; the file's bytes are wiped from memory after use.
 * While ssad serves, the key keeper reads the file and *key forwards its
 * private operations there (remote_key.h), charged to owner (NULL: a
 * configuration identity, charged to nobody; key_slots.h); ssad -t reads
 * it here.
 * @retval 0, EINVAL, EIO as ssa_load_chain_fd()
 * @retval ENOBUFS owner's user holds max-keys-per-user keys (why says)
 * @retval EPIPE, ESTALE, ETIMEDOUT, ENOSPC the key keeper could not (why says) */
int ssa_load_key_fd(int fd, const struct ssa_key_owner *owner, EVP_PKEY **key, char *why,
		    size_t len);

/**
 * Check that key belongs to the leaf of chain and is strong enough for
 * security level 2. @retval 0 or EINVAL (why says)
 */
int ssa_identity_check(const struct ssa_identity *id, char *why, size_t len);

void ssa_identity_clear(struct ssa_identity *id);

/** PEM of a chain; malloc'ed, NUL-terminated, *len without the NUL. */
char *ssa_chain_pem(STACK_OF(X509) *chain, size_t *len);

/**
 * Load the configured private key at path: in the worker through its
 * supervisor, which has the keeper read it (the worker never gets the
 * file); elsewhere read here (ssa_load_key_fd()).
 * @retval 0 with *key (a keeper's key in the worker)
 * @retval errno of the open or the load (why says)
 */
int ssa_cfg_load_key(const char *path, EVP_PKEY **key, char *why, size_t wlen);

/** Send ssa_cfg_load_key() to fn (the worker: priv_client.h). */
void ssa_cfg_keys_remote(int (*fn)(const char *path, uint32_t *key_id, uint8_t *der,
				   size_t *der_len));

#endif
