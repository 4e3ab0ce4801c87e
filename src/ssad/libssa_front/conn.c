/* SPDX-License-Identifier: MIT */
/* Connection life cycle: creation, TCP connect, handshake, close (the
 * proxying of an established connection is proxy.c's). */
#include "conn.h"
#include "../supervisor/priv_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../caller_fds.h"
#include "../daemon.h"
#include "handover.h"
#include "handoff.h"
#include "proxy.h"
#include "sockopt.h"
#include "../engine/tls_context.h"
#include "../engine/tls_setup.h"

/* Each end of the application's stream may queue this much (the default,
 * 208 KiB, is about three of ssad's 64 KiB batches: bulk transfers then
 * wake ssad and the application twice as often). Only queued data costs
 * memory. A client socket's own end gets it at a blocking connect(): a
 * non-blocking one keeps the default, because the connect gate fills the
 * whole of it (2 MiB of gate bytes written and discarded cost ssad about
 * 0.7 ms of CPU per connection). */
#define SSA_STREAM_SNDBUF (1 << 20)
/* The read-ahead buffer: up to four records per read() of the TCP socket. */
#define SSA_READ_AHEAD ((size_t)4 * (SSL3_RT_MAX_PLAIN_LENGTH + SSL3_RT_MAX_ENCRYPTED_OVERHEAD))

static void on_app(struct ssa_watch *w, uint32_t ev);
static void on_net(struct ssa_watch *w, uint32_t ev);
static void on_timeout(struct ssa_deadline *dl);
static void handshake_step(struct ssa_conn *c);
static void handshake_stepped(struct ssa_hs_job *j);
static void gate_open(struct ssa_conn *c);
static int sndbuf_of(int fd);

/* A client connect no longer counts in max-handshakes-per-user. */
static void hs_uncharge(struct ssa_conn *c)
{
	if (c->hs_charged && c->user && c->user->handshakes)
		c->user->handshakes--;
	c->hs_charged = false;
}

/**
 * Tell whoever waits for the connect how it ended, once (ssa_conn_done_fn).
 * @retval 0 told, or nobody waits
 * @retval errno the result could not be delivered
 */
static int connect_done(struct ssa_conn *c, int fd)
{
	ssa_conn_done_fn *done = c->done;
	void *arg = c->done_arg;

	c->done = NULL;
	c->done_arg = NULL;
	return done ? done(c, arg, fd) : 0;
}

void ssa_conn_forget_done(struct ssa_conn *c)
{
	c->done = NULL;
	c->done_arg = NULL;
}

static void conn_free(struct ssa_zombie *z)
{
	struct ssa_conn *c = (struct ssa_conn *)z;

	free(c->up);
	free(c->down);
	free(c->program);
	if (c->own_netns && c->netns_fd >= 0)
		close(c->netns_fd);
	free(c);
}

/* The remote host (address without port), as a rate-limit source. */
static uint64_t peer_host_key(const struct ssa_conn *c)
{
	const uint8_t *a = NULL;
	size_t n = 0;
	uint64_t h = 1469598103934665603ull;

	if (c->peer.ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)&c->peer)->sin_addr;
		n = 4;
	} else if (c->peer.ss_family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)&c->peer)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return h;
}

const char *ssa_conn_peer_str(const struct ssa_conn *c, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (c->peer.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&c->peer;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, ntohs(s->sin_port));
	} else if (c->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&c->peer;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
		snprintf(buf, len, "[%s]:%u", host, ntohs(s->sin6_port));
	} else {
		snprintf(buf, len, "-");
	}
	return buf;
}

/* A connection record with no descriptors yet. */
static struct ssa_conn *conn_alloc(struct ssad *d, int domain)
{
	struct ssa_conn *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	if (RAND_bytes((unsigned char *)&c->id, sizeof c->id) != 1) {
		free(c);
		return NULL;
	}
	c->d = d;
	c->domain = domain;
	c->state = SSA_STATE_NEW;
	c->app.fd = -1;
	c->app.handler = on_app;
	c->net.fd = -1;
	c->net.handler = on_net;
	c->app_sndbuf0 = -1;
	c->timer.expired = on_timeout;
	c->zombie.destroy = conn_free;
	c->created_ms = ssa_now_ms();
	c->hs_start_us = ssa_now_us(); /* an accepted connection's: its accept */
	c->opts.tighten.session_ttl = -1;
	c->opts.tighten.session_reuse = -1;
	return c;
}

struct ssa_conn *ssa_conn_alloc(struct ssad *d, int domain)
{
	return conn_alloc(d, domain);
}

void ssa_conn_link(struct ssa_conn *c)
{
	struct ssad *d = c->d;

	/* Charged to its owner until it goes (server connections to the
	 * listener's owner); no record: counted nowhere, refused by the caller. */
	c->user = ssa_user_of(c->uid);
	if (c->user)
		c->user->sockets++;

	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->stats.conns_live++;
}

struct ssa_conn *ssa_conn_new_server(struct ssa_conn *l, int net_fd)
{
	struct ssa_conn *c = conn_alloc(l->d, l->domain);

	if (!c)
		return NULL;
	c->role = SSA_ROLE_SERVER;
	c->listener = l;
	c->net.fd = net_fd;
	c->pid = l->pid;
	c->uid = l->uid;
	c->pol = ssa_policy_get(l->pol);
	c->program = strdup(l->program ? l->program : "?");
	ssa_conn_link(c);
	return c;
}

/* A new TCP socket of c's: handshake flights must not wait for ACKs
 * (Nagle); once connected the application's choice applies (off by
 * default, as on TCP). */
static void net_handshake_ready(struct ssa_conn *c)
{
	int one = 1;

	c->nodelay_on = setsockopt(c->net.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
}

struct ssa_conn *ssa_conn_new(struct ssad *d, int domain, const struct ssa_peer_id *who,
			      int *app_fd, int *err)
{
	struct ssa_conn *c;
	struct ssa_user *u = ssa_user_of(who->uid);
	int sv[2];

	if (domain != AF_INET && domain != AF_INET6) {
		*err = EAFNOSUPPORT;
		return NULL;
	}
	if (!u) {
		*err = ENOMEM;
		return NULL;
	}
	if (!ssa_user_socket_ok(d, u)) {
		ssa_user_refused(u, "max-sockets-per-user", ssa_users_max_sockets(d), who->pid);
		*err = EMFILE;
		return NULL;
	}
	c = conn_alloc(d, domain);
	if (!c) {
		*err = ENOMEM;
		return NULL;
	}
	if (ssa_conn_stream_pair(sv, false) != 0) {
		*err = errno;
		free(c);
		return NULL;
	}
	c->app_sndbuf0 = sndbuf_of(sv[0]);
	/* The TCP socket made with the identification, if any, is numbered
	 * below the pair, and so counted here too. */
	if (ssa_fd_in_reserve(sv[0] > sv[1] ? sv[0] : sv[1]) ||
	    (who->has_tcp && ssa_fd_in_reserve(who->tcp_fd))) {
		static uint64_t last_log;

		if (ssa_now_ms() - last_log >= 1000) {
			last_log = ssa_now_ms();
			log_warn("ssad is down to its reserve of descriptors: socket() of uid %u "
				 "pid %d refused (lower max-sockets-per-user?)", (unsigned)who->uid,
				 (int)who->pid);
		}
		close(sv[0]);
		close(sv[1]);
		free(c);
		*err = EMFILE;
		return NULL;
	}
	*err = 0;
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) != 0 ||
	    ssa_sock_key_of(sv[0], &c->key) != 0 ||
	    (*err = ssa_registry_add(&c->key, c)) != 0) {
		if (!*err)
			*err = EIO;
		close(sv[0]);
		close(sv[1]);
		free(c);
		return NULL;
	}
	c->registered = true;
	c->app.fd = sv[1];
	c->pid = who->pid;
	c->uid = who->uid;
	c->gid = who->gid;
	c->pol = ssa_policy_match(d->policy, who);
	if (!c->pol) {
		/* Its profiles leave nothing usable (ssad logged why). */
		*err = EPERM;
		ssa_registry_del(&c->key);
		close(sv[0]);
		close(sv[1]);
		free(c);
		return NULL;
	}
	c->program = strdup(who->exe[0] ? who->exe : "?");
	/* Until connected we only want to learn that the application closed. */
	if ((*err = ssa_watch_set(&d->loop, &c->app, EPOLLRDHUP)) != 0) {
		ssa_registry_del(&c->key);
		close(sv[0]);
		close(sv[1]);
		free(c);
		return NULL;
	}
	c->net_owner = who->net_owner;
	if (who->has_tcp) {
		/* Made in its namespace already: nothing of it is kept. */
		c->net.fd = who->tcp_fd;
		c->net_in_own_ns = who->own_netns;
		net_handshake_ready(c);
	} else if (who->own_netns) {
		c->own_netns = true;
		c->netns_fd = who->netns_fd >= 0 ? fcntl(who->netns_fd, F_DUPFD_CLOEXEC, 0) : -1;
	}
	ssa_conn_link(c);
	d->stats.sockets_created++;
	*app_fd = sv[0];
	return c;
}

struct ssa_conn *ssa_conn_of_fd(int fd, int *err)
{
	struct ssa_sock_key key;
	struct ssa_conn *c;

	*err = ssa_sock_key_of(fd, &key);
	if (*err)
		return NULL;
	c = ssa_registry_find(&key);
	if (c && c->ktls && !ssa_ktls_same(c, fd)) {
		/* A handed-off socket closed since, its inode now another's. */
		ssa_conn_destroy(c);
		c = NULL;
	}
	if (!c)
		*err = EBADF;
	return c;
}

void ssa_conn_pump(struct ssa_conn *c)
{
	c->net_ready = true;
	c->app_ready = false; /* no read that can only find nothing */
	ssa_proxy_pump(c);
}

void ssa_conn_destroy(struct ssa_conn *c)
{
	struct ssad *d = c->d;

	if (c->hs.busy) {
		/* A worker holds the session: finish when it hands it back.
		 * Until then nothing of it may wake the loop. */
		c->hs_doomed = true;
		ssa_deadline_cancel(&c->timer);
		if (c->listener)
			ssa_listener_child_gone(c);
		/* Out of the set: a closed end would report EPOLLHUP on
		 * every wait meanwhile. */
		ssa_watch_del(&d->loop, &c->app);
		return;
	}

	if (c->file_job) {
		ssa_sockopt_forget_conn(c->file_job);
		c->file_job = NULL;
	}
	if (c->done && !c->error_errno) {
		c->error_errno = ECONNABORTED;
		snprintf(c->opts.error, sizeof c->opts.error, "connection aborted");
	}
	ssa_deadline_cancel(&c->timer);
	ssa_deadline_cancel(&c->retry);
	ssa_ktls_forget(c);
	if (c->registered) {
		ssa_registry_del(&c->key);
		if ((c->net_dead || c->state == SSA_STATE_FAILED) && c->error_errno &&
		    !c->app_gone)
			ssa_registry_bury(&c->key, c->uid, c->error_errno, c->opts.error);
	}
	if (c->role == SSA_ROLE_LISTENER) {
		ssa_handover_closing(c); /* the next ssad will not take it over */
		/* Connections still in their handshake die with their listener. */
		for (struct ssa_conn *o = d->conns, *nx; o; o = nx) {
			nx = o->next;
			if (o->listener == c)
				ssa_conn_destroy(o);
		}
	}
	if (c->listener)
		ssa_listener_child_gone(c);
	if (c->has_spare) {
		close(c->spare[0]);
		close(c->spare[1]);
		c->has_spare = false;
	}
	for (int i = 0; i < c->opts.n_ids; i++)
		ssa_identity_clear(&c->opts.ids[i]);
	hs_uncharge(c);
	if (c->opts.trusted) {
		if (c->user)
			c->user->trusted -= c->n_trusted;
		c->n_trusted = 0;
		sk_X509_pop_free(c->opts.trusted, X509_free);
		c->opts.trusted = NULL;
		ssa_trim_soon(); /* possibly a lot of memory: give it back */
	}
	SSL_CTX_free(c->server_ctx);
	c->server_ctx = NULL;
	ssa_policy_put(c->pol);
	c->pol = NULL;
	ssa_restrict_clear(&c->opts.tighten);
	ssa_watch_del(&d->loop, &c->app);
	ssa_watch_del(&d->loop, &c->net);
	c->app.handler = NULL;
	c->net.handler = NULL;
	ssa_conn_close_stream(c);
	if (c->ssl)
		SSL_free(c->ssl);
	/* A listening socket's close never lingers, and its copy may be kept
	 * for the next ssad (handover.c) with the application's options. */
	if (c->role == SSA_ROLE_LISTENER && c->net.fd >= 0)
		close(c->net.fd);
	else
		ssa_net_close(c->net.fd);
	c->app.fd = c->net.fd = -1;
	c->ssl = NULL;
	/* A client still waiting in connect() is told last: when it wakes,
	 * its end already shows the release (POLLHUP), as a failed TCP
	 * connect shows POLLERR at once, and its tomb is in place. */
	connect_done(c, -1);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->stats.conns_live--;
	if (c->user && c->user->sockets)
		c->user->sockets--;
	c->user = NULL;
	ssa_loop_bury(&d->loop, &c->zombie);
}

/* The connect failed: record why, tell the waiting client, stop the network
 * side. The record stays so that TLS_ERROR and SO_ERROR can be read until
 * the application closes its socket. */
static void connect_failed(struct ssa_conn *c, int err, const char *reason)
{
	char peer[64];
	const char *sni = c->role == SSA_ROLE_SERVER ?
		(c->ssl ? SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) : NULL) : c->opts.hostname;
	struct ssa_log_fields f = { .program = c->program, .pid = c->pid, .uid = (long)c->uid,
				    .profile = c->pol->name, .peer = ssa_conn_peer_str(c, peer, sizeof peer),
				    .sni = sni ? sni : "", .reason = reason };

	c->error_errno = err;
	snprintf(c->opts.error, sizeof c->opts.error, "%s", reason);
	c->state = SSA_STATE_FAILED;
	if (err == EPROTO || err == ETIMEDOUT) {
		c->d->stats.handshakes_failed++;
		ssad_count_failure(c->d, reason);
	}
	ssa_log_with(&f); /* the journal's fields (journal.h) */
	if (c->role == SSA_ROLE_SERVER) {
		/* Never reaches accept(): just log and go. */
		/* Remote clients choose how often this happens: per host. */
		log_limited(SSA_LOG_INFO, peer_host_key(c), 100, 50,
			 "handshake failed: program %s pid %d (profile %s), client %s, sni '%s': %s",
			 c->program ? c->program : "?", (int)c->pid, c->pol->name,
			 ssa_conn_peer_str(c, peer, sizeof peer),
			 c->ssl && SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) ?
			 SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) : "", reason);
		ssa_log_with(NULL);
		ssa_conn_destroy(c);
		return;
	}
	log_limited(SSA_LOG_INFO, c->uid, 50, 20,
		 "connect failed: program %s pid %d uid %u (profile %s), peer %s, host '%s': %s",
		 c->program ? c->program : "?", (int)c->pid, (unsigned)c->uid, c->pol->name,
		 ssa_conn_peer_str(c, peer, sizeof peer), c->opts.hostname, reason);
	ssa_log_with(NULL);
	/* An undrained gate makes the released end report an error (POLLERR),
	 * as a failed TCP connect does until SO_ERROR is read. */
	/* The waiting client gets the error; the socket is released and its
	 * application end sees the peer gone, as after a failed TCP connect:
	 * poll reports HUP (and ERR when the gate was up), reads end, writes
	 * fail with EPIPE. SO_ERROR and TLS_ERROR are kept in its tomb. */
	ssa_conn_destroy(c);
}

static void on_timeout(struct ssa_deadline *dl)
{
	struct ssa_conn *c = (struct ssa_conn *)((char *)dl - offsetof(struct ssa_conn, timer));
	char why[SSA_ERROR_MAX];

	if (c->hs.busy) {
		c->hs_timed_out = true; /* decided when the step comes back */
		return;
	}
	snprintf(why, sizeof why, "%s timed out after %u ms",
		 c->ssl || c->role == SSA_ROLE_SERVER ? "TLS handshake" : "TCP connect",
		 c->pol->cfg.handshake_timeout_ms);
	connect_failed(c, ETIMEDOUT, why);
}

/* The client session, from the engine (tls_setup.h): kernel-TLS ready when
 * the application may get the socket itself (handoff.h), else reading
 * ahead for the proxy. @retval 0, or an errno with why set */
static int setup_ssl(struct ssa_conn *c, char *why, size_t wl)
{
	const struct ssa_tls_client_peer peer = {
		.addr = (const struct sockaddr *)&c->peer, .len = c->peer_len, .uid = c->uid,
	};
	int err;

	c->ssl = ssa_tls_client_new(c->pol, &c->opts, &peer, c->net.fd,
				    c->ktls_want ? &c->ktls_secret : NULL, &err, why, wl);
	if (!c->ssl)
		return err;
	if (!c->ktls_want)
		ssa_conn_read_ahead(c->ssl);
	return 0;
}

/* @retval fd's SO_SNDBUF, or -1 */
static int sndbuf_of(int fd)
{
	int v = -1;
	socklen_t sl = sizeof v;

	return getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &sl) == 0 ? v : -1;
}

void ssa_conn_app_room(int app_fd)
{
	int size = SSA_STREAM_SNDBUF;

	/* Best effort: the default still works, with more wake-ups. */
	(void)setsockopt(app_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

/* Whether the kernel refuses descriptors sent to ssad's stream ends
 * (SO_PASSRIGHTS, Linux 6.16): asked once, on a pair of ssad's own. */
static bool stream_refuses_fds(void)
{
	static int known = -1;
	int sv[2];

	if (known < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
		known = setsockopt(sv[1], SOL_SOCKET, SSA_SO_PASSRIGHTS, &(int){ 0 },
				   sizeof(int)) == 0;
		close(sv[0]);
		close(sv[1]);
	}
	return known == 1;
}

void ssa_conn_close_stream(const struct ssa_conn *c)
{
	int fd = c->app.fd, unread = 0;

	if (fd < 0)
		return;
	if (stream_refuses_fds()) {
		close(fd);
		return;
	}
	/* Unread descriptors in its queue are released with it, and may
	 * wait (caller_fds.h). A connection's stream is shut down first: the
	 * application sees the end now, and can send nothing more; then an
	 * empty queue holds no descriptor, and closes here. A listener's is
	 * not: its copy may be kept for the next ssad (handover.c), which a
	 * shutdown would end too; it goes off the loop. */
	if (c->role != SSA_ROLE_LISTENER) {
		shutdown(fd, SHUT_RDWR);
		if (ioctl(fd, FIONREAD, &unread) == 0 && unread == 0) {
			close(fd);
			return;
		}
	}
	ssa_caller_fd_close(c->uid, fd);
}

int ssa_conn_stream_pair(int sv[2], bool app_room)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if (app_room)
		ssa_conn_app_room(sv[0]);
	ssa_conn_app_room(sv[1]); /* ssad's end, the same way */
	/* Nothing legitimate sends descriptors to ssad's end: refused at the
	 * sender (EPERM) where the kernel can (Linux 6.16); elsewhere the
	 * proxy takes them in and lets go of them off the loop (proxy.c). */
	(void)setsockopt(sv[1], SOL_SOCKET, SSA_SO_PASSRIGHTS, &(int){ 0 }, sizeof(int));
	return 0;
}

void ssa_conn_read_ahead(SSL *ssl)
{
	SSL_set_read_ahead(ssl, 1);
	SSL_set_default_read_buffer_len(ssl, SSA_READ_AHEAD);
}

void ssa_conn_update_interest(struct ssa_conn *c)
{
	/* The application's half-close is news once: afterwards RDHUP would
	 * be reported on every wait (its full close is EPOLLHUP, always on). */
	uint32_t app = c->app_eof || c->app_gone ? 0 : EPOLLRDHUP, net = 0;

	if (c->role == SSA_ROLE_LISTENER)
		return; /* listener.c manages its own interest */
	if (c->state == SSA_STATE_CONNECTING) {
		if (!c->ssl)
			net = EPOLLOUT; /* TCP connect in progress */
		else
			net = c->read_want == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN;
	} else if (c->state == SSA_STATE_ESTABLISHED) {
		/* There the half-close is taken by reading (the proxy reads
		 * the end when it reads the application at all): while it does
		 * not, RDHUP would be reported on every wait. */
		app = 0;
		ssa_proxy_interest(c, &app, &net);
	}
	/* The kernel reports EPOLLERR and EPOLLHUP whatever the interest, on
	 * every wait: the application's end leaves the set once it has gone
	 * (the data still owed to the network is sent without it), or the
	 * loop spins; the network socket, when it reports one (on_net()). */
	if (c->app.fd >= 0) {
		if (c->app_gone)
			ssa_watch_del(&c->d->loop, &c->app);
		else
			ssa_watch_set(&c->d->loop, &c->app, app);
	}
	if (c->net.fd >= 0)
		ssa_watch_set(&c->d->loop, &c->net, net);
}

/*
 * Kernel TLS is on both ways: the waiting client gets the TCP socket itself
 * in its CONNECT reply; ssad keeps the record (getsockopt) and no copy of
 * the socket. Once the receive key is in the kernel there is no way back
 * to the proxy: a failure here fails the connection.
 */
static void handoff(struct ssa_conn *c)
{
	int err = ssa_ktls_adopt(c);

	if (!err)
		err = connect_done(c, c->net.fd);
	if (err) {
		log_warn("kernel TLS hand-off to pid %d failed: %s", (int)c->pid, strerror(err));
		c->error_errno = ECONNABORTED;
		snprintf(c->opts.error, sizeof c->opts.error, "kernel TLS hand-off failed: %s",
			 strerror(err));
		c->state = SSA_STATE_FAILED;
		ssa_conn_destroy(c);
		return;
	}
	log_debug("kernel TLS: pid %d holds the socket", (int)c->pid);
	ssa_ktls_drop_net(c);
}

static void handshake_done(struct ssa_conn *c)
{
	socklen_t len = sizeof c->local;

	getsockname(c->net.fd, (struct sockaddr *)&c->local, &len);
	c->local_len = len;
	c->state = SSA_STATE_ESTABLISHED;
	c->read_want = c->write_want = 0;
	ssa_deadline_cancel(&c->timer);
	hs_uncharge(c);
	ssa_conn_apply_nodelay(c);
	gate_open(c);
	ssad_count_handshake(c->d, c->hs_start_us);
	log_debug("connected: pid %d host '%s' %s %s", (int)c->pid, c->opts.hostname,
		  SSL_get_version(c->ssl), SSL_CIPHER_standard_name(SSL_get_current_cipher(c->ssl)));
	if (c->ktls_want && c->done) {
		char why[SSA_ERROR_MAX];

		if (ssa_ktls_finish(c, why, sizeof why) == 0) {
			handoff(c);
			return;
		}
		log_debug("kernel TLS not used for pid %d host '%s': %s; proxying", (int)c->pid,
			  c->opts.hostname, why);
	}
	connect_done(c, -1);
	/* The peer answers the application's first bytes, which come after
	 * the answer just sent: reads now would find nothing. What did come
	 * is in OpenSSL's buffer (net_read() looks) or shown by epoll
	 * (level-triggered) once the interest is set. */
	c->net_ready = c->app_ready = false;
	ssa_proxy_pump(c);
}

void ssa_conn_start_handshake(struct ssa_conn *c)
{
	c->state = SSA_STATE_CONNECTING;
	c->hs_start_us = ssa_now_us();
	ssa_deadline_arm(&c->d->loop, &c->timer, c->pol->cfg.handshake_timeout_ms);
	handshake_step(c);
}

static void handshake_step(struct ssa_conn *c)
{
	c->hs.ssl = c->ssl;
	c->hs.done = handshake_stepped;
	c->hs.net = &c->net;
	/* On a worker: the loop keeps off the socket until the step is back
	 * (out of the set: an error or hang-up would be reported even with
	 * no interest, again and again while the step runs). */
	if (!ssa_hs_pool_inline(&c->hs) && c->net.fd >= 0)
		ssa_watch_del(&c->d->loop, &c->net);
	ssa_hs_pool_submit(&c->hs);
}

/**
 * The completion of a connection's handshake step (its job's done, on the
 * loop): destroy a connection doomed meanwhile, finish, fail (a deadline
 * passed while the step was away counts now) or wait for the socket.
 */
static void handshake_stepped(struct ssa_hs_job *j)
{
	struct ssa_conn *c = (struct ssa_conn *)((char *)j - offsetof(struct ssa_conn, hs));

	if (c->hs_doomed) {
		c->hs_doomed = false;
		ssa_conn_destroy(c);
		return;
	}
	if (j->ret == 1) {
		c->hs_timed_out = false; /* finished in time after all */
		if (c->role == SSA_ROLE_SERVER)
			ssa_listener_handshake_done(c);
		else
			handshake_done(c);
		return;
	}
	if (c->hs_timed_out) {
		c->hs_timed_out = false;
		on_timeout(&c->timer);
		return;
	}
	if (j->ssl_err == SSL_ERROR_WANT_READ || j->ssl_err == SSL_ERROR_WANT_WRITE) {
		c->read_want = j->ssl_err;
		ssa_conn_update_interest(c);
		return;
	}
	connect_failed(c, EPROTO, j->reason);
}

static void tcp_connected(struct ssa_conn *c)
{
	char why[SSA_ERROR_MAX];
	int soerr = 0, err;
	socklen_t sl = sizeof soerr;

	if (getsockopt(c->net.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr) {
		snprintf(why, sizeof why, "TCP connect failed: %s", strerror(soerr));
		connect_failed(c, soerr, why);
		return;
	}
	if ((err = setup_ssl(c, why, sizeof why)) != 0) {
		connect_failed(c, err, why);
		return;
	}
	handshake_step(c);
}

/*
 * The connect gate (non-blocking connect): the application's end must not
 * turn writable before the handshake is over. Fill its send buffer past the
 * writability threshold with gate bytes that wait, unread, on our side;
 * ssad keeps no copy of the application's socket, so its close is still
 * seen at once. Draining the gate makes the socket writable.
 */
static void gate_close(struct ssa_conn *c, int app_fd)
{
	static const uint8_t zeros[65536];
	int sndbuf = sndbuf_of(app_fd);
	size_t want;
	ssize_t n;

	if (sndbuf <= 0)
		return;
	/* A unix socket polls writable while 4 x its queued memory <= sndbuf,
	 * and accepts writes while its queued memory < sndbuf: fill it all, so
	 * that write() waits (EAGAIN) like a TCP socket in SYN_SENT. */
	want = (size_t)sndbuf + 4096;
	if (want > (4u << 20))
		want = 4u << 20;
	while (c->gate_left < want) {
		size_t chunk = want - c->gate_left < sizeof zeros ? want - c->gate_left : sizeof zeros;

		n = send(app_fd, zeros, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			break;
		c->gate_left += (size_t)n;
	}
}

/* Discard the gate bytes waiting on our end (they precede any data). */
static void gate_open(struct ssa_conn *c)
{
	uint8_t sink[16384];

	while (c->gate_left && c->app.fd >= 0) {
		ssize_t n = recv(c->app.fd, sink, c->gate_left < sizeof sink ? c->gate_left :
						 sizeof sink, MSG_DONTWAIT);

		if (n <= 0)
			break;
		c->gate_left -= (size_t)n;
	}
}

void ssa_net_close(int fd)
{
	struct linger l;
	socklen_t sl = sizeof l;

	if (fd < 0)
		return;
	/* Any time but 0: a negative one set is an unlimited linger (and
	 * may read back negative). */
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &sl) == 0 && l.l_onoff && l.l_linger != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 0, 0 }, sizeof l);
	close(fd);
}

void ssa_conn_apply_nodelay(struct ssa_conn *c)
{
	int v = c->nodelay;

	/* On already (the handshake's): nothing to ask the kernel. */
	if (c->net.fd < 0 || (v && c->nodelay_on))
		return;
	c->nodelay_on = setsockopt(c->net.fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0 && v;
}

int ssa_conn_net_socket(struct ssa_conn *c)
{
	int err;

	if (c->net.fd >= 0)
		return 0;
	if (c->role != SSA_ROLE_NEW || c->state != SSA_STATE_NEW)
		return EINVAL;
	if (c->own_netns && c->netns_fd < 0)
		return ENETUNREACH;
	/* Made by the supervisor (the worker has no capability): in the
	 * caller's namespace, owned by the caller (its inode's owner becomes
	 * the socket's sk_uid). */
	err = ssa_priv_socket(c->own_netns ? c->netns_fd : -1, c->uid, c->gid, c->domain,
			      &c->net.fd);
	if (err == EPERM)
		/* Without CAP_SETUID/CAP_SETGID the socket would be ssad's:
		 * refused rather than lending ssad's ownership. */
		snprintf(c->opts.error, sizeof c->opts.error,
			 "ssad cannot create a socket owned by uid %u (needs CAP_SETUID and CAP_SETGID)",
			 (unsigned)c->uid);
	if (c->own_netns) {
		close(c->netns_fd);
		c->netns_fd = -1;
		c->own_netns = false;
		c->net_in_own_ns = c->net.fd >= 0;
	}
	if (c->net.fd < 0)
		return err;
	if (ssa_fd_in_reserve(c->net.fd)) {
		/* The last descriptors are ssad's own (users.h). */
		close(c->net.fd);
		c->net.fd = -1;
		snprintf(c->opts.error, sizeof c->opts.error, "ssad is out of descriptors; try again later");
		return EMFILE;
	}
	net_handshake_ready(c);
	return 0;
}

int ssa_conn_connect(struct ssa_conn *c, const struct sockaddr *sa, socklen_t len,
		     ssa_conn_done_fn *done, void *done_arg, int app_fd)
{
	int fd, err;

	if (c->state == SSA_STATE_CONNECTING)
		return EALREADY;
	if (c->state != SSA_STATE_NEW)
		return c->state == SSA_STATE_FAILED ? ECONNABORTED : EISCONN;
	if (c->role == SSA_ROLE_LISTENER)
		return EINVAL;
	if (c->opts.trusted && !c->pol->cfg.app_trust_anchors) {
		snprintf(c->opts.error, sizeof c->opts.error,
			 "policy does not let applications add trust anchors (app-trust-anchors = no)");
		return EPERM;
	}
	if (sa->sa_family != c->domain)
		return EAFNOSUPPORT;
	if (c->user && c->user->handshakes >=
	    (unsigned)c->d->policy->cfg.limits.handshakes_per_user) {
		ssa_user_refused(c->user, "max-handshakes-per-user",
				 (unsigned)c->d->policy->cfg.limits.handshakes_per_user, c->pid);
		snprintf(c->opts.error, sizeof c->opts.error, "too many connects under way for this user "
			 "(max-handshakes-per-user = %d); try again",
			 c->d->policy->cfg.limits.handshakes_per_user);
		return EAGAIN;
	}
	if ((err = ssa_conn_net_socket(c)) != 0)
		return err;
	fd = c->net.fd;
	if (connect(fd, sa, len) != 0 && errno != EINPROGRESS)
		return errno; /* the socket stays, as a TCP socket's would */
	if (c->user) {
		c->user->handshakes++;
		c->hs_charged = true;
	}
	c->role = SSA_ROLE_CLIENT;
	memcpy(&c->peer, sa, len);
	c->peer_len = len;
	if (!done)
		gate_close(c, app_fd);
	else if (app_fd >= 0 && c->app_sndbuf0 >= 0 && sndbuf_of(app_fd) == c->app_sndbuf0)
		ssa_conn_app_room(app_fd); /* unless the application set its own */
	c->state = SSA_STATE_CONNECTING;
	c->hs_start_us = ssa_now_us();
	c->done = done;
	c->done_arg = done ? done_arg : NULL;
	ssa_deadline_arm(&c->d->loop, &c->timer, c->pol->cfg.handshake_timeout_ms);
	ssa_conn_update_interest(c);
	return 0;
}

static void on_app(struct ssa_watch *w, uint32_t ev)
{
	struct ssa_conn *c = (struct ssa_conn *)((char *)w - offsetof(struct ssa_conn, app));

	if (ev & EPOLLHUP)
		c->app_gone = true;
	/* Writable only (its buffer drained) says nothing about reading. */
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->app_ready = true;
	switch (c->state) {
	case SSA_STATE_ESTABLISHED:
		ssa_proxy_pump(c);
		break;
	default:
		/* Not connected: only the application's close matters. */
		if (ev & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))
			ssa_conn_destroy(c);
		break;
	}
}

static void on_net(struct ssa_watch *w, uint32_t ev)
{
	struct ssa_conn *c = (struct ssa_conn *)((char *)w - offsetof(struct ssa_conn, net));

	c->net_ready = true;
	if (c->role == SSA_ROLE_LISTENER) {
		ssa_listener_on_net(c);
		return;
	}
	if (c->hs.busy)
		return; /* a worker is stepping the handshake */
	if (c->state == SSA_STATE_CONNECTING) {
		if (!c->ssl)
			tcp_connected(c);
		else
			handshake_step(c);
	} else if (c->state == SSA_STATE_ESTABLISHED) {
		ssa_proxy_pump(c);
		/* A reset or hang-up while nothing is to be read or written
		 * there (the peer's close_notify came, or the application has
		 * not taken what arrived) would be reported on every wait: the
		 * socket leaves the set until there is (the next SSL_read or
		 * SSL_write then meets the error). c's memory outlives a
		 * destroy in this pass; its descriptor is -1 then. */
		if ((ev & (EPOLLERR | EPOLLHUP)) && c->net.fd >= 0 && c->net.added &&
		    !c->net.events)
			ssa_watch_del(&c->d->loop, &c->net);
	}
}
