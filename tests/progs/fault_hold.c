/* SPDX-License-Identifier: MIT */
/*
 * fault_hold: hold TLS sockets, then die without closing them (issue 4,
 * item 7: ssad must free everything). Run it under libssa.
 *
 *   fault_hold server -c CHAIN -k KEY N
 *       listener on 127.0.0.1 (ephemeral port), prints "PORT <port>",
 *       accepts N connections, reads nothing, prints "READY <n>"
 *   fault_hold client -n HOSTNAME [-P RAW_PORT] PORT N
 *       N connections to 127.0.0.1:PORT, each with up to 64 KiB written
 *       without blocking (left in flight: the server reads nothing);
 *       -P adds one non-blocking connect to RAW_PORT (a TCP server that
 *       never answers TLS) left in progress; prints "READY <n>"
 *
 * Then both wait for a line on stdin: "EXIT" ends the process with
 * _exit(0), every socket still open (or the test kills it with SIGKILL).
 * Errors: "FAIL <what>: <errno>" on stdout, exit status 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#include "test_util.h"

static int fail(const char *what)
{
	printf("FAIL %s: %s\n", what, ename(errno));
	return 1;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static void wait_exit(void)
{
	char line[64];

	while (fgets(line, sizeof line, stdin))
		if (strncmp(line, "EXIT", 4) == 0)
			_exit(0); /* no close, no atexit handlers */
	_exit(0);
}

static int server(const char *chain, const char *key, int n)
{
	struct sockaddr_in sa = loopback(0);
	socklen_t sl = sizeof sa;
	int l = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);

	if (l < 0)
		return fail("socket");
	if (setsockopt(l, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, chain, (socklen_t)strlen(chain) + 1) ||
	    setsockopt(l, IPPROTO_TLS, TLS_PRIVATE_KEY, key, (socklen_t)strlen(key) + 1))
		return fail("setsockopt");
	if (bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 64) ||
	    getsockname(l, (struct sockaddr *)&sa, &sl))
		return fail("bind/listen");
	printf("PORT %d\n", ntohs(sa.sin_port));
	for (int i = 0; i < n; i++)
		if (accept(l, NULL, NULL) < 0)
			return fail("accept");
	printf("READY %d\n", n);
	wait_exit();
	return 0;
}

static int client(const char *host, int port, int n, int raw)
{
	static char junk[64 << 10];
	struct sockaddr_in sa = loopback(port);

	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);

		if (fd < 0)
			return fail("socket");
		if (setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host, (socklen_t)strlen(host) + 1))
			return fail("setsockopt");
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa))
			return fail("connect");
		if (send(fd, junk, sizeof junk, MSG_DONTWAIT) < 0 && errno != EAGAIN)
			return fail("send");
	}
	if (raw) {
		struct sockaddr_in ra = loopback(raw);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TLS);

		if (fd < 0)
			return fail("socket");
		if (setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host, (socklen_t)strlen(host) + 1))
			return fail("setsockopt");
		if (connect(fd, (struct sockaddr *)&ra, sizeof ra) == 0 || errno != EINPROGRESS)
			return fail("non-blocking connect (want EINPROGRESS)");
	}
	printf("READY %d\n", n);
	wait_exit();
	return 0;
}

int main(int argc, char **argv)
{
	const char *chain = NULL, *key = NULL, *host = NULL;
	int raw = 0, o;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		goto usage;
	optind = 2;
	while ((o = getopt(argc, argv, "c:k:n:P:")) != -1) {
		if (o == 'c')
			chain = optarg;
		else if (o == 'k')
			key = optarg;
		else if (o == 'n')
			host = optarg;
		else if (o == 'P')
			raw = atoi(optarg);
		else
			goto usage;
	}
	if (strcmp(argv[1], "server") == 0 && chain && key && argc - optind == 1)
		return server(chain, key, atoi(argv[optind]));
	if (strcmp(argv[1], "client") == 0 && host && argc - optind == 2)
		return client(host, atoi(argv[optind]), atoi(argv[optind + 1]), raw);
usage:
	fprintf(stderr, "usage: fault_hold server -c CHAIN -k KEY N\n"
			"       fault_hold client -n HOSTNAME [-P RAW_PORT] PORT N\n");
	return 2;
}
