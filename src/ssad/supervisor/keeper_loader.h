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

#endif
