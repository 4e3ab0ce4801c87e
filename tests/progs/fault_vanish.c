/* SPDX-License-Identifier: MIT */
/*
 * fault_vanish: a TLS peer that vanishes from the network must not leave
 * the application blocked forever (issue 4, item 7). Run it under libssa.
 *
 *   fault_vanish -n HOSTNAME ADDRESS PORT
 *
 * Two connections to a TLS server that never sends:
 *   k  SO_KEEPALIVE=1, TCP_KEEPIDLE=1, TCP_KEEPINTVL=1, TCP_KEEPCNT=2, set
 *      before connect() (they act on ssad's network socket)
 *   u  TCP_USER_TIMEOUT=1000, set after connect()
 * Prints "OPTS k keepalive=1 idle=1 intvl=1 cnt=2 u user_timeout=1000" (read
 * back with getsockopt) and "READY". On the stdin line "GO" (the test has cut
 * the network by then) it writes 5 bytes on u (unacknowledged data is what
 * TCP_USER_TIMEOUT times), then reads on both in two threads and prints
 *   RESULT k read rc=-1 errno=ETIMEDOUT ms=3012 tls_error=...
 * (ms after GO), or "RESULT k read HANG" after 20 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#include "test_util.h"

struct rd {
	char name;
	int fd;
	long rc;
	int err;
	double t;
	atomic_int done;
	pthread_t th;
};

static void *reader(void *arg)
{
	struct rd *r = arg;
	char buf[256];

	errno = 0;
	r->rc = read(r->fd, buf, sizeof buf);
	r->err = errno;
	r->t = now_ms();
	atomic_store(&r->done, 1);
	return NULL;
}

static int opt(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof v);
}

static int getopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof v;

	return getsockopt(fd, level, name, &v, &l) == 0 ? v : -100 - errno;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	const char *host = NULL;
	struct rd rds[2] = { { .name = 'k' }, { .name = 'u' } };
	char line[64];
	double t0;
	int o;

	while ((o = getopt(argc, argv, "n:")) != -1) {
		if (o == 'n')
			host = optarg;
		else
			return 2;
	}
	if (argc - optind != 2 || !host ||
	    getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai) != 0) {
		fprintf(stderr, "usage: fault_vanish -n HOSTNAME ADDRESS PORT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 2; i++) {
		int fd = socket(ai->ai_family, SOCK_STREAM, IPPROTO_TLS);

		if (fd < 0 || setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host,
					 (socklen_t)strlen(host) + 1)) {
			printf("FAIL socket %c: %s\n", rds[i].name, ename(errno));
			return 1;
		}
		if (i == 0 && (opt(fd, SOL_SOCKET, SO_KEEPALIVE, 1) || opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 1) ||
			       opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1) || opt(fd, IPPROTO_TCP, TCP_KEEPCNT, 2))) {
			printf("FAIL keepalive options: %s\n", ename(errno));
			return 1;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			char why[256] = "";
			socklen_t wl = sizeof why;
			int e = errno;

			getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &wl);
			printf("FAIL connect %c: %s %s\n", rds[i].name, ename(e), why);
			return 1;
		}
		if (i == 1 && opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000)) {
			printf("FAIL TCP_USER_TIMEOUT: %s\n", ename(errno));
			return 1;
		}
		rds[i].fd = fd;
	}
	printf("OPTS k keepalive=%d idle=%d intvl=%d cnt=%d u user_timeout=%d\n",
	       getopt_int(rds[0].fd, SOL_SOCKET, SO_KEEPALIVE),
	       getopt_int(rds[0].fd, IPPROTO_TCP, TCP_KEEPIDLE),
	       getopt_int(rds[0].fd, IPPROTO_TCP, TCP_KEEPINTVL),
	       getopt_int(rds[0].fd, IPPROTO_TCP, TCP_KEEPCNT),
	       getopt_int(rds[1].fd, IPPROTO_TCP, TCP_USER_TIMEOUT));
	printf("READY\n");
	while (fgets(line, sizeof line, stdin) && strncmp(line, "GO", 2) != 0)
		;
	t0 = now_ms();
	if (write(rds[1].fd, "hello", 5) != 5)
		printf("NOTE write on u: %s\n", ename(errno));
	for (int i = 0; i < 2; i++)
		pthread_create(&rds[i].th, NULL, reader, &rds[i]);
	while (now_ms() - t0 < 20000 && !(atomic_load(&rds[0].done) && atomic_load(&rds[1].done)))
		usleep(10000);
	for (int i = 0; i < 2; i++) {
		char why[256] = "";
		socklen_t wl = sizeof why;

		if (!atomic_load(&rds[i].done)) {
			printf("RESULT %c read HANG\n", rds[i].name);
			continue;
		}
		if (getsockopt(rds[i].fd, IPPROTO_TLS, TLS_ERROR, why, &wl) != 0)
			snprintf(why, sizeof why, "(unavailable: %s)", ename(errno));
		printf("RESULT %c read rc=%ld errno=%s ms=%.0f tls_error=%s\n", rds[i].name,
		       rds[i].rc, rds[i].rc < 0 ? ename(rds[i].err) : "-", rds[i].t - t0, why);
	}
	fflush(stdout);
	_exit(0);
}
