/* SPDX-License-Identifier: MIT */
/**
 * @file kernel_chan.h
 * @brief ssad's side of the kernel front end (ssa.ko): the generic netlink
 *        channel, and handshakes run on sockets the kernel hands over,
 *        finished by installing the keys with kernel TLS.
 *
 * At start-up ssad looks for the "ssa" generic netlink family quietly; if
 * the module is not loaded nothing else happens (the userspace front end
 * works as before). If it is, ssad registers as the TLS service; the
 * kernel forgets the registration when ssad's netlink socket closes, so a
 * restarted ssad registers again.
 */
#ifndef SSAD_KERNEL_CHAN_H
#define SSAD_KERNEL_CHAN_H

#include <stdint.h>

#include "kernel_msg.h"

struct ssad;

/**
 * Probe the family and register; 0 also when the module is absent. Once
 * registered with a module that allows it (SSA_GENL_VERSION_UNPRIV), drop
 * CAP_NET_ADMIN: call it before any thread is started (capabilities.h).
 */
int ssa_kernel_start(struct ssad *d);
/** Close the channel (the kernel fails what is still pending). */
void ssa_kernel_stop(struct ssad *d);

/* Between kernel_chan.c and kernel_hs.c */
struct ssa_khs;
/** Start a handshake from an ACCEPT reply (takes the fds in m). */
void ssa_khs_start(struct ssad *d, const struct ssa_kmsg *m);
/** Report a result (DONE). results: NULL-terminated is not used; n given. */
int ssa_kernel_done(uint64_t id, uint32_t seq, int status, const char *reason,
		    const struct ssa_kopt *results, int n_results);
/** Answer a CHECK: may the caller set the last option? @retval 0 or errno;
 * reason filled on refusal. */
int ssa_khs_check(struct ssad *d, const struct ssa_kmsg *m, char *reason, size_t len);
/** Give up every handshake still running, without a word to the kernel
 * (it fails what is pending when the channel closes): each is freed now,
 * or, while a step of it is on a worker, when that step comes back. */
void ssa_khs_release_all(struct ssad *d);
/** Close every fd an ACCEPT reply carried. */
void ssa_kmsg_close_fds(const struct ssa_kmsg *m);

#endif
