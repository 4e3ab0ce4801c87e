/* SPDX-License-Identifier: MIT */
/**
 * @file keeper_loader.h
 * @brief The supervisor loads the configuration's private keys into the
 *        key keeper itself, on a channel of its own, so that the worker
 *        never gets a descriptor of a key file: it gets the key's id in
 *        the keeper and its public key (engine/remote_key.h).
 *
 * The supervisor starts the keeper (keeper/keeper.h) before each worker,
 * with one channel more than the worker's: that last one is the
 * supervisor's. The worker asks for a key by path (priv_msg.h,
 * SSA_PRIV_LOADKEY); the supervisor opens it only if the configuration
 * names it as a private-key (cfg_access.h) and sends the descriptor to the
 * keeper, which reads the key.
 */
#ifndef SSAD_KEEPER_LOADER_H
#define SSAD_KEEPER_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "../keeper/keeper_msg.h"

/**
 * Have the keeper on chan load the key file open on fd.
 * @retval 0 with *key_id and the public key (DER, *der_len bytes of at
 *         most *der_len) in der
 * @retval the keeper's errno (EINVAL: no usable key in the file; ENOSPC:
 *         the keeper is full), ETIMEDOUT (no answer in 5 s), EPIPE (the
 *         keeper is gone), EBADMSG (a malformed answer), EMSGSIZE (der too
 *         small)
 */
int ssa_keeper_load(int chan, int fd, uint32_t *key_id, uint8_t *der, size_t *der_len);

/**
 * Stash the key file open on fd in the keeper on chan under ticket and
 * uid, unread, for the worker to load by ticket (key_intake.h).
 * @retval 0 stashed (the keeper holds its own descriptor)
 * @retval the keeper's errno (EINVAL: not a regular file; ENOSPC: its
 *         stash is full; EEXIST: the ticket is taken), ETIMEDOUT, EPIPE,
 *         EBADMSG as ssa_keeper_load()
 */
int ssa_keeper_stash(int chan, int fd, const uint8_t ticket[SSA_KEEP_TICKET_LEN], uint32_t uid);

/**
 * Drop the stashed file of ticket, if still there.
 * @retval 0 dropped
 * @retval ENOENT no such ticket (used, or the keeper was replaced)
 * @retval ETIMEDOUT, EPIPE, EBADMSG as ssa_keeper_load()
 */
int ssa_keeper_unstash(int chan, const uint8_t ticket[SSA_KEEP_TICKET_LEN]);

/**
 * Give the keeper on chan the hand-over key (handover_key.h), once.
 * @retval 0 set
 * @retval EPERM it has one already
 * @retval ETIMEDOUT, EPIPE, EBADMSG as ssa_keeper_load()
 */
int ssa_keeper_set_handover_key(int chan, const uint8_t key[SSA_KEEP_HANDOVER_KEY_LEN]);

#endif
