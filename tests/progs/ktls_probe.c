/* SPDX-License-Identifier: MIT */
/*
 * ktls_probe: an SSA client or server for the kernel-TLS hand-off of the
 * userspace front end (tests/kernel/guest/80-libssa-ktls.t), run under
 * LD_PRELOAD=libssa.so. Uses only POSIX calls and <ssa/in_tls.h>.
 *
 *   ktls_probe connect [-N] [-w SEC] [-b BYTES] [-r | -g PATH] HOST PORT NAME
 *       echo BYTES (default 300000) through an echo server, shutdown(SHUT_WR),
 *       read to the end; -N non-blocking connect; -w wait SEC before closing;
 *       -r only read to the end; -g send "GET PATH HTTP/1.0", read to the end;
 *       -x exit once the data is echoed, without shutdown() or close()
 *       ("READ bytes=N first=FIRST-LINE ... eof=clean|ERRNO-TEXT")
 *   ktls_probe serve [-n COUNT] CERT KEY
 *       prints "LISTEN port=P", echoes COUNT connections to their end
 *
 * Prints "OK ktls=0|1 version=0x.... cipher=NAME chain=BYTES echoed=N eof=clean"
 * (ktls=1: the descriptor is a TCP socket with the "tls" ULP), or "ERR ...".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

static unsigned char pat(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static int ktls_mode(int fd)
{
	char ulp[16] = "";
	socklen_t l = sizeof ulp;

	return getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, &l) == 0 && strcmp(ulp, "tls") == 0;
}

/* What ssad answers about the session (asked while it is open). */
static char desc[256];

static void ask(int fd)
{
	char cipher[128] = "?", *chain = malloc(65536);
	int ver = 0;
	socklen_t l = sizeof cipher, vl = sizeof ver, cl = 65536;

	if (getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_CIPHER, cipher, &l) != 0)
		snprintf(cipher, sizeof cipher, "ERR-%d", errno);
	if (getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_VERSION, &ver, &vl) != 0)
		ver = -errno;
	if (!chain || getsockopt(fd, IPPROTO_TLS, TLS_PEER_CERTIFICATE_CHAIN, chain, &cl) != 0)
		cl = 0;
	else if (strncmp(chain, "-----BEGIN CERTIFICATE", 22) != 0)
		cl = 1;
	{
		/* SOL_TLS (282) TLS_TX (1): the session keys, never the app's */
		unsigned char ci[64];
		socklen_t cil = sizeof ci;
		int r = getsockopt(fd, 282, 1, ci, &cil);

		snprintf(desc, sizeof desc, "ktls=%d version=0x%04x cipher=%s chain=%u keys=%s",
			 ktls_mode(fd), (unsigned)ver, cipher, (unsigned)cl,
			 r == 0 ? "visible" : errno == ENOPROTOOPT ? "hidden" : "none");
	}
	free(chain);
}

static void describe(const char *what, size_t echoed, const char *eof)
{
	printf("%s %s echoed=%zu eof=%s\n", what, desc, echoed, eof);
	fflush(stdout);
}

struct wr {
	int fd;
	size_t n;
	int err;
};

static void *writer(void *arg)
{
	struct wr *w = arg;
	unsigned char buf[8192];
	size_t off = 0;

	while (off < w->n) {
		size_t k = w->n - off < sizeof buf ? w->n - off : sizeof buf;
		ssize_t r;

		for (size_t i = 0; i < k; i++)
			buf[i] = pat(off + i);
		r = write(w->fd, buf, k);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			w->err = errno;
			return NULL;
		}
		off += (size_t)r;
	}
	return NULL;
}

/* Read some bytes (EINTR retried); 0 at the end, with *eof saying how it
 * ended: "clean" (end of stream) or the read's error. */
static ssize_t read_some(int fd, void *buf, size_t len, const char **eof)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		*eof = n == 0 ? "clean" : strerror(errno);
		return 0;
	}
}

/* -r, -g: read to the end, say how it ended */
static int read_all(int fd, const char *get)
{
	char buf[16384], first[128] = "";
	size_t total = 0;
	const char *eof = "none";

	if (get) {
		char req[512];
		int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", get);

		if (write(fd, req, (size_t)n) != n) {
			printf("ERR write %s\n", strerror(errno));
			return 1;
		}
	}
	for (;;) {
		ssize_t n = read_some(fd, buf, sizeof buf - 1, &eof);

		if (n == 0)
			break;
		if (!total) {
			buf[n] = '\0';
			snprintf(first, sizeof first, "%.*s", (int)strcspn(buf, "\r\n"), buf);
			for (char *p = first; *p; p++)
				if (*p == ' ')
					*p = '_';
		}
		total += (size_t)n;
	}
	printf("READ bytes=%zu first=%s %s eof=%s\n", total, first[0] ? first : "-", desc, eof);
	fflush(stdout);
	close(fd);
	return 0;
}

static int do_connect(int argc, char **argv)
{
	int nonblock = 0, wait_s = 0, opt, fd, rc, shut = 0, readonly = 0, exit_early = 0;
	const char *get = NULL;
	size_t bytes = 300000, got = 0;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct wr w;
	pthread_t th;
	unsigned char buf[16384];
	const char *eof = "none";

	while ((opt = getopt(argc, argv, "Nw:b:rg:x")) != -1) {
		if (opt == 'N')
			nonblock = 1;
		else if (opt == 'x')
			exit_early = 1;
		else if (opt == 'r')
			readonly = 1;
		else if (opt == 'g')
			get = optarg;
		else if (opt == 'w')
			wait_s = atoi(optarg);
		else if (opt == 'b')
			bytes = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (argc - optind != 3)
		return 2;
	if (getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai) != 0)
		return 2;
	fd = socket(ai->ai_family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), IPPROTO_TLS);
	if (fd < 0) {
		printf("ERR socket %s\n", strerror(errno));
		return 1;
	}
	if (setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, argv[optind + 2],
		       (socklen_t)strlen(argv[optind + 2]) + 1) != 0) {
		printf("ERR hostname %s\n", strerror(errno));
		return 1;
	}
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc != 0 && nonblock && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int soerr = 0;
		socklen_t sl = sizeof soerr;

		poll(&p, 1, 20000);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		rc = soerr ? -1 : 0;
		errno = soerr;
		fcntl(fd, F_SETFL, 0);
	}
	if (rc != 0) {
		char why[256] = "";
		socklen_t wl = sizeof why;
		int e = errno;

		getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &wl);
		printf("ERR connect %s reason=%s\n", strerror(e), why);
		return 1;
	}
	ask(fd);
	if (readonly || get)
		return read_all(fd, get);
	w.fd = fd;
	w.n = bytes;
	w.err = 0;
	pthread_create(&th, NULL, writer, &w);
	for (;;) {
		ssize_t n;

		if (got == bytes && !shut) {
			/* all echoed: observers may look now (-w), then the
			 * half-close (close_notify) and the peer's close_notify */
			pthread_join(th, NULL);
			printf("ECHOED %zu\n", got);
			fflush(stdout);
			if (wait_s)
				sleep((unsigned)wait_s);
			if (exit_early) {
				printf("EXIT %s\n", desc);
				fflush(stdout);
				exit(0); /* the socket still open: libssa's exit handler */
			}
			if (shutdown(fd, SHUT_WR) != 0)
				w.err = errno;
			shut = 1;
		}
		n = read_some(fd, buf, sizeof buf, &eof);
		if (n == 0)
			break;
		if (shut) {
			printf("ERR data after the echo\n");
			return 1;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != pat(got + (size_t)i)) {
				printf("ERR data differs at %zu\n", got + (size_t)i);
				return 1;
			}
		}
		got += (size_t)n;
	}
	if (!shut)
		pthread_join(th, NULL);
	if (w.err)
		printf("# writer: %s\n", strerror(w.err));
	rc = shut && got == bytes && !w.err && !strcmp(eof, "clean") ? 0 : 1;
	describe(rc ? "BAD" : "OK", got, eof);
	close(fd);
	return rc;
}

static int do_serve(int argc, char **argv)
{
	int count = 1, opt, ls, fails = 0;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt == 'n')
			count = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind != 2)
		return 2;
	ls = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);
	if (ls < 0 ||
	    setsockopt(ls, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, argv[optind],
		       (socklen_t)strlen(argv[optind]) + 1) != 0 ||
	    setsockopt(ls, IPPROTO_TLS, TLS_PRIVATE_KEY, argv[optind + 1],
		       (socklen_t)strlen(argv[optind + 1]) + 1) != 0 ||
	    bind(ls, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(ls, 8) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sin, &sl) != 0) {
		printf("ERR listen %s\n", strerror(errno));
		return 1;
	}
	printf("LISTEN port=%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		int fd = accept(ls, NULL, NULL);
		size_t total = 0;
		const char *eof = "none";
		char buf[16384];

		if (fd < 0) {
			printf("ERR accept %s\n", strerror(errno));
			return 1;
		}
		ask(fd);
		for (;;) {
			ssize_t n = read(fd, buf, sizeof buf), off = 0;

			if (n == 0) {
				eof = "clean";
				break;
			}
			if (n < 0) {
				if (errno == EINTR)
					continue;
				eof = strerror(errno);
				break;
			}
			while (off < n) {
				ssize_t k = write(fd, buf + off, (size_t)(n - off));

				if (k < 0) {
					eof = "write-failed";
					break;
				}
				off += k;
			}
			total += (size_t)n;
		}
		describe(strcmp(eof, "clean") ? "BAD" : "OK", total, eof);
		fails += strcmp(eof, "clean") != 0;
		close(fd); /* close_notify */
	}
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "connect") == 0)
		return do_connect(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return do_serve(argc - 1, argv + 1);
	fprintf(stderr, "usage: ktls_probe connect|serve ...\n");
	return 2;
}
