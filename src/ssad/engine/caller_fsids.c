/* SPDX-License-Identifier: MIT */
#include "caller_fsids.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <pthread.h>

#include "../../common/log.h"

/* setfsuid()/setfsgid() return the previous id and fail silently; called
 * with -1 (never a valid id) they change nothing and tell the current one. */
static uid_t cur_fsuid(void)
{
	return (uid_t)setfsuid((uid_t)-1);
}

static gid_t cur_fsgid(void)
{
	return (gid_t)setfsgid((gid_t)-1);
}

int ssa_with_caller_fsids(uid_t uid, gid_t gid, void (*fn)(void *, bool), void *arg)
{
	sigset_t all, old;
	uid_t own_uid;
	gid_t own_gid;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	own_uid = cur_fsuid();
	own_gid = cur_fsgid();
	/* The group first, while the fsuid is still the thread's own (a
	 * non-zero fsuid drops only the file-system capabilities, not
	 * CAP_SETGID, but this order does not depend on that). */
	setfsgid(gid);
	setfsuid(uid);
	if (cur_fsuid() != uid || cur_fsgid() != gid) {
		/* Not both: fn runs with the thread's own ids, not half of each. */
		setfsuid(own_uid);
		setfsgid(own_gid);
		rc = EPERM;
	}
	fn(arg, rc == 0);
	setfsuid(own_uid);
	setfsgid(own_gid);
	if (cur_fsuid() != own_uid || cur_fsgid() != own_gid) {
		/* Cannot happen (the ids were the thread's own a moment ago);
		 * if it did, this thread must not serve anyone else with them. */
		log_err("cannot restore ssad's filesystem ids (fsuid %u, fsgid %u) after reading caller uid %u's /proc files",
			(unsigned)own_uid, (unsigned)own_gid, (unsigned)uid);
		abort();
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
