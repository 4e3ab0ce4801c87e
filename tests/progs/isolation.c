/* SPDX-License-Identifier: MIT */
/*
 * isolation: one user's attacks on ssad, and another user's view of them
 * (tests/t/91-user-isolation.t). Run under libssa, except trunc-server and
 * ctlhold.
 *
 *   isolation lat PORT N [GAP]    N blocking TLS connects (+ close) to
 *                                 localhost:PORT, GAP ms apart; prints
 *                                 "LAT n=N ok=K p50=MS p99=MS max=MS"
 *   isolation pem DIR SECONDS HOLD  as fast as possible for SECONDS: a
 *                                 socket, TLS_REQUEST_PEER_AUTH = 1 and
 *                                 TLS_TRUSTED_PEER_CERTIFICATES = DIR (every
 *                                 file in it); the last HOLD sockets stay
 *                                 open; prints "PEM n=.. ok=.. err=ERRNO.."
 *   isolation tombs PORT N        N failed non-blocking connects to
 *                                 127.0.0.1:PORT (nobody listens), 64 at a
 *                                 time; prints "TOMBS n=.. ms=.."
 *   isolation soerr PORT          a non-blocking connect to a closed port;
 *                                 once it has failed prints READY and waits
 *                                 for a line on stdin, then prints
 *                                 "SOERR so_error=ENAME tls_error=..."
 *   isolation trunc PORT          connects to trunc-server, reads its 5
 *                                 bytes, prints READY, waits for a line on
 *                                 stdin, reads again: "TRUNC rc=.. errno=.."
 *   isolation trunc-server CHAIN KEY  a TLS server (OpenSSL, not SSA) on a
 *                                 free port that sends "hello" and drops
 *                                 the connection without close_notify;
 *                                 prints "READY PORT"
 *   isolation hold N              opens up to N TLS sockets and keeps them;
 *                                 prints "HOLD opened=K err=ENAME", then
 *                                 waits until stdin ends
 *   isolation pending PORT N      N non-blocking connects to a server that
 *                                 never answers, kept open 1 s; prints
 *                                 "PENDING inprogress=K eagain=M other=O"
 *   isolation ctlhold PATH N      up to N plain connections to the control
 *                                 socket PATH, kept: "CTLHOLD opened=K"
 *   isolation keys CHAIN KEY N    N TLS sockets, each with
 *                                 TLS_CERTIFICATE_CHAIN = CHAIN and
 *                                 TLS_PRIVATE_KEY = KEY; prints "KEYS ok=K
 *                                 refused=R err=ENAME" (the first key
 *                                 refusal's errno) and "WHY TLS_ERROR" of
 *                                 that socket, keeps them until stdin
 *                                 ends, then closes them and prints "CLOSED"
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../include/ssa/in_tls.h"
#include "test_util.h"

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int lat(int port, int n, int gap_ms)
{
	struct sockaddr_in sin = loopback(port);
	double *t = calloc((size_t)n, sizeof *t);
	int ok = 0;

	if (!t)
		return 1;
	for (int i = 0; i < n; i++) {
		double t0 = now_ms();
		int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);

		if (fd >= 0 && setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "localhost",
					  sizeof "localhost") == 0 &&
		    connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
			ok++;
		else
			fprintf(stderr, "connect %d: %s\n", i, ename(errno));
		if (fd >= 0)
			close(fd);
		t[i] = now_ms() - t0;
		if (gap_ms > 0)
			usleep((useconds_t)gap_ms * 1000);
	}
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	printf("LAT n=%d ok=%d p50=%.1f p99=%.1f max=%.1f\n", n, ok, t[n / 2],
	       t[(n * 99 + 99) / 100 - 1], t[n - 1]);
	free(t);
	return 0;
}

static int pem(const char *dir, int seconds, int hold)
{
	int *held = calloc((size_t)(hold > 0 ? hold : 1), sizeof *held);
	double end = now_ms() + seconds * 1000.0;
	int n = 0, ok = 0, last_err = 0, one = 1, h = 0;

	if (!held)
		return 1;
	for (int i = 0; i < hold; i++)
		held[i] = -1;
	while (now_ms() < end) {
		int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);

		n++;
		if (fd < 0) {
			last_err = errno;
			usleep(1000);
			continue;
		}
		if (setsockopt(fd, IPPROTO_TLS, TLS_REQUEST_PEER_AUTH, &one, sizeof one) == 0 &&
		    setsockopt(fd, IPPROTO_TLS, TLS_TRUSTED_PEER_CERTIFICATES, dir,
			       (socklen_t)strlen(dir) + 1) == 0)
			ok++;
		else
			last_err = errno;
		if (hold > 0) {
			if (held[h] >= 0)
				close(held[h]);
			held[h] = fd;
			h = (h + 1) % hold;
		} else {
			close(fd);
		}
	}
	printf("PEM n=%d ok=%d err=%s\n", n, ok, last_err ? ename(last_err) : "0");
	fflush(stdout);
	for (int i = 0; i < hold; i++)
		if (held[i] >= 0)
			close(held[i]);
	free(held);
	return 0;
}

static int tombs(int port, int n)
{
	struct sockaddr_in sin = loopback(port);
	double t0 = now_ms();
	int done = 0;

	while (done < n) {
		struct pollfd p[64];
		int k = 0;

		for (; k < 64 && done + k < n; k++) {
			p[k].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TLS);
			p[k].events = POLLOUT;
			if (p[k].fd >= 0)
				(void)connect(p[k].fd, (struct sockaddr *)&sin, sizeof sin);
		}
		for (int i = 0; i < k; i++)
			if (p[i].fd >= 0)
				(void)poll(&p[i], 1, 2000);
		for (int i = 0; i < k; i++)
			if (p[i].fd >= 0)
				close(p[i].fd);
		done += k;
	}
	printf("TOMBS n=%d ms=%.0f\n", done, now_ms() - t0);
	return 0;
}

static void wait_line(void)
{
	char line[64];

	printf("READY\n");
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin))
		exit(1);
}

static int soerr(int port)
{
	struct sockaddr_in sin = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TLS), e = 0;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	char why[256] = "";
	socklen_t l = sizeof e;

	if (fd < 0 || (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0 &&
		       errno != EINPROGRESS)) {
		printf("SOERR setup %s\n", ename(errno));
		return 1;
	}
	(void)poll(&p, 1, 5000);
	usleep(200 * 1000);
	wait_line();
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
		e = -errno;
	l = sizeof why;
	if (getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &l) != 0)
		snprintf(why, sizeof why, "(getsockopt: %s)", ename(errno));
	printf("SOERR so_error=%s tls_error=%s\n", e > 0 ? ename(e) : e ? "FAILED" : "0", why);
	return 0;
}

static int trunc_client(int port)
{
	struct sockaddr_in sin = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);
	char buf[64];
	size_t got = 0;
	ssize_t n;

	if (fd < 0 || setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "localhost",
				 sizeof "localhost") != 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		printf("TRUNC setup %s\n", ename(errno));
		return 1;
	}
	while (got < 5 && (n = read(fd, buf + got, 5 - got)) > 0)
		got += (size_t)n;
	usleep(300 * 1000); /* ssad sees the drop meanwhile */
	wait_line();
	n = read(fd, buf, sizeof buf);
	printf("TRUNC got=%zu rc=%zd errno=%s\n", got, n, n < 0 ? ename(errno) : "0");
	return 0;
}

static int trunc_server(const char *chain, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct sockaddr_in sin = loopback(0);
	socklen_t sl = sizeof sin;
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || l < 0)
		return 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(l, 64) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &sl) != 0)
		return 1;
	printf("READY %d\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(l, NULL, NULL);
		SSL *ssl;

		if (fd < 0)
			continue;
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1)
			(void)SSL_write(ssl, "hello", 5);
		usleep(50 * 1000);
		SSL_free(ssl); /* no SSL_shutdown: no close_notify */
		close(fd);
		ERR_clear_error();
	}
}

static int pending(int port, int n)
{
	struct sockaddr_in sin = loopback(port);
	int *fds = calloc((size_t)n, sizeof *fds), inprogress = 0, eagain = 0, other = 0;

	if (!fds)
		return 1;
	raise_nofile();
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TLS);
		if (fds[i] < 0) {
			other++;
			continue;
		}
		if (connect(fds[i], (struct sockaddr *)&sin, sizeof sin) == 0 || errno == EINPROGRESS)
			inprogress++;
		else if (errno == EAGAIN)
			eagain++;
		else
			other++;
	}
	printf("PENDING inprogress=%d eagain=%d other=%d\n", inprogress, eagain, other);
	fflush(stdout);
	sleep(1);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

static int hold(int n)
{
	int k = 0, err = 0;
	char buf[16];

	raise_nofile();
	for (; k < n; k++) {
		if (socket(AF_INET, SOCK_STREAM, IPPROTO_TLS) < 0) {
			err = errno;
			break;
		}
	}
	printf("HOLD opened=%d err=%s\n", k, err ? ename(err) : "0");
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0)
		;
	return 0;
}

static int ctlhold(const char *path, int n)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int k = 0;
	char buf[16];

	raise_nofile();
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	for (; k < n; k++) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
			break;
	}
	printf("CTLHOLD opened=%d\n", k);
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0)
		;
	return 0;
}

static int keys(const char *chain, const char *key, int n)
{
	int *fds = calloc((size_t)n, sizeof *fds), ok = 0, refused = 0, err = 0;
	char buf[16], why[512] = "";

	if (!fds)
		return 1;
	raise_nofile();
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);
		if (fds[i] < 0 ||
		    setsockopt(fds[i], IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, chain,
			       (socklen_t)strlen(chain) + 1) != 0) {
			printf("SETUP-FAILED i=%d err=%s\n", i, ename(errno));
			return 1;
		}
		if (setsockopt(fds[i], IPPROTO_TLS, TLS_PRIVATE_KEY, key,
			       (socklen_t)strlen(key) + 1) == 0) {
			ok++;
		} else {
			socklen_t l = sizeof why;

			if (!err && getsockopt(fds[i], IPPROTO_TLS, TLS_ERROR, why, &l) != 0)
				snprintf(why, sizeof why, "(no TLS_ERROR: %s)", ename(errno));
			err = err ? err : errno;
			refused++;
		}
	}
	printf("KEYS ok=%d refused=%d err=%s\nWHY %s\n", ok, refused, err ? ename(err) : "0",
	       why);
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0)
		;
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	printf("CLOSED\n");
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "lat"))
		return lat(atoi(argv[2]), atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 0);
	if (argc == 5 && !strcmp(argv[1], "pem"))
		return pem(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "tombs"))
		return tombs(atoi(argv[2]), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "soerr"))
		return soerr(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "trunc"))
		return trunc_client(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "trunc-server"))
		return trunc_server(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "pending"))
		return pending(atoi(argv[2]), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "ctlhold"))
		return ctlhold(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "keys"))
		return keys(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of isolation.c\n");
	return 2;
}
