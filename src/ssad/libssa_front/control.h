/* SPDX-License-Identifier: MIT */
/**
 * @file control.h
 * @brief The control socket: front ends' requests in, replies out.
 */
#ifndef SSAD_CONTROL_H
#define SSAD_CONTROL_H

#include <stdbool.h>
#include <sys/socket.h>

#include "../event_loop.h"
#include "../../proto/wire_io.h"
#include "../engine/policy.h"
#include "requests.h"

struct ssad;
struct ssa_conn;

struct ssa_ctl_client {
	struct ssa_zombie zombie;
	struct ssad *d;
	struct ssa_watch w;
	struct ssa_ctl_client *prev, *next; /**< in d->clients */
	struct ssa_peer_id who;     /**< the process, identified at accept */
	struct ssa_user *user;      /**< counted in user->clients */
	bool throttled;             /**< not read: its user used her share of the loop */
	struct file_job *file_job;  /**< a file option being read: no other answer */
	struct ssa_conn *waiting;   /**< connect() in progress for this client */
	int req_fds[SSA_WIRE_MAX_FDS]; /**< descriptors of the request being handled */
	int n_req_fds;
	bool req_fd_conn;              /**< req_fds[0] is one of ssad's sockets'
					*   application end (ssa_conn_of_fd()) */
	struct ssa_wire_cred req_cred; /**< who sent the request being handled */
};

/**
 * Who sent the request being handled, from the kernel (SCM_CREDENTIALS,
 * SCM_PIDFD), identified now (see ssa_peer_identify_pid()). Without
 * credentials (they always come: SO_PASSCRED is set at accept) the
 * connection's identity stands, without an executable.
 * @retval 0 or ESRCH (the sender is gone); release with ssa_peer_id_release()
 */
int ssa_ctl_requester(struct ssa_ctl_client *cl, bool want_netns, struct ssa_peer_id *who);

/**
 * ssa_ctl_requester() with want_netns for a SOCKET request of domain
 * (AF_INET or AF_INET6), with the sender's TCP socket made in the same
 * request to the supervisor (ssa_peer_identify_socket()): who->tcp_fd if
 * who->has_tcp.
 * @retval 0 or ESRCH; release with ssa_peer_id_release()
 */
int ssa_ctl_requester_socket(struct ssa_ctl_client *cl, int domain, struct ssa_peer_id *who);

/**
 * Create, bind and listen on the control socket (mode 0666: any local user
 * may create TLS sockets; admin requests check credentials): done by the
 * supervisor, before the worker exists (supervisor/supervisor.h).
 * @retval 0 with *out the listener
 * @retval EADDRINUSE another ssad answers there
 * @retval EEXIST path is a file that is not a socket
 * @retval EPERM the directory may be written by others (not sticky), or is
 *         not root's
 * @retval ENAMETOOLONG path does not fit a unix socket address
 * @retval errno of socket(), bind(), listen() otherwise
 */
int ssa_ctl_bind(const char *path, int *out);

/**
 * Serve control connections accepted on fd (from ssa_ctl_bind(), path its
 * path), from the loop. @retval 0 or errno of epoll_ctl()
 */
int ssa_ctl_listen(struct ssad *d, const char *path, int fd);
void ssa_ctl_shutdown(struct ssad *d);
/** Drop every client (daemon exit). */
void ssa_ctl_free_clients(struct ssad *d);

/**
 * Send a reply to the request being handled, after closing the descriptors
 * the request brought. On failure the client is dropped.
 * @retval 0 sent
 * @retval ECONNRESET the client is gone already
 * @retval errno of ssa_wire_send() (the client is now dropped)
 */
int ssa_ctl_send(struct ssa_ctl_client *cl, uint16_t type, int status,
		 const void *payload, size_t len, int fd);

/** ssa_ctl_send() whose failure needs no more than dropping the client. */
void ssa_ctl_reply(struct ssa_ctl_client *cl, uint16_t type, int status,
		   const void *payload, size_t len, int fd);

/**
 * A pending answer (a connect's, a file option's) went out: read the
 * client's next request. With share, a client whose user has used her share
 * of the loop's time (max-request-ms-per-user) waits first.
 */
void ssa_ctl_read_again(struct ssa_ctl_client *cl, bool share);

#endif
