/* SPDX-License-Identifier: MIT */
#include "ctl_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../proto/wire_io.h"
#include "real.h"

/* Idle control connections kept for the next call: as many as the
 * process's threads had in calls at once, up to 64. With four, 64 threads
 * in connect() at once opened (and ssad accepted and identified) about
 * one new control connection every two connections. Each counts in
 * max-control-connections-per-user (ssa.conf(5)) while kept, so beyond
 * the first POOL_KEEP, those unused for POOL_IDLE_MS are closed at the
 * next call's end. */
#define POOL_MAX 64
#define POOL_KEEP 4
#define POOL_IDLE_MS 10000

/* fork() holds it from the prepare handler to the parent's and child's
 * (ssa_ctl_fork_prepare()). Not recursive: in a fork child a recursive
 * mutex still names the parent's thread as its owner, and neither unlocks
 * nor relocks there. So a fork handler registered before libssa's that
 * calls into libssa, or a fork from a signal handler that interrupted this
 * file, would wait for it forever. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
/* A stack: the most recently returned on top, so the bottom ones age. */
static struct {
	int fd;
	uint64_t since_ms; /**< returned then (CLOCK_MONOTONIC) */
} pool[POOL_MAX];
static int pool_len;
/* Every control connection of this process, in the pool or in a call:
 * a fork child closes its copies of all of them (a call in progress is
 * another thread's, which the child does not have). Changed under
 * pool_lock, which fork() holds (ssa_ctl_fork_prepare()), so the child
 * never sees one half in or out of it. Not in it: a key-intake
 * connection (held for one setsockopt()), and a control connection
 * between its connect() and own(); a child forked then keeps its copy
 * until it executes a program (close-on-exec). */
static int *owned;
static size_t n_owned, cap_owned;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct ssa_reply *ssa_reply_new(void)
{
	struct ssa_reply *r = malloc(sizeof *r + SSA_WIRE_MAX_REPLY);

	if (r) {
		r->fd = -1;
		r->len = 0;
		r->data = r->buf;
		r->status = 0;
	}
	return r;
}

void ssa_reply_free(struct ssa_reply *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		ssa_real.close(r->fd);
	free(r);
}

/* Under pool_lock: count fd as ours. Without memory for that, it is used
 * all the same, and only a fork child keeps its copy (close-on-exec). */
static void own(int fd)
{
	if (n_owned == cap_owned) {
		size_t cap = cap_owned ? cap_owned * 2 : 16;
		int *o = realloc(owned, cap * sizeof *o);

		if (!o)
			return;
		owned = o;
		cap_owned = cap;
	}
	owned[n_owned++] = fd;
}

/* Under pool_lock: close a control connection of ours. */
static void close_owned(int fd)
{
	for (size_t i = 0; i < n_owned; i++) {
		if (owned[i] == fd) {
			owned[i] = owned[--n_owned];
			break;
		}
	}
	ssa_real.close(fd);
}

/* Close a control connection (not under pool_lock). */
static void ctl_close(int fd)
{
	pthread_mutex_lock(&pool_lock);
	close_owned(fd);
	pthread_mutex_unlock(&pool_lock);
}

void ssa_ctl_fork_prepare(void)
{
	pthread_mutex_lock(&pool_lock);
}

void ssa_ctl_fork_parent(void)
{
	pthread_mutex_unlock(&pool_lock);
}

void ssa_ctl_pool_reset(void)
{
	/* In a fork child, whose only thread is the one that forked, and
	 * holds the lock (ssa_ctl_fork_prepare()): the descriptors are
	 * shared with the parent, whose requests must not mix with ours.
	 * Closing our copies is enough. The lock is released, not made
	 * anew (initialising a held mutex is undefined, and ThreadSanitizer
	 * then reports every later use). */
	for (size_t i = 0; i < n_owned; i++)
		ssa_real.close(owned[i]);
	n_owned = 0;
	pool_len = 0;
	pthread_mutex_unlock(&pool_lock);
}

/*
 * Is the listening end root's (ssad) or our own? Whoever made the socket at
 * the path receives our requests and the descriptors of the key files we
 * open: a socket some other user made first (in a world-writable directory,
 * say) must get nothing. SO_PEERCRED of a connected unix socket gives the
 * credentials of the process that called listen().
 */
/* In a user namespace that does not map the host's root (e.g. unshare
 * --user --map-root-user), ssad's uid 0 reads as the overflow uid. */
static bool root_unmapped(uid_t uid)
{
	unsigned long a, b, n, overflow = 65534;
	bool unmapped = true;
	FILE *f = fopen("/proc/self/uid_map", "re");

	if (!f)
		return false;
	while (fscanf(f, "%lu %lu %lu", &a, &b, &n) == 3)
		if (b == 0 && n > 0)
			unmapped = false; /* the host's root has a uid here */
	fclose(f);
	f = fopen("/proc/sys/kernel/overflowuid", "re");
	if (f) {
		if (fscanf(f, "%lu", &overflow) != 1)
			overflow = 65534;
		fclose(f);
	}
	return unmapped && uid == (uid_t)overflow;
}

static bool trusted_peer(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
		return false;
	return cred.uid == 0 || cred.uid == geteuid() || root_unmapped(cred.uid);
}

/* Connect to the control socket's path with suffix ("" for the control
 * socket itself), if root or this user answers there. @return fd or -1 */
static int connect_ctl(const char *suffix)
{
	/* A setuid or setgid program (secure execution) ignores SSA_SOCKET:
	 * the user who runs it must not choose where its keys go. */
	const char *path = secure_getenv("SSA_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (!path || !*path)
		path = SSA_DEFAULT_SOCKET;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path, "%s%s", path, suffix) >=
	    sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = ssa_real.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A unix connect never waits for a handshake: it fails at once when
	 * nobody listens (ENOENT, ECONNREFUSED). */
	if (ssa_real.connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		int err = errno;

		ssa_real.close(fd);
		errno = err;
		return -1;
	}
	if (!trusted_peer(fd)) {
		ssa_real.close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static int open_ctl(void)
{
	return connect_ctl("");
}

int ssa_key_intake(int keyfd, uint8_t ticket[SSA_KEY_TICKET_LEN], int *conn)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm = { 0 };
	uint8_t req[SSA_KEY_INTAKE_REQ_LEN], rep[SSA_KEY_INTAKE_REP_LEN + 1];
	struct iovec iov = { req, sizeof req };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof cm.b };
	int fd = connect_ctl(SSA_KEY_INTAKE_SUFFIX), status;
	ssize_t n;

	/* nobody there (an older ssad, or a path with no room for the
	 * suffix, where ssad runs without an intake): ENOENT; else why not */
	if (fd < 0)
		return errno == ENOENT || errno == ECONNREFUSED || errno == ENAMETOOLONG ? ENOENT :
		       errno ? errno : EIO;
	ssa_key_intake_req_encode(req);
	CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &keyfd, sizeof(int));
	/* A refusal (ENOBUFS) may close the connection before the request
	 * is sent: its answer is read all the same. */
	if (ssa_real.sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof req && errno != EPIPE &&
	    errno != ECONNRESET) {
		ssa_real.close(fd);
		return ECONNABORTED;
	}
	/* A refusal closes the connection at once: its close may reset ours
	 * (ECONNRESET) before the answer queued for us is read. */
	for (int resets = 0;;) {
		n = ssa_real.recv(fd, rep, sizeof rep, 0);
		if (n >= 0 || (errno != EINTR && (errno != ECONNRESET || resets++ > 0)))
			break;
	}
	if (n < 0 || ssa_key_intake_rep_decode(rep, (size_t)n, &status, ticket) != 0) {
		ssa_real.close(fd);
		return ECONNABORTED;
	}
	if (status) {
		ssa_real.close(fd);
		return status;
	}
	*conn = fd;
	return 0;
}

static int take(void)
{
	int fd = -1;

	pthread_mutex_lock(&pool_lock);
	if (pool_len)
		fd = pool[--pool_len].fd;
	pthread_mutex_unlock(&pool_lock);
	if (fd >= 0 || (fd = open_ctl()) < 0)
		return fd;
	/* A fork between open_ctl() and here leaves the child a copy it
	 * does not know of, until it executes a program. */
	pthread_mutex_lock(&pool_lock);
	own(fd);
	pthread_mutex_unlock(&pool_lock);
	return fd;
}

static void give_back(int fd)
{
	uint64_t now;
	int n_stale = 0;

	pthread_mutex_lock(&pool_lock);
	/* Under the lock: an entry stamped after it would look long unused. */
	now = now_ms();
	/* Beyond the first POOL_KEEP, the long unused (at the bottom). */
	while (pool_len - n_stale > POOL_KEEP && now - pool[n_stale].since_ms >= POOL_IDLE_MS)
		close_owned(pool[n_stale++].fd);
	if (n_stale) {
		pool_len -= n_stale;
		memmove(&pool[0], &pool[n_stale], (size_t)pool_len * sizeof pool[0]);
	}
	if (pool_len < POOL_MAX) {
		pool[pool_len].fd = fd;
		pool[pool_len++].since_ms = now;
	} else {
		close_owned(fd);
	}
	pthread_mutex_unlock(&pool_lock);
}

int ssa_call(uint16_t type, const void *req, size_t len, int fd, struct ssa_reply *rep)
{
	return ssa_call_fds(type, req, len, &fd, fd >= 0 ? 1 : 0, rep);
}

int ssa_call_fds(uint16_t type, const void *req, size_t len, const int *fds, int nfds,
		 struct ssa_reply *rep)
{
	struct ssa_wire_hdr h;
	int ctl, rc, saved = errno;
	bool fresh = false;

	rep->fd = -1;
	for (;;) {
		ctl = take();
		if (ctl < 0) {
			errno = saved;
			return EPROTONOSUPPORT;
		}
		rc = ssa_wire_send_req(ctl, type, req, len, fds, nfds);
		if (rc == 0)
			break;
		ctl_close(ctl);
		/* A pooled connection may be stale (ssad restarted): retry once fresh. */
		if (fresh || (rc != EPIPE && rc != ECONNRESET && rc != ENOTCONN)) {
			errno = saved;
			return rc == EMSGSIZE ? EINVAL : ECONNABORTED;
		}
		fresh = true;
		pthread_mutex_lock(&pool_lock);
		while (pool_len)
			close_owned(pool[--pool_len].fd);
		pthread_mutex_unlock(&pool_lock);
	}
	do {
		rc = ssa_wire_recv(ctl, &h, rep->buf, SSA_WIRE_MAX_REPLY, &rep->fd);
	} while (rc == EINTR || rc == EAGAIN);
	if (rc || (h.type != type && h.type != SSA_MSG_ERROR)) {
		ctl_close(ctl);
		if (rep->fd >= 0)
			ssa_real.close(rep->fd);
		rep->fd = -1;
		errno = saved;
		return ECONNABORTED;
	}
	give_back(ctl);
	rep->status = h.status;
	rep->data = rep->buf;
	rep->len = h.len;
	errno = saved;
	return 0;
}
