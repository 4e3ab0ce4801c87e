/* SPDX-License-Identifier: MIT */
#include "fd_table.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../proto/wire.h"
#include "ctl_client.h"
#include "real.h"

#define CHUNK_BITS 10
#define CHUNK (1u << CHUNK_BITS)
#define NCHUNKS 1024u /* 1M descriptors */

struct chunk {
	struct ssa_fd_info *_Atomic slot[CHUNK];
	_Atomic unsigned char ktls[CHUNK]; /* the entry is in kernel-TLS mode */
};

static struct chunk *_Atomic chunks[NCHUNKS];
/* Serialises changes and the copying out of entries. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Entries holding a TLS_REMOTE_HOSTNAME or TCP_NODELAY (changed under the
 * lock): while none does, nothing walks the table for one (close() asks
 * every time). */
static _Atomic unsigned pending_count;

static bool holds(const struct ssa_fd_info *e)
{
	return e && (e->pending_host_len || e->pending_nodelay);
}

/** An entry is dropped (caller holds the lock): what it holds goes too. */
static void drop_pending(struct ssa_fd_info *e)
{
	if (holds(e)) {
		e->pending_host_len = 0;
		e->pending_nodelay = 0;
		pending_count--;
	}
}

static struct ssa_fd_info *_Atomic *slot_of(int fd, bool create)
{
	unsigned u = (unsigned)fd, ci = u >> CHUNK_BITS;
	struct chunk *c;

	if (fd < 0 || ci >= NCHUNKS)
		return NULL;
	c = chunks[ci];
	if (!c) {
		if (!create)
			return NULL;
		c = calloc(1, sizeof *c);
		if (!c)
			return NULL;
		chunks[ci] = c; /* callers hold the lock */
	}
	return &c->slot[u & (CHUNK - 1)];
}

bool ssa_fd_maybe(int fd)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);

	return s && *s;
}

static bool same_socket(int fd, const struct ssa_fd_info *e)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == e->dev &&
	       st.st_ino == e->ino;
}

int ssa_fd_lookup(int fd, struct ssa_fd_info *out)
{
	struct ssa_reply *rep = ssa_reply_new();
	struct ssa_rbuf r;
	int32_t state;
	int rc;

	if (!rep)
		return ENOMEM;
	rc = ssa_call(SSA_MSG_INFO, NULL, 0, fd, rep);
	if (rc == 0 && (rc = rep->status) == 0) {
		memset(out, 0, sizeof *out);
		ssa_rbuf_init(&r, rep->data, rep->len);
		out->id = ssa_get_u64(&r);
		out->domain = ssa_get_i32(&r);
		state = ssa_get_i32(&r);
		(void)ssa_get_i32(&r); /* error: see ssa_fd_eof_error() */
		ssa_get_addr(&r, &out->local, &out->local_len);
		ssa_get_addr(&r, &out->peer, &out->peer_len);
		out->connected = state == SSA_STATE_ESTABLISHED;
		out->listening = state == SSA_STATE_LISTENING;
		out->bound = out->local_len != 0;
		if (!ssa_rbuf_done(&r))
			rc = EPROTO;
	}
	ssa_reply_free(rep);
	return rc;
}

/** Called by walk() for each entry (fd, its entry, its kernel-TLS mark).
 * @retval true stop the walk */
typedef bool (*walk_fn)(int fd, struct ssa_fd_info *e, bool ktls, void *arg);

/* Every entry of the table, in descriptor order, until fn says stop. Caller
 * holds the lock. */
static void walk(walk_fn fn, void *arg)
{
	for (unsigned ci = 0; ci < NCHUNKS; ci++) {
		struct chunk *c = chunks[ci];

		if (!c)
			continue;
		for (unsigned i = 0; i < CHUNK; i++)
			if (c->slot[i] && fn((int)((ci << CHUNK_BITS) | i), c->slot[i],
					     c->ktls[i] != 0, arg))
				return;
	}
}

/* A socket, and what a walk looks for or counts about it. */
struct socket_q {
	dev_t dev;
	ino_t ino;
	int fd;                   /* ktls_others: the descriptor not counted */
	int n;                    /* ktls_others: the count */
	struct ssa_fd_info *found; /* pending_of: the holder */
};

static bool is_socket_q(const struct ssa_fd_info *e, const struct socket_q *q)
{
	return e->dev == q->dev && e->ino == q->ino;
}

static bool unshare_one(int fd, struct ssa_fd_info *e, bool ktls, void *arg)
{
	(void)fd, (void)ktls;
	if (is_socket_q(e, arg))
		e->sole = false;
	return false;
}

/* Another descriptor of the socket (dev, ino) was found: no entry of it is
 * sole any more. */
static void unshare_socket(dev_t dev, ino_t ino)
{
	struct socket_q q = { .dev = dev, .ino = ino };

	pthread_mutex_lock(&lock);
	walk(unshare_one, &q);
	pthread_mutex_unlock(&lock);
}

/* Ask ssad whether fd is one of its TLS sockets. */
static bool discover(int fd, struct ssa_fd_info *out)
{
	struct stat st;
	int dom = 0;
	socklen_t dl = sizeof dom;

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    ssa_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) != 0 || dom != AF_UNIX)
		return false;
	if (ssa_fd_lookup(fd, out) != 0)
		return false;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->sole = false;
	/* A copy made behind libssa's back (fcntl(F_DUPFD)): the socket's
	 * other entries no longer see all it does. */
	unshare_socket(st.st_dev, st.st_ino);
	return ssa_fd_put(fd, out) == 0;
}

bool ssa_fd_get(int fd, struct ssa_fd_info *out, bool disc)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);
	struct ssa_fd_info *e;
	bool ok = false;

	if (!s || !*s)
		return disc ? discover(fd, out) : false;
	pthread_mutex_lock(&lock);
	e = *s;
	if (e) {
		if (same_socket(fd, e)) {
			*out = *e;
			ok = true;
		} else {
			*s = NULL;
			chunks[(unsigned)fd >> CHUNK_BITS]->ktls[(unsigned)fd & (CHUNK - 1)] = 0;
			drop_pending(e);
			free(e);
		}
	}
	pthread_mutex_unlock(&lock);
	if (!ok && disc)
		return discover(fd, out);
	return ok;
}

int ssa_fd_put(int fd, const struct ssa_fd_info *info)
{
	struct ssa_fd_info *_Atomic *s;
	struct ssa_fd_info *e = malloc(sizeof *e), *old;

	if (!e)
		return ENOMEM;
	*e = *info;
	pthread_mutex_lock(&lock);
	s = slot_of(fd, true);
	if (!s) {
		pthread_mutex_unlock(&lock);
		free(e);
		return fd < 0 ? EBADF : ENOMEM;
	}
	old = *s;
	/* A held host name changes only through set/take: a caller's copy of
	 * the entry may be older than it. */
	e->pending_host_len = 0;
	e->pending_nodelay = 0;
	if (old && old->dev == e->dev && old->ino == e->ino && holds(old)) {
		e->pending_host_len = old->pending_host_len;
		memcpy(e->pending_host, old->pending_host, old->pending_host_len);
		e->pending_nodelay = old->pending_nodelay;
		old->pending_host_len = 0; /* moved: still counted once */
		old->pending_nodelay = 0;
	}
	/* Copied once, shared for good: a caller's older copy may say sole. */
	if (old && old->dev == e->dev && old->ino == e->ino && !old->sole)
		e->sole = false;
	/* The results never change for a socket: an older copy keeps them. */
	if (!e->results_len && old && old->dev == e->dev && old->ino == e->ino &&
	    old->results_len) {
		e->results_len = old->results_len;
		memcpy(e->results, old->results, old->results_len);
	}
	drop_pending(old);
	*s = e;
	chunks[(unsigned)fd >> CHUNK_BITS]->ktls[(unsigned)fd & (CHUNK - 1)] = info->ktls;
	pthread_mutex_unlock(&lock);
	free(old);
	return 0;
}

bool ssa_fd_ktls_maybe(int fd)
{
	unsigned u = (unsigned)fd, ci = u >> CHUNK_BITS;
	struct chunk *c;

	if (fd < 0 || ci >= NCHUNKS || !(c = chunks[ci]))
		return false;
	return c->ktls[u & (CHUNK - 1)] != 0;
}

static bool count_ktls_other(int fd, struct ssa_fd_info *e, bool ktls, void *arg)
{
	struct socket_q *q = arg;

	if (ktls && fd != q->fd && is_socket_q(e, q))
		q->n++;
	return false;
}

int ssa_fd_ktls_others(int fd, dev_t dev, ino_t ino)
{
	struct socket_q q = { .dev = dev, .ino = ino, .fd = fd };

	pthread_mutex_lock(&lock);
	walk(count_ktls_other, &q);
	pthread_mutex_unlock(&lock);
	return q.n;
}

/* A list of descriptors a walk fills (up to max). */
struct fd_list {
	int *fds;
	int n, max;
};

static bool list_ktls(int fd, struct ssa_fd_info *e, bool ktls, void *arg)
{
	struct fd_list *l = arg;

	(void)e;
	if (ktls)
		l->fds[l->n++] = fd;
	return l->n >= l->max;
}

int ssa_fd_ktls_list(int *fds, int max)
{
	struct fd_list l = { .fds = fds, .max = max };

	if (max <= 0)
		return 0;
	pthread_mutex_lock(&lock);
	walk(list_ktls, &l);
	pthread_mutex_unlock(&lock);
	return l.n;
}

static bool mark_forked(int fd, struct ssa_fd_info *e, bool ktls, void *arg)
{
	(void)fd, (void)arg;
	e->sole = false;
	if (ktls)
		e->ktls_shared = true;
	return false;
}

void ssa_fd_forked(void)
{
	pthread_mutex_lock(&lock);
	walk(mark_forked, NULL);
	pthread_mutex_unlock(&lock);
}

void ssa_fd_forget(int fd)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);
	struct ssa_fd_info *old;

	if (!s || !*s)
		return;
	pthread_mutex_lock(&lock);
	old = *s;
	*s = NULL;
	chunks[(unsigned)fd >> CHUNK_BITS]->ktls[(unsigned)fd & (CHUNK - 1)] = 0;
	drop_pending(old);
	pthread_mutex_unlock(&lock);
	free(old);
}

int ssa_fd_eof_error(int fd)
{
	struct ssa_reply *rep = ssa_reply_new();
	struct ssa_fd_info info;
	struct ssa_rbuf r;
	int err = 0;

	if (!rep)
		return 0;
	if (ssa_call(SSA_MSG_INFO, NULL, 0, fd, rep) != 0) {
		err = ECONNRESET; /* the daemon is gone: the stream was cut */
	} else if (rep->status == EBADF && rep->len == sizeof(uint64_t)) {
		uint64_t instance;

		/* Unknown to this ssad: a clean close, unless the socket was made
		 * by an earlier instance (it died with the connection). */
		memcpy(&instance, rep->data, sizeof instance);
		if (ssa_fd_get(fd, &info, false) && info.instance && info.instance != instance)
			err = ECONNRESET;
	} else if (rep->status == ENOTCONN && rep->len == sizeof(int32_t)) {
		memcpy(&err, rep->data, sizeof err);
	} else if (rep->status == 0) {
		ssa_rbuf_init(&r, rep->data, rep->len);
		(void)ssa_get_u64(&r);
		(void)ssa_get_i32(&r);
		(void)ssa_get_i32(&r);
		err = ssa_get_i32(&r);
		if (r.err)
			err = 0;
	}
	ssa_reply_free(rep);
	return err;
}

void ssa_fd_set_error(int fd, const char *why)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);

	pthread_mutex_lock(&lock);
	if (s && *s)
		snprintf((*s)->local_error, sizeof (*s)->local_error, "%s", why);
	pthread_mutex_unlock(&lock);
}

bool ssa_fd_take_error(int fd, char *out, size_t len)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);
	bool got = false;

	pthread_mutex_lock(&lock);
	if (s && *s && (*s)->local_error[0]) {
		snprintf(out, len, "%s", (*s)->local_error);
		(*s)->local_error[0] = '\0';
		got = true;
	}
	pthread_mutex_unlock(&lock);
	return got;
}

/*
 * A held host name belongs to the socket, not to one descriptor: copies of
 * it made behind libssa's back (fcntl(F_DUPFD), found again through ssad)
 * have entries of their own. Caller holds the lock. The entry of the
 * socket (dev, ino) holding one, or NULL.
 */
static bool find_holder(int fd, struct ssa_fd_info *e, bool ktls, void *arg)
{
	struct socket_q *q = arg;

	(void)fd, (void)ktls;
	if (holds(e) && is_socket_q(e, q))
		q->found = e;
	return q->found != NULL;
}

static struct ssa_fd_info *pending_of(dev_t dev, ino_t ino)
{
	struct socket_q q = { .dev = dev, .ino = ino };

	if (!pending_count)
		return NULL;
	walk(find_holder, &q);
	return q.found;
}

/* Make fd's entry the socket's one holder (caller holds the lock): what
 * another descriptor of the socket holds moves to it. @retval the entry */
static struct ssa_fd_info *holder(struct ssa_fd_info *_Atomic *s)
{
	struct ssa_fd_info *e = s ? *s : NULL, *other;

	if (!e)
		return NULL;
	other = pending_of(e->dev, e->ino);
	if (other && other != e) {
		if (!holds(e))
			pending_count++;
		if (!e->pending_host_len) {
			e->pending_host_len = other->pending_host_len;
			memcpy(e->pending_host, other->pending_host, other->pending_host_len);
		}
		if (!e->pending_nodelay)
			e->pending_nodelay = other->pending_nodelay;
		drop_pending(other);
	} else if (!other) {
		pending_count++; /* about to hold something */
	}
	return e;
}

int ssa_fd_set_pending_host(int fd, const void *val, size_t len)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);
	struct ssa_fd_info *e;
	int rc = EBADF;

	if (len == 0 || len > sizeof (*s)->pending_host)
		return EINVAL;
	pthread_mutex_lock(&lock);
	/* The last value set is the one: one holder per socket. */
	if ((e = holder(s)) != NULL) {
		memcpy(e->pending_host, val, len);
		e->pending_host_len = (uint16_t)len;
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int ssa_fd_set_pending_nodelay(int fd, bool on)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);
	struct ssa_fd_info *e;
	int rc = EBADF;

	pthread_mutex_lock(&lock);
	if ((e = holder(s)) != NULL) {
		e->pending_nodelay = on ? SSA_NODELAY_HELD_ON : SSA_NODELAY_HELD_OFF;
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

size_t ssa_fd_take_pending(int fd, char *out, size_t cap, int *nodelay)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);
	struct ssa_fd_info *e = NULL;
	size_t n = 0;

	*nodelay = 0;
	if (!pending_count)
		return 0; /* the usual case: no walk, no lock */
	pthread_mutex_lock(&lock);
	if (s && *s)
		e = pending_of((*s)->dev, (*s)->ino);
	if (e && e->pending_host_len <= cap) {
		n = e->pending_host_len;
		memcpy(out, e->pending_host, n);
		*nodelay = e->pending_nodelay;
		drop_pending(e);
	}
	pthread_mutex_unlock(&lock);
	return n;
}

static bool list_holder(int fd, struct ssa_fd_info *e, bool ktls, void *arg)
{
	struct fd_list *l = arg;

	(void)ktls;
	if (holds(e))
		l->fds[l->n++] = fd;
	return l->n >= l->max;
}

int ssa_fd_pending_list(int *fds, int max)
{
	struct fd_list l = { .fds = fds, .max = max };

	if (!pending_count || max <= 0)
		return 0;
	pthread_mutex_lock(&lock);
	walk(list_holder, &l);
	pthread_mutex_unlock(&lock);
	return l.n;
}

/* Unnamed AF_UNIX sockets are where TLS sockets hide: only those may need
 * a look-up in ssad (after exec or dup). */
bool ssa_fd_worth_discovery(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	return ssa_real.getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	       ss.ss_family == AF_UNIX && sl == sizeof(sa_family_t);
}

int ssa_fd_result(int fd, int name, void *val, socklen_t *len)
{
	struct ssa_fd_info *_Atomic *s = slot_of(fd, false);
	struct pollfd p = { .fd = fd, .events = 0 };
	const void *v;
	size_t n;
	int rc = ENOENT, saved = errno, ready;

	if (!s || !*s || !(*s)->results_len)
		return ENOENT;
	/* Events 0: only a hang-up or an error shows. ssad releasing the
	 * connection closes its end: then ask it, it answers as it does for a
	 * released socket (ENOTCONN, or EBADF). */
	ready = poll(&p, 1, 0);
	errno = saved;
	if (ready != 0)
		return ENOENT;
	pthread_mutex_lock(&lock);
	if (*s && (*s)->results_len && same_socket(fd, *s) &&
	    ssa_results_find((*s)->results, (*s)->results_len, name, &v, &n) == 0) {
		if (n > *len) {
			rc = ERANGE;
		} else {
			memcpy(val, v, n);
			rc = 0;
		}
		*len = (socklen_t)n;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
