/* SPDX-License-Identifier: MIT */
/**
 * @file opt_files.h
 * @brief The files of a file option (TLS_CERTIFICATE_CHAIN,
 *        TLS_PRIVATE_KEY, TLS_TRUSTED_PEER_CERTIFICATES) read into a
 *        socket's options, with no connection (opt_files.c).
 *
 * What both front ends share of file options: the kernel front end sets
 * one here and now (ssa_sockopt_load_file()); the libssa front end reads
 * the files on its jobs thread and keeps them with its per-user accounting
 * (libssa_front/sockopt_file.c).
 */
#ifndef SSAD_OPT_FILES_H
#define SSAD_OPT_FILES_H

#include <openssl/ssl.h>

#include "opt_table.h"

struct ssa_key_owner;
struct ssa_limits;
struct ssa_policy;
struct ssa_tls_opts;

/** The bytes of PEM that the regular files among fds hold (the others
 * count 0: they are refused when read). */
long long ssa_sockopt_pem_bytes(const int *fds, int nfds);

/**
 * Read a file option's files: the certificates of every file into *certs
 * (at most max_certs in all), or the key of the one file into *key, its
 * key keeper slot charged to owner (key_slots.h).
 * Thread-safe; on failure why says what is wrong with the files.
 * @retval 0 read (the result is the caller's)
 * @retval EINVAL not a regular file, no certificate, a bad certificate or key
 * @retval EFBIG more than max_certs certificates
 * @retval ENOBUFS owner's user holds max-keys-per-user keys
 * @retval ENOSPC, EPIPE, ESTALE, ETIMEDOUT the key keeper could not
 * @retval EIO reading failed
 * @retval ENOMEM no memory
 */
int ssa_sockopt_read_files(int name, const int *fds, int nfds, int max_certs,
			   const struct ssa_key_owner *owner, STACK_OF(X509) **certs,
			   EVP_PKEY **key, char *why, size_t wlen);

/**
 * Keep what ssa_sockopt_read_files() read in o: a chain added, the key of
 * the last chain, or the trust anchors (replacing earlier ones). certs
 * and key are consumed either way.
 * @retval 0 kept
 * @retval EINVAL out of order, or a key that does not match its chain or
 *         is too weak (o->error says why)
 */
int ssa_sockopt_keep_files(struct ssa_tls_opts *o, int name, const char *path,
			   STACK_OF(X509) *certs, EVP_PKEY *key);

/**
 * A whole file option on options under a policy, here and now: judged
 * (ssa_sockopt_file_allowed()), bounded (max-pem-size and
 * max-trusted-certificates of lim), read and kept; a key is charged to
 * owner (key_slots.h). For a front end with no per-user accounting of its
 * own (the kernel front end). On failure
 * o->error says why, where there is more to say than the errno.
 * @param path the option's value, for messages
 * @retval 0 set
 * @retval EINVAL as ssa_sockopt_file_allowed(); also for unreadable
 *         contents
 * @retval EOPNOTSUPP, EPERM as ssa_sockopt_file_allowed()
 * @retval EFBIG more than max-pem-size bytes or max-trusted-certificates
 * @retval ENOBUFS owner's user holds max-keys-per-user keys
 * @retval EIO reading failed
 * @retval ENOMEM no memory
 */
int ssa_sockopt_load_file(const struct ssa_policy *pol, const struct ssa_limits *lim,
			  const struct ssa_key_owner *owner, struct ssa_tls_opts *o,
			  enum ssa_opt_stage st, int name, const char *path, const int *fds,
			  int nfds);

/**
 * TLS_PRIVATE_KEY by key keeper ticket (a key file stashed by the
 * supervisor, never in this process): judged as ssa_sockopt_load_file(),
 * loaded by the keeper for sender (ssa_remote_key_load_ticket(), bounded
 * by lim's max-pem-size), charged to owner and kept. The ticket is used up.
 * @retval as ssa_sockopt_load_file(), and ENOENT, EACCES as
 *         ssa_remote_key_load_ticket()
 */
int ssa_sockopt_load_ticket(const struct ssa_policy *pol, const struct ssa_limits *lim,
			    const struct ssa_key_owner *owner, struct ssa_tls_opts *o,
			    enum ssa_opt_stage st, const char *path, const uint8_t *ticket,
			    uid_t sender);

#endif
