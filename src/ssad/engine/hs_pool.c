/* SPDX-License-Identifier: MIT */
#include "hs_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "../../common/log.h"
#include "tls_context.h"

#define SSA_HS_MAX_WORKERS 64

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct ssa_hs_job *head, *tail;  /**< to run, FIFO */
	struct ssa_hs_job *finished;     /**< to hand back, LIFO */
	bool stopping;
	unsigned n;
	pthread_t threads[SSA_HS_MAX_WORKERS];
	struct ssa_watch wake;           /**< eventfd: something finished */
	struct ssa_loop *loop;
	unsigned out;                    /**< handed to workers, not yet back (loop only) */
	uint64_t steps_loop, steps_workers; /**< steps run where (loop only) */
	uint64_t steps_dear;             /**< of steps_workers, j->dear ones */
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.wake = { .fd = -1 },
};

/*
 * What each kind of step has cost: CPU microseconds, a moving average
 * (weight 1/4 for the newest), keyed by context, role and step number in a
 * small direct-mapped table. Only the loop thread reads or writes it.
 */
#define COST_SLOTS 64
#define COST_MAX_STEP 3

static struct step_cost {
	const SSL_CTX *ctx;
	unsigned step;
	uint32_t avg_us;
	uint32_t max_us;  /* the dearest lately: a sample, or less 1/16 per step */
	bool server;
	uint8_t seen;     /* samples so far (up to 255) */
} costs[COST_SLOTS];

/* The slot of j's next step, and whether it holds that step's average (a
 * slot holds one kind of step at a time; looking does not claim it). */
static struct step_cost *cost_slot(const struct ssa_hs_job *j, struct step_cost *key, bool *found)
{
	uintptr_t h;
	struct step_cost *s;

	key->ctx = SSL_get_SSL_CTX(j->ssl);
	key->server = SSL_is_server(j->ssl) != 0;
	key->step = j->steps < COST_MAX_STEP ? j->steps : COST_MAX_STEP;
	h = ((uintptr_t)key->ctx >> 4) * 31u + (uintptr_t)key->step * 2u + (key->server ? 1u : 0u);
	s = &costs[(h ^ (h >> 7)) % COST_SLOTS];
	*found = s->ctx == key->ctx && s->server == key->server && s->step == key->step;
	return s;
}

static void cost_learn(struct ssa_hs_job *j)
{
	struct step_cost key;
	bool found;
	struct step_cost *s = cost_slot(j, &key, &found);

	key.avg_us = found ? (s->avg_us * 3 + j->step_us) / 4 : j->step_us;
	/* A peer can make one step dear (a chain of huge RSA keys): the
	 * average forgets that within a few steps, the maximum more slowly,
	 * so such a step runs on the loop again only after about 11 cheap
	 * ones per doubling of the excess (50 for a step 25 times too dear).
	 * The first two of a kind are cold (caches, lazy loading) and
	 * count in the average only. */
	key.seen = found && s->seen < UINT8_MAX ? (uint8_t)(s->seen + 1) : found ? s->seen : 1;
	key.max_us = found ? s->max_us - s->max_us / 16 : 0;
	if (key.seen > 2 && j->step_us > key.max_us)
		key.max_us = j->step_us;
	*s = key; /* a step of another kind loses the slot */
	log_debug("handshake step %u (%s, %s): %u us of CPU, average %u us", j->steps,
		  key.server ? "server" : "client", j->here ? "loop" : "worker",
		  (unsigned)j->step_us, (unsigned)key.avg_us);
	j->steps++;
}

/* The thread's CPU time, not the elapsed time: under load a step that
 * lost its CPU meanwhile would look dear, and its kind would leave the loop
 * just when hand-offs cost most. Two system calls per step. */
static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void ssa_hs_step(struct ssa_hs_job *j)
{
	uint64_t t0 = thread_cpu_us(), dt;

	ERR_clear_error();
	j->ret = SSL_do_handshake(j->ssl);
	j->ssl_err = j->ret == 1 ? SSL_ERROR_NONE : SSL_get_error(j->ssl, j->ret);
	j->reason[0] = '\0';
	/* The error queue is per thread: the reason is read here or never. */
	if (j->ret != 1 && j->ssl_err != SSL_ERROR_WANT_READ && j->ssl_err != SSL_ERROR_WANT_WRITE)
		ssa_tls_failure_reason(j->ssl, j->ssl_err, j->reason, sizeof j->reason);
	ERR_clear_error();
	dt = thread_cpu_us() - t0;
	j->step_us = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct ssa_hs_job *j;
		bool was_empty;

		while (!pool.head && !pool.stopping)
			pthread_cond_wait(&pool.more, &pool.lock);
		if (pool.stopping)
			break;
		j = pool.head;
		pool.head = j->next;
		if (!pool.head)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.lock);

		ssa_hs_step(j);

		pthread_mutex_lock(&pool.lock);
		was_empty = !pool.finished;
		j->next = pool.finished;
		pool.finished = j;
		if (was_empty) {
			uint64_t one = 1;

			/* The loop drains the whole list per wake-up. */
			if (write(pool.wake.fd, &one, sizeof one) < 0 && errno != EAGAIN)
				log_err("handshake worker: eventfd: %s", strerror(errno));
		}
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* On the loop: hand back every finished job, oldest first. */
static void on_wake(struct ssa_watch *w, uint32_t ev)
{
	struct ssa_hs_job *list, *rev = NULL;
	uint64_t n;

	(void)ev;
	if (read(w->fd, &n, sizeof n) < 0 && errno != EAGAIN)
		log_err("handshake workers: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&pool.lock);
	list = pool.finished;
	pool.finished = NULL;
	pthread_mutex_unlock(&pool.lock);
	while (list) {
		struct ssa_hs_job *nx = list->next;

		list->next = rev;
		rev = list;
		list = nx;
	}
	while (rev) {
		struct ssa_hs_job *j = rev;

		rev = j->next;
		j->next = NULL;
		j->busy = false;
		pool.out--;
		cost_learn(j);
		j->done(j);
	}
}

int ssa_hs_pool_start(struct ssa_loop *loop, unsigned n)
{
	int rc;

	pool.loop = loop;
	pool.n = 0;
	if (n == 0)
		return 0;
	if (n > SSA_HS_MAX_WORKERS)
		n = SSA_HS_MAX_WORKERS;
	pool.wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool.wake.fd < 0)
		return errno;
	pool.wake.handler = on_wake;
	rc = ssa_watch_set(loop, &pool.wake, EPOLLIN);
	if (rc != 0) {
		close(pool.wake.fd);
		pool.wake.fd = -1;
		return rc;
	}
	for (unsigned i = 0; i < n; i++) {
		rc = pthread_create(&pool.threads[i], NULL, worker, NULL);
		if (rc != 0) {
			ssa_hs_pool_stop();
			return rc;
		}
		pool.n++;
	}
	return 0;
}

unsigned ssa_hs_pool_workers(void)
{
	return pool.n;
}

void ssa_hs_pool_counts(uint64_t *on_loop, uint64_t *on_workers)
{
	*on_loop = pool.steps_loop;
	*on_workers = pool.steps_workers;
}

uint64_t ssa_hs_pool_dear_steps(void)
{
	return pool.steps_dear;
}

bool ssa_hs_pool_inline(struct ssa_hs_job *j)
{
	struct step_cost key;
	bool found;
	const struct step_cost *s;

	j->here = true;
	j->dear = false;
	if (pool.n == 0)
		return true;
	s = cost_slot(j, &key, &found);
	j->dear = !found || s->max_us > SSA_HS_QUIET_US;
	/* Never lately dear, and cheap, or (bounded) with nobody else
	 * waiting for the loop: no worker's step to hand back, no event
	 * ready. */
	j->here = found && s->max_us <= SSA_HS_QUIET_US &&
		  (s->avg_us < SSA_HS_INLINE_US ||
		   (pool.out == 0 && ssa_loop_quiet(pool.loop, j->net)));
	return j->here;
}

void ssa_hs_pool_submit(struct ssa_hs_job *j)
{
	j->busy = true;
	j->next = NULL;
	if (j->here) {
		pool.steps_loop++;
		ssa_hs_step(j);
		j->busy = false;
		cost_learn(j);
		j->done(j);
		return;
	}
	pool.out++;
	pool.steps_workers++;
	pool.steps_dear += j->dear;
	pthread_mutex_lock(&pool.lock);
	if (pool.tail)
		pool.tail->next = j;
	else
		pool.head = j;
	pool.tail = j;
	pthread_cond_signal(&pool.more);
	pthread_mutex_unlock(&pool.lock);
}

void ssa_hs_pool_stop(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.more);
	pthread_mutex_unlock(&pool.lock);
	for (unsigned i = 0; i < pool.n; i++)
		pthread_join(pool.threads[i], NULL);
	pool.n = 0;
	/* Nothing runs any more: every job is the loop's again. */
	for (struct ssa_hs_job *j = pool.head, *nx; j; j = nx) {
		nx = j->next;
		j->next = NULL;
		j->busy = false;
	}
	for (struct ssa_hs_job *j = pool.finished, *nx; j; j = nx) {
		nx = j->next;
		j->next = NULL;
		j->busy = false;
	}
	pool.head = pool.tail = pool.finished = NULL;
	if (pool.wake.fd >= 0) {
		ssa_watch_del(pool.loop, &pool.wake);
		close(pool.wake.fd);
		pool.wake.fd = -1;
	}
}
