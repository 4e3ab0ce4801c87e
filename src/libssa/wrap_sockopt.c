/* SPDX-License-Identifier: MIT */
/* The C library's option and address calls (setsockopt, getsockopt,
 * getsockname, getpeername) as libssa provides them: a TLS socket answers
 * as a TLS socket, its options acting in ssad (ctl_requests.h) or on the
 * application's own end of the stream. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "../../include/ssa/in_tls.h"
#include "../common/ktls_compat.h"
#include "ctl_requests.h"
#include "fd_table.h"
#include "ktls_sock.h"
#include "libssa.h"
#include "real.h"

/** Options that belong to the application's own end of the stream: they
 * time or size its reads and writes. */
static bool local_option(int level, int name)
{
	return level == SOL_SOCKET &&
	       (name == SO_RCVTIMEO || name == SO_SNDTIMEO || name == SO_RCVLOWAT ||
		name == SO_SNDLOWAT || name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW ||
		name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD);
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (level == IPPROTO_TLS) {
		if (!ssa_fd_get(fd, &info, true))
			return ssa_real.setsockopt(fd, level, name, val, len);
		return ssa_req_setopt(fd, level, name, val, len);
	}
	if (ssa_fd_maybe(fd) && ssa_fd_get(fd, &info, false) && info.ktls &&
	    (level == SOL_TLS || (level == IPPROTO_TCP && name == TCP_ULP)))
		return ssa_fail(ENOPROTOOPT); /* the session is ssad's (see "Kernel TLS") */
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false) || local_option(level, name) ||
	    info.ktls)
		return ssa_real.setsockopt(fd, level, name, val, len);
	/* Buffer sizes matter on both sides of the local stream. */
	if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF) &&
	    ssa_real.setsockopt(fd, level, name, val, len) != 0)
		return -1;
	/* The rest acts on the network socket, in ssad. */
	return ssa_req_setopt(fd, level, name, val, len);
}

/** Return the int v as an option value. @return 0, or -1 with EINVAL */
static int put_int(void *val, socklen_t *len, int v)
{
	if (!len || !val || *len < sizeof v)
		return ssa_fail(EINVAL);
	memcpy(val, &v, sizeof v);
	*len = sizeof v;
	return 0;
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (level == IPPROTO_TLS) {
		if (!ssa_fd_get(fd, &info, true))
			return ssa_real.getsockopt(fd, level, name, val, len);
		return ssa_req_getopt(fd, level, name, val, len);
	}
	if (local_option(level, name))
		return ssa_real.getsockopt(fd, level, name, val, len);
	if (!(ssa_fd_maybe(fd) ? ssa_fd_get(fd, &info, false) :
	      /* what a socket is: worth a look-up for an inherited one */
	      level == SOL_SOCKET && (name == SO_PROTOCOL || name == SO_DOMAIN ||
				      name == SO_TYPE || name == SO_ACCEPTCONN) &&
	      ssa_fd_worth_discovery(fd) && ssa_fd_get(fd, &info, true)))
		return ssa_real.getsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET) {
		/* The socket's identity is that of a TLS socket, not of its
		 * local transport. */
		switch (name) {
		case SO_PROTOCOL:
			return put_int(val, len, IPPROTO_TLS);
		case SO_DOMAIN:
			return put_int(val, len, info.domain);
		case SO_TYPE:
			return put_int(val, len, SOCK_STREAM);
		case SO_ACCEPTCONN:
			return put_int(val, len, info.listening);
		case SO_RCVBUF:
		case SO_SNDBUF:
			/* What the application set is on its own end. */
			return ssa_real.getsockopt(fd, level, name, val, len);
		case SO_PEERCRED: {
			/* A TCP socket has no peer process: never show ssad's. */
			struct ucred none = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };

			if (!len || !val || *len < sizeof none)
				return ssa_fail(EINVAL);
			memcpy(val, &none, sizeof none);
			*len = sizeof none;
			return 0;
		}
		default:
			break;
		}
	}
	if (info.ktls && level == SOL_TLS)
		return ssa_fail(ENOPROTOOPT); /* TLS_TX/TLS_RX would show the session keys */
	if (info.ktls)
		return ssa_real.getsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_ERROR) {
		/* The local end may hold a pending error of its own (a released
		 * socket): reading SO_ERROR clears it, as on TCP. */
		int local = 0;
		socklen_t ll = sizeof local;

		(void)ssa_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &local, &ll);
	}
	/* SO_ERROR, TCP_INFO, TCP_NODELAY, ...: the network socket's, in ssad. */
	return ssa_req_getopt(fd, level, name, val, len);
}

/** Copy an address with the truncation rule of getsockname(2).
 * @return 0, or -1 with EFAULT */
static int give_addr(const struct sockaddr_storage *ss, socklen_t sl, struct sockaddr *sa,
		     socklen_t *len)
{
	if (!len)
		return ssa_fail(EFAULT);
	if (*len && !sa)
		return ssa_fail(EFAULT);
	memcpy(sa, ss, *len < sl ? *len : sl);
	*len = sl;
	return 0;
}

/** A connect that completed in the background: ask ssad for the addresses. */
static void refresh(int fd, struct ssa_fd_info *info)
{
	struct ssa_fd_info fresh;

	if (ssa_fd_lookup(fd, &fresh) == 0 && fresh.connected) {
		fresh.dev = info->dev;
		fresh.ino = info->ino;
		fresh.connecting = info->connecting; /* connect() still owes its 0 */
		*info = fresh;
		ssa_fd_put(fd, info);
	}
}

EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct ssa_fd_info info;
	bool tls;

	ssa_real_init();
	tls = ssa_fd_maybe(fd) ? ssa_fd_get(fd, &info, true) :
				 ssa_fd_worth_discovery(fd) && ssa_fd_get(fd, &info, true);
	if (!tls)
		return ssa_real.getsockname(fd, sa, len);
	if (!info.connected)
		refresh(fd, &info);
	if (!info.connected && !info.bound) {
		/* Not bound yet: the unspecified address, as for TCP. */
		struct sockaddr_storage any = { .ss_family = (sa_family_t)info.domain };

		return give_addr(&any, info.domain == AF_INET ? sizeof(struct sockaddr_in) :
							sizeof(struct sockaddr_in6), sa, len);
	}
	return give_addr(&info.local, info.local_len, sa, len);
}

EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct ssa_fd_info info;
	bool tls;

	ssa_real_init();
	tls = ssa_fd_maybe(fd) ? ssa_fd_get(fd, &info, true) :
				 ssa_fd_worth_discovery(fd) && ssa_fd_get(fd, &info, true);
	if (!tls)
		return ssa_real.getpeername(fd, sa, len);
	if (!info.connected)
		refresh(fd, &info);
	if (!info.connected)
		return ssa_fail(ENOTCONN);
	return give_addr(&info.peer, info.peer_len, sa, len);
}
