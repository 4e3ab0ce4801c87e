/* SPDX-License-Identifier: MIT */
/**
 * @file handover_key.h
 * @brief The hand-over key: what key keepers seal listeners' private keys
 * under for a restart (keeper/key_seal.h), held by the supervisor.
 *
 * The restart hand-over carries the keys of SSA servers' listeners in
 * memfds that pass through the worker and the service manager's
 * descriptor store. Sealed under this key, they are ciphertext to the
 * worker, which parses network bytes. The supervisor makes the key at its
 * first start (32 random bytes) and, under a service manager with a
 * descriptor store, stores it there as a sealed memfd named
 * SSA_HANDOVER_KEY_NAME, so that the next supervisor (a restart of the
 * service) finds it in $LISTEN_FDS. It is never passed to a worker, and a
 * worker may not store or remove a descriptor of that name. Each keeper
 * gets it once, before its worker exists (keeper_msg.h, HANDOVER_KEY).
 */
#ifndef SSAD_HANDOVER_KEY_H
#define SSAD_HANDOVER_KEY_H

#include <stdbool.h>

#include "fd_store.h"

/** The descriptor store's name of the hand-over key. */
#define SSA_HANDOVER_KEY_NAME "ssa-handover-key"

/**
 * Take the hand-over key the service manager passed (out of store, so
 * that no worker gets it), or make one and store it with the manager.
 * @retval 0 a key is ready
 * @retval EIO no random bytes (logged)
 */
int ssa_handover_key_init(struct ssa_fd_store *store);

/**
 * Give the hand-over key to the keeper on chan (its supervisor channel).
 * @retval 0 or the errno of ssa_keeper_set_handover_key()
 */
int ssa_handover_key_give(int chan);

/**
 * Wipe this process's copy of the hand-over key: in a worker just forked,
 * which must not hold it.
 */
void ssa_handover_key_forget(void);

/** Whether name is the hand-over key's (a worker may not use it). */
bool ssa_handover_key_name(const char *name);

#endif
