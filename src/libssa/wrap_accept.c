/* SPDX-License-Identifier: MIT */
/* The C library's accept calls as libssa provides them: on a TLS
 * listener, a connection is one accept record from ssad carrying the
 * connection's socket (wire.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../proto/wire.h"

#include "../../include/ssa/in_tls.h"
#include "ctl_requests.h"
#include "fd_table.h"
#include "ktls_sock.h"
#include "libssa.h"
#include "real.h"

/** The first descriptor passed with msg; the others are closed.
 * @return it, or -1 if none came */
static int first_passed_fd(struct msghdr *msg)
{
	int nfd = -1;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0, k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof f);
			if (nfd < 0)
				nfd = f;
			else
				ssa_real.close(f);
		}
	}
	return nfd;
}

/**
 * Read one accept record and the connection's socket from a listener's
 * stream, skipping anything that is not a record from ssad.
 * @return the socket (*rec and *st filled), or -1 with errno: as accept(2)
 *         for EAGAIN, EINTR..., EINVAL once ssad let go of the listener
 */
static int take_record(int fd, struct ssa_accept_rec *rec, struct stat *st)
{
	uint8_t buf[SSA_ACCEPT_REC_LEN];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int nfd;
	ssize_t n;

	for (;;) {
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof ctl.b;
		n = ssa_real.recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
		if (n < 0)
			return -1; /* EAGAIN, EINTR...: as accept(2) */
		nfd = first_passed_fd(&msg);
		if (n == 0 && nfd < 0)
			/* The daemon let go of the listener (it died): the socket
			 * no longer listens, as accept(2) says with EINVAL. Not
			 * ECONNABORTED: servers retry that one at once, forever. */
			return ssa_fail(EINVAL);
		if (ssa_accept_rec_decode(buf, (size_t)n, rec) == 0 && nfd >= 0 &&
		    fstat(nfd, st) == 0 && S_ISSOCK(st->st_mode))
			return nfd;
		/* Not a record from ssad: drop it and wait for the next. */
		if (nfd >= 0)
			ssa_real.close(nfd);
	}
}

/** One accept record (and the connection's socket) from the listener:
 * accept4(2) on a TLS listener. @return the socket, or -1 with errno */
static int tls_accept(int fd, struct sockaddr *sa, socklen_t *salen, int flags)
{
	struct ssa_accept_rec rec;
	struct ssa_fd_info info;
	struct stat st;
	int nfd, rc;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return ssa_fail(EINVAL);
	if (sa && !salen)
		return ssa_fail(EFAULT);
	nfd = take_record(fd, &rec, &st);
	if (nfd < 0)
		return -1;
	if ((!(flags & SOCK_CLOEXEC) && fcntl(nfd, F_SETFD, 0) != 0) ||
	    ((flags & SOCK_NONBLOCK) && fcntl(nfd, F_SETFL, O_NONBLOCK) != 0) ||
	    /* a kernel-TLS socket comes non-blocking from ssad */
	    ((rec.flags & SSA_ACCEPT_KTLS) && !(flags & SOCK_NONBLOCK) &&
	     fcntl(nfd, F_SETFL, 0) != 0)) {
		rc = errno;
		ssa_real.close(nfd);
		return ssa_fail(rc);
	}
	memset(&info, 0, sizeof info);
	info.dev = st.st_dev;
	info.ino = st.st_ino;
	info.id = rec.id;
	info.instance = rec.instance;
	info.connected = true;
	info.bound = true;
	info.local = rec.local;
	info.local_len = rec.local_len;
	info.peer = rec.peer;
	info.peer_len = rec.peer_len;
	info.domain = rec.peer.ss_family;
	info.ktls = (rec.flags & SSA_ACCEPT_KTLS) != 0;
	if ((rc = ssa_fd_put(nfd, &info)) != 0) {
		ssa_real.close(nfd);
		return ssa_fail(rc);
	}
	if (sa) {
		memcpy(sa, &rec.peer, *salen < rec.peer_len ? *salen : rec.peer_len);
		*salen = rec.peer_len;
	}
	return nfd;
}

EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *salen, int flags)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false)) {
		int r = ssa_real.accept4(fd, sa, salen, flags);

		/* A TLS listener this process does not know yet (inherited over
		 * exec): a stream socket that is not listening says EINVAL. */
		if (r >= 0 || errno != EINVAL || !ssa_fd_get(fd, &info, true))
			return r;
	}
	if (!info.listening)
		return ssa_fail(EINVAL);
	return tls_accept(fd, sa, salen, flags);
}

EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *salen)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false)) {
		int r = ssa_real.accept(fd, sa, salen);

		/* A TLS listener this process does not know yet (inherited over
		 * exec): a stream socket that is not listening says EINVAL. */
		if (r >= 0 || errno != EINVAL || !ssa_fd_get(fd, &info, true))
			return r;
	}
	if (!info.listening)
		return ssa_fail(EINVAL);
	return tls_accept(fd, sa, salen, 0);
}
