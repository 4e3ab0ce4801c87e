/* SPDX-License-Identifier: MIT */
/**
 * @file ktls_sock.h
 * @brief Kernel-TLS sockets as the application sees them: the TCP socket
 *        itself, its TLS session keys in the kernel, emulated by libssa so
 *        that it reads and closes like any TLS socket (ktls_sock.c).
 */
#ifndef LIBSSA_KTLS_SOCK_H
#define LIBSSA_KTLS_SOCK_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fd_table.h"

/** Whether the environment lets ssad hand over kernel-TLS sockets
 * (SSA_KTLS=0 keeps the proxy path; ignored in setuid programs). */
bool ssa_ktls_wanted(void);

/**
 * Put the kernel-TLS socket nfd in place of fd (keeping fd's O_NONBLOCK and
 * FD_CLOEXEC) and record it in kernel-TLS mode; nfd is closed.
 * @retval 0 or errno
 */
int ssa_ktls_take(int fd, int nfd, struct ssa_fd_info *info);

/** Send close_notify (an alert record) on a kernel-TLS socket; waits for
 * room up to a second unless nonblock. errno is kept. */
void ssa_ktls_close_notify(int fd, bool nonblock);

/** Whether fd has SO_LINGER {1, 0}: the application asks for a reset, not
 * close_notify. */
bool ssa_ktls_linger0(int fd);

/**
 * A read on a kernel-TLS socket: application data only. Post-handshake
 * messages are dropped, close_notify is the end (0), any other alert or an
 * end without close_notify is ECONNRESET, a record that does not decrypt
 * EPROTO. umsg (recvmsg) receives the flags.
 * @return bytes read, 0 at the end, or -1 with errno set
 */
ssize_t ssa_ktls_read(int fd, struct ssa_fd_info *info, const struct iovec *iov, int cnt,
		      int flags, struct msghdr *umsg);

/** Whether fd is a kernel-TLS socket; its entry in *info. */
bool ssa_ktls_fd(int fd, struct ssa_fd_info *info);

#endif
