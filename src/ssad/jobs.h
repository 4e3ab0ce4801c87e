/* SPDX-License-Identifier: MIT */
/**
 * @file jobs.h
 * @brief Work that a request brings (reading certificate and key files)
 * done on a thread of its own, off the event loop.
 *
 * Decoding certificates costs OpenSSL 3 a quarter of a millisecond or more
 * each; on the loop, one user's files would delay every other user's
 * requests and data. A job's work() runs on the jobs thread and touches
 * only the job; done() runs on the loop thread afterwards. One thread: the
 * jobs of all users queue behind each other, never in front of the loop.
 */
#ifndef SSAD_JOBS_H
#define SSAD_JOBS_H

#include <stdint.h>

#include "event_loop.h"

struct ssa_job {
	struct ssa_job *next;
	void (*work)(struct ssa_job *j);  /**< on the jobs thread */
	void (*done)(struct ssa_job *j);  /**< on the loop thread, after work */
	uint64_t cpu_us;                  /**< CPU time work() took */
};

/** Start the jobs thread. @retval 0 or errno */
int ssa_jobs_start(struct ssa_loop *loop);

/** Queue j; done() is always called later, on the loop (never from here). */
void ssa_jobs_submit(struct ssa_job *j);

/** Stop the thread (daemon exit); every job still queued gets its done()
 * now, without work() having run: done() must tell from the job's own
 * results. */
void ssa_jobs_stop(void);

#endif
