/* SPDX-License-Identifier: MIT */
/*
 * kclient: one TLS client connection through the kernel front end
 * (socket(AF_INET[6], SOCK_STREAM, IPPROTO_TLS) with no preload). Uses only
 * libc and <ssa/in_tls.h>; also built with gcc -static (kclient-static).
 *
 *   kclient [-n HOSTNAME] [-N] [-R] [-g PATH] [-e BYTES] [-w SECONDS] ADDRESS PORT
 *   kclient -S [-6]      only socket(): prints "OK" or "ERR ERRNO_NAME"
 *
 *   -n  TLS_REMOTE_HOSTNAME
 *   -N  non-blocking connect: expect EINPROGRESS, poll for POLLOUT, read SO_ERROR
 *   -R  after the OK line, print "RESUMED n" (TLS_RESUMED_SESSION)
 *   -g  send "GET PATH HTTP/1.0" and print the first line of the reply
 *   -e  send BYTES bytes of a pattern to an echo server and check they come back
 *   -w  keep the connection open SECONDS after the exchange (for observers)
 *   -H  keep the connection open after the exchange until stdin reaches EOF
 *
 * Prints:  OK version=0x0304 cipher=NAME peer=ADDR:PORT ms=N   (then results)
 *     or:  ERR ERRNO_NAME ms=N reason=TLS_ERROR
 * Exit status: 0 success, 1 connect or exchange failed, 2 usage or socket().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ssa/in_tls.h>

static const char *errname(int e)
{
	static char buf[32];

	switch (e) {
	case EPROTO: return "EPROTO";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EINVAL: return "EINVAL";
	case ECONNABORTED: return "ECONNABORTED";
	case ECONNRESET: return "ECONNRESET";
	case EINPROGRESS: return "EINPROGRESS";
	case EPIPE: return "EPIPE";
	case EAGAIN: return "EAGAIN";
	case EIO: return "EIO";
	case ENOTCONN: return "ENOTCONN";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENETUNREACH: return "ENETUNREACH";
	case 0: return "0";
	default:
		snprintf(buf, sizeof buf, "errno%d", e);
		return buf;
	}
}

static struct timespec t0;

static double ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
}

static void fail(int fd, int e)
{
	char reason[512] = "";
	socklen_t len = sizeof reason;

	if (fd >= 0 && getsockopt(fd, IPPROTO_TLS, TLS_ERROR, reason, &len) < 0)
		snprintf(reason, sizeof reason, "(TLS_ERROR: %s)", errname(errno));
	printf("ERR %s ms=%.1f reason=%s\n", errname(e), ms(), reason);
	exit(1);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: kclient [-n HOST] [-N] [-R] [-g PATH] [-e BYTES] [-w SECS|-H] ADDRESS PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *host = NULL, *get = NULL;
	long echo = -1, wait_s = 0;
	int nonblock = 0, c, fd, ver = 0, only_socket = 0, v6 = 0, hold = 0, resumed = -1;
	struct sockaddr_storage ss = { 0 };
	socklen_t sslen;
	char cipher[128] = "", peer[INET6_ADDRSTRLEN] = "?";
	socklen_t len;

	while ((c = getopt(argc, argv, "n:NRg:e:w:S6H")) != -1) {
		switch (c) {
		case 'R': resumed = 0; break;
		case 'H': hold = 1; break;
		case 'S': only_socket = 1; break;
		case '6': v6 = 1; break;
		case 'n': host = optarg; break;
		case 'N': nonblock = 1; break;
		case 'g': get = optarg; break;
		case 'e': echo = atol(optarg); break;
		case 'w': wait_s = atol(optarg); break;
		default: usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (only_socket) {
		fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, IPPROTO_TLS);
		if (fd < 0) {
			printf("ERR %s\n", errname(errno));
			return 1;
		}
		printf("OK\n");
		return close(fd) ? 1 : 0;
	}
	if (argc - optind != 2)
		usage();
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		int port = atoi(argv[optind + 1]);

		if (inet_pton(AF_INET, argv[optind], &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((unsigned short)port);
			sslen = sizeof *s4;
		} else if (inet_pton(AF_INET6, argv[optind], &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((unsigned short)port);
			sslen = sizeof *s6;
		} else {
			usage();
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = socket(ss.ss_family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), IPPROTO_TLS);
	if (fd < 0) {
		printf("ERR %s ms=%.1f reason=socket\n", errname(errno), ms());
		return 2;
	}
	if (host && setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host, (socklen_t)strlen(host) + 1) < 0)
		fail(fd, errno);
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
		int e = errno;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int so = 0, r;

		if (!nonblock || e != EINPROGRESS)
			fail(fd, e);
		printf("NB connect=EINPROGRESS\n");
		r = poll(&p, 1, 15000);
		len = sizeof so;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) < 0)
			fail(fd, errno);
		printf("NB poll=%d revents=%s%s%s so_error=%s\n", r, p.revents & POLLOUT ? "OUT" : "",
		       p.revents & POLLERR ? "ERR" : "", p.revents & POLLHUP ? "HUP" : "", errname(so));
		if (r != 1)
			fail(fd, ETIMEDOUT);
		if (so)
			fail(fd, so);
	} else if (nonblock) {
		printf("NB connect=0\n");
	}
	len = sizeof ver;
	getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_VERSION, &ver, &len);
	len = sizeof cipher;
	getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_CIPHER, cipher, &len);
	len = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof peer);
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer, sizeof peer);
		snprintf(peer + strlen(peer), sizeof peer - strlen(peer), ":%u",
			 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	printf("OK version=0x%04x cipher=%s peer=%s ms=%.1f\n", (unsigned)ver, cipher, peer, ms());
	if (resumed >= 0) {
		len = sizeof resumed;
		if (getsockopt(fd, IPPROTO_TLS, TLS_RESUMED_SESSION, &resumed, &len) < 0)
			fail(fd, errno);
		printf("RESUMED %d\n", resumed);
	}
	/* The exchange below is simpler blocking. */
	if (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		fail(fd, errno);
	if (get) {
		char req[512], line[512];
		size_t n = 0;
		ssize_t r;

		snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", get);
		if (write_all(fd, req, strlen(req)) < 0)
			fail(fd, errno);
		while (n < sizeof line - 1) {
			r = read(fd, line + n, 1);
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				struct pollfd p = { .fd = fd, .events = POLLIN };

				poll(&p, 1, 5000);
				continue;
			}
			if (r <= 0 || line[n] == '\n')
				break;
			n++;
		}
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		printf("REPLY %s\n", line);
	}
	if (echo >= 0) {
		static char out[65536], in[65536];
		long sent = 0, got = 0;

		for (size_t i = 0; i < sizeof out; i++)
			out[i] = (char)('a' + i % 26);
		while (got < echo) {
			if (sent < echo) {
				size_t n = (size_t)(echo - sent < 16384 ? echo - sent : 16384);

				if (write_all(fd, out + sent % 26, n) < 0)
					fail(fd, errno);
				sent += (long)n;
			}
			while (got < sent) {
				ssize_t r = read(fd, in, sizeof in);

				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0 && errno == EAGAIN) {
					struct pollfd p = { .fd = fd, .events = POLLIN };

					poll(&p, 1, 5000);
					continue;
				}
				if (r <= 0) {
					printf("ECHO short after %ld of %ld bytes (%s)\n", got, echo,
					       r ? errname(errno) : "EOF");
					return 1;
				}
				for (ssize_t i = 0; i < r; i++) {
					if (in[i] != (char)('a' + (got + i) % 26)) {
						printf("ECHO corrupt at byte %ld\n", got + (long)i);
						return 1;
					}
				}
				got += r;
			}
		}
		printf("ECHO %ld bytes ok\n", got);
	}
	if (wait_s > 0 || hold) {
		printf("WAITING\n");
		if (hold) {
			char b[64];

			for (;;) {
				ssize_t r = read(0, b, sizeof b);

				if (r == 0 || (r < 0 && errno != EINTR))
					break;
			}
		} else {
			sleep((unsigned)wait_s);
		}
	}
	if (close(fd) < 0)
		fail(-1, errno);
	printf("CLOSED ms=%.1f\n", ms());
	return 0;
}
