/* SPDX-License-Identifier: MIT */
/* An open-addressing hash table keyed by socket identity. */
#include "registry.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../users.h"

struct slot {
	struct ssa_sock_key key;
	struct ssa_conn *conn; /* NULL: empty; TOMB: deleted */
};

static struct ssa_conn *const TOMB = (struct ssa_conn *)&TOMB;

static struct slot *slots;
static size_t cap, used; /* used counts live entries and tombstones */

int ssa_sock_key_of(int fd, struct ssa_sock_key *key)
{
	struct stat st;
	socklen_t len = sizeof key->cookie;

	/* Inode numbers of sockets come from a counter that can wrap; the
	 * cookie is never reused while the system runs. Asked first: a
	 * descriptor that is no socket fails here (ENOTSOCK), before an
	 * fstat() that a file on FUSE would make wait for its server. */
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &key->cookie, &len) != 0) {
		if (errno == ENOTSOCK || errno == EBADF)
			return EBADF;
		key->cookie = 0;
	}
	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return EBADF;
	key->dev = st.st_dev;
	key->ino = st.st_ino;
	return 0;
}

static size_t hash(const struct ssa_sock_key *k)
{
	uint64_t h = (uint64_t)k->ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)k->dev;

	h ^= h >> 29;
	return (size_t)h;
}

static int same(const struct ssa_sock_key *a, const struct ssa_sock_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->cookie == b->cookie;
}

/* Rehash: double when mostly live, same size when mostly tombstones. */
static int grow(void)
{
	size_t live = 0, ncap;
	struct slot *n;

	for (size_t i = 0; i < cap; i++)
		live += slots[i].conn && slots[i].conn != TOMB;
	ncap = !cap ? 1024 : (live + 1) * 2 < cap ? cap : cap * 2;
	n = calloc(ncap, sizeof *n);

	if (!n)
		return ENOMEM;
	for (size_t i = 0; i < cap; i++) {
		size_t j;

		if (!slots[i].conn || slots[i].conn == TOMB)
			continue;
		j = hash(&slots[i].key) & (ncap - 1);
		while (n[j].conn)
			j = (j + 1) & (ncap - 1);
		n[j] = slots[i];
	}
	free(slots);
	slots = n;
	cap = ncap;
	used = 0;
	for (size_t i = 0; i < cap; i++)
		used += slots[i].conn != NULL;
	return 0;
}

int ssa_registry_add(const struct ssa_sock_key *key, struct ssa_conn *c)
{
	size_t i;

	/* The inode is a new socket's: whoever held it before has closed it. */
	ssa_registry_unbury(key);
	if ((used + 1) * 4 >= cap * 3 && grow())
		return ENOMEM;
	i = hash(key) & (cap - 1);
	while (slots[i].conn && slots[i].conn != TOMB) {
		if (same(&slots[i].key, key))
			return EEXIST;
		i = (i + 1) & (cap - 1);
	}
	if (!slots[i].conn)
		used++;
	slots[i].key = *key;
	slots[i].conn = c;
	return 0;
}

static struct slot *lookup(const struct ssa_sock_key *key)
{
	size_t i;

	if (!cap)
		return NULL;
	i = hash(key) & (cap - 1);
	while (slots[i].conn) {
		if (slots[i].conn != TOMB && same(&slots[i].key, key))
			return &slots[i];
		i = (i + 1) & (cap - 1);
	}
	return NULL;
}

void ssa_registry_del(const struct ssa_sock_key *key)
{
	struct slot *s = lookup(key);

	if (s)
		s->conn = TOMB;
}

struct ssa_conn *ssa_registry_find(const struct ssa_sock_key *key)
{
	struct slot *s = lookup(key);

	return s ? s->conn : NULL;
}

/*
 * Sockets that ended with an error after the daemon let go of them: their
 * SO_ERROR and TLS_ERROR must last as long as the application's socket, and
 * one user's failures must not push out another's. So there is no shared
 * ring: a tomb lives until its socket is gone, learnt by listing the
 * system's unix sockets (sock_diag) now and then and when a user reaches
 * her socket limit; each tomb counts as one of its owner's sockets.
 */
struct tomb_rec {
	struct ssa_tomb t;
	uid_t uid;
	struct tomb_rec *prev, *next; /* oldest first */
};

static struct tomb_rec *tomb_head, *tomb_tail;
static size_t n_tombs;
/* An open-addressing index of the tombs by key (same scheme as above). */
static struct tomb_rec **tidx;
static size_t tcap, tused;
static struct tomb_rec *const TGONE = (struct tomb_rec *)&TGONE;

static int tomb_index_grow(void)
{
	size_t ncap = !tcap ? 1024 : (n_tombs + 1) * 2 < tcap ? tcap : tcap * 2;
	struct tomb_rec **n = calloc(ncap, sizeof(struct tomb_rec *));

	if (!n)
		return ENOMEM;
	for (size_t i = 0; i < tcap; i++) {
		size_t j;

		if (!tidx[i] || tidx[i] == TGONE)
			continue;
		j = hash(&tidx[i]->t.key) & (ncap - 1);
		while (n[j])
			j = (j + 1) & (ncap - 1);
		n[j] = tidx[i];
	}
	free(tidx);
	tidx = n;
	tcap = ncap;
	tused = n_tombs;
	return 0;
}

static struct tomb_rec **tomb_slot(const struct ssa_sock_key *key)
{
	size_t i;

	if (!tcap)
		return NULL;
	i = hash(key) & (tcap - 1);
	while (tidx[i]) {
		if (tidx[i] != TGONE && same(&tidx[i]->t.key, key))
			return &tidx[i];
		i = (i + 1) & (tcap - 1);
	}
	return NULL;
}

static void tomb_drop(struct tomb_rec *r)
{
	struct tomb_rec **s = tomb_slot(&r->t.key);
	struct ssa_user *u = ssa_user_of(r->uid);

	if (s)
		*s = TGONE;
	if (r->prev)
		r->prev->next = r->next;
	else
		tomb_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		tomb_tail = r->prev;
	n_tombs--;
	if (u && u->sockets)
		u->sockets--;
	free(r);
}

void ssa_registry_bury(const struct ssa_sock_key *key, uid_t uid, int err, const char *reason)
{
	struct tomb_rec **s = tomb_slot(key), *r;
	struct ssa_user *u;
	size_t i;

	if (s)
		tomb_drop(*s); /* a socket that died twice: the news replaces it */
	if ((tused + 1) * 4 >= tcap * 3 && tomb_index_grow())
		return;
	r = calloc(1, sizeof *r);
	u = ssa_user_of(uid);
	if (!r || !u) {
		free(r);
		return;
	}
	r->t.key = *key;
	r->t.err = err;
	snprintf(r->t.reason, sizeof r->t.reason, "%s", reason);
	r->uid = uid;
	r->prev = tomb_tail;
	if (tomb_tail)
		tomb_tail->next = r;
	else
		tomb_head = r;
	tomb_tail = r;
	n_tombs++;
	u->sockets++;
	i = hash(key) & (tcap - 1);
	while (tidx[i] && tidx[i] != TGONE)
		i = (i + 1) & (tcap - 1);
	if (!tidx[i])
		tused++;
	tidx[i] = r;
}

struct ssa_tomb *ssa_registry_tomb(const struct ssa_sock_key *key)
{
	struct tomb_rec **s = tomb_slot(key);

	return s ? &(*s)->t : NULL;
}

void ssa_registry_unbury(const struct ssa_sock_key *key)
{
	size_t i;

	/* The inode is a live socket's now: a tomb under the same inode,
	 * whatever its cookie, is of a socket that has been closed. The hash
	 * leaves the cookie out, so they all lie on this key's probe chain. */
	if (!tcap)
		return;
	i = hash(key) & (tcap - 1);
	while (tidx[i]) {
		struct tomb_rec *r = tidx[i];

		if (r != TGONE && r->t.key.dev == key->dev && r->t.key.ino == key->ino)
			tomb_drop(r); /* leaves TGONE in this slot */
		i = (i + 1) & (tcap - 1);
	}
}

size_t ssa_registry_tombs(void)
{
	return n_tombs;
}

void ssa_registry_evict(uid_t uid, unsigned n)
{
	for (struct tomb_rec *r = tomb_head, *nx; r && n; r = nx) {
		nx = r->next;
		if (r->uid == uid) {
			tomb_drop(r);
			n--;
		}
	}
}

/* A live unix socket as sock_diag lists it: its inode and its cookie (the
 * same value SO_COOKIE gives, so a reused inode is told apart). */
struct live_sock {
	uint32_t ino;
	uint64_t cookie;
};

static int cmp_live(const void *a, const void *b)
{
	const struct live_sock *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

/* Every unix socket of the system (sock_diag), sorted.
 * @retval number of sockets, or -1 (no sock_diag, out of memory) */
static long live_unix_sockets(struct live_sock **out)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = { .nlmsg_len = sizeof q, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0u },
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	static char buf[32768];
	struct live_sock *socks = NULL;
	size_t n = 0, room = 0;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	bool done = false;

	if (fd < 0)
		return -1;
	if (sendto(fd, &q, sizeof q, 0, (struct sockaddr *)&nl, sizeof nl) != (ssize_t)sizeof q)
		goto fail;
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof buf, 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len <= 0)
			goto fail;
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			const struct unix_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
				goto fail;
			if (n == room) {
				size_t ncap = room ? 2 * room : 4096;
				struct live_sock *ns = realloc(socks, ncap * sizeof *ns);

				if (!ns)
					goto fail;
				socks = ns;
				room = ncap;
			}
			socks[n].ino = m->udiag_ino;
			socks[n].cookie = (uint64_t)m->udiag_cookie[0] |
					  (uint64_t)m->udiag_cookie[1] << 32;
			n++;
		}
	}
	close(fd);
	if (n)
		qsort(socks, n, sizeof *socks, cmp_live);
	*out = socks;
	return (long)n;
fail:
	close(fd);
	free(socks);
	return -1;
}

/* Whether the socket of a tomb still exists: its inode is live with its
 * cookie (a tomb without a cookie matches any socket of that inode). */
static bool tomb_alive(const struct tomb_rec *r, const struct live_sock *socks, long n)
{
	struct live_sock k = { .ino = (uint32_t)r->t.key.ino, .cookie = 0 };
	long lo = 0, hi = n;

	while (lo < hi) { /* the first entry with this inode */
		long mid = lo + (hi - lo) / 2;

		if (cmp_live(&socks[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && socks[lo].ino == k.ino; lo++)
		if (!r->t.key.cookie || socks[lo].cookie == r->t.key.cookie)
			return true;
	return false;
}

int ssa_registry_gc(void)
{
	struct live_sock *socks = NULL;
	long n;
	int dropped = 0;

	if (!n_tombs)
		return 0;
	n = live_unix_sockets(&socks);
	if (n < 0) {
		static bool said;

		if (!said) {
			said = true;
			log_warn("cannot list unix sockets (sock_diag: %s): the error records of "
				 "closed TLS sockets are kept until their owner reaches her limit",
				 strerror(errno));
		}
		return -1;
	}
	for (struct tomb_rec *r = tomb_head, *nx; r; r = nx) {
		nx = r->next;
		if (!tomb_alive(r, socks, n)) {
			tomb_drop(r);
			dropped++;
		}
	}
	free(socks);
	if (tcap && n_tombs * 8 < tcap && tcap > 1024) /* shrink after a flood */
		(void)tomb_index_grow();
	return dropped;
}

void ssa_registry_fini(void)
{
	while (tomb_head)
		tomb_drop(tomb_head);
	free(tidx);
	tidx = NULL;
	tcap = tused = 0;
	free(slots);
	slots = NULL;
	cap = used = 0;
}
