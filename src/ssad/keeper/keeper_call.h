/* SPDX-License-Identifier: MIT */
/* One request to the key keeper and its answer, over a channel (a
 * SOCK_SEQPACKET pair): what the worker's signing calls (engine/remote_key.c)
 * and the supervisor's key loads (supervisor/keeper_loader.c) both do. */
#ifndef SSA_KEEPER_CALL_H
#define SSA_KEEPER_CALL_H

#include <stdint.h>

#include "keeper_msg.h"

/**
 * Send request q on the channel (with descriptor fd when fd >= 0), then
 * wait up to timeout_ms for the reply with q's id; late replies to earlier
 * requests (that timed out) are skipped. buf (SSA_KEEP_MAX bytes) holds the
 * encoded request, which is wiped once sent, then the reply, which r points
 * into: the caller wipes it when done.
 * @retval 0 the reply is in r; r->status is the keeper's answer
 * @retval EPIPE the channel failed or was closed
 * @retval ETIMEDOUT no reply in time
 * @retval EBADMSG a reply that does not decode or answers another operation
 * @retval EINVAL/EMSGSIZE q cannot be encoded (ssa_keepmsg_encode)
 */
int ssa_keeper_call(int chan, const struct ssa_keepmsg *q, int fd, uint8_t *buf, int timeout_ms,
		    struct ssa_keepmsg *r);

#endif
