/* SPDX-License-Identifier: MIT */
/* The proxy path: records carried between the application's stream and the
 * TLS session of an established connection (proxy.h). */
#include "proxy.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../proto/wire.h"
#include "../caller_fds.h"
#include "../daemon.h"
#include "../engine/tls_context.h"
#include "conn.h"

/* Proxy buffers: four full records per system call on the application's
 * stream; allocated only while they hold data. */
#define SSA_BUF 65536

/** What one step of the pump did. */
enum step {
	STEP_IDLE = 0,  /**< nothing moved */
	STEP_MOVED = 1, /**< something moved: try again */
	STEP_GONE = 2,  /**< the connection failed or ended: c may be gone, stop */
};

void ssa_proxy_interest(const struct ssa_conn *c, uint32_t *app, uint32_t *net)
{
	if (!c->app_eof && !c->up_len)
		*app |= EPOLLIN;
	if (c->down_len)
		*app |= EPOLLOUT;
	if ((!c->net_eof && !c->down_len) || c->write_want == SSL_ERROR_WANT_READ)
		*net |= c->read_want == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN;
	if (c->write_want == SSL_ERROR_WANT_WRITE)
		*net |= EPOLLOUT;
}

/**
 * The network side failed after the handshake (reset, truncation, a TLS
 * error): record err and reason, close the network socket. What was already
 * received is still delivered, then the application reads end-of-stream,
 * which the front end turns into the recorded errno (ECONNRESET for a reset
 * or a missing close_notify) because the record stays until the application
 * closes.
 */
static void established_failed(struct ssa_conn *c, int err, const char *reason)
{
	char peer[64];

	/* Peers that skip close_notify are common (and the application is told);
	 * TLS errors are worth the administrator's attention. */
	if (err == ECONNRESET)
		log_debug("connection with %s (pid %d) broken: %s",
			  ssa_conn_peer_str(c, peer, sizeof peer), (int)c->pid, reason);
	else
		log_limited(SSA_LOG_INFO, c->uid, 50, 20, "connection with %s (program %s pid %d) broken: %s",
			 ssa_conn_peer_str(c, peer, sizeof peer), c->program ? c->program : "?",
			 (int)c->pid, reason);
	snprintf(c->opts.error, sizeof c->opts.error, "%s", reason);
	c->error_errno = err;
	c->net_dead = true;
	ssa_watch_del(&c->d->loop, &c->net);
	ssa_net_close(c->net.fd);
	c->net.fd = -1;
	c->up_len = 0;
}

/**
 * Which errno a failed SSL_read/SSL_write (SSL_get_error() e) maps to, and
 * why, in why.
 * @retval ETIMEDOUT, EHOSTUNREACH the peer was lost (keepalive, TCP_USER_TIMEOUT)
 * @retval ECONNRESET the peer closed without close_notify
 * @retval EPROTO a TLS failure
 */
static int ssl_fail_reason(struct ssa_conn *c, int e, char *why, size_t len)
{
	unsigned long err = ERR_peek_error();
	int sys = errno;

	if (e == SSL_ERROR_SYSCALL && (sys == ETIMEDOUT || sys == EHOSTUNREACH)) {
		/* keepalive or TCP_USER_TIMEOUT gave up on the peer */
		snprintf(why, len, "connection to the peer lost: %s", strerror(sys));
		ERR_clear_error();
		return sys;
	}
	if (e == SSL_ERROR_SYSCALL || (e == SSL_ERROR_SSL && ERR_GET_REASON(err) ==
				       SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		snprintf(why, len, "peer closed the connection without close_notify (%s)",
			 sys ? strerror(sys) : "truncated");
		ERR_clear_error();
		return ECONNRESET;
	}
	ssa_tls_failure_reason(c->ssl, e, why, len);
	return EPROTO;
}

/** After a network failure: hand over what arrived, then release. */
static void pump_dead(struct ssa_conn *c)
{
	if (c->down_len && !c->app_noread) {
		ssize_t n = send(c->app.fd, c->down + c->down_off, c->down_len, MSG_NOSIGNAL);

		if (n > 0) {
			c->down_off += (size_t)n;
			c->down_len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN) {
			c->app_noread = true;
		}
	}
	if (c->app_noread)
		c->down_len = 0;
	/* Everything received is handed over: release the socket. The
	 * application then reads the end (turned into the error by the front
	 * end, from the tomb) and its writes fail with EPIPE, as after a TCP
	 * reset. */
	if (!c->down_len || c->app_gone) {
		ssa_conn_destroy(c);
		return;
	}
	/* Room in the application's end, or its close (EPOLLHUP, always
	 * reported), is all that matters now. Not its half-close: nothing
	 * reads its end any more, so its RDHUP would be reported on every
	 * wait (the loop spun until the application read or closed). */
	ssa_watch_set(&c->d->loop, &c->app, EPOLLOUT);
}

/** The network side failed (err, reason): hand over what arrived, release.
 * @return STEP_GONE */
static enum step broken(struct ssa_conn *c, int err, const char *reason)
{
	established_failed(c, err, reason);
	pump_dead(c);
	return STEP_GONE;
}

/** A TLS call failed with SSL_get_error() e: the network side is broken.
 * @return STEP_GONE */
static enum step tls_broken(struct ssa_conn *c, int e)
{
	char why[SSA_ERROR_MAX];
	int err = ssl_fail_reason(c, e, why, sizeof why);

	return broken(c, err, why);
}

/** Whether the application closed with SO_LINGER {1, 0} (on the network
 * socket, where ssad applied it). */
static bool linger0(const struct ssa_conn *c)
{
	struct linger l;
	socklen_t sl = sizeof l;

	return c->net.fd >= 0 && getsockopt(c->net.fd, SOL_SOCKET, SO_LINGER, &l, &sl) == 0 &&
	       l.l_onoff && l.l_linger == 0;
}

/**
 * Network -> buffer: read records while full ones come (bulk); a short one
 * (interactive) goes to the application at once. The peer's close_notify
 * sets net_eof.
 */
static enum step net_read(struct ssa_conn *c)
{
	enum step done = STEP_IDLE;
	int r, e;

	if (c->down_len || c->net_eof || !(c->net_ready || SSL_has_pending(c->ssl)))
		return STEP_IDLE;
	if (!c->down && !(c->down = malloc(SSA_BUF)))
		return broken(c, ENOMEM, "out of memory");
	c->down_off = 0;
	do {
		ERR_clear_error();
		errno = 0;
		r = SSL_read(c->ssl, c->down + c->down_len, (int)(SSA_BUF - c->down_len));
		if (r <= 0)
			break;
		c->down_len += (size_t)r;
		c->read_want = 0;
		c->bytes_down += (size_t)r;
		done = STEP_MOVED;
	} while (c->down_len < SSA_BUF && (r >= SSL3_RT_MAX_PLAIN_LENGTH || SSL_has_pending(c->ssl)));
	if (r > 0)
		return done;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->read_want = e;
		c->net_ready = false;
		return done;
	}
	if (e == SSL_ERROR_ZERO_RETURN) {
		c->net_eof = true;
		return STEP_MOVED;
	}
	/* What arrived before the failure is handed over first. */
	return tls_broken(c, e);
}

/** Buffer -> application; dropped when the application stopped reading. */
static enum step app_write(struct ssa_conn *c)
{
	ssize_t n;

	if (!c->down_len)
		return STEP_IDLE;
	if (c->app_noread) {
		c->down_len = 0;
		return STEP_IDLE;
	}
	n = send(c->app.fd, c->down + c->down_off, c->down_len, MSG_NOSIGNAL);
	if (n > 0) {
		c->down_off += (size_t)n;
		c->down_len -= (size_t)n;
		return STEP_MOVED;
	}
	if (n < 0 && errno != EAGAIN) {
		/* EPIPE: the application shut down reading. */
		c->app_noread = true;
		c->down_len = 0;
		return STEP_MOVED;
	}
	return STEP_IDLE;
}

/* recv() of the application's stream. Descriptors the application sent
 * with its bytes (SCM_RIGHTS; a kernel before 6.16 cannot refuse them,
 * ssa_conn_stream_pair()) are taken in rather than left to recv(), which
 * would release them here, and let go of off the loop: the last reference
 * to a lingering TCP socket waits in its release (caller_fds.h). */
static ssize_t app_recv(int fd, uid_t uid, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(SSA_WIRE_SCM_MAX_FD * sizeof(int))];
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			    .msg_controllen = sizeof ctl.b };
	ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);

	if (n < 0 || m.msg_controllen == 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof f);
			ssa_caller_fd_close(uid, f);
		}
	}
	return n;
}

/** Application -> buffer; the connect gate's bytes come first and are not
 * application data. The application's end of writing sets app_eof. */
static enum step app_read(struct ssa_conn *c)
{
	ssize_t n;

	/* Once the application has gone its end is no longer watched (only
	 * what it wrote before and the end remain): always read. */
	if (c->up_len || c->app_eof || !(c->app_ready || c->app_gone))
		return STEP_IDLE;
	if (!c->up && !(c->up = malloc(SSA_BUF)))
		return broken(c, ENOMEM, "out of memory");
	n = app_recv(c->app.fd, c->uid, c->up, SSA_BUF);
	/* Less than asked: the stream was drained; what comes next, epoll
	 * (level-triggered) reports, so no read to find EAGAIN. */
	if (n > 0 && (size_t)n < SSA_BUF)
		c->app_ready = false;
	if (n > 0 && c->gate_left) {
		size_t g = (size_t)n < c->gate_left ? (size_t)n : c->gate_left;

		c->gate_left -= g;
		memmove(c->up, c->up + g, (size_t)n - g);
		n -= (ssize_t)g;
		if (n == 0)
			return STEP_MOVED;
	}
	if (n > 0) {
		c->up_off = 0;
		c->up_len = (size_t)n;
		return STEP_MOVED;
	}
	if (n == 0 || errno != EAGAIN) {
		c->app_eof = true;
		return STEP_MOVED;
	}
	c->app_ready = false;
	return STEP_IDLE;
}

/** Buffer -> network, as TLS records. */
static enum step net_write(struct ssa_conn *c)
{
	int r, e;

	if (!c->up_len)
		return STEP_IDLE;
	ERR_clear_error();
	r = SSL_write(c->ssl, c->up + c->up_off, (int)c->up_len);
	if (r > 0) {
		c->up_off += (size_t)r;
		c->up_len -= (size_t)r;
		c->bytes_up += (size_t)r;
		c->write_want = 0;
		return STEP_MOVED;
	}
	e = SSL_get_error(c->ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return tls_broken(c, e);
	c->write_want = e;
	return STEP_IDLE;
}

/** The application finished writing: send close_notify (a half-close). */
static enum step send_notify(struct ssa_conn *c)
{
	int r, e;

	if (!c->app_eof || c->up_len || c->notify_sent)
		return STEP_IDLE;
	ERR_clear_error();
	r = SSL_shutdown(c->ssl);
	if (r >= 0) {
		c->notify_sent = true;
		shutdown(c->net.fd, SHUT_WR);
		return STEP_MOVED;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
		c->write_want = e;
	} else {
		ERR_clear_error();
		c->notify_sent = true; /* the peer is gone already */
	}
	return STEP_IDLE;
}

typedef enum step step_fn(struct ssa_conn *c);

/** One round of every direction; STEP_GONE as soon as c is gone. */
static enum step pump_round(struct ssa_conn *c)
{
	static step_fn *const steps[] = { net_read, app_write, app_read, net_write };
	enum step moved = STEP_IDLE;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		enum step s = steps[i](c);

		if (s == STEP_GONE)
			return STEP_GONE;
		if (s == STEP_MOVED)
			moved = STEP_MOVED;
	}
	/* The application closed with SO_LINGER {1, 0}: a reset, as TCP
	 * would send, and no close_notify. */
	if (c->app_gone && c->app_eof && !c->up_len && !c->notify_sent && linger0(c)) {
		ssa_conn_destroy(c);
		return STEP_GONE;
	}
	return send_notify(c) == STEP_MOVED ? STEP_MOVED : moved;
}

/** When both directions are finished, release the connection; when the
 * peer finished writing, the application reads EOF.
 * @retval true c is gone */
static bool pump_finish(struct ssa_conn *c)
{
	/* Both directions finished. */
	if (c->net_eof && !c->down_len && (c->app_eof || c->app_gone) && c->notify_sent) {
		ssa_conn_destroy(c);
		return true;
	}
	if (c->app_gone && c->app_eof && !c->up_len && c->notify_sent) {
		/* Nobody reads any more: done. */
		ssa_conn_destroy(c);
		return true;
	}
	/* The peer finished writing: the application reads EOF. */
	if (c->net_eof && !c->down_len && !c->app_gone) {
		if (c->app_eof) {
			ssa_conn_destroy(c);
			return true;
		}
		if (!c->app_shut) {
			shutdown(c->app.fd, SHUT_WR);
			c->app_shut = true;
		}
	}
	return false;
}

void ssa_proxy_pump(struct ssa_conn *c)
{
	enum step s;

	if (c->net_dead) {
		pump_dead(c);
		return;
	}
	do {
		s = pump_round(c);
		if (s == STEP_GONE)
			return;
	} while (s == STEP_MOVED);
	if (pump_finish(c))
		return;
	/* Free idle buffers: idle connections cost little memory. */
	if (!c->up_len && c->up) {
		free(c->up);
		c->up = NULL;
	}
	if (!c->down_len && c->down) {
		free(c->down);
		c->down = NULL;
	}
	ssa_conn_update_interest(c);
}
