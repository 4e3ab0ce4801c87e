/* SPDX-License-Identifier: MIT */
/*
 * libssa: the userspace front end. It provides socket(..., IPPROTO_TLS) by
 * interposing the C library's socket calls. Calls on other descriptors go
 * straight to the C library.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "../../include/ssa/in_tls.h"
#include "../common/ktls_compat.h"
#include "../proto/wire.h"
#include "ctl_client.h"
#include "fd_table.h"
#include "real.h"

#define EXPORT __attribute__((visibility("default")))

static void after_fork_child(void)
{
	ssa_ctl_pool_reset();
}

/* Before fork: kernel-TLS sockets become shared with the child (both
 * copies of the table say so). */
static void before_fork(void)
{
	ssa_fd_ktls_forked();
}

__attribute__((constructor)) static void libssa_init(void)
{
	ssa_real_init();
	pthread_atfork(before_fork, NULL, after_fork_child);
}

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

static bool ktls_wanted(void)
{
	const char *v = secure_getenv("SSA_KTLS"); /* not in setuid programs */

	return !v || strcmp(v, "0") != 0;
}

/* Put the kernel-TLS socket nfd in place of fd. @retval 0 or errno */
static int ktls_take(int fd, int nfd, struct ssa_fd_info *info)
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
static void ktls_close_notify(int fd, bool nonblock)
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
static bool ktls_linger0(int fd)
{
	struct linger l;
	socklen_t sl = sizeof l;

	return ssa_real.getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &sl) == 0 && l.l_onoff &&
	       l.l_linger == 0;
}

/* Copy up to n bytes from the start of an iovec array. */
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

/* A read on a kernel-TLS socket: application data only (see above). */
static ssize_t ktls_read(int fd, struct ssa_fd_info *info, const struct iovec *iov, int cnt,
			 int flags, struct msghdr *umsg)
{
	size_t asked = 0;

	for (int i = 0; i < cnt; i++)
		asked += iov[i].iov_len;
	if (info->ktls_err) {
		/* reported once, then the end, as TCP reports a reset */
		int e = info->ktls_err;

		info->ktls_err = 0;
		ssa_fd_put(fd, info);
		errno = e;
		return -1;
	}
	if (info->ktls_eof || asked == 0)
		return 0;
	for (;;) {
		union {
			struct cmsghdr align;
			char b[CMSG_SPACE(sizeof(unsigned char))];
		} ctl;
		struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt,
				    .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
		unsigned char type = SSA_TLS_REC_APPLICATION_DATA, alert[2] = { 2, 0 };
		bool typed = false;
		ssize_t n = ssa_real.recvmsg(fd, &m, flags);

		if (n < 0) {
			if (errno == EBADMSG) {
				/* a record that does not decrypt: the session is broken */
				ssa_fd_set_error(fd, "kernel TLS: bad record (decryption failed)");
				errno = EPROTO;
			}
			return -1;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_GET_RECORD_TYPE) {
				type = *CMSG_DATA(cm);
				typed = true;
			}
		}
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
		if (type == SSA_TLS_REC_ALERT) {
			size_t got = iov_peek(iov, cnt, alert, sizeof alert, (size_t)n);

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
			{
				char why[96];

				snprintf(why, sizeof why, "peer sent TLS alert %u (level %u)",
					 alert[1], alert[0]);
				ssa_fd_put(fd, info);
				ssa_fd_set_error(fd, why);
			}
			errno = ECONNRESET;
			return -1;
		}
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
static bool ktls_fd(int fd, struct ssa_fd_info *info)
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

		if (!ktls_fd(fds[i], &info) || info.ktls_notified || info.ktls_shared ||
		    ktls_linger0(fds[i]))
			continue;
		for (int k = 0; k < ns; k++)
			dup = dup || (sent[k].dev == info.dev && sent[k].ino == info.ino);
		if (dup)
			continue;
		ktls_close_notify(fds[i], true);
		sent[ns].dev = info.dev;
		sent[ns].ino = info.ino;
		ns++;
	}
}

static bool worth_discovery(int fd);
static int tls_getopt(int fd, int level, int name, void *val, socklen_t *len);

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

/* Set errno and return -1. */
static int fail(int err)
{
	errno = err;
	return -1;
}

EXPORT int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct ssa_reply *rep;
	struct ssa_wbuf wb;
	uint8_t req[8];
	struct ssa_fd_info info;
	struct stat st;
	int rc, fd;

	ssa_real_init();
	if (protocol != IPPROTO_TLS)
		return ssa_real.socket(domain, type, protocol);
	if (domain != AF_INET && domain != AF_INET6)
		return fail(EAFNOSUPPORT);
	if (base != SOCK_STREAM)
		return fail(EPROTONOSUPPORT);
	rep = ssa_reply_new();
	if (!rep)
		return fail(ENOMEM);
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, domain);
	ssa_put_i32(&wb, base);
	rc = ssa_call(SSA_MSG_SOCKET, req, wb.len, -1, rep);
	if (rc) {
		ssa_reply_free(rep);
		/* No TLS service: exactly what a kernel without the protocol says. */
		return fail(EPROTONOSUPPORT);
	}
	if (rep->status || rep->fd < 0 || rep->len != 16) {
		rc = rep->status ? rep->status : EPROTONOSUPPORT;
		ssa_reply_free(rep);
		return fail(rc);
	}
	fd = rep->fd;
	rep->fd = -1;
	memset(&info, 0, sizeof info);
	memcpy(&info.id, rep->data, sizeof info.id);
	memcpy(&info.instance, rep->data + 8, sizeof info.instance);
	ssa_reply_free(rep);
	info.domain = domain;
	if (fstat(fd, &st) != 0 ||
	    (!(type & SOCK_CLOEXEC) && fcntl(fd, F_SETFD, 0) != 0) ||
	    ((type & SOCK_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) != 0)) {
		rc = errno;
		ssa_real.close(fd);
		return fail(rc);
	}
	info.dev = st.st_dev;
	info.ino = st.st_ino;
	if ((rc = ssa_fd_put(fd, &info)) != 0) {
		ssa_real.close(fd);
		return fail(rc);
	}
	return fd;
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct ssa_fd_info info;
	struct ssa_reply *rep;
	struct ssa_rbuf r;
	struct ssa_wbuf wb;
	uint8_t req[sizeof(struct sockaddr_storage) + 8];
	socklen_t alen;
	bool nonblock;
	int rc;

	ssa_real_init();
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false))
		return ssa_real.connect(fd, sa, len);
	if ((rc = check_addr(sa, len, info.domain, &alen)) != 0)
		return fail(rc);
	if (info.connecting) {
		/* As TCP: while in progress EALREADY; the first call after the
		 * handshake ended reports its outcome (0 or the error), later
		 * ones EISCONN. */
		struct ssa_fd_info now;

		if (ssa_fd_lookup(fd, &now) != 0) {
			/* Released: the connect failed; report why (as SO_ERROR). */
			int soerr = 0;
			socklen_t sl = sizeof soerr;

			info.connecting = false;
			ssa_fd_put(fd, &info);
			if (tls_getopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || !soerr)
				soerr = ECONNABORTED;
			return fail(soerr);
		}
		if (!now.connected)
			return fail(EALREADY);
		now.dev = info.dev;
		now.ino = info.ino;
		now.connecting = false;
		ssa_fd_put(fd, &now);
		return 0;
	}
	if (info.connected)
		return fail(EISCONN);
	nonblock = (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_addr(&wb, sa, alen);
	if (nonblock)
		ssa_put_u32(&wb, SSA_CONNECT_NONBLOCK);
	else if (ktls_wanted())
		ssa_put_u32(&wb, SSA_CONNECT_KTLS_OK);
	rep = ssa_reply_new();
	if (!rep)
		return fail(ENOMEM);
	/* Blocking: returns when TCP + TLS handshake + verification are done
	 * (or the daemon's handshake timeout). Non-blocking: EINPROGRESS; the
	 * socket turns writable when the handshake is over, and SO_ERROR then
	 * tells how it ended. */
	rc = ssa_call(SSA_MSG_CONNECT, req, wb.len, fd, rep);
	if (rc == 0)
		rc = rep->status;
	else
		rc = ECONNABORTED;
	if (rc == EINPROGRESS) {
		info.connecting = true;
		ssa_fd_put(fd, &info);
	}
	if (rc == 0) {
		ssa_rbuf_init(&r, rep->data, rep->len);
		ssa_get_addr(&r, &info.local, &info.local_len);
		ssa_get_addr(&r, &info.peer, &info.peer_len);
		/* u32 flags: SSA_REPLY_KTLS, the reply's descriptor is the socket */
		if (!r.err && r.len - r.off == 4) {
			int nfd = rep->fd;

			rep->fd = -1;
			info.connected = true;
			if (ssa_get_u32(&r) != SSA_REPLY_KTLS || nfd < 0 || !ssa_rbuf_done(&r)) {
				if (nfd >= 0)
					ssa_real.close(nfd);
				rc = ECONNABORTED;
			} else if (ktls_take(fd, nfd, &info) != 0) {
				rc = ECONNABORTED;
			}
		} else if (!ssa_rbuf_done(&r)) {
			rc = ECONNABORTED;
		} else {
			info.connected = true;
			ssa_fd_put(fd, &info);
		}
	}
	ssa_reply_free(rep);
	return rc ? fail(rc) : 0;
}

EXPORT int close(int fd)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (ktls_fd(fd, &info) && !info.ktls_notified && !info.ktls_shared &&
	    !ssa_fd_ktls_others(fd, info.dev, info.ino) && !ktls_linger0(fd))
		ktls_close_notify(fd, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	if (ssa_fd_maybe(fd))
		ssa_fd_forget(fd);
	return ssa_real.close(fd);
}

EXPORT int shutdown(int fd, int how)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if ((how == SHUT_WR || how == SHUT_RDWR) && ktls_fd(fd, &info) && !info.ktls_notified) {
		ktls_close_notify(fd, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
		info.ktls_notified = true;
		ssa_fd_put(fd, &info);
	}
	return ssa_real.shutdown(fd, how);
}

/*
 * Options that name files: open them here, with the application's own
 * credentials, and pass the open descriptors. The daemon never opens a
 * path for a caller, and a private key's bytes never enter this process.
 * A directory passes each regular file in it.
 */
static int open_option_files(const char *path, bool dir_ok, int *fds, int max, int *n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	DIR *dir;
	struct dirent *e;

	*n = 0;
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		int err = errno;

		ssa_real.close(fd);
		return err;
	}
	if (S_ISREG(st.st_mode)) {
		fds[(*n)++] = fd;
		return 0;
	}
	if (!S_ISDIR(st.st_mode) || !dir_ok) {
		ssa_real.close(fd);
		return EINVAL;
	}
	dir = fdopendir(fd);
	if (!dir) {
		int err = errno;

		ssa_real.close(fd);
		return err;
	}
	while ((e = readdir(dir)) && *n < max) {
		int f;

		if (e->d_name[0] == '.')
			continue;
		f = openat(dirfd(dir), e->d_name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (f < 0)
			continue; /* unreadable entries are not ours to use */
		if (fstat(f, &st) == 0 && S_ISREG(st.st_mode))
			fds[(*n)++] = f;
		else
			ssa_real.close(f);
	}
	closedir(dir);
	return *n ? 0 : ENOENT;
}

static int tls_setopt(int fd, int level, int name, const void *val, socklen_t len)
{
	uint8_t req[SSA_WIRE_MAX_OPTVAL + 16];
	struct ssa_wbuf wb;
	struct ssa_reply *rep;
	int fds[SSA_WIRE_MAX_FDS], nfds = 1, rc;

	if (len > SSA_WIRE_MAX_OPTVAL)
		return fail(EINVAL);
	if (len && !val)
		return fail(EFAULT);
	fds[0] = fd;
	{
		char stale[8];

		(void)ssa_fd_take_error(fd, stale, sizeof stale); /* a new attempt */
	}
	if (level == IPPROTO_TLS &&
	    (name == TLS_CERTIFICATE_CHAIN || name == TLS_PRIVATE_KEY ||
	     name == TLS_TRUSTED_PEER_CERTIFICATES)) {
		int nf;

		if (ssa_check_string(val, len, SSA_WIRE_MAX_OPTVAL))
			return fail(EINVAL);
		rc = open_option_files(val, name == TLS_TRUSTED_PEER_CERTIFICATES, fds + 1,
				       name == TLS_TRUSTED_PEER_CERTIFICATES ? SSA_WIRE_MAX_FDS - 1 : 1,
				       &nf);
		if (rc) {
			/* Refused here, with the caller's credentials: say why. */
			char why[256];

			snprintf(why, sizeof why, "%s: %s", (const char *)val,
				 rc == EINVAL ? "not a regular file" : strerror(rc));
			ssa_fd_set_error(fd, why);
			return fail(rc);
		}
		nfds += nf;
	}
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, level);
	ssa_put_i32(&wb, name);
	ssa_put_blob(&wb, val, len);
	rep = ssa_reply_new();
	if (!rep) {
		for (int i = 1; i < nfds; i++)
			ssa_real.close(fds[i]);
		return fail(ENOMEM);
	}
	rc = ssa_call_fds(SSA_MSG_SETOPT, req, wb.len, fds, nfds, rep);
	rc = rc ? ECONNABORTED : rep->status;
	ssa_reply_free(rep);
	for (int i = 1; i < nfds; i++)
		ssa_real.close(fds[i]);
	return rc ? fail(rc) : 0;
}

/* Options that belong to the application's own end of the stream: they
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
		return tls_setopt(fd, level, name, val, len);
	}
	if (ssa_fd_maybe(fd) && ssa_fd_get(fd, &info, false) && info.ktls &&
	    (level == SOL_TLS || (level == IPPROTO_TCP && name == TCP_ULP)))
		return fail(ENOPROTOOPT); /* the session is ssad's (see "Kernel TLS") */
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false) || local_option(level, name) ||
	    info.ktls)
		return ssa_real.setsockopt(fd, level, name, val, len);
	/* Buffer sizes matter on both sides of the local stream. */
	if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF) &&
	    ssa_real.setsockopt(fd, level, name, val, len) != 0)
		return -1;
	/* The rest acts on the network socket, in ssad. */
	return tls_setopt(fd, level, name, val, len);
}

static int tls_getopt(int fd, int level, int name, void *val, socklen_t *len)
{
	uint8_t req[16];
	struct ssa_wbuf wb;
	struct ssa_reply *rep;
	int rc;

	if (!len || (*len && !val))
		return fail(EFAULT);
	if (level == IPPROTO_TLS && name == TLS_ERROR) {
		char local[256];

		if (ssa_fd_take_error(fd, local, sizeof local)) {
			size_t n = strlen(local) + 1;

			if (n > *len) {
				*len = (socklen_t)n;
				return fail(ERANGE);
			}
			memcpy(val, local, n);
			*len = (socklen_t)n;
			return 0;
		}
	}
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, level);
	ssa_put_i32(&wb, name);
	ssa_put_u32(&wb, *len);
	rep = ssa_reply_new();
	if (!rep)
		return fail(ENOMEM);
	rc = ssa_call(SSA_MSG_GETOPT, req, wb.len, fd, rep);
	if (rc) {
		rc = ECONNABORTED;
	} else if (rep->status == ERANGE && rep->len == 4) {
		uint32_t need;

		memcpy(&need, rep->data, sizeof need);
		*len = need;
		rc = ERANGE;
	} else if (rep->status) {
		rc = rep->status;
	} else if (rep->len > *len) {
		rc = ECONNABORTED; /* ssad broke the contract */
	} else {
		memcpy(val, rep->data, rep->len);
		*len = (socklen_t)rep->len;
	}
	ssa_reply_free(rep);
	return rc ? fail(rc) : 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!len || !val || *len < sizeof v)
		return fail(EINVAL);
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
		return tls_getopt(fd, level, name, val, len);
	}
	if (local_option(level, name))
		return ssa_real.getsockopt(fd, level, name, val, len);
	if (!(ssa_fd_maybe(fd) ? ssa_fd_get(fd, &info, false) :
	      /* what a socket is: worth a look-up for an inherited one */
	      level == SOL_SOCKET && (name == SO_PROTOCOL || name == SO_DOMAIN ||
				      name == SO_TYPE || name == SO_ACCEPTCONN) &&
	      worth_discovery(fd) && ssa_fd_get(fd, &info, true)))
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
				return fail(EINVAL);
			memcpy(val, &none, sizeof none);
			*len = sizeof none;
			return 0;
		}
		default:
			break;
		}
	}
	if (info.ktls && level == SOL_TLS)
		return fail(ENOPROTOOPT); /* TLS_TX/TLS_RX would show the session keys */
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
	return tls_getopt(fd, level, name, val, len);
}

/* Copy an address with the truncation rule of getsockname(2). */
static int give_addr(const struct sockaddr_storage *ss, socklen_t sl, struct sockaddr *sa,
		     socklen_t *len)
{
	if (!len)
		return fail(EFAULT);
	if (*len && !sa)
		return fail(EFAULT);
	memcpy(sa, ss, *len < sl ? *len : sl);
	*len = sl;
	return 0;
}

/* Unnamed AF_UNIX sockets are where TLS sockets hide: only those may need
 * a look-up in ssad (after exec or dup). */
static bool worth_discovery(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	return ssa_real.getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	       ss.ss_family == AF_UNIX && sl == sizeof(sa_family_t);
}

/* A connect that completed in the background: ask ssad for the addresses. */
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
				 worth_discovery(fd) && ssa_fd_get(fd, &info, true);
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
				 worth_discovery(fd) && ssa_fd_get(fd, &info, true);
	if (!tls)
		return ssa_real.getpeername(fd, sa, len);
	if (!info.connected)
		refresh(fd, &info);
	if (!info.connected)
		return fail(ENOTCONN);
	return give_addr(&info.peer, info.peer_len, sa, len);
}

/*
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

/*
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
		if (n == 0 && worth_discovery(fd) && (err = ssa_fd_eof_error(fd)) != 0) {
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
	if (ktls_fd(fd, &info)) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };

		return ktls_read(fd, &info, &iov, 1, 0, NULL);
	}
	return checked_eof(fd, ssa_real.read(fd, buf, len), len);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (ktls_fd(fd, &info)) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };

		return ktls_read(fd, &info, &iov, 1, flags, NULL);
	}
	return checked_eof(fd, ssa_real.recv(fd, buf, len, flags), len);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
			socklen_t *salen)
{
	struct ssa_fd_info info;
	ssize_t n;

	ssa_real_init();
	if (ktls_fd(fd, &info)) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };

		n = ktls_read(fd, &info, &iov, 1, flags, NULL);
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
	if (msg && ktls_fd(fd, &info))
		return ktls_read(fd, &info, msg->msg_iov, (int)msg->msg_iovlen, flags, msg);
	n = ssa_real.recvmsg(fd, msg, flags);
	return checked_eof(fd, n, msg ? iov_total(msg->msg_iov, (int)msg->msg_iovlen) : 0);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct ssa_fd_info info;

	ssa_real_init();
	if (cnt >= 0 && ktls_fd(fd, &info))
		return ktls_read(fd, &info, iov, cnt, 0, NULL);
	return checked_eof(fd, ssa_real.readv(fd, iov, cnt), iov_total(iov, cnt));
}

/* Send an address-carrying request; on success the reply's address is
 * the socket's local address. */
static int addr_call(uint16_t type, int fd, const void *payload, size_t plen,
		     struct ssa_fd_info *info)
{
	struct ssa_reply *rep = ssa_reply_new();
	struct ssa_rbuf r;
	int rc;

	if (!rep)
		return ENOMEM;
	rc = ssa_call(type, payload, plen, fd, rep);
	rc = rc ? ECONNABORTED : rep->status;
	if (!rc) {
		ssa_rbuf_init(&r, rep->data, rep->len);
		ssa_get_addr(&r, &info->local, &info->local_len);
		if (!ssa_rbuf_done(&r))
			rc = ECONNABORTED;
	}
	ssa_reply_free(rep);
	return rc;
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct ssa_fd_info info;
	uint8_t req[sizeof(struct sockaddr_storage) + 4];
	struct ssa_wbuf wb;
	socklen_t alen;
	int rc;

	ssa_real_init();
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false))
		return ssa_real.bind(fd, sa, len);
	if ((rc = check_addr(sa, len, info.domain, &alen)) != 0)
		return fail(rc);
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_addr(&wb, sa, alen);
	rc = addr_call(SSA_MSG_BIND, fd, req, wb.len, &info);
	if (rc)
		return fail(rc);
	info.bound = true;
	ssa_fd_put(fd, &info);
	return 0;
}

EXPORT int listen(int fd, int backlog)
{
	struct ssa_fd_info info;
	uint8_t req[8];
	struct ssa_wbuf wb;
	int rc;

	ssa_real_init();
	if (!ssa_fd_maybe(fd) || !ssa_fd_get(fd, &info, false))
		return ssa_real.listen(fd, backlog);
	ssa_wbuf_init(&wb, req, sizeof req);
	ssa_put_i32(&wb, backlog);
	if (ktls_wanted())
		ssa_put_u32(&wb, SSA_LISTEN_KTLS_OK);
	rc = addr_call(SSA_MSG_LISTEN, fd, req, wb.len, &info);
	if (rc)
		return fail(rc);
	info.bound = true;
	info.listening = true;
	ssa_fd_put(fd, &info);
	return 0;
}

/* One accept record (and the connection's socket) from the listener. */
static int tls_accept(int fd, struct sockaddr *sa, socklen_t *salen, int flags)
{
	uint8_t buf[SSA_ACCEPT_REC_LEN];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ssa_accept_rec rec;
	struct ssa_fd_info info;
	struct cmsghdr *cm;
	struct stat st;
	int nfd = -1, rc;
	ssize_t n;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(EINVAL);
	if (sa && !salen)
		return fail(EFAULT);
	for (;;) {
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof ctl.b;
		n = ssa_real.recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
		if (n < 0)
			return -1; /* EAGAIN, EINTR...: as accept(2) */
		nfd = -1;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
				size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (size_t i = 0; i < k; i++) {
					int f;

					memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof f);
					if (nfd < 0)
						nfd = f;
					else
						ssa_real.close(f);
				}
			}
		}
		if (n == 0 && nfd < 0)
			/* The daemon let go of the listener (it died): the socket
			 * no longer listens, as accept(2) says with EINVAL. Not
			 * ECONNABORTED: servers retry that one at once, forever. */
			return fail(EINVAL);
		if (ssa_accept_rec_decode(buf, (size_t)n, &rec) == 0 && nfd >= 0 &&
		    fstat(nfd, &st) == 0 && S_ISSOCK(st.st_mode))
			break;
		/* Not a record from ssad: drop it and wait for the next. */
		if (nfd >= 0)
			ssa_real.close(nfd);
	}
	if ((!(flags & SOCK_CLOEXEC) && fcntl(nfd, F_SETFD, 0) != 0) ||
	    ((flags & SOCK_NONBLOCK) && fcntl(nfd, F_SETFL, O_NONBLOCK) != 0) ||
	    /* a kernel-TLS socket comes non-blocking from ssad */
	    ((rec.flags & SSA_ACCEPT_KTLS) && !(flags & SOCK_NONBLOCK) &&
	     fcntl(nfd, F_SETFL, 0) != 0)) {
		rc = errno;
		ssa_real.close(nfd);
		return fail(rc);
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
		return fail(rc);
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
		return fail(EINVAL);
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
		return fail(EINVAL);
	return tls_accept(fd, sa, salen, 0);
}

/* Copies of a TLS socket are TLS sockets too. */
static int copied(int from, int to)
{
	struct ssa_fd_info info;

	if (to >= 0 && ssa_fd_maybe(to))
		ssa_fd_forget(to);
	if (to >= 0 && ssa_fd_maybe(from) && ssa_fd_get(from, &info, false))
		ssa_fd_put(to, &info);
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
