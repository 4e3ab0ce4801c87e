/* SPDX-License-Identifier: MIT */
#include "event_loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"

int ssa_loop_init(struct ssa_loop *loop)
{
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return errno;
	loop->stop = 0;
	loop->zombies = NULL;
	loop->timers.prev = loop->timers.next = &loop->timers;
	loop->timers.at_ms = 0;
	return 0;
}

void ssa_loop_fini(struct ssa_loop *loop)
{
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
}

int ssa_watch_set(struct ssa_loop *loop, struct ssa_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (w->added && w->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, w->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, w->fd, &ev) != 0)
		return errno;
	w->added = true;
	w->events = events;
	return 0;
}

void ssa_watch_del(struct ssa_loop *loop, struct ssa_watch *w)
{
	if (w->added)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->added = false;
	w->events = 0;
}

uint64_t ssa_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t ssa_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ssa_deadline_cancel(struct ssa_deadline *d)
{
	if (!d->at_ms)
		return;
	d->prev->next = d->next;
	d->next->prev = d->prev;
	d->prev = d->next = NULL;
	d->at_ms = 0;
}

void ssa_deadline_arm(struct ssa_loop *loop, struct ssa_deadline *d, unsigned ms)
{
	struct ssa_deadline *pos;

	ssa_deadline_cancel(d);
	d->at_ms = ssa_now_ms() + ms;
	/* Walk back from the tail: with equal timeouts this stops at once. */
	pos = loop->timers.prev;
	while (pos != &loop->timers && pos->at_ms > d->at_ms)
		pos = pos->prev;
	d->prev = pos;
	d->next = pos->next;
	pos->next->prev = d;
	pos->next = d;
}

void ssa_loop_bury(struct ssa_loop *loop, struct ssa_zombie *z)
{
	z->next = loop->zombies;
	loop->zombies = z;
}

void ssa_loop_reap(struct ssa_loop *loop)
{
	while (loop->zombies) {
		struct ssa_zombie *z = loop->zombies;

		loop->zombies = z->next;
		z->destroy(z);
	}
}

static int next_timeout(struct ssa_loop *loop)
{
	struct ssa_deadline *first = loop->timers.next;
	uint64_t now;

	if (first == &loop->timers)
		return -1;
	now = ssa_now_ms();
	if (first->at_ms <= now)
		return 0;
	return (int)(first->at_ms - now > 60000 ? 60000 : first->at_ms - now);
}

static void run_expired(struct ssa_loop *loop)
{
	uint64_t now = ssa_now_ms();

	while (loop->timers.next != &loop->timers && loop->timers.next->at_ms <= now) {
		struct ssa_deadline *d = loop->timers.next;

		ssa_deadline_cancel(d);
		d->expired(d);
	}
}

bool ssa_loop_quiet(struct ssa_loop *loop, const struct ssa_watch *self)
{
	struct epoll_event evs[2];
	int n;

	if (loop->batch_left != 0)
		return false;
	n = epoll_wait(loop->epfd, evs, 2, 0);
	/* Only level-triggered interest is ever registered (ssa_watch_set):
	 * what was seen here is reported again by the next wait. */
	return n == 0 || (n == 1 && evs[0].data.ptr == self);
}

void ssa_loop_run(struct ssa_loop *loop)
{
	struct epoll_event evs[64];

	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, evs, 64, next_timeout(loop));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct ssa_watch *w = evs[i].data.ptr;

			loop->batch_left = n - i - 1;
			if (w->handler)
				w->handler(w, evs[i].events);
		}
		loop->batch_left = 0;
		run_expired(loop);
		ssa_loop_reap(loop);
	}
}
