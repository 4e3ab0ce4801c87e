/* SPDX-License-Identifier: MIT */
/**
 * @file caller_tcp.h
 * @brief A TCP socket an application made itself and sent with SOCKET.
 *
 * libssa makes the TCP socket of a new TLS socket in the application's own
 * process and sends it with the SOCKET request: the kernel then made it in
 * the network namespace, cgroup and security context the application is
 * in at socket() time, owned by its filesystem uid, exactly as its own
 * socket() would have. ssad needs no supervisor round trip to make it in
 * the caller's namespace with the caller's ids. What the application sends
 * is checked here before ssad uses it as a new socket's own.
 */
#ifndef SSAD_CALLER_TCP_H
#define SSAD_CALLER_TCP_H

#include <stdbool.h>
#include <sys/types.h>

/**
 * Check that fd is a fresh TCP socket of domain, made by uid: an
 * AF_INET/AF_INET6 stream socket of protocol TCP, neither bound, listening
 * nor connected, whose inode the kernel gave uid as owner (its creator's
 * filesystem uid), and say whether it is in another network namespace
 * than ssad's (SO_NETNS_COOKIE).
 * @retval 0 usable; *other_ns set
 * @retval EINVAL not such a socket (or not made by uid)
 * @retval ENOPROTOOPT the kernel cannot tell its namespace (before Linux
 *         5.14): the caller makes the socket as before
 */
int ssa_caller_tcp_check(int fd, int domain, uid_t uid, bool *other_ns);

#endif
