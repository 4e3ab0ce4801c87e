/* SPDX-License-Identifier: MIT */
/**
 * @file caller_ops.h
 * @brief The privileged system calls made for a caller, in the supervisor
 *        (the worker has no capability and asks for them: priv_client.h).
 *
 * Each is what the caller could do itself, done for it: a TCP socket in its
 * network namespace owned by it, a connection accepted owned by its
 * listener's owner, a bind of a port below ip_unprivileged_port_start for a
 * caller the worker found allowed to (listener.c).
 */
#ifndef SSAD_CALLER_OPS_H
#define SSAD_CALLER_OPS_H

#include <sys/socket.h>
#include <sys/types.h>

/**
 * A non-blocking, close-on-exec TCP socket of domain, in the network
 * namespace netns_fd names (-1: ssad's own), owned by uid/gid (its
 * inode's owner, and so the socket's sk_uid). This thread enters the
 * namespace for the call only; it must be the process's only thread.
 * @retval 0 with *out the socket
 * @retval ENETUNREACH the namespace cannot be entered
 * @retval EPERM the ids cannot be taken (no CAP_SETUID or CAP_SETGID)
 * @retval errno of socket() otherwise
 */
int ssa_caller_socket(int netns_fd, uid_t uid, gid_t gid, int domain, int *out);

/**
 * accept4() on lfd, the new socket owned by uid/gid (sk_uid is the
 * accepting file's owner, as when the listener's owner accepts).
 * @retval 0 with *out the connection, its peer in sa (sl bytes)
 * @retval EPERM the ids cannot be taken
 * @retval errno of accept4() otherwise (EAGAIN: none waiting)
 */
int ssa_caller_accept(int lfd, uid_t uid, gid_t gid, struct sockaddr_storage *sa,
		      socklen_t *sl, int *out);

#endif
