/* SPDX-License-Identifier: MIT */
/**
 * @file remote_key.h
 * @brief Private keys held by the key keeper (keeper/keeper.h), used here
 * as EVP_PKEYs whose public parts are real and whose private operations
 * are forwarded to the keeper.
 *
 * The keeper has one channel (a SOCK_SEQPACKET socket pair and a mutex)
 * per CPU, at most SSA_KEEPER_MAX_CHANNELS, each served by a thread of
 * its own; a request takes the first free channel, so concurrent
 * handshakes sign on as many cores. A reply is matched to its request by
 * id. When the keeper dies a
 * private operation fails (logged) and ssad starts a new keeper
 * (ssa_remote_key_restart()); the keys the dead keeper held stay unusable
 * (their handshakes fail with a log line) until loaded again: the
 * configuration's identities by a reload, application-set keys when the
 * application sets them again.
 */
#ifndef SSAD_REMOTE_KEY_H
#define SSAD_REMOTE_KEY_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * Start the key keeper; from now on keys load through it.
 * @retval 0 started
 * @retval errno of the socket pair or fork (why says)
 */
int ssa_remote_key_start(char *why, size_t wlen);

/** How many channels a keeper started for this process should have: one
 *  a CPU, leaving room for the supervisor's loading channel. */
int ssa_remote_key_channels(void);

/**
 * Use a keeper another process (the supervisor) started: pid, and this
 * process's ends fds[0..n-1] of its channels (taken). It is not this
 * process's child: it is not signalled or waited for, and when it dies the
 * channels break (the worker then ends: supervisor.h).
 * @retval 0 or ENOMEM
 */
int ssa_remote_key_adopt(pid_t pid, const int *fds, int n);

/**
 * A key the keeper loaded for someone else (the supervisor, from a file
 * the configuration names: supervisor/keeper_loader.h): key_id and its
 * public key der (SubjectPublicKeyInfo), from the keeper's reply.
 * @retval 0 with *key, or EINVAL (the public key does not decode)
 */
int ssa_remote_key_wrap_loaded(uint32_t key_id, const uint8_t *der, size_t len, EVP_PKEY **key);

/** Start a new keeper after the old one died (or replace a live one).
 * @retval as ssa_remote_key_start() */
int ssa_remote_key_restart(char *why, size_t wlen);

/**
 * The keeper pid has been reaped (waitpid by the caller): forget its pid,
 * so that nothing signals a number the kernel may give to another process,
 * and mark the channel dead.
 */
void ssa_remote_key_reaped(pid_t pid);

/** Stop the keeper (close its channel, reap it). */
void ssa_remote_key_stop(void);

/** Whether keys load through a keeper. */
bool ssa_remote_key_active(void);

/** The keeper's process id, 0 if none. */
pid_t ssa_remote_key_pid(void);

struct ssa_key_owner;

/**
 * Load the private key of an open file through the keeper, for owner
 * (NULL: the configuration, charged to nobody): one key slot is charged
 * to owner->uid (key_slots.h) until the key's last reference is freed.
 * @retval 0 *key set (public parts real, private operations forwarded)
 * @retval EINVAL the file holds no usable RSA or EC private key (why says)
 * @retval ENOBUFS owner->uid holds owner->max keys (max-keys-per-user;
 *         logged with the uid, why says)
 * @retval EPIPE, ESTALE, ETIMEDOUT the keeper is gone or broken (why says)
 * @retval ENOSPC the keeper holds SSA_KEEP_MAX_KEYS keys, all users
 *         together (logged, why says)
 * @retval ENOMEM no memory
 */
int ssa_remote_key_load_fd(int fd, const struct ssa_key_owner *owner, EVP_PKEY **key, char *why,
			   size_t wlen);

/**
 * Load the key file an application handed to ssad's key intake
 * (supervisor/key_intake.h), stashed in the keeper under ticket
 * (SSA_KEEP_TICKET_LEN bytes) for sender, the uid of the request that
 * carried the ticket; charged to owner as ssa_remote_key_load_fd(). The
 * ticket is used up, whatever the answer. A file of more than max_size
 * bytes (max-pem-size) is refused with EFBIG, unread.
 * @retval as ssa_remote_key_load_fd(), and ENOENT (no such ticket: unknown,
 *         used, or dropped when the application closed its intake
 *         connection), EACCES (stashed for another uid), EOPNOTSUPP (keys
 *         do not load through a keeper here)
 */
int ssa_remote_key_load_ticket(const uint8_t *ticket, uid_t sender, uint32_t max_size,
			       const struct ssa_key_owner *owner, EVP_PKEY **key, char *why,
			       size_t wlen);

/**
 * Load a private key from PEM or DER bytes through the keeper, charged to
 * nobody. The caller wipes its own copy; the request buffer here is wiped
 * after sending.
 * @retval as ssa_remote_key_load_fd(), EMSGSIZE when len is too large
 */
int ssa_remote_key_load_bytes(const void *pem, size_t len, EVP_PKEY **key, char *why,
			      size_t wlen);

/**
 * Have the keeper write key, as PEM, into the empty memfd fd (for the
 * restart hand-over: ssad stores fd without reading it).
 * @retval 0 written
 * @retval EINVAL key is not a keeper's key
 * @retval ESTALE, EPIPE, EIO the keeper cannot (logged)
 */
int ssa_remote_key_export(const EVP_PKEY *key, int fd);

/** Whether key is held by a keeper (its private parts are not here). */
bool ssa_remote_key_is(const EVP_PKEY *key);

#endif
