/* SPDX-License-Identifier: MIT */
/* Decoding and answering each kind of control request. Every payload is
 * read through the bounds-checked ssa_rbuf and must be consumed exactly. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../proto/wire.h"
#include "conn.h"
#include "control.h"
#include "daemon.h"
#include "registry.h"
#include "sockopt.h"

static void req_socket(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	int32_t domain = ssa_get_i32(r), type = ssa_get_i32(r);
	struct ssa_conn *c;
	int err, app_fd;
	uint8_t out[8];
	struct ssa_wbuf wb;

	if (!ssa_rbuf_done(r) || fd >= 0) {
		ssa_ctl_reply(cl, SSA_MSG_SOCKET, EINVAL, NULL, 0, -1);
		return;
	}
	if (type != SOCK_STREAM) {
		ssa_ctl_reply(cl, SSA_MSG_SOCKET, EPROTONOSUPPORT, NULL, 0, -1);
		return;
	}
	c = ssa_conn_new(cl->d, domain, cl->cred.pid, cl->cred.uid, &app_fd, &err);
	if (!c) {
		ssa_ctl_reply(cl, SSA_MSG_SOCKET, err, NULL, 0, -1);
		return;
	}
	ssa_wbuf_init(&wb, out, sizeof out);
	ssa_put_u64(&wb, c->id);
	ssa_ctl_reply(cl, SSA_MSG_SOCKET, 0, out, wb.len, app_fd);
	/* ssad never keeps the application's end: its close must reach us. */
	close(app_fd);
}

/* The connection a request names by its descriptor, or NULL after replying. */
static struct ssa_conn *conn_arg(struct ssa_ctl_client *cl, uint16_t type, int fd)
{
	struct ssa_conn *c;
	int err;

	if (fd < 0) {
		ssa_ctl_reply(cl, type, EBADF, NULL, 0, -1);
		return NULL;
	}
	c = ssa_conn_of_fd(fd, &err);
	if (!c) {
		cl->d->stats.bad_requests++;
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
	struct ssa_conn *c;

	if (!ssa_rbuf_done(r)) {
		ssa_ctl_reply(cl, SSA_MSG_SETOPT, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_SETOPT, fd);
	if (c) {
		int rc;

		c->error[0] = '\0';
		rc = ssa_sockopt_set(c, level, name, val, n, files, nfiles);
		ssa_ctl_reply(cl, SSA_MSG_SETOPT, rc, NULL, 0, -1);
	}
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
	c = conn_arg(cl, SSA_MSG_GETOPT, fd);
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

static void req_connect(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct ssa_conn *c;
	int rc;

	ssa_get_addr(r, &ss, &len);
	if (!ssa_rbuf_done(r) || len == 0) {
		ssa_ctl_reply(cl, SSA_MSG_CONNECT, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_CONNECT, fd);
	if (!c)
		return;
	rc = ssa_conn_connect(c, (struct sockaddr *)&ss, len, cl);
	if (rc) {
		ssa_ctl_reply(cl, SSA_MSG_CONNECT, rc, NULL, 0, -1);
		return;
	}
	/* The reply comes when the handshake ends (ssa_ctl_connect_done). */
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
	c = conn_arg(cl, SSA_MSG_BIND, fd);
	if (c)
		reply_local(cl, SSA_MSG_BIND, c, ssa_conn_bind(c, (struct sockaddr *)&ss, len,
							       cl->cred.uid));
}

static void req_listen(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	int32_t backlog = ssa_get_i32(r);
	struct ssa_conn *c;

	if (!ssa_rbuf_done(r)) {
		ssa_ctl_reply(cl, SSA_MSG_LISTEN, EINVAL, NULL, 0, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_LISTEN, fd);
	if (c) {
		c->error[0] = '\0';
		reply_local(cl, SSA_MSG_LISTEN, c, ssa_conn_listen(c, backlog));
	}
}

static void req_info(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	uint8_t out[20 + 2 * (sizeof(struct sockaddr_storage) + 4)];
	struct ssa_wbuf wb;
	struct ssa_sock_key key;
	struct ssa_conn *c;
	int err;

	if (!ssa_rbuf_done(r)) {
		ssa_ctl_reply(cl, SSA_MSG_INFO, EINVAL, NULL, 0, -1);
		return;
	}
	/* A socket whose connection broke and was released: only its error. */
	if (fd >= 0 && ssa_sock_key_of(fd, &key) == 0 && !ssa_registry_find(&key) &&
	    (err = ssa_registry_buried(&key)) != 0) {
		ssa_ctl_reply(cl, SSA_MSG_INFO, ENOTCONN, &err, sizeof err, -1);
		return;
	}
	c = conn_arg(cl, SSA_MSG_INFO, fd);
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

static void req_status(struct ssa_ctl_client *cl, struct ssa_rbuf *r, int fd)
{
	struct ssad *d = cl->d;
	char out[1024];
	int n;

	if (!ssa_rbuf_done(r) || fd >= 0) {
		ssa_ctl_reply(cl, SSA_MSG_STATUS, EINVAL, NULL, 0, -1);
		return;
	}
	n = snprintf(out, sizeof out,
		     "{\"version\":\"%s\",\"pid\":%d,\"uptime_s\":%llu,"
		     "\"connections\":%llu,\"control_clients\":%llu,\"sockets_created\":%llu,"
		     "\"handshakes_ok\":%llu,\"handshakes_failed\":%llu,\"bad_requests\":%llu}",
		     SSA_VERSION, (int)getpid(),
		     (unsigned long long)((ssa_now_ms() - d->started_ms) / 1000),
		     (unsigned long long)d->stats.conns_live,
		     (unsigned long long)d->stats.clients_live,
		     (unsigned long long)d->stats.sockets_created,
		     (unsigned long long)d->stats.handshakes_ok,
		     (unsigned long long)d->stats.handshakes_failed,
		     (unsigned long long)d->stats.bad_requests);
	ssa_ctl_reply(cl, SSA_MSG_STATUS, 0, out, (size_t)n + 1, -1);
}

void ssa_handle_request(struct ssa_ctl_client *cl, uint16_t type,
			const uint8_t *payload, size_t len, const int *fds, int nfds)
{
	struct ssa_rbuf r;
	int fd = nfds ? fds[0] : -1;

	ssa_rbuf_init(&r, payload, len);
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
	case SSA_MSG_STATUS:
		req_status(cl, &r, fd);
		break;
	default:
		cl->d->stats.bad_requests++;
		ssa_ctl_reply(cl, SSA_MSG_ERROR, EINVAL, NULL, 0, -1);
		break;
	}
}
