/* SPDX-License-Identifier: MIT */
/**
 * @file key_slots.h
 * @brief Per-user accounting of the key keeper's key slots.
 *
 * Every private key an application sets (TLS_PRIVATE_KEY, through libssa
 * or ssa.ko) takes one of the key keeper's slots for as long as ssad holds
 * it. Without a per-user bound one local user could fill the keeper and
 * make every other user's key loads fail. A key loaded for a caller is
 * charged to the caller's uid when it is loaded and released when its last
 * reference is freed (remote_key.c); a user at her max-keys-per-user
 * (ssa.conf(5)) gets ENOBUFS, as for the other resources ssad holds per
 * user, with a log line naming her uid. The configuration's identities
 * are charged to nobody.
 *
 * Thread-safe: keys load on the jobs thread and the loop, and are freed on
 * whichever thread drops their last reference.
 */
#ifndef SSAD_KEY_SLOTS_H
#define SSAD_KEY_SLOTS_H

#include <stddef.h>
#include <sys/types.h>

/** Whom a key is loaded for: charged to uid, refused past max keys. */
struct ssa_key_owner {
	uid_t uid;
	unsigned max; /**< max-keys-per-user; 0: charge without a bound (the
		       *   restart hand-over re-loads keys already held) */
	int pid;      /**< the caller's process, for the log line (0: unknown) */
};

/**
 * Charge one key slot to o->uid.
 * @retval 0 charged (ssa_key_slots_put() releases it)
 * @retval ENOBUFS o->uid already holds o->max keys (logged, at most once a
 *         second per user; why says so)
 * @retval ENOMEM no memory for the user's record
 */
int ssa_key_slots_take(const struct ssa_key_owner *o, char *why, size_t wlen);

/** Release one key slot of uid (taken by ssa_key_slots_take()). */
void ssa_key_slots_put(uid_t uid);

/** The key slots uid holds now. */
unsigned ssa_key_slots_held(uid_t uid);

#endif
