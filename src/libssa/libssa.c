/* SPDX-License-Identifier: MIT */
/*
 * libssa: the userspace front end. It provides socket(..., IPPROTO_TLS) by
 * interposing the C library's socket calls (wrap_*.c); calls on other
 * descriptors go straight to the C library. This file sets it up in each
 * process it is loaded into, and after fork.
 */
#include <pthread.h>

#include "ctl_client.h"
#include "ctl_requests.h"
#include "fd_table.h"
#include "real.h"

/** In a fork child: its own control connections. */
static void after_fork_child(void)
{
	ssa_ctl_pool_reset();
}

/* Before fork: kernel-TLS sockets become shared with the child (both
 * copies of the table say so), and what is held for a CONNECT is sent (the
 * socket is shared too: either process may connect it). */
static void before_fork(void)
{
	ssa_req_flush_all();
	ssa_fd_forked();
	ssa_ctl_fork_prepare(); /* last: the flush above makes calls */
}

static void after_fork_parent(void)
{
	ssa_ctl_fork_parent();
}

/** At load: find the C library's calls, and watch forks. */
__attribute__((constructor)) static void libssa_init(void)
{
	ssa_real_init();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
