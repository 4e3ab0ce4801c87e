/* SPDX-License-Identifier: MIT */
/* Per-user accounting of the key keeper's key slots (key_slots.h). */
#include "key_slots.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/log.h"

struct holder {
	uid_t uid;
	unsigned held;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* As many records as users holding keys now: a few. */
static struct holder *holders;
static size_t n_holders, cap_holders;

/* The record of uid, or NULL; with the lock. */
static struct holder *find(uid_t uid)
{
	for (size_t i = 0; i < n_holders; i++)
		if (holders[i].uid == uid)
			return &holders[i];
	return NULL;
}

/* A new record of uid holding none; with the lock. NULL: no memory. */
static struct holder *add(uid_t uid)
{
	if (n_holders == cap_holders) {
		size_t ncap = cap_holders ? 2 * cap_holders : 8;
		struct holder *n = realloc(holders, ncap * sizeof *n);

		if (!n)
			return NULL;
		holders = n;
		cap_holders = ncap;
	}
	holders[n_holders] = (struct holder){ .uid = uid, .held = 0 };
	return &holders[n_holders++];
}

int ssa_key_slots_take(const struct ssa_key_owner *o, char *why, size_t wlen)
{
	struct holder *h;
	unsigned held;

	pthread_mutex_lock(&lock);
	h = find(o->uid);
	if (!h && !(h = add(o->uid))) {
		pthread_mutex_unlock(&lock);
		snprintf(why, wlen, "out of memory");
		return ENOMEM;
	}
	held = h->held;
	if (o->max == 0 || held < o->max)
		h->held++;
	pthread_mutex_unlock(&lock);
	if (o->max == 0 || held < o->max)
		return 0;
	/* one line a second per user, as ssa_user_refused() */
	ssa_log_limited(SSA_LOG_WARN, "max-keys-per-user", o->uid, 1, 1,
			"uid %u (pid %d) reached max-keys-per-user = %u; refusing more",
			(unsigned)o->uid, o->pid, o->max);
	snprintf(why, wlen, "this user's sockets hold %u private keys, max-keys-per-user = %u",
		 held, o->max);
	return ENOBUFS;
}

void ssa_key_slots_put(uid_t uid)
{
	struct holder *h;

	pthread_mutex_lock(&lock);
	h = find(uid);
	if (h && h->held > 0 && --h->held == 0)
		*h = holders[--n_holders]; /* nobody keeps a pointer to it */
	pthread_mutex_unlock(&lock);
	if (!h)
		log_err("key slots: uid %u released a key it was not charged for", (unsigned)uid);
}

unsigned ssa_key_slots_held(uid_t uid)
{
	struct holder *h;
	unsigned n;

	pthread_mutex_lock(&lock);
	h = find(uid);
	n = h ? h->held : 0;
	pthread_mutex_unlock(&lock);
	return n;
}
