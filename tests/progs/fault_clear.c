/* SPDX-License-Identifier: MIT */
/*
 * fault_clear: try to make application data leave in the clear (issue 4,
 * item 7: no path ever does). Run it under libssa; the test records what
 * the peer receives and looks for MARKER in it.
 *
 *   fault_clear -n HOSTNAME -m MARKER PORT MODE
 *
 * MODE blocking     blocking connect() (expected to fail: the peer is not a
 *                   TLS server, or not the right one), then write(), send()
 *                   with MSG_NOSIGNAL and writev() of MARKER
 *      nonblock     non-blocking connect(), write() of MARKER at once while
 *                   the handshake is pending, wait (poll, 5 s) until the
 *                   socket is writable, SO_ERROR, then write() MARKER again
 *      echo         blocking connect() (expected to succeed), write MARKER,
 *                   read it back
 * One line per step:  STEP <what> rc=N errno=NAME [more]
 * and finally "END". Exit status 0 (the test judges the steps).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#include "test_util.h"

static void step(const char *what, long rc, int err, const char *more)
{
	printf("STEP %s rc=%ld errno=%s%s%s\n", what, rc, rc < 0 ? ename(err) : "-",
	       more && *more ? " " : "", more ? more : "");
}

static void tls_error(int fd, char *out, size_t len)
{
	char why[300] = "";
	socklen_t wl = sizeof why;

	if (getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &wl) != 0)
		snprintf(why, sizeof why, "(unavailable: %s)", ename(errno));
	snprintf(out, len, "tls_error=%s", why);
}

int main(int argc, char **argv)
{
	const char *host = NULL, *marker = NULL, *mode;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	size_t ml;
	char more[400];
	long rc;
	int fd, o;

	while ((o = getopt(argc, argv, "n:m:")) != -1) {
		if (o == 'n')
			host = optarg;
		else if (o == 'm')
			marker = optarg;
		else
			return 2;
	}
	if (argc - optind != 2 || !host || !marker) {
		fprintf(stderr, "usage: fault_clear -n HOSTNAME -m MARKER PORT blocking|nonblock|echo\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[optind]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mode = argv[optind + 1];
	ml = strlen(marker);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	fd = socket(AF_INET, SOCK_STREAM | (strcmp(mode, "nonblock") == 0 ? SOCK_NONBLOCK : 0),
		    IPPROTO_TLS);
	if (fd < 0 || setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host,
				 (socklen_t)strlen(host) + 1)) {
		step("socket", -1, errno, "");
		return 1;
	}
	errno = 0;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	{
		int e = errno;

		tls_error(fd, more, sizeof more);
		step("connect", rc, e, more);
	}
	if (strcmp(mode, "echo") == 0) {
		char buf[256];
		size_t got = 0;

		errno = 0;
		rc = write(fd, marker, ml);
		step("write", rc, errno, "");
		while (got < ml && got < sizeof buf) {
			ssize_t r = read(fd, buf + got, sizeof buf - got);

			if (r <= 0) {
				step("read", r, errno, "");
				break;
			}
			got += (size_t)r;
		}
		step("echo", got == ml && memcmp(buf, marker, ml) == 0 ? 0 : -1, EIO, "");
	} else if (strcmp(mode, "nonblock") == 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int soerr = -1;
		socklen_t sl = sizeof soerr;
		char ev[64];

		errno = 0;
		rc = write(fd, marker, ml);
		step("write-pending", rc, errno, "");
		rc = poll(&p, 1, 5000);
		snprintf(ev, sizeof ev, "revents=0x%x", (unsigned)p.revents);
		step("poll", rc, errno, ev);
		rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		snprintf(ev, sizeof ev, "so_error=%s", soerr > 0 ? ename(soerr) : soerr ? "?" : "0");
		step("so_error", rc, errno, ev);
		tls_error(fd, more, sizeof more);
		errno = 0;
		rc = write(fd, marker, ml);
		step("write-after", rc, errno, more);
	} else {
		struct iovec iov[2] = { { .iov_base = (void *)marker, .iov_len = ml },
					{ .iov_base = (void *)"\n", .iov_len = 1 } };

		errno = 0;
		rc = write(fd, marker, ml);
		step("write", rc, errno, "");
		errno = 0;
		rc = send(fd, marker, ml, MSG_NOSIGNAL);
		step("send", rc, errno, "");
		errno = 0;
		rc = writev(fd, iov, 2);
		step("writev", rc, errno, "");
	}
	close(fd);
	printf("END\n");
	return 0;
}
