/* SPDX-License-Identifier: MIT */
/* The sd_notify protocol: one datagram of "KEY=VALUE" lines to the unix
 * socket in $NOTIFY_SOCKET. Written out (a dozen lines) rather than linking
 * libsystemd into a daemon every user talks to. */
#include "sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ssa_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t plen;
	socklen_t alen;
	int fd, err = 0;

	if (!path || !*path)
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof sun.sun_path)
		return EINVAL;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract: the length says where it ends */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
			   (path[0] == '/' ? 1 : 0));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, alen) < 0)
		err = errno;
	close(fd);
	return err;
}
