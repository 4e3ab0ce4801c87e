/* SPDX-License-Identifier: MIT */
/**
 * @file event_loop.h
 * @brief One epoll-driven event loop per worker thread, with deadlines.
 *
 * Every object that owns descriptors embeds a struct ssa_watch per
 * descriptor; the loop calls its handler with the ready events. Deadlines
 * all have the same few durations, so a FIFO list per duration is sorted by
 * construction and arming or cancelling one is O(1).
 */
#ifndef SSAD_EVENT_LOOP_H
#define SSAD_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct ssa_loop;

struct ssa_watch {
	int fd;
	uint32_t events;  /**< currently registered interest */
	bool added;
	void (*handler)(struct ssa_watch *w, uint32_t events);
};

struct ssa_deadline {
	struct ssa_deadline *prev, *next;
	uint64_t at_ms;   /**< 0 when not armed */
	void (*expired)(struct ssa_deadline *d);
};

/** An object whose memory is released after the current event batch, so
 * that events already fetched for it are skipped instead of touching freed
 * memory. Its watches must have handler == NULL by then. */
struct ssa_zombie {
	struct ssa_zombie *next;
	void (*destroy)(struct ssa_zombie *z);
};

struct ssa_loop {
	int epfd;
	struct ssa_zombie *zombies;
	volatile int stop;
	struct ssa_deadline timers; /**< list head, FIFO by at_ms */
	int batch_left;   /**< events of the current batch not yet handled */
};

int ssa_loop_init(struct ssa_loop *loop);
void ssa_loop_fini(struct ssa_loop *loop);

/**
 * Register, change or (events == 0 keeps it registered with no interest)
 * the interest set of a watch. Does nothing when unchanged.
 * @retval 0 or an errno from epoll_ctl
 */
int ssa_watch_set(struct ssa_loop *loop, struct ssa_watch *w, uint32_t events);
/** Remove a watch from the loop (before closing its fd). */
void ssa_watch_del(struct ssa_loop *loop, struct ssa_watch *w);

/**
 * Whether nothing but @p self waits for the loop: no event of the current
 * batch is left to handle and no watch other than self (may be NULL) is
 * ready now (a zero-timeout epoll_wait(): every watch is level-triggered,
 * so looking consumes nothing). What arrives afterwards waits for the
 * handler that asked to return. It does not see work a handler has already
 * taken in but not done (a queue of messages read at once, timers due in
 * the same pass): callers in such places must not count on it.
 */
bool ssa_loop_quiet(struct ssa_loop *loop, const struct ssa_watch *self);

uint64_t ssa_now_ms(void);
/** The same clock (CLOCK_MONOTONIC) in microseconds. */
uint64_t ssa_now_us(void);
/** Arm a deadline in ms from now; deadlines must be armed in time order
 * (all users use the same timeout) — a later at_ms goes at the tail. */
void ssa_deadline_arm(struct ssa_loop *loop, struct ssa_deadline *d, unsigned ms);
void ssa_deadline_cancel(struct ssa_deadline *d);

/** Release z after the current batch (see struct ssa_zombie). */
void ssa_loop_bury(struct ssa_loop *loop, struct ssa_zombie *z);

/** Release everything buried so far, newest first: the loop does this
 * after each batch, and whoever tears the daemon down once no event can
 * come any more. */
void ssa_loop_reap(struct ssa_loop *loop);

/** Run until loop->stop is set. */
void ssa_loop_run(struct ssa_loop *loop);

#endif
