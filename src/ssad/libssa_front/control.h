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
 * Create, bind and listen on the control socket (mode 0666: any local user
 * may create TLS sockets; admin requests check credentials).
 * @retval 0 or errno
 */
int ssa_ctl_listen(struct ssad *d, const char *path);
void ssa_ctl_shutdown(struct ssad *d);
/** Drop every client (daemon exit). */
void ssa_ctl_free_clients(struct ssad *d);

/** Deliver the result of a connect to the client waiting for it. */
void ssa_ctl_connect_done(struct ssa_ctl_client *cl, struct ssa_conn *c);
/**
 * A successful connect whose TCP socket goes to the client (kernel TLS):
 * the reply carries fd and SSA_REPLY_KTLS.
 * @retval 0 sent; otherwise the client is gone (errno)
 */
int ssa_ctl_connect_done_fd(struct ssa_ctl_client *cl, struct ssa_conn *c, int fd);

/** The answer to a file option read off the loop (sockopt.h). */
void ssa_ctl_file_done(struct ssa_ctl_client *cl, int status);

/** Send a reply; on failure the client is dropped. */
void ssa_ctl_reply(struct ssa_ctl_client *cl, uint16_t type, int status,
		   const void *payload, size_t len, int fd);

/** Handle one validated request (requests.c). */
void ssa_handle_request(struct ssa_ctl_client *cl, uint16_t type,
			const uint8_t *payload, size_t len, const int *fds, int nfds);

#endif
