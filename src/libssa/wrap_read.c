/* SPDX-License-Identifier: MIT */
/* The C library's reading calls (read, recv, recvfrom, recvmsg, readv) as
 * libssa provides them: a kernel-TLS socket reads application data only
 * (ktls_sock.h); the end of a TLS stream that is not a clean close_notify
 * is reported as the error it ended with. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../../include/ssa/in_tls.h"
#include "ctl_requests.h"
#include "fd_table.h"
#include "ktls_sock.h"
#include "libssa.h"
#include "real.h"

/**
 * ssad ends the application's stream in one of two ways: after the peer's
 * close_notify it shuts down only its writing side (the stream stays open:
 * no POLLHUP here), and after anything else (reset, truncation, a TLS
 * error, its own death) it closes its end. So an end that shows no POLLHUP
 * is clean and needs no question to ssad. POLLHUP is also seen when this
 * side shut down writing too, or after a clean end once both directions
 * finished: then ssad is asked, as before.
 */
static bool clean_end(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && !(p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/**
 * Reads. A TLS stream that ends without close_notify (reset, truncation) or
 * because the daemon died must not look like a clean end: at end-of-stream
 * on a TLS socket, ask the daemon how the connection ended. Other
 * descriptors pay one table look-up, and only when a read returns 0.
 */
static ssize_t checked_eof(int fd, ssize_t n, size_t asked)
{
	struct ssa_fd_info info;
	int err, saved = errno;

	/* End of stream, or the local end's own reset (ssad released the
	 * socket with data still queued): ask how the connection ended. */
	if (!(n == 0 || (n < 0 && saved == ECONNRESET)) || asked == 0) {
		errno = saved;
		return n;
	}
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false)) {
		/* Maybe a TLS socket this process never saw made (passed with
		 * SCM_RIGHTS, inherited over exec): only unnamed unix sockets
		 * are worth asking about, and only at their end. */
		if (n == 0 && ssa_fd_worth_discovery(fd) && (err = ssa_fd_eof_error(fd)) != 0) {
			errno = err;
			return -1;
		}
		errno = saved;
		return n;
	}
	if (n < 0) {
		err = ssa_fd_eof_error(fd);
		errno = err ? err : saved;
		return -1;
	}
	if (!info.ktls && clean_end(fd))
		return 0;
	err = ssa_fd_eof_error(fd);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/** The bytes an iovec array asks for. */
static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;

	for (int i = 0; iov && i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (ssa_ktls_fd(fd, &info)) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };

		return ssa_ktls_read(fd, &info, &iov, 1, 0, NULL);
	}
	return checked_eof(fd, ssa_real.read(fd, buf, len), len);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (ssa_ktls_fd(fd, &info)) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };

		return ssa_ktls_read(fd, &info, &iov, 1, flags, NULL);
	}
	return checked_eof(fd, ssa_real.recv(fd, buf, len, flags), len);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
			socklen_t *salen)
{
	struct ssa_fd_info info;
	ssize_t n;

	ssa_real_init();
	if (ssa_ktls_fd(fd, &info)) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };

		n = ssa_ktls_read(fd, &info, &iov, 1, flags, NULL);
		if (n >= 0 && sa && salen)
			*salen = 0;
		return n;
	}
	n = ssa_real.recvfrom(fd, buf, len, flags, sa, salen);
	if (n >= 0 && sa && salen && ssa_fd_maybe(fd))
		*salen = 0; /* a stream socket has no per-datagram address */
	return checked_eof(fd, n, len);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct ssa_fd_info info;
	ssize_t n;

	ssa_real_init();
	if (msg && ssa_ktls_fd(fd, &info))
		return ssa_ktls_read(fd, &info, msg->msg_iov, (int)msg->msg_iovlen, flags, msg);
	n = ssa_real.recvmsg(fd, msg, flags);
	return checked_eof(fd, n, msg ? iov_total(msg->msg_iov, (int)msg->msg_iovlen) : 0);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (cnt >= 0 && ssa_ktls_fd(fd, &info))
		return ssa_ktls_read(fd, &info, iov, cnt, 0, NULL);
	return checked_eof(fd, ssa_real.readv(fd, iov, cnt), iov_total(iov, cnt));
}
