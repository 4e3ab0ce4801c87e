/* SPDX-License-Identifier: MIT */
/* The TCP socket an application sent with SOCKET (caller_tcp.h). */
#include "caller_tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static int netns_cookie(int fd, uint64_t *out)
{
	socklen_t len = sizeof *out;

	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, out, &len) != 0)
		return errno;
	return len == sizeof *out ? 0 : ENOPROTOOPT;
}

/* The cookie of ssad's own network namespace, read once from a socket of
 * its own. @retval 0, or why it cannot be known */
static int own_cookie(uint64_t *out)
{
	static uint64_t cookie;
	static int err = -1;
	int fd;

	if (err < 0) {
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		err = fd < 0 ? errno : netns_cookie(fd, &cookie);
		if (fd >= 0)
			close(fd);
		/* Out of descriptors is not the kernel's answer: ask again. */
		if (err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS) {
			int e = err;

			err = -1;
			return e;
		}
	}
	*out = cookie;
	return err;
}

static int int_opt(int fd, int level, int name, int *v)
{
	socklen_t len = sizeof *v;

	return getsockopt(fd, level, name, v, &len) == 0 && len == sizeof *v ? 0 : -1;
}

int ssa_caller_tcp_check(int fd, int domain, uid_t uid, bool *other_ns)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	struct stat st;
	uint64_t mine, its;
	int dom, err;

	*other_ns = false;
	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != uid)
		return EINVAL;
	/* TCP_INFO answers only on a TCP socket; closed: not connected, not
	 * connecting, not listening. */
	if (int_opt(fd, SOL_SOCKET, SO_DOMAIN, &dom) != 0 || dom != domain ||
	    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0 ||
	    tl < sizeof ti.tcpi_state || ti.tcpi_state != TCP_CLOSE)
		return EINVAL;
	/* Not bound: bind() is the application's request to make, checked. */
	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return EINVAL;
	if (domain == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		if (a->sin_port != 0 || a->sin_addr.s_addr != htonl(INADDR_ANY))
			return EINVAL;
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		if (a->sin6_port != 0 || !IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			return EINVAL;
	}
	if ((err = own_cookie(&mine)) != 0 || (err = netns_cookie(fd, &its)) != 0)
		return err == EINVAL || err == ENOPROTOOPT ? ENOPROTOOPT : err;
	*other_ns = its != mine;
	return 0;
}
