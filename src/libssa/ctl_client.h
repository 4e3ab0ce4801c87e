/* SPDX-License-Identifier: MIT */
/**
 * @file ctl_client.h
 * @brief libssa's side of the control protocol: a small pool of control
 *        connections to ssad and a blocking request/reply call.
 */
#ifndef LIBSSA_CTL_CLIENT_H
#define LIBSSA_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/wire.h"

struct ssa_reply {
	int status;          /**< 0 or the errno ssad answered */
	uint8_t *data;       /**< payload (points into buf) */
	size_t len;
	int fd;              /**< descriptor passed with the reply, or -1 */
	uint8_t buf[];       /**< storage, SSA_WIRE_MAX_REPLY bytes */
};

/** Allocate a reply able to hold the largest reply. */
struct ssa_reply *ssa_reply_new(void);
void ssa_reply_free(struct ssa_reply *r);

/**
 * Send a request (with fd if >= 0) and wait for its reply.
 * @retval 0 a reply is in rep (whose status may be an errno)
 * @retval EPROTONOSUPPORT ssad cannot be reached (not running)
 * @retval ECONNABORTED ssad went away or answered nonsense
 */
int ssa_call(uint16_t type, const void *req, size_t len, int fd, struct ssa_reply *rep);

/** ssa_call() with several descriptors (the socket first). */
int ssa_call_fds(uint16_t type, const void *req, size_t len, const int *fds, int nfds,
		 struct ssa_reply *rep);

/**
 * Hand the key file open on keyfd to ssad's key intake (proto/wire.h), so
 * that it reaches the key keeper without passing through the worker.
 * @retval 0 ticket holds the ticket to send with SETOPT, and *conn the
 *         intake connection, to close once SETOPT is answered
 * @retval ENOENT no intake answers (an ssad without one: nothing at the
 *         path, or nobody listening): send the descriptor with SETOPT as
 *         before
 * @retval EPERM the intake is not root's (nor this user's)
 * @retval errno of socket() or connect() otherwise (EMFILE, EAGAIN, ...)
 * @retval ECONNABORTED the intake hung up or answered nonsense
 * @retval the intake's errno: ENOBUFS (this user has too many key files
 *         in flight), EINVAL, EBADF, EFBIG (not a readable regular file of
 *         at most 1 MiB), EAGAIN (no key keeper at the moment), ENOSPC
 */
int ssa_key_intake(int keyfd, uint8_t ticket[SSA_KEY_TICKET_LEN], int *conn);

/** Before fork: hold the pool's lock, so that the child's list of control
 *  connections is whole. */
void ssa_ctl_fork_prepare(void);

/** After fork, in the parent: release it. */
void ssa_ctl_fork_parent(void);

/** After fork, in the child: close its copies of every control connection
 *  (pooled, or in another thread's call) and release the lock. */
void ssa_ctl_pool_reset(void);

#endif
