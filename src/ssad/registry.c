/* SPDX-License-Identifier: MIT */
/* An open-addressing hash table keyed by socket identity. */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return EBADF;
	key->dev = st.st_dev;
	key->ino = st.st_ino;
	/* Inode numbers of sockets come from a counter that can wrap; the
	 * cookie is never reused while the system runs. */
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &key->cookie, &len) != 0)
		key->cookie = 0;
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

/* Sockets that ended with an error after the daemon let go of them. */
#define TOMBS 1024
static struct ssa_tomb tombs[TOMBS];
static size_t tomb_next;

void ssa_registry_bury(const struct ssa_sock_key *key, int err, const char *reason)
{
	struct ssa_tomb *t = ssa_registry_tomb(key);

	if (!t) {
		t = &tombs[tomb_next];
		tomb_next = (tomb_next + 1) % TOMBS;
	}
	t->key = *key;
	t->err = err;
	t->soerr_taken = false;
	snprintf(t->reason, sizeof t->reason, "%s", reason);
}

struct ssa_tomb *ssa_registry_tomb(const struct ssa_sock_key *key)
{
	for (size_t i = 0; i < TOMBS; i++)
		if (tombs[i].err && same(&tombs[i].key, key))
			return &tombs[i];
	return NULL;
}
