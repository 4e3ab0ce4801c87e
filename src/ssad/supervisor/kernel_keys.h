/* SPDX-License-Identifier: MIT */
/**
 * @file kernel_keys.h
 * @brief The supervisor as ssa.ko's key taker: key files set with
 *        setsockopt(TLS_PRIVATE_KEY) on a kernel IPPROTO_TLS socket go from
 *        the module to the supervisor and on to the key keeper's stash,
 *        never through the worker (issue 14).
 *
 * The supervisor registers its own generic netlink socket with ssa.ko as
 * the key taker (SSA_CMD_REGISTER_KEYS, family version 3 and later, with
 * CAP_NET_ADMIN). The module then sends the worker a key option without
 * its file (SSA_OPT_HELD). The worker asks the supervisor (priv_msg.h,
 * KERNEL_KEY) to take it: the supervisor sends SSA_CMD_TAKE_KEY, the
 * module installs the file in the supervisor, which checks it as the key
 * intake does, stashes it in the keeper under a random ticket and the
 * socket owner's uid (ssa.ko's), closes its copy and answers the ticket;
 * the worker has the keeper load it by ticket (LOAD_TICKET). The worker
 * loads each key at once, so the supervisor keeps one ticket outstanding:
 * the next KERNEL_KEY drops the previous one from the stash if it is still
 * there. The netlink socket is the supervisor's alone: a forked worker
 * closes its copy (ssa_kernel_keys_forget()), so the module, which obeys
 * TAKE_KEY from the registered socket only, gives a key file to no other
 * process.
 */
#ifndef SSAD_KERNEL_KEYS_H
#define SSAD_KERNEL_KEYS_H

#include <stdint.h>

#include "../keeper/keeper_msg.h"

/**
 * Register with ssa.ko as its key taker if the module is loaded and its
 * family is version 3 or later (a change is logged). Called before each
 * worker is forked, which registers with the module too: the module may
 * have been unloaded and loaded again since, so it resolves the family
 * and registers every time (again from the same socket is accepted).
 */
void ssa_kernel_keys_start(void);

/**
 * Take the key file ssa.ko holds for option index of request (id, seq)
 * and stash it in the keeper on keeper_chan.
 * @retval 0 stashed under ticket for *uid
 * @retval ENOENT no such held key (the socket was closed, the request is
 *         over, or the key was taken), or no key taker registered
 * @retval EINVAL, EBADF, EFBIG the file is not one the supervisor takes
 *         (ssa_key_intake_file_ok())
 * @retval EAGAIN the keeper cannot stash it now (no keeper, stash full)
 * @retval errno of the netlink exchange (ETIMEDOUT, EPERM...)
 */
int ssa_kernel_keys_take(uint64_t id, uint32_t seq, uint32_t index, int keeper_chan,
			 uint8_t ticket[SSA_KEEP_TICKET_LEN], uint32_t *uid);

/** In a worker just forked: close the supervisor's netlink socket. */
void ssa_kernel_keys_forget(void);

#endif
