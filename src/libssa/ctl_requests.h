/* SPDX-License-Identifier: MIT */
/**
 * @file ctl_requests.h
 * @brief The control requests libssa sends on behalf of a TLS socket's
 *        calls: each built, sent (ctl_client.h) and its reply read, with
 *        what the reply says recorded in the descriptor table (fd_table.h).
 *
 * Functions returning int follow the system call convention (0 or -1 with
 * errno) unless they say they return an errno.
 */
#ifndef LIBSSA_CTL_REQUESTS_H
#define LIBSSA_CTL_REQUESTS_H

#include <sys/socket.h>

#include "fd_table.h"

/**
 * SOCKET: a new TLS socket of domain (AF_INET, AF_INET6) and type
 * (SOCK_STREAM with SOCK_NONBLOCK, SOCK_CLOEXEC), recorded in the table.
 * @return its descriptor, or -1 with errno: EPROTONOSUPPORT when ssad
 *         cannot be reached, ssad's answer, or what setting it up failed with
 */
int ssa_req_socket(int domain, int type);

/**
 * CONNECT fd (entry info) to sa of alen bytes (checked), blocking or not as
 * the descriptor is; a blocking connect may end with the TCP socket itself
 * in place of fd (kernel TLS). info is updated and recorded.
 * @return 0, or -1 with errno (EINPROGRESS for a non-blocking connect)
 */
int ssa_req_connect(int fd, struct ssa_fd_info *info, const struct sockaddr *sa, socklen_t alen);

/**
 * SETOPT: an option acting on the TLS socket or its network socket, in
 * ssad. Options naming files (certificate chain, key, trust anchors) are
 * opened here, with the caller's credentials, and passed open.
 * TLS_REMOTE_HOSTNAME on a new socket is checked here as ssad checks it
 * (EINVAL, EFAULT) and held for the CONNECT: no round trip (issue 15).
 * @return 0, or -1 with errno
 */
int ssa_req_setopt(int fd, int level, int name, const void *val, socklen_t len);

/**
 * GETOPT: an option of the TLS socket or its network socket, from ssad (a
 * TLS_ERROR found by libssa itself first).
 * @return 0, or -1 with errno (ERANGE with *len the size needed)
 */
int ssa_req_getopt(int fd, int level, int name, void *val, socklen_t *len);

/**
 * Send what is held for fd (a TLS_REMOTE_HOSTNAME set before connect())
 * now, as its own SETOPT: before a TLS-level SETOPT, a GETOPT, BIND or
 * LISTEN, a dup(), a fork(), a close(). Errors are not reported (the value
 * was checked when set).
 */
void ssa_req_flush(int fd);

/** ssa_req_flush() every descriptor holding something (before fork()). */
void ssa_req_flush_all(void);

/**
 * BIND fd to sa of alen bytes (checked); info->local receives the bound
 * address.
 * @retval 0 or an errno (ECONNABORTED when ssad is gone or answered nonsense)
 */
int ssa_req_bind(int fd, const struct sockaddr *sa, socklen_t alen, struct ssa_fd_info *info);

/**
 * LISTEN on fd with backlog; info->local receives the local address.
 * @retval 0 or an errno (ECONNABORTED when ssad is gone or answered nonsense)
 */
int ssa_req_listen(int fd, int backlog, struct ssa_fd_info *info);

#endif
