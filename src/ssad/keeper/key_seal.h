/* SPDX-License-Identifier: MIT */
/**
 * @file key_seal.h
 * @brief Private keys sealed for the restart hand-over: a pure codec.
 *
 * At a restart the key keeper writes the keys of SSA servers' listeners
 * into memfds that travel through the worker and the service manager's
 * descriptor store to the next keeper (keeper_msg.h, EXPORT). So that the
 * worker, which parses network bytes, cannot read them, the keeper seals
 * them with AES-256-GCM under the hand-over key, which only the supervisor
 * and the keepers hold (supervisor/handover_key.h):
 *
 *     "SSAKEY1\n" | 12-byte nonce | ciphertext | 16-byte tag
 *
 * with the 8-byte magic as additional data. No I/O here.
 */
#ifndef SSAD_KEY_SEAL_H
#define SSAD_KEY_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Bytes of the hand-over key. */
#define SSA_SEAL_KEY_LEN 32u
/** Bytes a sealed key has beyond its plaintext. */
#define SSA_SEAL_OVERHEAD (8u + 12u + 16u)

/** Whether buf starts like a sealed key. */
bool ssa_key_is_sealed(const uint8_t *buf, size_t len);

/**
 * Seal len bytes of in under key into out (len + SSA_SEAL_OVERHEAD bytes).
 * @retval 0
 * @retval EIO the cipher failed (or no random nonce)
 */
int ssa_key_seal(const uint8_t key[SSA_SEAL_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out);

/**
 * Open a sealed key of len bytes into out (len - SSA_SEAL_OVERHEAD bytes).
 * @retval 0 *out_len bytes in out
 * @retval EINVAL not a sealed key, or not sealed under key (or altered)
 */
int ssa_key_unseal(const uint8_t key[SSA_SEAL_KEY_LEN], const uint8_t *in, size_t len,
		   uint8_t *out, size_t *out_len);

#endif
