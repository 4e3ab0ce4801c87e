/* SPDX-License-Identifier: MIT */
/**
 * @file cap_drop.h
 * @brief Giving up one capability for good, once ssad no longer needs it
 *        (CAP_NET_ADMIN after registering with ssa.ko).
 *
 * Linux keeps capabilities per thread: a drop applies to the calling
 * thread and to the threads it starts afterwards, never to threads that
 * already run. ssad therefore drops before it starts any thread, and
 * ssa_cap_drop() refuses (EBUSY) if the process already has more than one.
 */
#ifndef SSAD_CAP_DROP_H
#define SSAD_CAP_DROP_H

#include <stdbool.h>

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
