/* SPDX-License-Identifier: MIT */
/* The worker becomes an unprivileged user (worker_user.h). */
#include "worker_user.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Whether any capability is left in the effective, permitted or ambient set. */
static bool any_cap(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 }, { 0 } };

	if (syscall(SYS_capget, &h, d) != 0)
		return true;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return true;
	for (int c = 0; c <= 63; c++) {
		int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0);

		if (r < 0)
			break;
		if (r == 1)
			return true;
	}
	return false;
}

int ssa_worker_drop(pid_t parent, uid_t *uid, gid_t *gid, char *why, size_t wlen)
{
	struct passwd *pw = getpwnam(SSA_WORKER_USER);
	uid_t u = pw ? pw->pw_uid : SSA_WORKER_FALLBACK_ID;
	gid_t g = pw ? pw->pw_gid : SSA_WORKER_FALLBACK_ID;
	uid_t r, e, s;

	if (u == 0 || g == 0) {
		snprintf(why, wlen, "user %s is root", SSA_WORKER_USER);
		return EPERM;
	}
	/* glibc applies each to every thread of the process. */
	if (setgroups(0, NULL) != 0 || setresgid(g, g, g) != 0 || setresuid(u, u, u) != 0) {
		snprintf(why, wlen, "cannot become uid %u gid %u: %s", (unsigned)u, (unsigned)g,
			 strerror(errno));
		return EPERM;
	}
	if (getresuid(&r, &e, &s) != 0 || r != u || e != u || s != u || any_cap()) {
		snprintf(why, wlen, "uid %u taken, yet ids or capabilities remain", (unsigned)u);
		return EPERM;
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* A change of ids clears the parent-death signal: set it again, and
	 * end if the supervisor is already gone. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(1);
	*uid = u;
	*gid = g;
	return 0;
}
