/* SPDX-License-Identifier: MIT */
/**
 * @file hs_pool.h
 * @brief Handshake workers: TLS handshake steps run off the event loop.
 *
 * The event loop owns every connection, descriptor, timer and list. The
 * one expensive thing it does is the public-key work inside
 * SSL_do_handshake() (an RSA-2048 signature costs about a millisecond); run
 * on the loop, it would stall the data of every other connection. So a
 * handshake step is handed, with its SSL object, to a pool of worker
 * threads; the loop stops watching that connection's network socket and
 * touches neither until the step comes back through an eventfd.
 *
 * A job is embedded in whatever owns the session (a libssa connection, a
 * kernel handshake) and carries its own completion callback, @c done, as
 * the kernel's net/handshake requests carry hp_done: the pool knows
 * neither front end. While a job is busy, only the worker uses job->ssl
 * and the socket under it; the loop may only set its owner's own
 * "deferred" flags (see conn.c and kernel_hs.c) and must not free the
 * owner before @c done has run.
 */
#ifndef SSAD_HS_POOL_H
#define SSAD_HS_POOL_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "../event_loop.h"

#define SSA_HS_REASON_MAX 256

/** Steps that have cost less CPU than this on average (µs) run on the loop. */
#define SSA_HS_INLINE_US 150

/**
 * No step of a kind that has lately cost more CPU than this (µs) runs on
 * the loop. Steps of kinds that have stayed under it run on the loop when
 * nothing else waits for it (ssa_loop_quiet(), no step out with a worker):
 * the hand-off's two wake-ups then save nobody any time. What arrives during
 * such a step waits for it: usually less than this (an ECDSA client's
 * verification step is 0.7-1 ms here, an RSA-2048 signature about
 * 1.5 ms); a step dearer than its kind's past (a peer's chain of huge
 * keys) takes as long as it takes, once, and its kind goes to the workers
 * until its recent maximum (which loses 1/16 per step; the first two steps
 * of a kind, cold, do not count) is below this again.
 */
#define SSA_HS_QUIET_US 2000

struct ssa_hs_job;

/**
 * A job's completion: called on the loop's thread once the step is over
 * (busy is false again and the results are set). It may free the job's
 * owner; the pool does not touch the job after calling it.
 */
typedef void ssa_hs_done_fn(struct ssa_hs_job *j);

struct ssa_hs_job {
	struct ssa_hs_job *next;
	SSL *ssl;          /**< the session to step (owned by the job's owner) */
	ssa_hs_done_fn *done; /**< called on the loop when a step is over; set before submitting */
	const struct ssa_watch *net; /**< the session's socket's watch, or NULL: its
				      *   readiness is the step's own, not another's */
	bool busy;         /**< queued or running: the loop keeps off ssl */
	bool here;         /**< the next step runs on the loop (see ssa_hs_pool_inline) */
	bool dear;         /**< its kind is new or was lately dear (ssa_hs_pool_inline) */
	unsigned steps;    /**< steps run so far */
	uint32_t step_us;  /**< CPU time of the last step */
	/* results, valid when the job comes back */
	int ret;           /**< SSL_do_handshake()'s return */
	int ssl_err;       /**< SSL_get_error() of it */
	char reason[SSA_HS_REASON_MAX]; /**< why it failed, when it did */
};

/**
 * Start @p n worker threads; each finished job is passed to its own
 * j->done on the loop's thread. n == 0 starts none: jobs then run inline.
 * @retval 0 started
 * @retval errno from eventfd(), epoll_ctl() or pthread_create()
 */
int ssa_hs_pool_start(struct ssa_loop *loop, unsigned n);

/** Number of worker threads (0: handshakes run on the loop). */
unsigned ssa_hs_pool_workers(void);

/** Handshake steps run so far on the loop and handed to workers (each of
 * the latter two wake-ups: a worker's and the loop's). Loop thread only. */
void ssa_hs_pool_counts(uint64_t *on_loop, uint64_t *on_workers);

/** Of the steps handed to workers, those whose kind was new or had lately
 * cost more than SSA_HS_QUIET_US (the rest went because the loop was
 * busy): what a test needs to tell a dear step from a misplaced one. */
uint64_t ssa_hs_pool_dear_steps(void);

/**
 * Decide where the next step of j->ssl runs, and say whether that is on the
 * loop. A step runs on the loop when there are no workers; otherwise only
 * if the same step (role, step number, context) has never lately cost
 * more than SSA_HS_QUIET_US of CPU, and either it has cost less than
 * SSA_HS_INLINE_US on average so far (handing it to a thread would cost
 * more wake-ups than it saves, and it stalls other connections no longer
 * than a large record does) or the loop is quiet (nothing ready, no worker
 * busy with a step of ours). Everything else (busy loop, RSA-4096
 * signatures, steps not yet measured) goes to a worker.
 */
bool ssa_hs_pool_inline(struct ssa_hs_job *j);

/** Run one handshake step of j->ssl where ssa_hs_pool_inline() decided;
 * j->done (which must be set) is called on the loop thread when it is
 * over: at once, before this returns, when it ran on the loop; the caller
 * must then not touch the job's owner after the call, which may have freed
 * it. */
void ssa_hs_pool_submit(struct ssa_hs_job *j);

/** Step j->ssl here and now (used by the workers and inline mode). */
void ssa_hs_step(struct ssa_hs_job *j);

/** Stop and join the workers. Jobs not yet run are dropped: they come back
 * with busy == false and no result (daemon exit only). */
void ssa_hs_pool_stop(void);

#endif
