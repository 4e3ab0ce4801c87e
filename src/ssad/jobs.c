/* SPDX-License-Identifier: MIT */
/* The jobs thread (jobs.h). */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct ssa_job *todo_head, *todo_tail, *done_head, *done_tail;
static bool stopping, running;
static pthread_t thread;
static struct ssa_watch efd = { .fd = -1 };
static struct ssa_loop *jobs_loop;

static void push(struct ssa_job **head, struct ssa_job **tail, struct ssa_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static uint64_t cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void *worker(void *arg)
{
	(void)arg;
	/* Below the loop and the handshake workers: on a busy machine the
	 * files of one user wait, not everyone's traffic. (Linux: per thread.) */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	pthread_mutex_lock(&lock);
	for (;;) {
		struct ssa_job *j;
		uint64_t t0, one = 1;

		while (!todo_head && !stopping)
			pthread_cond_wait(&wake, &lock);
		if (stopping)
			break;
		j = todo_head;
		todo_head = j->next;
		if (!todo_head)
			todo_tail = NULL;
		pthread_mutex_unlock(&lock);
		t0 = cpu_us();
		j->work(j);
		j->cpu_us = cpu_us() - t0;
		pthread_mutex_lock(&lock);
		push(&done_head, &done_tail, j);
		if (write(efd.fd, &one, sizeof one) < 0) {
			/* the counter cannot overflow in practice; the loop drains */
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void on_done(struct ssa_watch *w, uint32_t ev)
{
	uint64_t n;
	struct ssa_job *list;

	(void)ev;
	if (read(w->fd, &n, sizeof n) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&lock);
	list = done_head;
	done_head = done_tail = NULL;
	pthread_mutex_unlock(&lock);
	while (list) {
		struct ssa_job *j = list;

		list = j->next;
		j->done(j);
	}
}

int ssa_jobs_start(struct ssa_loop *loop)
{
	int err;

	efd.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd.fd < 0)
		return errno;
	efd.handler = on_done;
	jobs_loop = loop;
	if ((err = ssa_watch_set(loop, &efd, EPOLLIN)) != 0 ||
	    (err = pthread_create(&thread, NULL, worker, NULL)) != 0) {
		ssa_watch_del(loop, &efd);
		close(efd.fd);
		efd.fd = -1;
		return err;
	}
	running = true;
	return 0;
}

void ssa_jobs_submit(struct ssa_job *j)
{
	pthread_mutex_lock(&lock);
	if (running) {
		push(&todo_head, &todo_tail, j);
		pthread_cond_signal(&wake);
	} else {
		/* No thread (start failed or stopped): done() reports it. */
		j->cpu_us = 0;
		push(&done_head, &done_tail, j);
		if (efd.fd >= 0) {
			uint64_t one = 1;

			(void)!write(efd.fd, &one, sizeof one);
		}
	}
	pthread_mutex_unlock(&lock);
}

void ssa_jobs_stop(void)
{
	struct ssa_job *list;

	if (running) {
		pthread_mutex_lock(&lock);
		stopping = true;
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&lock);
		pthread_join(thread, NULL);
		running = false;
	}
	/* Everything still queued is finished now, without work(). */
	pthread_mutex_lock(&lock);
	if (todo_tail) {
		todo_tail->next = done_head;
		done_head = todo_head;
	}
	list = done_head;
	todo_head = todo_tail = done_head = done_tail = NULL;
	pthread_mutex_unlock(&lock);
	while (list) {
		struct ssa_job *j = list;

		list = j->next;
		j->done(j);
	}
	if (efd.fd >= 0) {
		ssa_watch_del(jobs_loop, &efd);
		close(efd.fd);
		efd.fd = -1;
	}
}
