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

/** Drop the pool (after fork, in the child). */
void ssa_ctl_pool_reset(void);

#endif
