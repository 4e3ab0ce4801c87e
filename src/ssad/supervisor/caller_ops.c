/* SPDX-License-Identifier: MIT */
/* Privileged system calls made for a caller (caller_ops.h). */
#include "caller_ops.h"

#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../engine/proc_links.h"

/* Take uid/gid as fsids, signals blocked. @retval 0, or EPERM (restored) */
static int fsids_enter(uid_t uid, gid_t gid, uid_t *ou, gid_t *og, sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
	*og = (gid_t)setfsgid(gid);
	*ou = (uid_t)setfsuid(uid);
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
		setfsuid(*ou);
		setfsgid(*og);
		pthread_sigmask(SIG_SETMASK, old, NULL);
		return EPERM;
	}
	return 0;
}

static void fsids_leave(uid_t ou, gid_t og, const sigset_t *old)
{
	setfsuid(ou);
	setfsgid(og);
	if ((uid_t)setfsuid((uid_t)-1) != ou || (gid_t)setfsgid((gid_t)-1) != og) {
		log_err("cannot restore the supervisor's filesystem ids");
		abort();
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int ssa_caller_socket(int netns_fd, uid_t uid, gid_t gid, int domain, int *out)
{
	uid_t ou;
	gid_t og;
	sigset_t old;
	int fd = -1, err;

	*out = -1;
	if (domain != AF_INET && domain != AF_INET6)
		return EAFNOSUPPORT;
	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0)
		return ENETUNREACH;
	if ((err = fsids_enter(uid, gid, &ou, &og, &old)) == 0) {
		fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
		err = fd < 0 ? errno : 0;
		fsids_leave(ou, og, &old);
	}
	if (netns_fd >= 0 && setns(ssa_self_netns_fd(), CLONE_NEWNET) != 0) {
		/* Cannot happen (root in its own namespace); if it did, nothing
		 * more may be done in the caller's namespace. */
		log_err("cannot return to ssad's network namespace: %s", strerror(errno));
		abort();
	}
	*out = fd;
	return err;
}

int ssa_caller_accept(int lfd, uid_t uid, gid_t gid, struct sockaddr_storage *sa,
		      socklen_t *sl, int *out)
{
	uid_t ou;
	gid_t og;
	sigset_t old;
	int err;

	*out = -1;
	*sl = sizeof *sa;
	if ((err = fsids_enter(uid, gid, &ou, &og, &old)) != 0)
		return err;
	*out = accept4(lfd, (struct sockaddr *)sa, sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	err = *out < 0 ? errno : 0;
	fsids_leave(ou, og, &old);
	return err;
}
