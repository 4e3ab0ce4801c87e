/* SPDX-License-Identifier: MIT */
/* The requests on a TLS socket (SOCKET, SETOPT, GETOPT, CONNECT, BIND,
 * LISTEN, INFO), each decoded and answered here, its late answers too.
 * Every payload is read through the bounds-checked ssa_rbuf and must be
 * consumed exactly. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../proto/wire.h"
#include "conn.h"
#include "control.h"
#include "../daemon.h"
#include "../users.h"
#include "handoff.h"
#include "registry.h"
#include "../../../include/ssa/in_tls.h"
#include "sockopt.h"

/* Whether a SOCKET request of domain gets its TCP socket with the
 * identification: a domain ssad serves, and a sender known and under her
 * max-sockets-per-user (ssa_conn_new() refuses the rest, after an
 * identification without a socket, as before). */
static bool want_tcp(struct ssa_ctl_client *cl, int32_t domain)
{
	struct ssa_user *u;

	if ((domain != AF_INET && domain != AF_INET6) || !cl->req_cred.has)
		return false;
	u = ssa_user_of(cl->req_cred.uid);
	return u && ssa_user_socket_ok(cl->d, u);
}

static void req_socket(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	int32_t domain = ssa_get_i32(r), type = ssa_get_i32(r);
	struct ssa_conn *c;
	struct ssa_peer_id who;
	int err, app_fd;
	uint8_t out[16];
	struct ssa_wbuf wb;

	if (!ssa_rbuf_done(r) || fd >= 0) {
		ssa_ctl_reply(cl, SSA_MSG_SOCKET, EINVAL, NULL, 0, -1);
		return;
	}
	if (type != SOCK_STREAM) {
		ssa_ctl_reply(cl, SSA_MSG_SOCKET, EPROTONOSUPPORT, NULL, 0, -1);
		return;
	}
	/* The socket is its sender's: identity, profile, owner, namespace; and
	 * its TCP socket is made in the same supervisor round trip, if nothing
	 * known now refuses the socket (checked before anything is made). */
	if ((want_tcp(cl, domain) ? ssa_ctl_requester_socket(cl, domain, &who) :
				    ssa_ctl_requester(cl, true, &who)) != 0 ||
	    (who.own_netns && who.netns_fd < 0 && !who.has_tcp)) {
		/* Whoever sent the request is gone or is someone else now (it
		 * exited, or executed a setuid program after sending). */
		log_limited(SSA_LOG_INFO, cl->who.uid, 10, 5,
			    "socket refused: uid %u pid %d: its sender's identity cannot be "
			    "established now (it exited or changed its ids after sending)",
			    (unsigned)cl->who.uid, (int)cl->who.pid);
		ssa_peer_id_release(&who);
		ssa_ctl_reply(cl, SSA_MSG_SOCKET, ECONNABORTED, NULL, 0, -1);
		return;
	}
	c = ssa_conn_new(cl->d, domain, &who, &app_fd, &err);
	if (c && who.has_tcp) {
		who.has_tcp = false; /* the connection's now */
		who.tcp_fd = -1;
	}
	ssa_peer_id_release(&who);
	if (!c) {
		ssa_ctl_reply(cl, SSA_MSG_SOCKET, err, NULL, 0, -1);
		return;
	}
	ssa_wbuf_init(&wb, out, sizeof out);
	ssa_put_u64(&wb, c->id);
	ssa_put_u64(&wb, cl->d->instance);
	ssa_ctl_reply(cl, SSA_MSG_SOCKET, 0, out, wb.len, app_fd);
	/* ssad never keeps the application's end: its close must reach us. */
	close(app_fd);
}

/* Whether fd, a request's socket that names c (NULL: a tomb), may be closed
 * on the loop (control.c): an application end of ssad's own stream pairs,
 * whose queue holds only what ssad wrote there. Not when it holds accept
 * records (their TCP sockets, with the listener's linger, would be
 * released with it), nor a kernel-TLS connection's TCP socket. */
static bool own_stream_end(int fd, const struct ssa_conn *c)
{
	int dom = 0, unread = 0;
	socklen_t len = sizeof dom;

	if (c && c->ktls)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0 || dom != AF_UNIX)
		return false;
	if (c && c->role != SSA_ROLE_LISTENER)
		return true; /* plaintext only */
	return ioctl(fd, FIONREAD, &unread) == 0 && unread == 0;
}

/* A request about a released (failed or broken) socket: only its errors
 * remain. Returns true when it answered. */
static bool tomb_reply(struct ssa_ctl_client *cl, uint16_t type, int fd,
		       const struct ssa_rbuf *req)
{
	struct ssa_sock_key key;
	struct ssa_tomb *t;

	if (fd < 0 || ssa_sock_key_of(fd, &key) != 0 || !(t = ssa_registry_tomb(&key)))
		return false;
	if (cl->n_req_fds > 0 && cl->req_fds[0] == fd)
		cl->req_fd_conn = own_stream_end(fd, NULL);
	if (type == SSA_MSG_INFO) {
		/* The front end's end-of-stream check: the error is reported once
		 * (then reads see a plain end), as TCP reports a reset once. */
		int v = t->soerr_taken ? 0 : t->err;

		t->soerr_taken = true;
		ssa_ctl_reply(cl, type, ENOTCONN, &v, sizeof v, -1);
	} else if (type == SSA_MSG_GETOPT && req->len >= 8) {
		struct ssa_rbuf r = *req;
		int32_t level, name;
		int v = 0;

		r.off = 0;
		level = ssa_get_i32(&r);
		name = ssa_get_i32(&r);
		if (level == IPPROTO_TLS && name == TLS_ERROR) {
			ssa_ctl_reply(cl, type, 0, t->reason, strlen(t->reason) + 1, -1);
		} else if (level == SOL_SOCKET && name == SO_ERROR) {
			if (!t->soerr_taken)
				v = t->err;
			t->soerr_taken = true;
			ssa_ctl_reply(cl, type, 0, &v, sizeof v, -1);
		} else {
			ssa_ctl_reply(cl, type, ENOTCONN, NULL, 0, -1);
		}
	} else if (type == SSA_MSG_CONNECT) {
		ssa_ctl_reply(cl, type, ECONNABORTED, NULL, 0, -1);
	} else {
		ssa_ctl_reply(cl, type, ENOTCONN, NULL, 0, -1);
	}
	return true;
}

/* The connection a request names by its descriptor, or NULL after replying. */
static struct ssa_conn *conn_arg(struct ssa_ctl_client *cl, uint16_t type, int fd,
				 const struct ssa_rbuf *req)
{
	struct ssa_conn *c;
	int err;

	if (fd < 0) {
		ssa_ctl_reply(cl, type, EBADF, NULL, 0, -1);
		return NULL;
	}
	c = ssa_conn_of_fd(fd, &err);
	/* One of ssad's own stream ends: released at once (control.c). */
	if (c && cl->n_req_fds > 0 && cl->req_fds[0] == fd)
		cl->req_fd_conn = own_stream_end(fd, c);
	if (!c && tomb_reply(cl, type, fd, req))
		return NULL;
	if (!c) {
		/* An INFO about a released socket is the front end's routine
		 * end-of-stream check, not a bad request. */
		if (type != SSA_MSG_INFO)
			cl->d->stats.bad_requests++;
		if (type == SSA_MSG_INFO && err == EBADF)
			/* Unknown here: closed cleanly, or made by an earlier ssad. */
			ssa_ctl_reply(cl, type, err, &cl->d->instance, sizeof cl->d->instance, -1);
		else
			ssa_ctl_reply(cl, type, err, NULL, 0, -1);
	}
	return c;
}

static void req_setopt(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd,
		       const int *files, int nfiles)
{
	int32_t level = ssa_get_i32(r), name = ssa_get_i32(r);
	size_t n;
	const void *val = ssa_get_blob(r, SSA_WIRE_MAX_OPTVAL, &n);
	/* a key intake ticket for TLS_PRIVATE_KEY follows the value */
	const uint8_t *ticket = r->off + SSA_KEY_TICKET_LEN == r->len ?
					ssa_get_bytes(r, SSA_KEY_TICKET_LEN) : NULL;
	struct ssa_conn *c;

	if (!ssa_rbuf_done(r) ||
	    (ticket && (level != IPPROTO_TLS || name != TLS_PRIVATE_KEY || nfiles != 0))) {
		ssa_ctl_reply(cl, SSA_MSG_SETOPT, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_SETOPT, fd, r);
	if (c) {
		int rc;

		c->opts.error[0] = '\0';
		if (level == IPPROTO_TLS && (nfiles > 0 || ticket) &&
		    (name == TLS_CERTIFICATE_CHAIN || name == TLS_PRIVATE_KEY ||
		     name == TLS_TRUSTED_PEER_CERTIFICATES)) {
			/* Files are read off the loop; the answer comes then. */
			rc = ssa_sockopt_set_file_async(c, cl, name, val, n, files, nfiles, ticket,
							cl->req_cred.has ? cl->req_cred.uid :
									   c->uid);
			if (rc == SSA_SOCKOPT_PENDING)
				return;
		} else {
			rc = ssa_sockopt_set(c, level, name, val, n, files, nfiles);
		}
		ssa_ctl_reply(cl, SSA_MSG_SETOPT, rc, NULL, 0, -1);
	}
}

void ssa_requests_client_gone(struct ssa_ctl_client *cl)
{
	if (cl->waiting) {
		ssa_conn_forget_done(cl->waiting);
		cl->waiting = NULL;
	}
	if (cl->file_job) {
		ssa_sockopt_forget_client(cl->file_job);
		cl->file_job = NULL;
	}
}

void ssa_ctl_file_done(struct ssa_ctl_client *cl, int status)
{
	cl->file_job = NULL;
	ssa_ctl_reply(cl, SSA_MSG_SETOPT, status, NULL, 0, -1);
	ssa_ctl_read_again(cl, true);
}

static void req_getopt(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	int32_t level = ssa_get_i32(r), name = ssa_get_i32(r);
	uint32_t max = ssa_get_u32(r);
	static uint8_t out[SSA_WIRE_MAX_REPLY - SSA_WIRE_HDR_LEN];
	struct ssa_conn *c;
	size_t len = 0;
	int rc;

	if (!ssa_rbuf_done(r)) {
		ssa_ctl_reply(cl, SSA_MSG_GETOPT, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_GETOPT, fd, r);
	if (!c)
		return;
	if (max > sizeof out)
		max = sizeof out;
	rc = ssa_sockopt_get(c, level, name, out, max, &len);
	if (rc == ERANGE) {
		uint32_t need = (uint32_t)len;

		ssa_ctl_reply(cl, SSA_MSG_GETOPT, ERANGE, &need, sizeof need, -1);
		return;
	}
	ssa_ctl_reply(cl, SSA_MSG_GETOPT, rc, out, rc ? 0 : len, -1);
}

/**
 * The answer to a blocking connect whose TCP socket goes to the client
 * (kernel TLS): the addresses, SSA_REPLY_KTLS, and fd as the descriptor.
 * @retval 0 sent; otherwise the client is gone (errno)
 */
static int reply_connect_ktls(struct ssa_ctl_client *cl, struct ssa_conn *c, int fd)
{
	uint8_t out[2 * (sizeof(struct sockaddr_storage) + 4) + 4];
	struct ssa_wbuf wb;
	int rc;

	ssa_wbuf_init(&wb, out, sizeof out);
	ssa_put_addr(&wb, (struct sockaddr *)&c->local, c->local_len);
	ssa_put_addr(&wb, (struct sockaddr *)&c->peer, c->peer_len);
	ssa_put_u32(&wb, SSA_REPLY_KTLS);
	rc = ssa_ctl_send(cl, SSA_MSG_CONNECT, 0, out, wb.len, fd);
	if (rc)
		return rc;
	ssa_ctl_read_again(cl, false);
	return 0;
}

/** The options a results blob carries (wire.h, SSA_REPLY_RESULTS): their
 * answers cannot change while the socket lives (renegotiation is off, and
 * TLS_REMOTE_HOSTNAME and TLS_ALPN cannot be set once connected). */
static const int32_t result_names[] = {
	TLS_RESUMED_SESSION, TLS_CHOSEN_VERSION, TLS_CHOSEN_CIPHER, TLS_ALPN, TLS_HOSTNAME,
};

/**
 * Append the results blob of an established c to w: each option's value
 * exactly as a GETOPT would answer it; an option whose GETOPT fails, or
 * that does not fit in SSA_WIRE_RESULTS_MAX, is left out (the front end
 * then asks for it).
 */
static void put_results(struct ssa_wbuf *w, struct ssa_conn *c)
{
	uint8_t blk[SSA_WIRE_RESULTS_MAX], val[SSA_WIRE_HOSTNAME_MAX + 2];
	struct ssa_wbuf rb;

	ssa_wbuf_init(&rb, blk, sizeof blk);
	for (size_t i = 0; i < sizeof result_names / sizeof result_names[0]; i++) {
		size_t n = 0, at = rb.len;

		if (ssa_sockopt_get(c, IPPROTO_TLS, result_names[i], val, sizeof val, &n) != 0)
			continue;
		ssa_put_i32(&rb, result_names[i]);
		ssa_put_blob(&rb, val, n);
		if (rb.err) {
			rb.err = false; /* this one does not fit: the others may */
			rb.len = at;
		}
	}
	ssa_put_blob(w, blk, rb.len);
}

/**
 * The end of a blocking connect (ssa_conn_done_fn; arg is the waiting
 * client): the local and peer addresses (and, when asked, SSA_REPLY_RESULTS
 * and the results), or the error it ended with.
 * @retval 0 answered; otherwise (kernel TLS only) the client is gone (errno)
 */
static int connect_done(struct ssa_conn *c, void *arg, int fd)
{
	struct ssa_ctl_client *cl = arg;
	uint8_t out[2 * (sizeof(struct sockaddr_storage) + 4) + 8 + SSA_WIRE_RESULTS_MAX];
	struct ssa_wbuf wb;

	cl->waiting = NULL;
	if (fd >= 0)
		return reply_connect_ktls(cl, c, fd);
	ssa_wbuf_init(&wb, out, sizeof out);
	if (c->state == SSA_STATE_ESTABLISHED) {
		ssa_put_addr(&wb, (struct sockaddr *)&c->local, c->local_len);
		ssa_put_addr(&wb, (struct sockaddr *)&c->peer, c->peer_len);
		if (c->want_results) {
			ssa_put_u32(&wb, SSA_REPLY_RESULTS);
			put_results(&wb, c);
		}
	}
	ssa_ctl_reply(cl, SSA_MSG_CONNECT, c->state == SSA_STATE_ESTABLISHED ? 0 : c->error_errno,
		      out, wb.len, -1);
	ssa_ctl_read_again(cl, false);
	return 0;
}

/**
 * The options a CONNECT carries (SSA_CONNECT_HOSTNAME, SSA_CONNECT_NODELAY),
 * set on c as their SETOPT would have set them, under the socket's own
 * policy.
 * @retval 0, or the errno the SETOPT would have answered
 */
static int connect_options(struct ssa_conn *c, const void *host, size_t host_len,
			   uint32_t flags)
{
	int rc;

	if (host || (flags & SSA_CONNECT_NODELAY))
		c->opts.error[0] = '\0'; /* as every SETOPT */
	/* TCP_NODELAY first: no policy refuses it, and a refused host name
	 * must not lose it (libssa holds neither any more). */
	if (flags & SSA_CONNECT_NODELAY) {
		int v = (flags & SSA_CONNECT_NODELAY_ON) != 0;

		if ((rc = ssa_sockopt_set(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v, NULL, 0)) != 0)
			return rc;
	}
	if (host)
		return ssa_sockopt_set(c, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host, host_len, NULL, 0);
	return 0;
}

static void req_connect(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct ssa_conn *c;
	const void *host = NULL;
	size_t host_len = 0;
	int rc;

	uint32_t flags;

	ssa_get_addr(r, &ss, &len);
	flags = r->len - r->off >= 4 ? ssa_get_u32(r) : 0;
	if (flags & SSA_CONNECT_HOSTNAME)
		host = ssa_get_blob(r, SSA_WIRE_MAX_OPTVAL, &host_len);
	if (!ssa_rbuf_done(r) || len == 0 ||
	    (flags & ~(SSA_CONNECT_NONBLOCK | SSA_CONNECT_KTLS_OK | SSA_CONNECT_HOSTNAME |
		       SSA_CONNECT_RESULTS | SSA_CONNECT_NODELAY | SSA_CONNECT_NODELAY_ON)) ||
	    ((flags & SSA_CONNECT_NODELAY_ON) && !(flags & SSA_CONNECT_NODELAY))) {
		ssa_ctl_reply(cl, SSA_MSG_CONNECT, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_CONNECT, fd, r);
	if (!c)
		return;
	if ((rc = connect_options(c, host, host_len, flags)) != 0) {
		ssa_ctl_reply(cl, SSA_MSG_CONNECT, rc, NULL, 0, -1);
		return;
	}
	rc = ssa_conn_connect(c, (struct sockaddr *)&ss, len,
			      flags & SSA_CONNECT_NONBLOCK ? NULL : connect_done, cl, fd);
	if (rc) {
		ssa_ctl_reply(cl, SSA_MSG_CONNECT, rc, NULL, 0, -1);
		return;
	}
	/* A blocking connect may end with the TCP socket itself (handoff.h). */
	c->ktls_want = (flags & SSA_CONNECT_KTLS_OK) && !(flags & SSA_CONNECT_NONBLOCK) &&
		       ssa_ktls_available();
	c->want_results = (flags & SSA_CONNECT_RESULTS) != 0;
	if (flags & SSA_CONNECT_NONBLOCK) {
		/* The end shows through the socket's readiness (the gate). */
		ssa_ctl_reply(cl, SSA_MSG_CONNECT, EINPROGRESS, NULL, 0, -1);
		return;
	}
	/* The reply comes when the handshake ends (connect_done). */
	cl->waiting = c;
}

static void reply_local(struct ssa_ctl_client *cl, uint16_t type, struct ssa_conn *c, int rc)
{
	uint8_t out[sizeof(struct sockaddr_storage) + 4];
	struct ssa_wbuf wb;

	ssa_wbuf_init(&wb, out, sizeof out);
	if (!rc)
		ssa_put_addr(&wb, (struct sockaddr *)&c->local, c->local_len);
	ssa_ctl_reply(cl, type, rc, out, wb.len, -1);
}

static void req_bind(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct ssa_conn *c;

	ssa_get_addr(r, &ss, &len);
	if (!ssa_rbuf_done(r) || len == 0) {
		ssa_ctl_reply(cl, SSA_MSG_BIND, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_BIND, fd, r);
	if (c) {
		struct ssa_peer_id who;
		int rc = ssa_ctl_requester(cl, false, &who);

		/* A privileged port: the binder's privileges, as for TCP. */
		reply_local(cl, SSA_MSG_BIND, c, ssa_conn_bind(c, (struct sockaddr *)&ss, len,
							       rc ? NULL : &who));
		ssa_peer_id_release(&who);
	}
}

static void req_listen(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	int32_t backlog = ssa_get_i32(r);
	uint32_t flags = r->len - r->off == 4 ? ssa_get_u32(r) : 0;
	struct ssa_conn *c;

	if (!ssa_rbuf_done(r) || (flags & ~SSA_LISTEN_KTLS_OK)) {
		ssa_ctl_reply(cl, SSA_MSG_LISTEN, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_LISTEN, fd, r);
	if (c) {
		c->opts.error[0] = '\0';
		/* Accepted connections may go out as kernel-TLS sockets (handoff.h). */
		if (c->role == SSA_ROLE_NEW)
			c->ktls_want = (flags & SSA_LISTEN_KTLS_OK) && ssa_ktls_available();
		reply_local(cl, SSA_MSG_LISTEN, c, ssa_conn_listen(c, backlog));
	}
}

static void req_info(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	uint8_t out[20 + 2 * (sizeof(struct sockaddr_storage) + 4)];
	struct ssa_wbuf wb;
	struct ssa_conn *c;

	if (!ssa_rbuf_done(r)) {
		ssa_ctl_reply(cl, SSA_MSG_INFO, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_INFO, fd, r);
	if (!c)
		return;
	ssa_wbuf_init(&wb, out, sizeof out);
	ssa_put_u64(&wb, c->id);
	ssa_put_i32(&wb, c->domain);
	ssa_put_i32(&wb, (int32_t)c->state);
	ssa_put_i32(&wb, c->state == SSA_STATE_ESTABLISHED && !c->net_dead ? 0 : c->error_errno);
	ssa_put_addr(&wb, (struct sockaddr *)&c->local, c->local_len);
	ssa_put_addr(&wb, (struct sockaddr *)&c->peer, c->peer_len);
	ssa_ctl_reply(cl, SSA_MSG_INFO, 0, out, wb.len, -1);
}

/**
 * Count one socket request (one control round trip of an application's
 * socket call) by type; admin and unknown types are not counted.
 */
static void ssa_count_socket_request(struct ssad *d, uint16_t type)
{
	switch (type) {
	case SSA_MSG_SOCKET:
	case SSA_MSG_SETOPT:
	case SSA_MSG_GETOPT:
	case SSA_MSG_CONNECT:
	case SSA_MSG_INFO:
	case SSA_MSG_BIND:
	case SSA_MSG_LISTEN:
		d->stats.ctl_requests[type]++;
		break;
	default:
		break;
	}
}

void ssa_handle_request(struct ssa_ctl_client *cl, uint16_t type,
			const uint8_t *payload, size_t len, const int *fds, int nfds)
{
	struct ssa_rbuf r;
	int fd = nfds ? fds[0] : -1;

	ssa_rbuf_init(&r, payload, len);
	ssa_count_socket_request(cl->d, type);
	/* Only SETOPT carries more than the socket itself. */
	if (nfds > 1 && type != SSA_MSG_SETOPT) {
		cl->d->stats.bad_requests++;
		ssa_ctl_reply(cl, type, EINVAL, NULL, 0, -1);
		return;
	}
	switch (type) {
	case SSA_MSG_SOCKET:
		req_socket(cl, &r, fd);
		break;
	case SSA_MSG_SETOPT:
		req_setopt(cl, &r, fd, fds + (nfds > 0), nfds > 0 ? nfds - 1 : 0);
		break;
	case SSA_MSG_BIND:
		req_bind(cl, &r, fd);
		break;
	case SSA_MSG_LISTEN:
		req_listen(cl, &r, fd);
		break;
	case SSA_MSG_GETOPT:
		req_getopt(cl, &r, fd);
		break;
	case SSA_MSG_CONNECT:
		req_connect(cl, &r, fd);
		break;
	case SSA_MSG_INFO:
		req_info(cl, &r, fd);
		break;
	default:
		if (ssa_admin_request(cl, type, &r, fd))
			break;
		cl->d->stats.bad_requests++;
		ssa_ctl_reply(cl, SSA_MSG_ERROR, EINVAL, NULL, 0, -1);
		break;
	}
}
