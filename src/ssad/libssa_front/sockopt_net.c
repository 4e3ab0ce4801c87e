/* SPDX-License-Identifier: MIT */
/* Options of the network socket that applications may use through a TLS
 * socket (sockopt.h): a whitelist, applied to the connection's TCP socket. */
#include "sockopt.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"

/** The longest SO_LINGER time kept (s): no overflow of HZ * seconds in 32
 * bits for HZ up to 1000. ssad turns any linger time off before it closes
 * (ssa_net_close()); the value matters for a socket handed to the
 * application (kernel TLS) and for what getsockopt() reads back. */
#define SSA_LINGER_MAX_S 86400

/**
 * A whitelist: ssad may hold privileges (CAP_NET_ADMIN, ...) that its
 * callers lack, and must not lend them (SO_MARK, SO_BINDTODEVICE, high
 * SO_PRIORITY, restricted congestion controls are not here).
 */
static bool net_option(int level, int name, bool get)
{
	switch (level) {
	case SOL_SOCKET:
		return name == SO_KEEPALIVE || name == SO_LINGER || name == SO_REUSEADDR ||
		       name == SO_REUSEPORT || name == SO_RCVBUF || name == SO_SNDBUF ||
		       name == SO_OOBINLINE || name == SO_PRIORITY;
	case IPPROTO_TCP:
		return name == TCP_NODELAY || name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
		       name == TCP_KEEPCNT || name == TCP_USER_TIMEOUT || name == TCP_QUICKACK ||
		       name == TCP_NOTSENT_LOWAT || name == TCP_MAXSEG || name == TCP_CORK ||
		       name == TCP_LINGER2 || name == TCP_SYNCNT || name == TCP_DEFER_ACCEPT ||
		       (get && (name == TCP_INFO || name == TCP_CONGESTION));
	case IPPROTO_IP:
		return name == IP_TOS || name == IP_TTL;
	case IPPROTO_IPV6:
		return name == IPV6_TCLASS || name == IPV6_UNICAST_HOPS || name == IPV6_V6ONLY;
	default:
		return false;
	}
}

int ssa_sockopt_net_set(struct ssa_conn *c, int level, int name, const void *val, size_t len)
{
	int err;

	if (!net_option(level, name, false))
		return ENOPROTOOPT;
	if (level == SOL_SOCKET && name == SO_PRIORITY) {
		int v;

		if (len != sizeof v)
			return EINVAL;
		memcpy(&v, val, sizeof v);
		if (v < 0 || v > 6)
			return EPERM; /* needs CAP_NET_ADMIN: not lent */
	}
	if (c->net.fd < 0 && (err = ssa_conn_net_socket(c)) != 0)
		return err == EINVAL ? ENOTCONN : err;
	if (level == SOL_SOCKET && name == SO_LINGER && len >= sizeof(struct linger)) {
		struct linger l;

		/* A negative time is an unlimited linger, and a very large one
		 * overflows the kernel's clock ticks on some kernels (read
		 * back as 0, like a reset). Longer than a day is a day. */
		memcpy(&l, val, sizeof l);
		if (l.l_onoff && (l.l_linger < 0 || l.l_linger > SSA_LINGER_MAX_S)) {
			l.l_linger = SSA_LINGER_MAX_S;
			return setsockopt(c->net.fd, level, name, &l, sizeof l) == 0 ? 0 : errno;
		}
	}
	if (level == IPPROTO_TCP && name == TCP_NODELAY) {
		int v;

		if (len < sizeof v)
			return EINVAL;
		memcpy(&v, val, sizeof v);
		c->nodelay = v != 0;
		/* Handshakes run with it on; it takes effect once connected. */
		if (c->state != SSA_STATE_ESTABLISHED)
			return 0;
	}
	return setsockopt(c->net.fd, level, name, val, (socklen_t)len) == 0 ? 0 : errno;
}

int ssa_sockopt_net_get(struct ssa_conn *c, int level, int name, void *out, size_t cap,
			size_t *len)
{
	socklen_t l = (socklen_t)cap;
	int err;

	if (level == SOL_SOCKET && name == SO_ERROR) {
		/* The pending error of a failed connect (or a broken
		 * connection), reported once, as the kernel does. */
		int v = c->soerr_taken ? 0 : c->state == SSA_STATE_FAILED || c->net_dead ?
					    c->error_errno : 0;

		if (v)
			c->soerr_taken = true;
		return ssa_sockopt_put(out, cap, len, &v, sizeof v);
	}
	if (!net_option(level, name, true))
		return ENOPROTOOPT;
	if (level == IPPROTO_TCP && name == TCP_NODELAY && c->state != SSA_STATE_ESTABLISHED)
		return ssa_sockopt_put(out, cap, len, &c->nodelay, sizeof c->nodelay);
	if (c->net.fd < 0 && (err = ssa_conn_net_socket(c)) != 0)
		return err == EINVAL ? ENOTCONN : err;
	if (getsockopt(c->net.fd, level, name, out, &l) != 0)
		return errno;
	*len = l;
	return 0;
}
