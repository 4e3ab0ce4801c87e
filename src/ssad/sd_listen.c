/* SPDX-License-Identifier: MIT */
/* $LISTEN_FDS: descriptors from the service manager (sd_listen.h). */
#include "sd_listen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int number(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!s || !*s)
		return EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end || *v > max || s[0] == '-' || s[0] == '+' ? EINVAL : 0;
}

/* Split LISTEN_FDNAMES (':'-separated) into the n names. */
static int names(const char *list, struct ssa_sd_fd *fds, size_t n)
{
	const char *p = list;

	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (!list) {
			snprintf(fds[i].name, sizeof fds[i].name, "unknown");
			continue;
		}
		len = strcspn(p, ":");
		if (len >= sizeof fds[i].name || (!p[len] && i + 1 < n))
			return EINVAL;
		memcpy(fds[i].name, p, len);
		fds[i].name[len] = '\0';
		p += len + (p[len] ? 1 : 0);
	}
	return list && *p ? EINVAL : 0; /* more names than descriptors */
}

static void forget_env(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

static struct ssa_sd_fd *inherited;
static size_t n_inherited;

void ssa_sd_listen_inherit(struct ssa_sd_fd *fds, size_t n)
{
	inherited = fds;
	n_inherited = fds ? n : 0;
}

int ssa_sd_listen_fds(struct ssa_sd_fd **out, size_t *n, char *why, size_t wlen)
{
	const char *spid = getenv("LISTEN_PID"), *sfds = getenv("LISTEN_FDS");
	unsigned long pid, nfds;
	struct ssa_sd_fd *fds;

	*out = NULL;
	*n = 0;
	if (inherited) {
		*out = inherited;
		*n = n_inherited;
		inherited = NULL;
		n_inherited = 0;
		forget_env();
		return 0;
	}
	if (!spid && !sfds)
		return 0;
	if (number(spid, 0x7fffffff, &pid) != 0) {
		snprintf(why, wlen, "LISTEN_PID is not a process id");
		forget_env();
		return EINVAL;
	}
	if ((pid_t)pid != getpid()) {
		forget_env(); /* meant for another process: none are ours */
		return 0;
	}
	if (number(sfds, SSA_SD_LISTEN_MAX, &nfds) != 0) {
		snprintf(why, wlen, "LISTEN_FDS is not a number up to %d", SSA_SD_LISTEN_MAX);
		forget_env();
		return EINVAL;
	}
	if (nfds == 0) {
		forget_env();
		return 0;
	}
	fds = calloc(nfds, sizeof *fds);
	if (!fds || names(getenv("LISTEN_FDNAMES"), fds, nfds) != 0) {
		snprintf(why, wlen, fds ? "LISTEN_FDNAMES does not name %lu descriptors" :
			 "out of memory", nfds);
		for (unsigned long i = 0; i < nfds; i++)
			close(SSA_SD_LISTEN_START + (int)i);
		free(fds);
		forget_env();
		return fds ? EINVAL : ENOMEM;
	}
	for (unsigned long i = 0; i < nfds; i++) {
		fds[i].fd = SSA_SD_LISTEN_START + (int)i;
		fcntl(fds[i].fd, F_SETFD, FD_CLOEXEC);
	}
	forget_env();
	*out = fds;
	*n = nfds;
	return 0;
}
