/* SPDX-License-Identifier: MIT */
/* ssad's own capabilities: at start it keeps only those it uses, so that
 * ssad started by hand as root holds what the systemd unit grants, not all
 * of root's (issue 14, item 3). */
#ifndef SSAD_CAPABILITIES_H
#define SSAD_CAPABILITIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Limit this process to the capabilities ssad uses: CAP_NET_BIND_SERVICE,
 * CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SYS_ADMIN, and CAP_SYS_PTRACE
 * (each only if it already holds it: CAP_SYS_PTRACE is granted on purpose,
 * as by the unit's drop-in; see ssad(8) CAPABILITIES). Every other one
 * leaves the effective and permitted sets; the inheritable and ambient
 * sets are emptied. The bounding set keeps only CAP_SETUID and CAP_SETGID:
 * the one program ssad executes is the key keeper, which needs those to
 * become nobody. A process without CAP_SETPCAP (under the unit) keeps its
 * bounding set. Called once, before any thread is started.
 *
 * @param kept  set to the capability mask kept (bit N = capability N)
 * @param why   a readable reason on failure
 * @retval 0     done
 * @retval EPERM the kernel refused capset(2) or PR_CAPBSET_DROP
 * @retval errno of capget(2) otherwise
 */
int ssad_caps_limit(uint64_t *kept, char *why, size_t wlen);

/**
 * Write the names of the capabilities in mask ("CAP_SETUID CAP_SETGID")
 * into buf, "none" for an empty mask.
 */
void ssad_caps_names(uint64_t mask, char *buf, size_t len);

/*
 * Linux keeps capabilities per thread: a drop applies to the calling thread
 * and to the threads it starts afterwards, never to threads that already
 * run. ssad drops before it starts any thread, and ssa_cap_drop() refuses
 * (EBUSY) if the process already has more than one.
 */
/**
 * Remove capability cap from the calling thread's effective, permitted,
 * inheritable and ambient sets and, if the thread may (CAP_SETPCAP), from
 * its bounding set, so that not even an exec as uid 0 gives it back.
 * Other capabilities are untouched.
 * @param cap          a CAP_* number
 * @param bounding_out set to whether cap is out of the bounding set now
 *                     (may be NULL)
 * @retval 0 cap is in neither the effective nor the permitted set now
 * @retval EINVAL cap is not a capability number (0..63)
 * @retval EBUSY the process has more than one thread: the others would
 *         keep cap; nothing was changed
 * @retval EPERM (or another errno of capget()/capset()) the sets could not
 *         be changed; nothing was changed
 * @retval EIO capset() succeeded but cap is still there
 */
int ssa_cap_drop(int cap, bool *bounding_out);

#endif
