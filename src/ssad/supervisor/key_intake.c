/* SPDX-License-Identifier: MIT */
/* Applications' key files, taken in around the worker (key_intake.h). */
#include "key_intake.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../proto/wire.h"
#include "keeper_loader.h"

/** One intake connection. */
struct intake_conn {
	int fd;
	uid_t uid;          /**< SO_PEERCRED at accept: what the per-user bound counts */
	uint64_t until_ms;  /**< closed then, whatever its state */
	bool answered;      /**< its one request was answered */
	bool stashed;       /**< ticket names a file in the keeper's stash */
	uint8_t ticket[SSA_KEY_TICKET_LEN];
};

static struct {
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct intake_conn c[SSA_KEY_INTAKE_MAX];
	size_t n;
} in = { .lfd = -1 };

int ssa_key_intake_start(const char *ctl_path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if ((size_t)snprintf(in.path, sizeof in.path, "%s%s", ctl_path, SSA_KEY_INTAKE_SUFFIX) >=
	    sizeof in.path) {
		in.path[0] = '\0';
		return ENAMETOOLONG;
	}
	memcpy(sun.sun_path, in.path, sizeof in.path);
	/* The control socket is ours (ssa_ctl_bind() asked it): a socket
	 * left here is a dead ssad's; anything else is not ours to remove. */
	if (lstat(in.path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		in.path[0] = '\0';
		return EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	unlink(in.path);
	setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int));
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || chmod(in.path, 0666) != 0 ||
	    listen(fd, 64) != 0) {
		err = errno;
		close(fd);
		unlink(in.path);
		in.path[0] = '\0';
		return err;
	}
	in.lfd = fd;
	return 0;
}

size_t ssa_key_intake_pollfds(struct pollfd *p)
{
	size_t k = 0;

	if (in.lfd < 0)
		return 0;
	p[k++] = (struct pollfd){ .fd = in.lfd, .events = POLLIN };
	for (size_t i = 0; i < in.n; i++)
		p[k++] = (struct pollfd){ .fd = in.c[i].fd, .events = POLLIN };
	return k;
}

/* Close a descriptor a caller sent. A socket's SO_LINGER is turned off
 * first: closing the last reference to a TCP socket that lingers would
 * hold this thread for the linger time. (A file on FUSE, or a lingering
 * socket queued inside a unix socket sent here, can still make close()
 * wait: privilege-separation.md, residual risks.) */
static void close_received(int fd)
{
	struct statx st;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, &st) == 0 &&
	    S_ISSOCK(st.stx_mode))
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 0, 0 },
				 sizeof(struct linger));
	close(fd);
}

/* Room for the most descriptors one message may carry (SCM_MAX_FD) and
 * the credentials: the kernel never drops descriptors that did not fit
 * (which would close them here, unchecked). */
#define MAX_MSG_FDS 253
union intake_cmsg {
	struct cmsghdr h;
	char b[CMSG_SPACE(MAX_MSG_FDS * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
};

/* Receive one message of c: its bytes into buf, its descriptors (all of
 * them) into fds, its credentials into *cr. @return recvmsg()'s */
static ssize_t receive(int c, uint8_t *buf, size_t cap, int *fds, int *nfds, struct ucred *cr,
		       bool *have_cred, bool *trunc)
{
	static union intake_cmsg cm;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof cm.b };
	ssize_t n = recvmsg(c, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*nfds = 0;
	*have_cred = false;
	*trunc = n >= 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
	for (struct cmsghdr *h = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; h; h = CMSG_NXTHDR(&mh, h)) {
		if (h->cmsg_level != SOL_SOCKET)
			continue;
		if (h->cmsg_type == SCM_RIGHTS && h->cmsg_len >= CMSG_LEN(0)) {
			size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t j = 0; j < k && *nfds < MAX_MSG_FDS; j++)
				memcpy(&fds[(*nfds)++], CMSG_DATA(h) + j * sizeof(int), sizeof(int));
		} else if (h->cmsg_type == SCM_CREDENTIALS &&
			   h->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			memcpy(cr, CMSG_DATA(h), sizeof *cr);
			*have_cred = true;
		}
	}
	return n;
}

/* Read and drop what a connection sent and nobody will read (closing its
 * descriptors here, not in the kernel's release of the socket), so that
 * closing it also does not reset it before it reads our answer. */
static void drain(int fd)
{
	static int fds[MAX_MSG_FDS];

	/* What a client's send buffer can queue (net.core.wmem_max) is a few
	 * hundred messages; a client sending as fast as this reads is cut
	 * off after 1024. */
	for (int k = 0; k < 1024; k++) {
		uint8_t buf[64];
		struct ucred cr;
		bool have, trunc;
		int n;

		if (receive(fd, buf, sizeof buf, fds, &n, &cr, &have, &trunc) < 0)
			return;
		for (int j = 0; j < n; j++)
			close_received(fds[j]);
	}
}

/* Send the one reply of a connection. */
static void reply(int fd, int status, const uint8_t *ticket)
{
	uint8_t out[SSA_KEY_INTAKE_REP_LEN];

	ssa_key_intake_rep_encode(status, ticket, out);
	(void)send(fd, out, sizeof out, MSG_NOSIGNAL | MSG_DONTWAIT);
	OPENSSL_cleanse(out, sizeof out);
}

/* Close connection i, dropping its ticket's file if nobody used it. */
static void drop(size_t i, int keeper_chan)
{
	struct intake_conn *c = &in.c[i];

	if (c->stashed)
		(void)ssa_keeper_unstash(keeper_chan, c->ticket);
	OPENSSL_cleanse(c->ticket, sizeof c->ticket);
	drain(c->fd);
	close(c->fd);
	in.c[i] = in.c[--in.n];
	OPENSSL_cleanse(&in.c[in.n], sizeof in.c[in.n]); /* the moved entry's old copy */
}

/* Accept what waits, within the bounds. */
static void accept_new(uint64_t now_ms)
{
	for (int k = 0; k < 64; k++) {
		int fd = accept4(in.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cr;
		socklen_t len = sizeof cr;
		unsigned same = 0;

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof cr) {
			close(fd);
			continue;
		}
		for (size_t i = 0; i < in.n; i++)
			same += in.c[i].uid == cr.uid;
		if (same >= SSA_KEY_INTAKE_PER_USER || in.n >= SSA_KEY_INTAKE_MAX) {
			log_limited(SSA_LOG_WARN, cr.uid, 1, 1,
				    "key intake: uid %u (pid %d) refused: %u open key intake "
				    "connections (at most %u per user, %u in all)",
				    (unsigned)cr.uid, (int)cr.pid, same, SSA_KEY_INTAKE_PER_USER,
				    SSA_KEY_INTAKE_MAX);
			drain(fd);
			reply(fd, ENOBUFS, NULL);
			close(fd);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int));
		in.c[in.n++] = (struct intake_conn){ .fd = fd, .uid = cr.uid,
						     .until_ms = now_ms + SSA_KEY_INTAKE_TIMEOUT_MS };
	}
}

/* Whether fd is a key file we take: a regular file opened for reading.
 * @retval 0, EBADF (not open for reading, or O_PATH), EINVAL (not a
 *         regular file, or empty), EFBIG */
int ssa_key_intake_file_ok(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	struct statx st;

	if (fl < 0 || (fl & O_PATH) || (fl & O_ACCMODE) == O_WRONLY)
		return EBADF;
	/* What the kernel has cached: a network or FUSE file system is not
	 * asked (its server could make the supervisor wait). */
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_SIZE, &st) != 0 ||
	    !S_ISREG(st.stx_mode) || st.stx_size == 0)
		return EINVAL;
	return st.stx_size > SSA_KEY_INTAKE_MAX_FILE ? EFBIG : 0;
}

/* A stash failure, as the application sees it: the keeper's and the
 * channel's troubles are passing (EAGAIN); EINVAL is the file's. */
static int stash_errno(int err)
{
	return err == EINVAL ? EINVAL : EAGAIN;
}

/* Read the one request of c and answer it. @retval 0, or -1 to close c */
static int serve_request(struct intake_conn *c, int keeper_chan)
{
	static int fds[MAX_MSG_FDS];
	uint8_t buf[64];
	struct ucred cr = { .pid = 0 };
	int nfds = 0, err;
	bool have_cred = false, trunc = false;
	ssize_t n = receive(c->fd, buf, sizeof buf, fds, &nfds, &cr, &have_cred, &trunc);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0 && nfds == 0)
		return -1; /* libssa is done */
	if (c->answered)
		err = EINVAL; /* one request per connection */
	else if (trunc || nfds != 1 || !have_cred)
		err = EINVAL;
	else if ((err = ssa_key_intake_req_decode(buf, (size_t)n)) != 0)
		;
	else if ((err = ssa_key_intake_file_ok(fds[0])) != 0)
		;
	else if (keeper_chan < 0)
		err = EAGAIN; /* between a keeper and the next */
	else if (RAND_bytes(c->ticket, sizeof c->ticket) != 1)
		err = EAGAIN;
	else if ((err = ssa_keeper_stash(keeper_chan, fds[0], c->ticket, (uint32_t)cr.uid)) != 0) {
		log_limited(SSA_LOG_WARN, cr.uid, 1, 1,
			    "key intake: the key file of uid %u (pid %d) was not stashed: %s",
			    (unsigned)cr.uid, (int)cr.pid, strerror(err));
		err = stash_errno(err);
	}
	for (int j = 0; j < nfds; j++)
		close_received(fds[j]);
	if (err == 0)
		c->stashed = true;
	else if (!c->answered)
		log_debug("key intake: uid %u (pid %d): %s", (unsigned)cr.uid, (int)cr.pid,
			  strerror(err));
	reply(c->fd, err, err ? NULL : c->ticket);
	if (c->answered)
		return -1;
	c->answered = true;
	return err ? -1 : 0;
}

void ssa_key_intake_serve(const struct pollfd *p, size_t n, int keeper_chan, uint64_t now_ms)
{
	bool listener_ready = false;

	if (in.lfd < 0 || n == 0)
		return;
	listener_ready = (p[0].revents & POLLIN) != 0;
	/* The connections polled are in.c[0..n-2] as they were: serve them
	 * from the last, so that dropping one (swapped with the last) moves
	 * none of those still to serve. */
	for (size_t k = n - 1; k >= 1; k--) {
		size_t i = k - 1;
		short ev = p[k].revents;

		if (i >= in.n || in.c[i].fd != p[k].fd)
			continue;
		if (((ev & POLLIN) && serve_request(&in.c[i], keeper_chan) != 0) ||
		    (!(ev & POLLIN) && (ev & (POLLHUP | POLLERR | POLLNVAL))))
			drop(i, keeper_chan);
	}
	for (size_t i = in.n; i-- > 0;)
		if (now_ms >= in.c[i].until_ms)
			drop(i, keeper_chan);
	if (listener_ready)
		accept_new(now_ms);
}

int ssa_key_intake_timeout(uint64_t now_ms)
{
	uint64_t first = UINT64_MAX;

	for (size_t i = 0; i < in.n; i++)
		if (in.c[i].until_ms < first)
			first = in.c[i].until_ms;
	if (first == UINT64_MAX)
		return -1;
	return first <= now_ms ? 0 : (int)(first - now_ms);
}

void ssa_key_intake_forget(void)
{
	for (size_t i = 0; i < in.n; i++)
		close(in.c[i].fd);
	OPENSSL_cleanse(in.c, sizeof in.c);
	in.n = 0;
	if (in.lfd >= 0)
		close(in.lfd);
	in.lfd = -1;
	in.path[0] = '\0';
}

void ssa_key_intake_stop(void)
{
	while (in.n)
		drop(in.n - 1, -1);
	if (in.lfd >= 0)
		close(in.lfd);
	in.lfd = -1;
	if (in.path[0])
		unlink(in.path);
	in.path[0] = '\0';
}
