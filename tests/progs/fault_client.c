/* SPDX-License-Identifier: MIT */
/*
 * fault_client: ssad dies while an application is blocked in every kind of
 * call, then comes back (issue 4, item 7). Run it under libssa.
 *
 *   fault_client -n HOSTNAME -c CHAIN -k KEY SILENT_PORT RAW_PORT ECHO_PORT
 *
 * Peers on 127.0.0.1, none of them SSA (they must outlive ssad):
 *   SILENT_PORT  a TLS server that completes the handshake, then never reads
 *                and never sends
 *   RAW_PORT     a TCP server that accepts and never answers (no TLS)
 *   ECHO_PORT    a TLS echo server
 *
 * Phase 1: one echo round trip ("PHASE1 echo ok"); then one thread each
 * blocks in
 *   a  read() on a socket connected to SILENT (the peer never sends)
 *   b  write() of 64 MiB on a socket connected to SILENT (never reads)
 *   c  a blocking connect() to RAW (the handshake never ends)
 *   d  accept() on an SSA listener (CHAIN/KEY) nobody connects to
 *   e  poll(POLLIN) on a socket connected to SILENT, then read()
 * and f stays connected to ECHO, idle. After 500 ms every call must still
 * be blocked ("BLOCKED a b c d e", else "EARLY ..."), then "READY".
 *
 * stdin "KILL <pid>": kill(pid, SIGKILL) (ssad), then one line per call as
 * it returns, times in ms after the kill:
 *   RESULT a read rc=-1 errno=ECONNRESET ms=3
 *   RESULT e poll rc=1 revents=IN|HUP ms=2
 *   RESULT e read rc=-1 errno=ECONNRESET ms=2
 * or "RESULT <x> <call> HANG" for a call still blocked 3 s after the kill.
 * Then later calls on the same sockets, each guarded by a 3 s alarm
 * ("HANG <what>" and exit status 3 if one blocks):
 *   LATER <what> rc=N errno=NAME ms=N [revents=...]
 * then "WAITING".
 *
 * stdin "RESTARTED" (a new ssad listens on the same path): phase 2 in this
 * same process (libssa's pooled control connections must recover):
 *   PHASE2 f-read rc=N errno=NAME   the idle socket of the dead daemon
 *   PHASE2 echo ok | PHASE2 echo FAIL <why>
 *   PHASE2 accept ok | PHASE2 accept FAIL <why>
 * then "DONE". Exit status 0 when the program ran to the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
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

#define BIG (64u << 20)

static const char *hostname, *chain, *key;

static void revents_str(short r, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s%s", r & POLLIN ? "IN|" : "", r & POLLOUT ? "OUT|" : "",
		 r & POLLHUP ? "HUP|" : "", r & POLLERR ? "ERR|" : "", r & POLLNVAL ? "NVAL|" : "");
	if (out[0])
		out[strlen(out) - 1] = '\0';
	else
		snprintf(out, len, "0");
}

static struct sockaddr_in addr_of(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

/* A TLS socket with the peer name set, or -1. */
static int tls_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);

	if (fd >= 0 && setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, hostname,
				  (socklen_t)strlen(hostname) + 1) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int tls_connect(int port, char *why, size_t len)
{
	struct sockaddr_in sa = addr_of(port);
	int fd = tls_socket();

	if (fd < 0) {
		snprintf(why, len, "socket: %s", ename(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		snprintf(why, len, "connect: %s", ename(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A listener on 127.0.0.1, ephemeral port; *port gets it. */
static int tls_listener(int *port, char *why, size_t len)
{
	struct sockaddr_in sa = addr_of(0);
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);

	if (fd < 0) {
		snprintf(why, len, "socket: %s", ename(errno));
		return -1;
	}
	if (setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, chain, (socklen_t)strlen(chain) + 1) ||
	    setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, key, (socklen_t)strlen(key) + 1) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		snprintf(why, len, "listener: %s", ename(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Echo "ping" through a new connection. */
static int echo_once(int port, char *why, size_t len)
{
	char buf[8];
	size_t got = 0;
	int fd = tls_connect(port, why, len);

	if (fd < 0)
		return -1;
	if (write(fd, "ping", 4) != 4) {
		snprintf(why, len, "write: %s", ename(errno));
		close(fd);
		return -1;
	}
	while (got < 4) {
		ssize_t r = read(fd, buf + got, 4 - got);

		if (r <= 0) {
			snprintf(why, len, "read: %s", r ? ename(errno) : "EOF");
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	if (memcmp(buf, "ping", 4) != 0) {
		snprintf(why, len, "echo differs");
		return -1;
	}
	return 0;
}

/* ---- the blocked calls ------------------------------------------------ */

struct op {
	char name;
	const char *call;
	int fd;
	int port;           /* c: where to connect */
	atomic_int done;
	long rc, rc2;       /* e: rc2 is the read after poll */
	int err, err2;
	short revents;
	double t, t2;       /* ms when the call returned */
	pthread_t th;
};

static char *big;

static void *run_op(void *arg)
{
	struct op *o = arg;
	char buf[128];

	errno = 0;
	switch (o->name) {
	case 'a':
		o->rc = read(o->fd, buf, sizeof buf);
		break;
	case 'b':
		o->rc = write(o->fd, big, BIG);
		break;
	case 'c': {
		struct sockaddr_in sa = addr_of(o->port);

		o->rc = connect(o->fd, (struct sockaddr *)&sa, sizeof sa);
		break;
	}
	case 'd':
		o->rc = accept(o->fd, NULL, NULL);
		break;
	case 'e': {
		struct pollfd p = { .fd = o->fd, .events = POLLIN };

		o->rc = poll(&p, 1, -1);
		o->err = errno;
		o->revents = p.revents;
		o->t = now_ms();
		errno = 0;
		o->rc2 = read(o->fd, buf, sizeof buf);
		o->err2 = errno;
		o->t2 = now_ms();
		atomic_store(&o->done, 1);
		return NULL;
	}
	}
	o->err = errno;
	o->t = now_ms();
	atomic_store(&o->done, 1);
	return NULL;
}

/* ---- later calls, each under an alarm --------------------------------- */

static const char *current;

static void on_alarm(int sig)
{
	(void)sig;
	if (write(1, "HANG ", 5) < 0 || write(1, current, strlen(current)) < 0 ||
	    write(1, "\n", 1) < 0)
		_exit(4);
	_exit(3);
}

static double t_call;

static void guard(const char *what)
{
	current = what;
	alarm(3);
	t_call = now_ms();
	errno = 0;
}

static void later(const char *what, long rc, int err)
{
	alarm(0);
	printf("LATER %s rc=%ld errno=%s ms=%.0f\n", what, rc, rc < 0 ? ename(err) : "-",
	       now_ms() - t_call);
	fflush(stdout);
}

static void later_poll(const char *what, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	char ev[64];
	long rc;

	guard(what);
	rc = poll(&p, 1, 1000);
	alarm(0);
	revents_str(p.revents, ev, sizeof ev);
	printf("LATER %s rc=%ld errno=%s ms=%.0f revents=%s\n", what, rc,
	       rc < 0 ? ename(errno) : "-", now_ms() - t_call, ev);
	fflush(stdout);
}

static int wait_line(const char *prefix, char *line, size_t len)
{
	while (fgets(line, (int)len, stdin))
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return 0;
	return -1;
}

/* A client thread for phase 2's accept test. */
static void *self_client(void *arg)
{
	int port = *(int *)arg;
	char why[128];
	int fd = tls_connect(port, why, sizeof why);

	if (fd >= 0) {
		char b;

		/* Wait for the server's close. */
		while (read(fd, &b, 1) > 0)
			;
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct op ops[5] = {
		{ .name = 'a', .call = "read" }, { .name = 'b', .call = "write" },
		{ .name = 'c', .call = "connect" }, { .name = 'd', .call = "accept" },
		{ .name = 'e', .call = "poll" },
	};
	int silent, raw, echo, o, f, lport, hung = 0;
	char why[256], line[128];
	double t0;
	pid_t ssad;

	while ((o = getopt(argc, argv, "n:c:k:")) != -1) {
		if (o == 'n')
			hostname = optarg;
		else if (o == 'c')
			chain = optarg;
		else if (o == 'k')
			key = optarg;
		else
			return 2;
	}
	if (argc - optind != 3 || !hostname || !chain || !key) {
		fprintf(stderr, "usage: fault_client -n HOSTNAME -c CHAIN -k KEY SILENT_PORT "
				"RAW_PORT ECHO_PORT\n");
		return 2;
	}
	silent = atoi(argv[optind]);
	raw = atoi(argv[optind + 1]);
	echo = atoi(argv[optind + 2]);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (echo_once(echo, why, sizeof why) != 0) {
		printf("PHASE1 echo FAIL %s\n", why);
		return 1;
	}
	printf("PHASE1 echo ok\n");
	big = calloc(1, BIG);
	if (!big)
		return 1;
	if ((ops[0].fd = tls_connect(silent, why, sizeof why)) < 0 ||
	    (ops[1].fd = tls_connect(silent, why, sizeof why)) < 0 ||
	    (ops[4].fd = tls_connect(silent, why, sizeof why)) < 0 ||
	    (f = tls_connect(echo, why, sizeof why)) < 0 ||
	    (ops[3].fd = tls_listener(&lport, why, sizeof why)) < 0) {
		printf("SETUP FAIL %s\n", why);
		return 1;
	}
	ops[2].fd = tls_socket();
	ops[2].port = raw;
	if (ops[2].fd < 0) {
		printf("SETUP FAIL socket: %s\n", ename(errno));
		return 1;
	}
	for (int i = 0; i < 5; i++)
		if (pthread_create(&ops[i].th, NULL, run_op, &ops[i]) != 0) {
			printf("SETUP FAIL pthread_create\n");
			return 1;
		}
	usleep(500 * 1000);
	{
		char blocked[32] = "", early[256] = "";

		for (int i = 0; i < 5; i++) {
			if (!atomic_load(&ops[i].done)) {
				size_t n = strlen(blocked);

				snprintf(blocked + n, sizeof blocked - n, " %c", ops[i].name);
			} else {
				size_t n = strlen(early);

				snprintf(early + n, sizeof early - n, " %c:%s:rc=%ld:%s", ops[i].name,
					 ops[i].call, ops[i].rc, ename(ops[i].err));
			}
		}
		printf("BLOCKED%s\n", blocked);
		if (early[0])
			printf("EARLY%s\n", early);
	}
	printf("READY\n");

	if (wait_line("KILL ", line, sizeof line) != 0)
		return 1;
	ssad = (pid_t)atoi(line + 5);
	t0 = now_ms();
	if (kill(ssad, SIGKILL) != 0) {
		printf("KILL FAIL %s\n", ename(errno));
		return 1;
	}
	while (now_ms() - t0 < 3000) {
		int all = 1;

		for (int i = 0; i < 5; i++)
			all &= atomic_load(&ops[i].done);
		if (all)
			break;
		usleep(2000);
	}
	for (int i = 0; i < 5; i++) {
		struct op *p = &ops[i];

		if (!atomic_load(&p->done)) {
			printf("RESULT %c %s HANG\n", p->name, p->call);
			hung = 1;
			continue;
		}
		if (p->name == 'e') {
			char ev[64];

			revents_str(p->revents, ev, sizeof ev);
			printf("RESULT e poll rc=%ld revents=%s ms=%.0f\n", p->rc, ev, p->t - t0);
			printf("RESULT e read rc=%ld errno=%s ms=%.0f\n", p->rc2,
			       p->rc2 < 0 ? ename(p->err2) : "-", p->t2 - t0);
		} else {
			printf("RESULT %c %s rc=%ld errno=%s ms=%.0f\n", p->name, p->call, p->rc,
			       p->rc < 0 ? ename(p->err) : "-", p->t - t0);
		}
	}
	if (hung) {
		/* A thread is stuck in a call: no point going on. */
		printf("DONE\n");
		_exit(1);
	}
	for (int i = 0; i < 5; i++)
		pthread_join(ops[i].th, NULL);
	if (ops[3].rc >= 0)
		close((int)ops[3].rc);

	/* Later calls on the same sockets: errors, at once. */
	{
		char buf[128];
		int v = 0;
		socklen_t vl = sizeof v;
		struct sockaddr_in sa = addr_of(raw);
		long r;

		guard("a-read");
		r = read(ops[0].fd, buf, sizeof buf);
		later("a-read", r, errno);
		guard("a-write");
		r = write(ops[0].fd, "x", 1);
		later("a-write", r, errno);
		later_poll("a-poll", ops[0].fd);
		guard("a-so_error");
		r = getsockopt(ops[0].fd, SOL_SOCKET, SO_ERROR, &v, &vl);
		later("a-so_error", r, errno);
		guard("a-tls_error");
		vl = sizeof buf;
		r = getsockopt(ops[0].fd, IPPROTO_TLS, TLS_ERROR, buf, &vl);
		later("a-tls_error", r, errno);
		guard("b-write");
		r = write(ops[1].fd, big, 1 << 20);
		later("b-write", r, errno);
		guard("c-connect");
		r = connect(ops[2].fd, (struct sockaddr *)&sa, sizeof sa);
		later("c-connect", r, errno);
		guard("c-write");
		r = write(ops[2].fd, "x", 1);
		later("c-write", r, errno);
		guard("d-accept");
		r = accept(ops[3].fd, NULL, NULL);
		later("d-accept", r, errno);
		later_poll("d-poll", ops[3].fd);
		guard("e-read");
		r = read(ops[4].fd, buf, sizeof buf);
		later("e-read", r, errno);
		guard("f-read");
		r = read(f, buf, sizeof buf);
		later("f-read", r, errno);
		guard("new-socket");
		r = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);
		later("new-socket", r, errno);
		if (r >= 0)
			close((int)r);
		for (int i = 0; i < 5; i++) {
			char what[16];

			snprintf(what, sizeof what, "%c-close", ops[i].name);
			guard(what);
			r = close(ops[i].fd);
			later(what, r, errno);
		}
	}
	printf("WAITING\n");

	if (wait_line("RESTARTED", line, sizeof line) != 0)
		return 1;
	{
		char buf[16];
		long r;

		guard("f-read after restart");
		r = read(f, buf, sizeof buf);
		alarm(0);
		printf("PHASE2 f-read rc=%ld errno=%s\n", r, r < 0 ? ename(errno) : "-");
		close(f);
	}
	guard("echo after restart");
	if (echo_once(echo, why, sizeof why) == 0)
		printf("PHASE2 echo ok\n");
	else
		printf("PHASE2 echo FAIL %s\n", why);
	alarm(0);
	guard("accept after restart");
	{
		int l = tls_listener(&lport, why, sizeof why), a;
		pthread_t t;

		if (l < 0) {
			printf("PHASE2 accept FAIL %s\n", why);
		} else if (pthread_create(&t, NULL, self_client, &lport) != 0) {
			printf("PHASE2 accept FAIL pthread_create\n");
		} else {
			a = accept(l, NULL, NULL);
			if (a < 0) {
				printf("PHASE2 accept FAIL accept: %s\n", ename(errno));
			} else {
				printf("PHASE2 accept ok\n");
				close(a);
			}
			pthread_join(t, NULL);
			close(l);
		}
	}
	alarm(0);
	printf("DONE\n");
	free(big);
	return 0;
}
