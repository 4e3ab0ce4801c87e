/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of running code with a caller's filesystem ids
 * (src/ssad/engine/caller_fsids.c): the ids hold inside and only inside,
 * no signal can be delivered meanwhile, and without CAP_SETUID (dropped on
 * one thread) nothing changes and EPERM says so. Needs root (skipped
 * otherwise).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <cmocka.h>

#include "../../src/ssad/engine/caller_fsids.h"

struct seen {
	int calls;
	uid_t fsuid;
	gid_t fsgid;
	bool all_blocked;
	bool as_caller;
};

static void look(void *arg, bool as_caller)
{
	struct seen *s = arg;
	sigset_t now;

	s->calls++;
	s->as_caller = as_caller;
	s->fsuid = (uid_t)setfsuid((uid_t)-1);
	s->fsgid = (gid_t)setfsgid((gid_t)-1);
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	/* SIGKILL and SIGSTOP cannot be blocked; every other signal must be. */
	s->all_blocked = sigismember(&now, SIGTERM) && sigismember(&now, SIGHUP) &&
			 sigismember(&now, SIGUSR1) && sigismember(&now, SIGRTMIN);
}

static void takes_and_restores(void **state)
{
	struct seen s = { 0 };
	sigset_t before, after;

	(void)state;
	if (geteuid() != 0)
		skip();
	pthread_sigmask(SIG_BLOCK, NULL, &before);
	assert_int_equal(ssa_with_caller_fsids(12345, 23456, look, &s), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.fsuid, 12345);
	assert_int_equal(s.fsgid, 23456);
	assert_true(s.as_caller);
	assert_true(s.all_blocked);
	assert_int_equal(setfsuid((uid_t)-1), 0);
	assert_int_equal(setfsgid((gid_t)-1), 0);
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	assert_int_equal(sigismember(&after, SIGTERM), sigismember(&before, SIGTERM));
	assert_int_equal(sigismember(&after, SIGUSR1), sigismember(&before, SIGUSR1));
}

/* On a thread of its own (capabilities are per thread): CAP_SETUID out of
 * the effective set, then the same call. */
static void *without_setuid(void *arg)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct seen *s = arg;

	if (syscall(SYS_capget, &h, d) != 0)
		return (void *)1;
	d[0].effective &= ~(1U << CAP_SETUID);
	if (syscall(SYS_capset, &h, d) != 0)
		return (void *)1;
	return (void *)(intptr_t)ssa_with_caller_fsids(12345, 23456, look, s);
}

static void eperm_without_cap_setuid(void **state)
{
	struct seen s = { 0 };
	pthread_t t;
	void *rc;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(pthread_create(&t, NULL, without_setuid, &s), 0);
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_int_equal((intptr_t)rc, EPERM);
	assert_int_equal(s.calls, 1);
	assert_false(s.as_caller); /* told: nothing may be made with its own ids */
	/* Neither id: not the group alone either. */
	assert_int_equal(s.fsuid, 0);
	assert_int_equal(s.fsgid, 0);
	assert_int_equal(setfsuid((uid_t)-1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(takes_and_restores),
		cmocka_unit_test(eperm_without_cap_setuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
