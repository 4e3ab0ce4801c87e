/* SPDX-License-Identifier: MIT */
/**
 * @file priv_io.h
 * @brief One record and at most one descriptor over a SOCK_SEQPACKET pair:
 *        the I/O under the worker's requests (priv_client.c), the
 *        supervisor's answers (priv_server.c) and its key loads
 *        (keeper_loader.c).
 */
#ifndef SSAD_PRIV_IO_H
#define SSAD_PRIV_IO_H

#include <stddef.h>
#include <sys/types.h>

/**
 * Send len bytes of buf as one record, with fd (SCM_RIGHTS) if fd >= 0.
 * Interrupted sends are retried.
 * @retval 0 sent whole
 * @retval EPIPE the peer is gone, or errno of sendmsg() otherwise
 */
int ssa_priv_send(int sock, const void *buf, size_t len, int fd);

/**
 * Receive one record into buf (at most len bytes) and its descriptors,
 * close-on-exec: the first max go to fds (*nfds of them), any more are
 * closed. flags as for recvmsg() (MSG_DONTWAIT). Interrupted receives are
 * retried.
 * @return the record's length, 0 at the peer's end, -1 with errno (EMSGSIZE:
 *         the record or its descriptors did not fit: what came is closed)
 */
ssize_t ssa_priv_recv(int sock, void *buf, size_t len, int *fds, size_t max, size_t *nfds,
		      int flags);

#endif
