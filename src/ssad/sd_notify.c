/* SPDX-License-Identifier: MIT */
/* The sd_notify protocol: one datagram of "KEY=VALUE" lines to the unix
 * socket in $NOTIFY_SOCKET, with descriptors for FDSTORE=1. Written out (a
 * few dozen lines) rather than linking libsystemd into a daemon every user
 * talks to. */
#include "sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_fd = -1;

void ssa_sd_notify_use_fd(int fd)
{
	notify_fd = fd;
}

bool ssa_sd_notify_active(void)
{
	const char *path = getenv("NOTIFY_SOCKET");

	return notify_fd >= 0 || (path && *path);
}

int ssa_sd_notify(const char *state)
{
	return ssa_sd_notify_fds(state, NULL, 0);
}

int ssa_sd_notify_fds(const char *state, const int *fds, size_t n)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct iovec iov = { .iov_base = (void *)state, .iov_len = strlen(state) };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * SSA_SD_MAX_FDS)];
	} ctl;
	struct msghdr msg = { .msg_name = &sun, .msg_iov = &iov, .msg_iovlen = 1 };
	size_t plen;
	int fd, err = 0;

	if (n > SSA_SD_MAX_FDS)
		return EINVAL;
	if (n) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof ctl);
		msg.msg_control = ctl.b;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	if (notify_fd >= 0) {
		msg.msg_name = NULL;
		return sendmsg(notify_fd, &msg, MSG_NOSIGNAL) < 0 ? errno : 0;
	}
	if (!path || !*path)
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof sun.sun_path)
		return EINVAL;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract: the length says where it ends */
	msg.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
				      (path[0] == '/' ? 1 : 0));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		err = errno;
	close(fd);
	return err;
}
