/* SPDX-License-Identifier: MIT */
/* Per-user accounting and limits (users.h). */
#include "users.h"

#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "../common/log.h"
#include "daemon.h"
#include "libssa_front/registry.h"

/* Descriptors ssad keeps for itself: control connections of other users,
 * the sockets of handshakes under way, files of requests. */
#define FD_RESERVE_MIN 64
#define SWEEP_MS 10000
#define GC_EVERY_MS 100
#define TRIM_MS 200

static struct ssa_user **users;
static size_t n_users, cap_users;
static struct ssa_user *last;
static struct ssad *daemon_;
static long fd_limit = 1024;
static struct ssa_deadline sweep, trim;

static void on_sweep(struct ssa_deadline *dl)
{
	(void)dl;
	if (ssa_registry_tombs())
		(void)ssa_registry_gc();
	ssa_deadline_arm(&daemon_->loop, &sweep, SWEEP_MS);
}

static void on_trim(struct ssa_deadline *dl)
{
	(void)dl;
	malloc_trim(0);
}

void ssa_users_init(struct ssad *d)
{
	struct rlimit rl;

	daemon_ = d;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		fd_limit = rl.rlim_cur > (1ul << 30) ? 1l << 30 : (long)rl.rlim_cur;
	sweep.expired = on_sweep;
	trim.expired = on_trim;
	ssa_deadline_arm(&d->loop, &sweep, SWEEP_MS);
}

void ssa_users_fini(void)
{
	ssa_deadline_cancel(&sweep);
	ssa_deadline_cancel(&trim);
	for (size_t i = 0; i < n_users; i++)
		free(users[i]);
	free(users);
	users = NULL;
	last = NULL;
	n_users = cap_users = 0;
}

struct ssa_user *ssa_user_of(uid_t uid)
{
	struct ssa_user *u;

	if (last && last->uid == uid)
		return last;
	/* As many records as local users that ever used ssad: a few. */
	for (size_t i = 0; i < n_users; i++)
		if (users[i]->uid == uid)
			return last = users[i];
	if (n_users == cap_users) {
		size_t ncap = cap_users ? 2 * cap_users : 16;
		struct ssa_user **n = realloc(users, ncap * sizeof(struct ssa_user *));

		if (!n)
			return NULL;
		users = n;
		cap_users = ncap;
	}
	u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->uid = uid;
	users[n_users++] = u;
	return last = u;
}

static long reserve(void)
{
	long r = fd_limit / 16;

	return r < FD_RESERVE_MIN ? FD_RESERVE_MIN : r;
}

unsigned ssa_users_max_sockets(const struct ssad *d)
{
	long n = d->policy->cfg.limits.sockets_per_user;

	if (n > 0)
		return (unsigned)n;
	/* A quarter of what is left after the reserve; each socket costs ssad
	 * two descriptors while its network side is open (a libssa socket's
	 * TCP socket is made at socket(): issue 15), one after. */
	n = (fd_limit - reserve()) / 4;
	return n < 16 ? 16 : (unsigned)n;
}

bool ssa_fd_in_reserve(int fd)
{
	return fd >= fd_limit - reserve();
}

bool ssa_user_socket_ok(struct ssad *d, struct ssa_user *u)
{
	unsigned max = ssa_users_max_sockets(d);

	if (u->sockets < max)
		return true;
	if (ssa_now_ms() - u->gc_at_ms >= GC_EVERY_MS) {
		u->gc_at_ms = ssa_now_ms();
		if (ssa_registry_gc() < 0)
			/* No way to tell which sockets she closed: her oldest
			 * records go (hers only). */
			ssa_registry_evict(u->uid, u->sockets - max + 1);
	}
	return u->sockets < max;
}

void ssa_user_refused(struct ssa_user *u, const char *key, unsigned limit, int pid)
{
	/* One line a second per user and limit: the key's name is the site. */
	ssa_log_limited(SSA_LOG_WARN, key, u->uid, 1, 1,
			"uid %u (pid %d) reached %s = %u; refusing more", (unsigned)u->uid, pid,
			key, limit);
}

static void leak(const struct ssad *d, struct ssa_user *u)
{
	uint64_t now = ssa_now_ms();
	double rate = d->policy->cfg.limits.request_ms_per_user / 1000.0;

	u->debt_ms -= (double)(now - u->debt_at_ms) * rate;
	if (u->debt_ms < 0)
		u->debt_ms = 0;
	u->debt_at_ms = now;
}

bool ssa_user_busy(const struct ssad *d, struct ssa_user *u)
{
	uint64_t now = ssa_now_ms();

	leak(d, u);
	if (u->debt_ms <= d->policy->cfg.limits.request_ms_per_user)
		return false;
	for (size_t i = 0; i < n_users; i++)
		if (users[i] != u && users[i]->active_ms && now - users[i]->active_ms < 1000)
			return true;
	return false; /* nobody else is waiting for the loop */
}

void ssa_user_charge(struct ssa_user *u, double ms)
{
	u->debt_ms += ms;
}

void ssa_trim_soon(void)
{
	if (daemon_ && !trim.at_ms)
		ssa_deadline_arm(&daemon_->loop, &trim, TRIM_MS);
}
