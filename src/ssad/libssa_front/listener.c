/* SPDX-License-Identifier: MIT */
/*
 * Server side: bind, listen, accepting TCP connections, their handshakes,
 * and handing finished connections to the application.
 *
 * The application's listening socket is its end of a stream pair. For
 * every connection whose handshake succeeded, ssad writes one accept
 * record carrying the connection's socket (SCM_RIGHTS) on that stream, so
 * the listening descriptor is readable exactly when accept() has something
 * to return. Handshakes run here, concurrently, each with a deadline; a
 * failed one never reaches the application.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../common/log.h"
#include "conn.h"
#include "../daemon.h"
#include "handover.h"
#include "handoff.h"
#include "../engine/tls_context.h"
#include "../engine/tls_setup.h"
#include "../supervisor/priv_client.h"

/* Handshakes in progress per listener; beyond, new TCP connections wait in
 * the kernel's queue. Silent clients are bounded by the handshake timeout. */
#define BACKLOG_RECHECK_MS 20

static unsigned privileged_port_limit(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	unsigned v = 1024;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 1024;
		fclose(f);
	}
	return v;
}

static unsigned port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* May the caller bind a privileged port, as TCP would let it? It needs
 * CAP_NET_BIND_SERVICE in the user namespace that owns the socket's network
 * namespace (the kernel's ns_capable(net->user_ns)): held in ssad's (the
 * initial one, an ancestor of every owner), or in its own user namespace
 * when that one owns the network namespace the socket was made in, read at
 * socket() (/proc/PID/ns/net). A user namespace of the caller's own inside
 * a network namespace someone else made (ip netns, PrivateNetwork=) counts
 * for nothing there. Stricter than the kernel in one case: capabilities in
 * an ancestor of the owner other than the initial namespace do not count. */
static bool may_bind_privileged(const struct ssa_conn *c, const struct ssa_peer_id *who)
{
	if (!(who->cap_eff & (1ull << 10 /* CAP_NET_BIND_SERVICE */)))
		return false;
	if (who->init_userns)
		return true;
	return (c->own_netns || c->net_in_own_ns) && ssa_ns_id_same(c->net_owner, who->userns);
}

int ssa_conn_bind(struct ssa_conn *c, const struct sockaddr *sa, socklen_t len,
		  const struct ssa_peer_id *caller)
{
	socklen_t sl = sizeof c->local;
	int err;
	unsigned port = port_of(sa);

	if (c->role != SSA_ROLE_NEW || c->bound)
		return EINVAL;
	if (sa->sa_family != c->domain)
		return EAFNOSUPPORT;
	/* ssad may hold privileges its callers lack: never lend them. */
	if (port && port < privileged_port_limit() && (!caller || !may_bind_privileged(c, caller)))
		return EACCES;
	if ((err = ssa_conn_net_socket(c)) != 0)
		return err;
	/* A low port with the supervisor's CAP_NET_BIND_SERVICE. */
	err = port && port < privileged_port_limit() ? ssa_priv_bind(c->net.fd, sa, len) :
	      bind(c->net.fd, sa, len) == 0 ? 0 : errno;
	if (err)
		return err;
	if (getsockname(c->net.fd, (struct sockaddr *)&c->local, &sl) != 0)
		return errno;
	c->local_len = sl;
	c->bound = true;
	return 0;
}

/* Whether a connection waits in the listening socket's queue (a look, no
 * accept: the supervisor accepts, ssa_priv_accept()). */
static bool backlog_waiting(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* How many accept records the application has not read yet. */
static int queued(struct ssa_conn *l)
{
	int out = 0;

	if (ioctl(l->app.fd, SIOCOUTQ, &out) != 0 || out <= 0 || l->rec_cost <= 0)
		return 0;
	return (out + l->rec_cost - 1) / l->rec_cost;
}

static bool full(struct ssa_conn *l)
{
	/* Linux queues backlog + 1 connections; so do we. */
	return queued(l) > l->backlog;
}

static void recheck(struct ssa_deadline *dl)
{
	struct ssa_conn *l = (struct ssa_conn *)((char *)dl - offsetof(struct ssa_conn, retry));

	ssa_listener_on_net(l);
}

int ssa_conn_listen(struct ssa_conn *c, int backlog)
{
	int err;

	if (backlog < 1)
		backlog = 1;
	if (backlog > 4096)
		backlog = 4096;
	if (c->role == SSA_ROLE_LISTENER) {
		c->backlog = backlog; /* as listen(2) on a listening socket */
		ssa_handover_listening(c); /* the stored backlog too */
		return 0;
	}
	if (c->role != SSA_ROLE_NEW || c->state != SSA_STATE_NEW)
		return EINVAL;
	/* Before the implicit bind: a socket that cannot serve stays unbound. */
	if ((err = ssa_tls_identities_check(c->pol, &c->opts, true, c->opts.error,
					    sizeof c->opts.error)) != 0)
		return err;
	if (!c->bound) {
		struct sockaddr_storage any;

		memset(&any, 0, sizeof any); /* the port and address: any */
		any.ss_family = (sa_family_t)c->domain;
		err = ssa_conn_bind(c, (struct sockaddr *)&any,
				    c->domain == AF_INET ? sizeof(struct sockaddr_in) :
							   sizeof(struct sockaddr_in6), NULL);
		if (err)
			return err;
	}
	c->server_ctx = ssa_tls_server_ctx_build(c->pol, &c->opts, SSA_TLS_SERVER_LISTENER,
						 c->ktls_want, &err, c->opts.error,
						 sizeof c->opts.error);
	if (!c->server_ctx)
		return err;
	if (listen(c->net.fd, backlog) != 0) {
		err = errno;
		SSL_CTX_free(c->server_ctx);
		c->server_ctx = NULL;
		return err;
	}
	c->role = SSA_ROLE_LISTENER;
	c->state = SSA_STATE_LISTENING;
	c->backlog = backlog;
	c->retry.expired = recheck;
	ssa_watch_set(&c->d->loop, &c->net, EPOLLIN);
	ssa_handover_listening(c); /* survives ssad's restarts (handover.h) */
	return 0;
}

void ssa_listener_on_net(struct ssa_conn *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct ssa_conn *c;
		int fd, one = 1, err;
		bool nodelay_on;

		if (full(l) || (l->user && l->user->sockets >= ssa_users_max_sockets(l->d))) {
			/* Its owner at max-sockets-per-user counts as a full queue. */
			if (!full(l))
				ssa_user_refused(l->user, "max-sockets-per-user",
						 ssa_users_max_sockets(l->d), l->pid);
			/* Leave further clients in the kernel's queue for now. */
			ssa_watch_set(&l->d->loop, &l->net, 0);
			if (!l->retry.at_ms)
				ssa_deadline_arm(&l->d->loop, &l->retry, BACKLOG_RECHECK_MS);
			return;
		}
		/* After the first, accept only while one waits: an ACCEPT that
		 * finds none is a round trip to the supervisor for EAGAIN. One
		 * arriving after this look wakes the loop again (level-triggered). */
		if (i > 0 && !backlog_waiting(l->net.fd))
			break;
		/* An accepted socket's owner (sk_uid, the file's credentials)
		 * is whoever accepts it: the listener's owner, as with TCP. */
		err = ssa_priv_accept(l->net.fd, l->uid, l->gid, &ss, &sl, &fd);
		if (err) {
			if (err == EMFILE || err == ENFILE || err == ENOMEM) {
				log_warn("accept: %s; pausing the listener", strerror(err));
				ssa_watch_set(&l->d->loop, &l->net, 0);
				ssa_deadline_arm(&l->d->loop, &l->retry, 100);
				return;
			}
			break; /* EAGAIN, or a connection that died in the queue */
		}
		/* All handshake slots taken: the oldest handshake goes, so that a
		 * flood of idle connections cannot lock real clients out. */
		if (l->handshaking >= (unsigned)l->d->policy->cfg.limits.handshakes_per_listener &&
		    l->hs_head) {
			/* at most one line a second */
			log_limited(SSA_LOG_WARN, 0, 1, 1, "listener of pid %d: %d handshakes in "
				    "progress, dropping the oldest (max-handshakes-per-listener)",
				    (int)l->pid, l->d->policy->cfg.limits.handshakes_per_listener);
			ssa_conn_destroy(l->hs_head);
		}
		nodelay_on = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
		c = ssa_conn_new_server(l, fd);
		if (c)
			c->nodelay_on = nodelay_on;
		if (!c || !(c->ssl = ssa_tls_server_new(l->server_ctx, fd, l->ktls_want ?
							  &c->ktls_secret : NULL))) {
			if (c)
				ssa_conn_destroy(c);
			else
				ssa_net_close(fd); /* it has the listener's SO_LINGER */
			continue;
		}
		/* The application's stream pair now, not after the handshake:
		 * out of descriptors, the client is refused at once instead
		 * of being dropped after a finished handshake. */
		if (ssa_conn_stream_pair(c->spare, true) != 0) {
			log_limited(SSA_LOG_WARN, 0, 1, 1,
				    "listener of pid %d: %s; refusing connections for now",
				    (int)l->pid, strerror(errno));
			ssa_conn_destroy(c);
			ssa_watch_set(&l->d->loop, &l->net, 0);
			if (!l->retry.at_ms)
				ssa_deadline_arm(&l->d->loop, &l->retry, 100);
			return;
		}
		c->has_spare = true;
		memcpy(&c->peer, &ss, sl);
		c->peer_len = sl;
		if (l->ktls_want)
			c->ktls_want = true; /* may go to the app (handoff.h) */
		else
			ssa_conn_read_ahead(c->ssl);
		l->handshaking++;
		c->hs_prev = l->hs_tail;
		if (l->hs_tail)
			l->hs_tail->hs_next = c;
		else
			l->hs_head = c;
		l->hs_tail = c;
		ssa_conn_start_handshake(c);
	}
	ssa_watch_set(&l->d->loop, &l->net, EPOLLIN);
}

void ssa_listener_child_gone(struct ssa_conn *c)
{
	struct ssa_conn *l = c->listener;

	if (!l)
		return;
	l->handshaking--;
	if (c->hs_prev)
		c->hs_prev->hs_next = c->hs_next;
	else if (l->hs_head == c)
		l->hs_head = c->hs_next;
	if (c->hs_next)
		c->hs_next->hs_prev = c->hs_prev;
	else if (l->hs_tail == c)
		l->hs_tail = c->hs_prev;
	c->hs_prev = c->hs_next = NULL;
	c->listener = NULL;
}

/* Write one accept record with the connection's socket on the listener. */
static int deliver(struct ssa_conn *l, const struct ssa_accept_rec *rec, int fd)
{
	uint8_t buf[SSA_ACCEPT_REC_LEN];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof ctl.b };
	struct cmsghdr *cm;
	int before = 0, after = 0;
	ssize_t n;

	memset(&ctl, 0, sizeof ctl);
	ssa_accept_rec_encode(rec, buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	ioctl(l->app.fd, SIOCOUTQ, &before);
	n = sendmsg(l->app.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != (ssize_t)sizeof buf)
		return n < 0 ? errno : EIO;
	/* Learn what one queued record costs in the send queue. */
	if (before == 0 && ioctl(l->app.fd, SIOCOUTQ, &after) == 0 && after > 0)
		l->rec_cost = after;
	return 0;
}

/*
 * Kernel TLS is on both ways: the accept record carries the TCP socket
 * itself (SSA_ACCEPT_KTLS); ssad keeps the record for getsockopt and no
 * copy of the socket. The receive key is in the kernel: no way back to the
 * proxy, a failure drops the connection (it never reaches accept()).
 */
static void handoff(struct ssa_conn *l, struct ssa_conn *c)
{
	struct ssa_accept_rec rec = { .id = c->id, .instance = c->d->instance,
				      .flags = SSA_ACCEPT_KTLS };
	socklen_t sl = sizeof c->local;
	int err;

	getsockname(c->net.fd, (struct sockaddr *)&c->local, &sl);
	c->local_len = sl;
	c->state = SSA_STATE_ESTABLISHED;
	c->read_want = c->write_want = 0;
	c->nodelay = l->nodelay;
	ssa_conn_apply_nodelay(c);
	err = ssa_ktls_adopt(c);
	if (!err) {
		rec.local = c->local;
		rec.local_len = c->local_len;
		rec.peer = c->peer;
		rec.peer_len = c->peer_len;
		err = deliver(l, &rec, c->net.fd);
	}
	if (err) {
		log_warn("accepted connection dropped: kernel TLS hand-off to pid %d: %s",
			 (int)l->pid, strerror(err));
		ssa_conn_destroy(c);
		return;
	}
	ssad_count_handshake(c->d, c->hs_start_us);
	log_debug("accepted (kernel TLS): pid %d %s %s", (int)c->pid, SSL_get_version(c->ssl),
		  SSL_CIPHER_standard_name(SSL_get_current_cipher(c->ssl)));
	ssa_ktls_drop_net(c);
}

void ssa_listener_handshake_done(struct ssa_conn *c)
{
	struct ssa_conn *l = c->listener;
	struct ssa_accept_rec rec = { .id = c->id, .instance = c->d->instance };
	socklen_t sl = sizeof c->local;
	int sv[2], err;

	ssa_deadline_cancel(&c->timer);
	ssa_listener_child_gone(c);
	if (!l) {
		ssa_conn_destroy(c);
		return;
	}
	if (c->ktls_want) {
		char why[SSA_ERROR_MAX];

		if (ssa_ktls_finish(c, why, sizeof why) == 0) {
			if (c->has_spare) { /* the TCP socket itself goes to the app */
				close(c->spare[0]);
				close(c->spare[1]);
				c->has_spare = false;
			}
			handoff(l, c);
			return;
		}
		log_debug("kernel TLS not used for a connection of pid %d: %s; proxying",
			  (int)l->pid, why);
	}
	if (c->has_spare) {
		sv[0] = c->spare[0];
		sv[1] = c->spare[1];
		c->has_spare = false;
	} else if (ssa_conn_stream_pair(sv, true) != 0) {
		log_warn("accepted connection dropped: socketpair: %s", strerror(errno));
		ssa_conn_destroy(c);
		return;
	}
	c->app.fd = sv[1];
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) != 0 || ssa_sock_key_of(sv[0], &c->key) != 0 ||
	    ssa_registry_add(&c->key, c) != 0) {
		close(sv[0]);
		ssa_conn_destroy(c);
		return;
	}
	c->registered = true;
	getsockname(c->net.fd, (struct sockaddr *)&c->local, &sl);
	c->local_len = sl;
	c->state = SSA_STATE_ESTABLISHED;
	c->read_want = c->write_want = 0;
	c->nodelay = l->nodelay; /* accepted sockets inherit it, as on TCP */
	ssa_conn_apply_nodelay(c);
	ssad_count_handshake(c->d, c->hs_start_us);
	rec.local = c->local;
	rec.local_len = c->local_len;
	rec.peer = c->peer;
	rec.peer_len = c->peer_len;
	err = deliver(l, &rec, sv[0]);
	close(sv[0]);
	if (err) {
		log_warn("accepted connection dropped: listener of pid %d not reachable: %s",
			 (int)l->pid, strerror(err));
		ssa_conn_destroy(c);
		return;
	}
	log_debug("accepted: pid %d sni '%s' %s %s", (int)c->pid,
		  SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) ?: "",
		  SSL_get_version(c->ssl), SSL_CIPHER_standard_name(SSL_get_current_cipher(c->ssl)));
	ssa_conn_pump(c);
}
