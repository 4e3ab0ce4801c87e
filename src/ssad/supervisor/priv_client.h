/* SPDX-License-Identifier: MIT */
/**
 * @file priv_client.h
 * @brief The worker's side of its privileged requests (priv_msg.h): each
 *        call is one round trip to the supervisor, which does the system
 *        call the worker may not. Thread-safe (one request at a time).
 *
 * Before ssa_priv_client_init() (a process with no supervisor) every call
 * does the operation itself (caller_ops.h), with its own privileges.
 */
#ifndef SSAD_PRIV_CLIENT_H
#define SSAD_PRIV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../engine/proc_links.h"
#include "priv_msg.h"

/**
 * From now on ask the supervisor (pid supervisor) on chan, this process's
 * end of the request pair; caller identification's /proc reads go there
 * too (ssa_proc_links_remote()).
 */
void ssa_priv_client_init(int chan, pid_t supervisor);

/** The requests sent to the supervisor so far, by op (enum ssa_priv_op). */
void ssa_priv_counts(uint64_t out[SSA_PRIV_OP_MAX + 1]);

/** Whether requests go to a supervisor. */
bool ssa_priv_active(void);

/** This process's end of the request pair, or -1 (to watch for EPOLLHUP:
 *  the supervisor is gone). */
int ssa_priv_chan(void);

/**
 * A caller's links (see ssa_proc_links_read()), read by the supervisor.
 * With want_netns and sock_domain, the supervisor also makes the caller's
 * TCP socket in the same round trip (LINKS_SOCKET): l->sock_fd, and no
 * namespace descriptor; or, if it could not, l->sock_errno and the
 * namespace's descriptor as a LINKS answer has it.
 * @retval 0 or EIO (no answer: the supervisor is gone)
 */
int ssa_priv_links(struct ssa_proc_links *l);

/**
 * A caller's TCP socket (ssa_caller_socket()): the same errnos, or EIO.
 */
int ssa_priv_socket(int netns_fd, uid_t uid, gid_t gid, int domain, int *out);

/**
 * Accept on lfd, owned by uid/gid (ssa_caller_accept()): the same errnos,
 * or EIO.
 */
int ssa_priv_accept(int lfd, uid_t uid, gid_t gid, struct sockaddr_storage *sa,
		    socklen_t *sl, int *out);

/**
 * bind() fd to sa with the supervisor's CAP_NET_BIND_SERVICE (a port below
 * ip_unprivileged_port_start, for a caller that may bind it).
 * @retval 0, errno of bind(), ENOTSOCK (not a TCP socket) or EIO
 */
int ssa_priv_bind(int fd, const struct sockaddr *sa, socklen_t len);

/** Open a file the configuration names (engine/cfg_files.h). @retval 0 or errno */
int ssa_priv_open(const char *path, int *fd);

/**
 * Have the supervisor load the configured private key at path into the
 * keeper: *key_id and its public key (der, *der_len bytes of at most
 * *der_len). @retval 0 or errno (EACCES: not a configured key)
 */
int ssa_priv_loadkey(const char *path, uint32_t *key_id, uint8_t *der, size_t *der_len);

/**
 * Have the supervisor take the key file ssa.ko holds for option index of
 * its request (id, seq) and stash it in the keeper, unread here: the
 * ticket to load it by (ssa_remote_key_load_ticket()) and the uid it is
 * stashed for (the socket owner's, from ssa.ko).
 * @retval 0 ticket and *uid set
 * @retval ENOENT no such held key (the socket was closed, or it was taken)
 * @retval EOPNOTSUPP no supervisor (ssad runs without privilege separation)
 * @retval EAGAIN the keeper cannot stash it now (full, or being replaced)
 * @retval EINVAL, EFBIG the file is not a regular non-empty file of at most 1 MiB
 * @retval EIO the supervisor's answer was lost
 */
int ssa_priv_kernel_key(uint64_t id, uint32_t seq, uint32_t index,
			uint8_t ticket[SSA_KEEP_TICKET_LEN], uint32_t *uid);

/** stat() a match-exe executable. @retval 0 or errno */
int ssa_priv_stat(const char *path, struct stat *st);

#endif
