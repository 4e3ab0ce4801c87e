/* SPDX-License-Identifier: MIT */
/**
 * @file wire_io.h
 * @brief The control protocol's I/O: one message (header, payload and
 *        descriptors) sent or received on a control connection.
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET connection, one message per
 * datagram (wire.h). Encoding and decoding are the codec's (wire.h,
 * wire_codec.c); this part only moves messages and their ancillary data
 * (SCM_RIGHTS, SCM_CREDENTIALS, SCM_PIDFD) through the three system calls
 * declared at the end.
 */
#ifndef SSA_PROTO_WIRE_IO_H
#define SSA_PROTO_WIRE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "wire.h"

/**
 * Send one message with an optional descriptor (fd < 0 for none).
 * @retval 0 sent
 * @retval errno value of sendmsg (EPIPE, EAGAIN, ...) or EMSGSIZE
 */
int ssa_wire_send(int sock, uint16_t type, int32_t status, const void *payload,
		  size_t len, int fd);

/**
 * Receive one message. At most one descriptor is accepted; it is returned in
 * *fd (-1 if none) with close-on-exec set. Extra descriptors are closed.
 * The header is validated (magic, flags, type range, length).
 * @retval 0 a message in hdr, payload of hdr->len bytes in buf
 * @retval ECONNRESET the peer closed the connection
 * @retval EMSGSIZE the datagram was larger than cap (discarded)
 * @retval EINVAL bad header, or more descriptors than allowed
 * @retval EMFILE descriptors came but could not be installed (table full)
 * @retval EAGAIN nothing to read on a non-blocking socket
 */
int ssa_wire_recv(int sock, struct ssa_wire_hdr *hdr, void *buf, size_t cap,
		  int *fd);

/**
 * Receive one message carrying up to maxfds descriptors (returned in fds,
 * close-on-exec, *nfds of them). More than maxfds is EINVAL (all closed).
 * Other return values as ssa_wire_recv().
 */
int ssa_wire_recv_fds(int sock, struct ssa_wire_hdr *hdr, void *buf, size_t cap,
		      int *fds, int maxfds, int *nfds);

/**
 * Send one message with n descriptors (n <= SSA_WIRE_MAX_FDS).
 * @retval 0 or errno as ssa_wire_send()
 */
int ssa_wire_send_fds(int sock, uint16_t type, int32_t status, const void *payload,
		      size_t len, const int *fds, int n);

/**
 * A request as ssa_wire_send_fds(), with the sender's credentials
 * (SCM_CREDENTIALS: its pid and effective uid and gid, checked by the
 * kernel), so that ssad knows who sent each request.
 */
int ssa_wire_send_req(int sock, uint16_t type, const void *payload, size_t len,
		      const int *fds, int nfd);

/** Who sent a message, as the kernel says (SO_PASSCRED, SO_PASSPIDFD). */
struct ssa_wire_cred {
	bool has;    /**< SCM_CREDENTIALS came */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int pidfd;   /**< SCM_PIDFD (Linux 6.5), or -1; the caller closes it */
};

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#define SSA_SCM_PIDFD 0x04

/** ssa_wire_recv_fds() that also returns the sender's credentials
 * (cred may be NULL: they are discarded). */
int ssa_wire_recv_cred(int sock, struct ssa_wire_hdr *hdr, void *buf, size_t cap,
		       int *fds, int maxfds, int *nfds, struct ssa_wire_cred *cred);

/*
 * The three system calls wire_io.c makes. Every program that links
 * wire_io.c links exactly one implementation of them: the C library's
 * (src/proto/wire_io_libc.c: ssactl, tests), ssad's (src/ssad/
 * wire_io_ssad.c: the C library's, but what it closes is a caller's
 * descriptor, closed off the loop) or, inside libssa, the C
 * library's own calls found below libssa's interposed ones
 * (src/libssa/wire_io_real.c). The control I/O must never reach libssa's
 * socket calls: a control connection that hangs up would otherwise
 * re-enter the front end, one nested control call per level.
 */

/** sendmsg(2) as the C library does it. */
ssize_t ssa_io_sendmsg(int fd, const struct msghdr *msg, int flags);
/** recvmsg(2) as the C library does it. */
ssize_t ssa_io_recvmsg(int fd, struct msghdr *msg, int flags);
/** close(2) of a descriptor that came in a message (ssad: queued, see
 * src/ssad/caller_fds.h). */
int ssa_io_close(int fd);

#endif /* SSA_PROTO_WIRE_IO_H */
