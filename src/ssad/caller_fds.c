/* SPDX-License-Identifier: MIT */
/* Closer threads for the descriptors callers sent (caller_fds.h). */
#include "caller_fds.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
struct entry {
	int fd;
	uid_t uid;          /* whom it is charged to */
};
static struct entry *queue; /* in arrival order, count of cap used */
static unsigned cap, count;
static unsigned threads, idle;
static bool started;
static uid_t charged_uid;   /* ssa_caller_fds_charge(); the loop's only */

/* Descriptors queued or being closed, per uid, and whether a closer is on
 * one of theirs: a chained hash whose records go when their count does.
 * Under lock. */
#define UID_BUCKETS 64
static struct uid_count {
	uid_t uid;
	unsigned n;
	bool closing;       /* a closer is on one of them: no second one is */
	struct uid_count *next;
} *uids[UID_BUCKETS];

static struct uid_count **uid_slot(uid_t uid)
{
	struct uid_count **p = &uids[uid % UID_BUCKETS];

	while (*p && (*p)->uid != uid)
		p = &(*p)->next;
	return p;
}

/* @retval false out of memory (nothing counted) */
static bool uid_add(uid_t uid)
{
	struct uid_count **p = uid_slot(uid);

	if (!*p) {
		*p = calloc(1, sizeof **p);
		if (!*p)
			return false;
		(*p)->uid = uid;
	}
	(*p)->n++;
	return true;
}

static void uid_done(uid_t uid)
{
	struct uid_count **p = uid_slot(uid), *u = *p;

	if (!u)
		return;
	u->closing = false;
	if (--u->n == 0) {
		*p = u->next;
		free(u);
	}
}

/* Turn a socket's linger off: its close() then returns at once and the
 * kernel sends what is queued, then the FIN, in the background. Not a
 * socket: ENOTSOCK, nothing done. */
static void unlinger(int fd)
{
	struct linger l;
	socklen_t len = sizeof l;

	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) == 0 && l.l_onoff) {
		l.l_onoff = 0;
		l.l_linger = 0;
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	}
}

/* Under lock: the first entry of a uid no closer is on, or -1. One user's
 * descriptors are closed one at a time, so a descriptor that blocks its
 * closer holds up only that user's, never another's (the closers are
 * shared; a user who could block them all would stop everyone's). */
static int next_runnable(void)
{
	for (unsigned i = 0; i < count; i++) {
		const struct uid_count *u = *uid_slot(queue[i].uid);

		if (!u || !u->closing)
			return (int)i;
	}
	return -1;
}

static void *closer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct entry e;
		struct uid_count *u;
		int i;

		while ((i = next_runnable()) < 0)
			pthread_cond_wait(&wake, &lock);
		e = queue[i];
		memmove(&queue[i], &queue[i + 1], (size_t)(count - (unsigned)i - 1) * sizeof *queue);
		count--;
		idle--;
		if ((u = *uid_slot(e.uid)) != NULL)
			u->closing = true;
		pthread_mutex_unlock(&lock);
		unlinger(e.fd);
		close(e.fd);
		pthread_mutex_lock(&lock);
		idle++;
		uid_done(e.uid);
		/* Entries of this uid may run again. */
		pthread_cond_broadcast(&wake);
	}
	return NULL;
}

/* Under lock. @retval 0 or an errno */
static int spawn(void)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t all, old;
	int err;

	if (pthread_attr_init(&a) != 0)
		return ENOMEM;
	(void)pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	(void)pthread_attr_setstacksize(&a, (size_t)64 * 1024);
	/* Signals are the loop's (signalfd): a closer takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, &a, closer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (err)
		return err;
	threads++;
	idle++;
	return 0;
}

/* Under lock: room for one more. @retval false out of memory */
static bool grow(void)
{
	unsigned ncap = cap ? cap * 2 : 64;
	struct entry *q;

	if (count < cap)
		return true;
	q = realloc(queue, (size_t)ncap * sizeof *q);
	if (!q)
		return false;
	queue = q;
	cap = ncap;
	return true;
}

void ssa_caller_fd_close(uid_t uid, int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&lock);
	if (!started || !grow() || !uid_add(uid)) {
		pthread_mutex_unlock(&lock);
		/* No closer: as before, here (never lose the descriptor). */
		unlinger(fd);
		close(fd);
		return;
	}
	queue[count++] = (struct entry){ .fd = fd, .uid = uid };
	/* No closer free for a descriptor that could be closed now (the
	 * others are on theirs): one more, up to the cap. */
	if (idle == 0 && threads < CALLER_FDS_THREADS && next_runnable() >= 0)
		(void)spawn();
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
}

int ssa_caller_fds_start(void)
{
	int err = 0;

	pthread_mutex_lock(&lock);
	if (!started) {
		err = spawn();
		started = err == 0;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

unsigned ssa_caller_fds_pending(uid_t uid)
{
	const struct uid_count *u;
	unsigned n;

	pthread_mutex_lock(&lock);
	u = *uid_slot(uid);
	n = u ? u->n : 0;
	pthread_mutex_unlock(&lock);
	return n;
}

bool ssa_caller_fds_over(uid_t uid)
{
	return ssa_caller_fds_pending(uid) >= CALLER_FDS_PER_USER;
}

void ssa_caller_fds_charge(uid_t uid)
{
	charged_uid = uid;
}

uid_t ssa_caller_fds_charged(void)
{
	return charged_uid;
}
