/* SPDX-License-Identifier: MIT */
/* Kernel-TLS sockets as the application sees them (ktls_sock.h). */
#include "ktls_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "real.h"
#include "../common/ktls_compat.h"

/*
 * Kernel TLS. Where the kernel has TLS, ssad may answer a blocking connect,
 * or deliver an accepted connection, with the TCP socket itself, its TLS
 * session keys installed in the kernel (TLS_TX, TLS_RX); libssa puts that
 * socket in place of the application's descriptor (dup3, keeping its
 * O_NONBLOCK and FD_CLOEXEC) and marks it in kernel-TLS mode. Writes then
 * go to the kernel unchanged; reads are interposed to read the record type
 * (TLS_GET_RECORD_TYPE): application data is returned, post-handshake
 * messages (session tickets) are dropped, close_notify is the end of the
 * stream, any other alert or an end without close_notify is ECONNRESET.
 * shutdown(SHUT_WR) and close() send close_notify (an alert record), close()
 * only when no other descriptor of this process holds the socket and no
 * fork shared it (a forked copy may still be in use: then the application
 * ends cleanly with shutdown()); at exit, for the sockets still open (see
 * ktls_at_exit). Options other than IPPROTO_TLS act on the
 * socket directly; IPPROTO_TLS ones still go to ssad, which kept the
 * connection's record; SOL_TLS options (they would show the session keys)
 * and setting TCP_ULP answer ENOPROTOOPT. This is a courtesy of the C
 * library's interface, not a barrier: the process owns the socket, and a
 * direct system call or sendmsg(2) with TLS_SET_RECORD_TYPE reaches the
 * kernel (it can read or spoil only its own session). SSA_KTLS=0 in the
 * environment keeps the proxy path.
 */

bool ssa_ktls_wanted(void)
{
	const char *v = secure_getenv("SSA_KTLS"); /* not in setuid programs */

	return !v || strcmp(v, "0") != 0;
}

/* Put the kernel-TLS socket nfd in place of fd. @retval 0 or errno */
int ssa_ktls_take(int fd, int nfd, struct ssa_fd_info *info)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), rc;
	struct stat st;

	if (fl < 0 || fdfl < 0 ||
	    ssa_real.dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		rc = errno;
		ssa_real.close(nfd);
		return rc;
	}
	ssa_real.close(nfd);
	if (fcntl(fd, F_SETFL, fl & O_NONBLOCK) != 0 || fstat(fd, &st) != 0)
		return errno;
	info->dev = st.st_dev;
	info->ino = st.st_ino;
	info->ktls = true;
	return ssa_fd_put(fd, info);
}

/* Send close_notify on a kernel-TLS socket (an alert record). */
void ssa_ktls_close_notify(int fd, bool nonblock)
{
	unsigned char alert[2] = { 1, 0 }; /* warning, close_notify */
	struct iovec iov = { .iov_base = alert, .iov_len = sizeof alert };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(unsigned char))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof ctl.b };
	struct cmsghdr *cm;
	int saved = errno;

	memset(&ctl, 0, sizeof ctl);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(sizeof(unsigned char));
	*CMSG_DATA(cm) = SSA_TLS_REC_ALERT;
	if (!nonblock) {
		/* Wait for room a little, never for ever: close() and
		 * shutdown() must not hang on a peer that reads nothing. */
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		(void)poll(&p, 1, 1000);
	}
	(void)sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	errno = saved;
}

/* SO_LINGER {1, 0}: the application asks for a reset, not close_notify. */
bool ssa_ktls_linger0(int fd)
{
	struct linger l;
	socklen_t sl = sizeof l;

	return ssa_real.getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &sl) == 0 && l.l_onoff &&
	       l.l_linger == 0;
}

/** Copy up to n bytes (of the have that were read) from the start of an
 * iovec array. @return how many */
static size_t iov_peek(const struct iovec *iov, int cnt, unsigned char *out, size_t n, size_t have)
{
	size_t got = 0;

	for (int i = 0; i < cnt && got < n && got < have; i++) {
		size_t k = iov[i].iov_len;

		if (k > n - got)
			k = n - got;
		if (k > have - got)
			k = have - got;
		memcpy(out + got, iov[i].iov_base, k);
		got += k;
	}
	return got;
}

/** Room for the record type of one record read. */
union rec_ctl {
	struct cmsghdr align;
	char b[CMSG_SPACE(sizeof(unsigned char))];
};

/**
 * Read one record's bytes into iov (recvmsg with the record type).
 * @return bytes read (*type and *typed set), or -1 with errno (EPROTO for a
 *         record that does not decrypt)
 */
static ssize_t recv_record(int fd, const struct iovec *iov, int cnt, int flags,
			   struct msghdr *m, union rec_ctl *ctl, unsigned char *type, bool *typed)
{
	ssize_t n;

	*m = (struct msghdr){ .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt,
			      .msg_control = ctl->b, .msg_controllen = sizeof ctl->b };
	*type = SSA_TLS_REC_APPLICATION_DATA;
	*typed = false;
	n = ssa_real.recvmsg(fd, m, flags);
	if (n < 0) {
		if (errno == EBADMSG) {
			/* a record that does not decrypt: the session is broken */
			ssa_fd_set_error(fd, "kernel TLS: bad record (decryption failed)");
			errno = EPROTO;
		}
		return -1;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_GET_RECORD_TYPE) {
			*type = *CMSG_DATA(cm);
			*typed = true;
		}
	}
	return n;
}

/**
 * An alert record of n bytes was read into iov: the end of the stream.
 * @retval 0 close_notify, the clean end
 * @retval -1 any other alert: errno ECONNRESET, TLS_ERROR says which
 */
static ssize_t read_alert(int fd, struct ssa_fd_info *info, const struct iovec *iov, int cnt,
			  int flags, ssize_t n)
{
	unsigned char alert[2] = { 2, 0 };
	size_t got = iov_peek(iov, cnt, alert, sizeof alert, (size_t)n);
	char why[96];

	if (flags & MSG_PEEK) {
		unsigned char sink[2];

		(void)ssa_real.recv(fd, sink, sizeof sink, flags & ~MSG_PEEK);
	}
	if (got < 2 && ssa_real.recv(fd, alert + got, 2 - got,
				     flags & ~MSG_PEEK) != (ssize_t)(2 - got))
		alert[1] = 255;
	info->ktls_eof = true;
	if (alert[1] == 0) { /* close_notify: the clean end */
		ssa_fd_put(fd, info);
		return 0;
	}
	snprintf(why, sizeof why, "peer sent TLS alert %u (level %u)", alert[1], alert[0]);
	ssa_fd_put(fd, info);
	ssa_fd_set_error(fd, why);
	errno = ECONNRESET;
	return -1;
}

/** Report an error kept for the next read once, then the end, as TCP
 * reports a reset. @return -1 with errno set */
static ssize_t kept_error(int fd, struct ssa_fd_info *info)
{
	int e = info->ktls_err;

	info->ktls_err = 0;
	ssa_fd_put(fd, info);
	errno = e;
	return -1;
}

ssize_t ssa_ktls_read(int fd, struct ssa_fd_info *info, const struct iovec *iov, int cnt,
		      int flags, struct msghdr *umsg)
{
	size_t asked = 0;

	for (int i = 0; i < cnt; i++)
		asked += iov[i].iov_len;
	if (info->ktls_err)
		return kept_error(fd, info);
	if (info->ktls_eof || asked == 0)
		return 0;
	for (;;) {
		union rec_ctl ctl;
		struct msghdr m;
		unsigned char type;
		bool typed;
		ssize_t n = recv_record(fd, iov, cnt, flags, &m, &ctl, &type, &typed);

		if (n < 0)
			return -1;
		if (n == 0 && !typed) {
			/* The TCP stream ended without close_notify: truncation. */
			info->ktls_eof = true;
			ssa_fd_set_error(fd, "peer closed the connection without close_notify");
			ssa_fd_put(fd, info);
			errno = ECONNRESET;
			return -1;
		}
		if (type == SSA_TLS_REC_APPLICATION_DATA) {
			if (n == 0)
				continue; /* an empty record */
			if (umsg) {
				umsg->msg_flags = m.msg_flags & ~MSG_CTRUNC;
				umsg->msg_controllen = 0;
				umsg->msg_namelen = 0;
			}
			return n;
		}
		if (type == SSA_TLS_REC_ALERT)
			return read_alert(fd, info, iov, cnt, flags, n);
		if (type == SSA_TLS_REC_HANDSHAKE || type == SSA_TLS_REC_CHANGE_CIPHER_SPEC) {
			/* session tickets and the like: not the application's */
			if (flags & MSG_PEEK) {
				unsigned char sink[16384 + 256];

				(void)ssa_real.recv(fd, sink, sizeof sink,
						    (flags & ~MSG_PEEK) | MSG_DONTWAIT);
			}
			continue;
		}
		ssa_fd_set_error(fd, "kernel TLS: unexpected record type");
		errno = EPROTO;
		return -1;
	}
}

/* Whether fd is a kernel-TLS socket; its entry in *info. */
bool ssa_ktls_fd(int fd, struct ssa_fd_info *info)
{
	return ssa_fd_ktls_maybe(fd) && ssa_fd_get(fd, info, false) && info->ktls;
}

/*
 * A process that exits without closing its sockets: the kernel closes them
 * with a plain FIN, which the peer must take for a truncation. At exit,
 * close_notify goes out on every kernel-TLS socket this process alone holds
 * (never waiting: a full send buffer loses it), once per socket.
 */
__attribute__((destructor)) static void ktls_at_exit(void)
{
	int fds[256], n = ssa_fd_ktls_list(fds, 256);
	struct { dev_t dev; ino_t ino; } sent[256];
	int ns = 0;

	for (int i = 0; i < n; i++) {
		struct ssa_fd_info info;
		bool dup = false;

		if (!ssa_ktls_fd(fds[i], &info) || info.ktls_notified || info.ktls_shared ||
		    ssa_ktls_linger0(fds[i]))
			continue;
		for (int k = 0; k < ns; k++)
			dup = dup || (sent[k].dev == info.dev && sent[k].ino == info.ino);
		if (dup)
			continue;
		ssa_ktls_close_notify(fds[i], true);
		sent[ns].dev = info.dev;
		sent[ns].ino = info.ino;
		ns++;
	}
}
