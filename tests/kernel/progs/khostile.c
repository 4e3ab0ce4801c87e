/* SPDX-License-Identifier: MIT */
/*
 * khostile: what hostile users, signals and real servers do to IPPROTO_TLS
 * sockets (tests/kernel/guest/84-hostile.t, 85-stress.t). One mode per run:
 *
 *   khostile bigopts ADDR PORT FILE   32 options of 4096 bytes (the path of
 *                                     FILE padded with slashes), then connect
 *   khostile sigopts ADDR PORT N      N times: socket, options, connect, GET,
 *                                     under a 100 us interval timer (SA_RESTART)
 *   khostile sendfile ADDR PORT BYTES sendfile() + splice() of BYTES each and
 *                                     send(MSG_EOR|MSG_OOB|MSG_CONFIRM|MSG_MORE)
 *                                     to an echo server; byte-exact check
 *   khostile linger ADDR PORT SECS    SO_LINGER {1, SECS}, non-blocking
 *                                     connect, close during the handshake
 *   khostile churn ADDR PORT N        N sockets: options, connect (some closed
 *                                     mid-handshake), a request, close
 *   khostile hold N [OPTS [BYTES]]    N sockets with OPTS options of BYTES
 *                                     each (after ssad is gone: no checks),
 *                                     then wait for stdin EOF
 *   khostile sock                     one IPPROTO_TLS socket, bound, closed
 *
 * Prints "OK ..." or "ERR ..." lines; exit 0 when everything held.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <ssa/in_tls.h>

static struct sockaddr_in peer;

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int tls_socket(int flags)
{
	return socket(AF_INET, SOCK_STREAM | flags, IPPROTO_TLS);
}

static int set_host(int fd)
{
	return setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, "localhost", sizeof("localhost"));
}

static int write_all(int fd, const void *buf, size_t n, int flags)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(fd, p, n, flags | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- bigopts --------------------------------------------------------- */

static int bigopts(const char *file)
{
	char path[4096];
	size_t flen = strlen(file);
	double t;
	int fd, i, e;

	if (flen + 1 >= sizeof(path) || file[0] != '/')
		return 2;
	/* "//////.../file": the same file, a 4096-byte value with its NUL */
	memset(path, '/', sizeof(path) - 1 - flen);
	memcpy(path + sizeof(path) - 1 - flen, file, flen + 1);
	fd = tls_socket(0);
	if (fd < 0) {
		printf("ERR socket %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < 32; i++) {
		if (setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, path, sizeof(path)) < 0) {
			printf("SETOPT %d %s\n", i, strerror(errno));
			break;
		}
	}
	printf("OPTIONS %d\n", i);
	fflush(stdout);
	t = now_ms();
	e = connect(fd, (struct sockaddr *)&peer, sizeof(peer)) ? errno : 0;
	printf("CONNECT %s ms=%.0f\n", e ? strerror(e) : "ok", now_ms() - t);
	close(fd);
	return 0;
}

/* ---- sigopts --------------------------------------------------------- */

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

static int sigopts(long n)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval it = { { 0, 100 }, { 0, 100 } };
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	int eintr = 0, other = 0, okc = 0, v = 0x0303;
	char buf[256];
	long i;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < n; i++) {
		int fd = tls_socket(0), step = 0;
		ssize_t r;

		if (fd < 0) {
			printf("ERR socket %s\n", strerror(errno));
			other++;
			continue;
		}
		if (set_host(fd) < 0)
			goto bad;
		step++;
		if (setsockopt(fd, IPPROTO_TLS, TLS_VERSION_MIN, &v, sizeof(v)) < 0)
			goto bad;
		step++;
		if (setsockopt(fd, IPPROTO_TLS, TLS_ALPN, "http/1.1", sizeof("http/1.1")) < 0)
			goto bad;
		step++;
		if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0)
			goto bad;
		step++;
		if (write_all(fd, req, sizeof(req) - 1, 0) < 0)
			goto bad;
		step++;
		r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			goto bad;
		okc++;
		close(fd);
		continue;
bad:
		if (errno == EINTR)
			eintr++;
		else
			other++;
		printf("ERR round %ld step %d: %s\n", i, step, strerror(errno));
		close(fd);
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	printf("%s rounds=%ld ok=%d eintr=%d other=%d signals=%d\n",
	       eintr || other ? "ERR" : "OK", n, okc, eintr, other, (int)ticks);
	return eintr || other;
}

/* ---- sendfile -------------------------------------------------------- */

struct reader {
	int fd;
	size_t expect;
	size_t got;
	int bad;
};

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 7 + i / 251) & 0xff);
}

static void *read_back(void *arg)
{
	struct reader *r = arg;
	static unsigned char buf[65536];

	while (r->got < r->expect) {
		ssize_t n = read(r->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(r->got + (size_t)i))
				r->bad++;
		r->got += (size_t)n;
	}
	return NULL;
}

static int sendfile_mode(size_t bytes)
{
	char tmpl[] = "/tmp/khostile.XXXXXX";
	size_t total = 2 * bytes + 4, off = 0;
	struct reader r = { 0 };
	unsigned char *data;
	pthread_t th;
	int fd, ffd, pfd[2], err = 0;
	off_t foff = 0;
	unsigned char b;

	data = malloc(total);
	if (!data)
		return 2;
	for (size_t i = 0; i < total; i++)
		data[i] = pattern(i);
	ffd = mkstemp(tmpl);
	if (ffd < 0 || write(ffd, data, total) != (ssize_t)total)
		return 2;
	unlink(tmpl);
	fd = tls_socket(0);
	if (fd < 0 || set_host(fd) < 0 || connect(fd, (struct sockaddr *)&peer, sizeof(peer))) {
		printf("ERR connect %s\n", strerror(errno));
		return 1;
	}
	r.fd = fd;
	r.expect = total;
	pthread_create(&th, NULL, read_back, &r);
	/* 1. sendfile() of the first BYTES */
	while (off < bytes) {
		ssize_t n = sendfile(fd, ffd, &foff, bytes - off);

		if (n <= 0) {
			printf("ERR sendfile at %zu: %s\n", off, n < 0 ? strerror(errno) : "0");
			err = 1;
			break;
		}
		off += (size_t)n;
	}
	printf("%s sendfile %zu\n", off == bytes ? "OK" : "ERR", off);
	/* 2. splice(): file -> pipe -> socket, BYTES more */
	if (!err && pipe(pfd) == 0) {
		size_t done = 0;

		while (done < bytes) {
			ssize_t in = splice(ffd, &foff, pfd[1], NULL, bytes - done > 65536 ? 65536 :
					    bytes - done, SPLICE_F_MORE);
			ssize_t out = 0;

			if (in <= 0) {
				printf("ERR splice in: %s\n", in < 0 ? strerror(errno) : "0");
				err = 1;
				break;
			}
			while (out < in) {
				ssize_t n = splice(pfd[0], NULL, fd, NULL, (size_t)(in - out),
						   SPLICE_F_MORE);

				if (n <= 0) {
					printf("ERR splice out: %s\n", n < 0 ? strerror(errno) : "0");
					err = 1;
					break;
				}
				out += n;
			}
			if (err)
				break;
			done += (size_t)in;
		}
		printf("%s splice %zu\n", done == bytes ? "OK" : "ERR", done);
		off += done;
	}
	/* 3. the flags TCP takes, one byte each */
	{
		static const int flags[] = { MSG_EOR, MSG_OOB, MSG_CONFIRM, MSG_MORE };
		static const char *const names[] = { "MSG_EOR", "MSG_OOB", "MSG_CONFIRM",
						      "MSG_MORE" };

		for (int i = 0; i < 4 && !err; i++) {
			b = data[off];
			if (send(fd, &b, 1, flags[i] | MSG_NOSIGNAL) != 1) {
				printf("ERR send(%s): %s\n", names[i], strerror(errno));
				err = 1;
				break;
			}
			printf("OK send(%s)\n", names[i]);
			off++;
		}
	}
	shutdown(fd, SHUT_WR);
	pthread_join(th, NULL);
	printf("%s echo sent=%zu got=%zu mismatched=%d\n",
	       !err && r.got == total && !r.bad ? "OK" : "ERR", off, r.got, r.bad);
	close(fd);
	close(ffd);
	free(data);
	return err || r.got != total || r.bad;
}

/* ---- linger ---------------------------------------------------------- */

static int linger_mode(int secs)
{
	struct linger l = { 1, secs };
	double t;
	int fd = tls_socket(SOCK_NONBLOCK);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) || set_host(fd)) {
		printf("ERR setup %s\n", strerror(errno));
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) == 0 || errno != EINPROGRESS) {
		printf("ERR connect %s\n", strerror(errno));
		return 1;
	}
	printf("CONNECTING\n");
	fflush(stdout);
	/* the test takes the peer away, then says so on stdin */
	{
		char c;

		while (read(0, &c, 1) > 0 && c != '\n')
			;
	}
	t = now_ms();
	close(fd);
	printf("CLOSED ms=%.0f\n", now_ms() - t);
	return 0;
}

/* ---- churn ----------------------------------------------------------- */

static int churn(long n)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	int okc = 0, failc = 0, aborted = 0, waits = 0;
	char buf[128];

	for (long i = 0; i < n; i++) {
		int fd = tls_socket(i % 3 == 1 ? SOCK_NONBLOCK : 0);

		if (fd < 0) {
			/* EPROTONOSUPPORT while ssad restarts: wait for it */
			if (errno == EPROTONOSUPPORT && waits < 2000) {
				waits++;
				usleep(50000);
				i--;
				continue;
			}
			failc++;
			continue;
		}
		set_host(fd);
		if (i % 3 == 1) {
			/* close in the middle of the handshake */
			connect(fd, (struct sockaddr *)&peer, sizeof(peer));
			usleep((useconds_t)(i % 7) * 1000);
			close(fd);
			aborted++;
			continue;
		}
		if (i % 3 == 2) {
			/* a listener with a child queued now and then */
			struct sockaddr_in a = { .sin_family = AF_INET };

			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 4) == 0) {
				socklen_t al = sizeof(a);
				int c = socket(AF_INET, SOCK_STREAM, 0);

				getsockname(fd, (struct sockaddr *)&a, &al);
				if (c >= 0) {
					connect(c, (struct sockaddr *)&a, sizeof(a));
					close(c);
				}
			}
			close(fd);
			okc++;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) == 0 &&
		    write_all(fd, req, sizeof(req) - 1, 0) == 0 && read(fd, buf, sizeof(buf)) > 0)
			okc++;
		else
			failc++;
		close(fd);
	}
	printf("OK churn=%ld ok=%d failed=%d aborted=%d waits=%d\n", n, okc, failc, aborted, waits);
	return 0;
}

/* ---- hold ------------------------------------------------------------ */

static int hold(long n, int nopts, int bytes)
{
	int *fds = calloc((size_t)n, sizeof(int));
	char *val = malloc((size_t)bytes);
	int opened = 0, set = 0;
	char c;

	if (!fds || !val || bytes < 2)
		return 2;
	for (long i = 0; i < n; i++) {
		fds[i] = tls_socket(0);
		if (fds[i] >= 0)
			opened++;
	}
	printf("OPENED %d\n", opened);
	fflush(stdout);
	/* wait for "go" (the test stops ssad: options are then kept unchecked) */
	while (read(0, &c, 1) > 0 && c != '\n')
		;
	memset(val, 'a', (size_t)bytes - 1);
	val[bytes - 1] = '\0';
	for (long i = 0; i < n; i++)
		for (int j = 0; j < nopts && fds[i] >= 0; j++)
			if (setsockopt(fds[i], IPPROTO_TLS, TLS_ALPN, val, (socklen_t)bytes) == 0)
				set++;
	printf("SET %d\n", set);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (long i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	printf("CLOSED\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "sock")) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		int fd = tls_socket(0);

		if (fd < 0) {
			printf("ERR socket %s\n", strerror(errno));
			return 1;
		}
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		printf("OK\n");
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "hold"))
		return hold(atol(argv[2]), argc > 3 ? atoi(argv[3]) : 0,
			    argc > 4 ? atoi(argv[4]) : 4096);
	if (argc != 5) {
		fprintf(stderr, "usage: khostile MODE ADDR PORT ARG (see the source)\n");
		return 2;
	}
	peer.sin_family = AF_INET;
	peer.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &peer.sin_addr) != 1)
		return 2;
	if (!strcmp(argv[1], "bigopts"))
		return bigopts(argv[4]);
	if (!strcmp(argv[1], "sigopts"))
		return sigopts(atol(argv[4]));
	if (!strcmp(argv[1], "sendfile"))
		return sendfile_mode((size_t)atol(argv[4]));
	if (!strcmp(argv[1], "linger"))
		return linger_mode(atoi(argv[4]));
	if (!strcmp(argv[1], "churn"))
		return churn(atol(argv[4]));
	return 2;
}
