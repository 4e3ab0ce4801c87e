/* SPDX-License-Identifier: MIT */
/* The C library's calls that make, connect, bind, listen on, copy and close
 * sockets, as libssa provides them: on a TLS socket they become control
 * requests (ctl_requests.h); on any other descriptor they are the C
 * library's own. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../include/ssa/in_tls.h"
#include "ctl_requests.h"
#include "fd_table.h"
#include "ktls_sock.h"
#include "libssa.h"
#include "real.h"

/*
 * An address given to connect() or bind() on a TLS socket, checked as the
 * kernel checks it for TCP; *exact receives its size for the family.
 * @retval 0, EFAULT, EINVAL (too short) or EAFNOSUPPORT (other family)
 */
static int check_addr(const struct sockaddr *sa, socklen_t len, int domain, socklen_t *exact)
{
	if (!sa)
		return EFAULT;
	if (len < sizeof(sa_family_t))
		return EINVAL;
	if (sa->sa_family != domain)
		return EAFNOSUPPORT;
	*exact = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
					    sizeof(struct sockaddr_in6);
	return len < *exact ? EINVAL : 0;
}

EXPORT int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	ssa_real_init();
	if (protocol != IPPROTO_TLS)
		return ssa_real.socket(domain, type, protocol);
	if (domain != AF_INET && domain != AF_INET6)
		return ssa_fail(EAFNOSUPPORT);
	if (base != SOCK_STREAM)
		return ssa_fail(EPROTONOSUPPORT);
	return ssa_req_socket(domain, type);
}

/**
 * connect() again on a socket whose non-blocking connect was started: as
 * TCP, EALREADY while in progress; the first call after the handshake ended
 * reports its outcome (0 or the error), later ones EISCONN.
 * @return 0, or -1 with errno
 */
static int connect_again(int fd, struct ssa_fd_info *info)
{
	struct ssa_fd_info now;

	if (ssa_fd_lookup(fd, &now) != 0) {
		/* Released: the connect failed; report why (as SO_ERROR). */
		int soerr = 0;
		socklen_t sl = sizeof soerr;

		info->connecting = false;
		ssa_fd_put(fd, info);
		if (ssa_req_getopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || !soerr)
			soerr = ECONNABORTED;
		return ssa_fail(soerr);
	}
	if (!now.connected)
		return ssa_fail(EALREADY);
	now.dev = info->dev;
	now.ino = info->ino;
	now.connecting = false;
	ssa_fd_put(fd, &now);
	return 0;
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct ssa_fd_info info;
	socklen_t alen;
	int rc;

	ssa_real_init();
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false))
		return ssa_real.connect(fd, sa, len);
	if ((rc = check_addr(sa, len, info.domain, &alen)) != 0)
		return ssa_fail(rc);
	if (info.connecting)
		return connect_again(fd, &info);
	if (info.connected)
		return ssa_fail(EISCONN);
	return ssa_req_connect(fd, &info, sa, alen);
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct ssa_fd_info info;
	socklen_t alen;
	int rc;

	ssa_real_init();
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false))
		return ssa_real.bind(fd, sa, len);
	if ((rc = check_addr(sa, len, info.domain, &alen)) != 0)
		return ssa_fail(rc);
	rc = ssa_req_bind(fd, sa, alen, &info);
	if (rc)
		return ssa_fail(rc);
	info.bound = true;
	ssa_fd_put(fd, &info);
	return 0;
}

EXPORT int listen(int fd, int backlog)
{
	struct ssa_fd_info info;
	int rc;

	ssa_real_init();
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false))
		return ssa_real.listen(fd, backlog);
	rc = ssa_req_listen(fd, backlog, &info);
	if (rc)
		return ssa_fail(rc);
	info.bound = true;
	info.listening = true;
	ssa_fd_put(fd, &info);
	return 0;
}

EXPORT int close(int fd)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (ssa_ktls_fd(fd, &info) && !info.ktls_notified && !info.ktls_shared &&
	    !ssa_fd_ktls_others(fd, info.dev, info.ino) && !ssa_ktls_linger0(fd))
		ssa_ktls_close_notify(fd, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	if (ssa_fd_maybe(fd)) {
		/* A copy libssa did not see made (fcntl(F_DUPFD), SCM_RIGHTS)
		 * may connect it yet: what is held goes to ssad first. */
		ssa_req_flush(fd);
		ssa_fd_forget(fd);
	}
	return ssa_real.close(fd);
}

EXPORT int shutdown(int fd, int how)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if ((how == SHUT_WR || how == SHUT_RDWR) && ssa_ktls_fd(fd, &info) && !info.ktls_notified) {
		ssa_ktls_close_notify(fd, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
		info.ktls_notified = true;
		ssa_fd_put(fd, &info);
	}
	return ssa_real.shutdown(fd, how);
}

/** Copies of a TLS socket are TLS sockets too: record to as from is.
 * @return to */
static int copied(int from, int to)
{
	struct ssa_fd_info info;

	if (to >= 0 && ssa_fd_maybe(to))
		ssa_fd_forget(to);
	if (to >= 0 && ssa_fd_maybe(from)) {
		/* Both copies must see the same socket: nothing held in one. */
		ssa_req_flush(from);
		if (ssa_fd_get(from, &info, false)) {
			/* Two descriptors: what one does, the other's entry
			 * does not see; neither may hold options any more. */
			info.sole = false;
			ssa_fd_put(from, &info);
			ssa_fd_put(to, &info);
		}
	}
	return to;
}

EXPORT int dup(int fd)
{
	ssa_real_init();
	return copied(fd, ssa_real.dup(fd));
}

EXPORT int dup2(int fd, int to)
{
	ssa_real_init();
	return fd == to ? ssa_real.dup2(fd, to) : copied(fd, ssa_real.dup2(fd, to));
}

EXPORT int dup3(int fd, int to, int flags)
{
	ssa_real_init();
	return copied(fd, ssa_real.dup3(fd, to, flags));
}
