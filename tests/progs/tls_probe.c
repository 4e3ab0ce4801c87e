/* SPDX-License-Identifier: MIT */
/*
 * tls_probe: make one SSA client connection and report what happened.
 *
 *   tls_probe [-n HOSTNAME] [-s REQUEST] [-q OPT] ADDRESS PORT
 *
 * Prints one line:  OK version=0x0304 cipher=NAME ms=N
 *             or:   ERR ERRNO_NAME ms=N reason=TLS_ERROR
 * -s sends REQUEST (with \r\n\r\n appended) and copies the reply to stdout.
 * -q prints extra options after connecting: id, identity, chain, local, peer.
 * Exit status: 0 connected, 1 connect failed, 2 usage or socket() failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ssa/in_tls.h>

static const char *errname(int e)
{
	switch (e) {
	case EPROTO: return "EPROTO";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EINVAL: return "EINVAL";
	case ECONNABORTED: return "ECONNABORTED";
	case ECONNRESET: return "ECONNRESET";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EISCONN: return "EISCONN";
	default: return strerror(e);
	}
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void print_addr(const char *what, int (*fn)(int, struct sockaddr *, socklen_t *), int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (fn(fd, (struct sockaddr *)&ss, &len) != 0) {
		printf("%s=ERR:%s\n", what, errname(errno));
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
		port = ntohs(s->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
		port = ntohs(s->sin6_port);
	} else {
		snprintf(host, sizeof host, "family%d", ss.ss_family);
	}
	printf("%s=%s %u\n", what, host, port);
}

int main(int argc, char **argv)
{
	const char *name = NULL, *request = NULL;
	int query = 0, o, fd, rc;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	struct timespec t0;

	while ((o = getopt(argc, argv, "n:s:q")) != -1) {
		if (o == 'n')
			name = optarg;
		else if (o == 's')
			request = optarg;
		else if (o == 'q')
			query = 1;
		else
			return 2;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: tls_probe [-n HOSTNAME] [-s REQUEST] [-q] ADDRESS PORT\n");
		return 2;
	}
	if ((rc = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai)) != 0) {
		fprintf(stderr, "tls_probe: %s\n", gai_strerror(rc));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = socket(ai->ai_family, SOCK_STREAM, IPPROTO_TLS);
	if (fd < 0) {
		printf("ERR %s ms=%.1f reason=socket\n", errname(errno), ms_since(&t0));
		return 2;
	}
	if (name && setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, name, strlen(name) + 1)) {
		printf("ERR %s ms=%.1f reason=setsockopt\n", errname(errno), ms_since(&t0));
		return 2;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		int e = errno;
		char why[512] = "";
		socklen_t len = sizeof why;

		if (getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &len) != 0)
			snprintf(why, sizeof why, "(TLS_ERROR unavailable: %s)", strerror(errno));
		printf("ERR %s ms=%.1f reason=%s\n", errname(e), ms_since(&t0), why);
		return 1;
	}
	{
		int ver = 0;
		char cipher[128] = "?";
		socklen_t l1 = sizeof ver, l2 = sizeof cipher;

		getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_VERSION, &ver, &l1);
		getsockopt(fd, IPPROTO_TLS, TLS_CHOSEN_CIPHER, cipher, &l2);
		printf("OK version=0x%04x cipher=%s ms=%.1f\n", ver, cipher, ms_since(&t0));
	}
	if (query) {
		uint64_t id = 0;
		socklen_t len = sizeof id;
		static char buf[65536];

		if (getsockopt(fd, IPPROTO_TLS, TLS_ID, &id, &len) == 0)
			printf("id=%016llx\n", (unsigned long long)id);
		len = sizeof buf;
		if (getsockopt(fd, IPPROTO_TLS, TLS_PEER_IDENTITY, buf, &len) == 0)
			printf("identity=%s\n", buf);
		len = sizeof buf;
		if (getsockopt(fd, IPPROTO_TLS, TLS_PEER_CERTIFICATE_CHAIN, buf, &len) == 0) {
			int n = 0;

			for (char *p = buf; (p = strstr(p, "BEGIN CERTIFICATE")); p++)
				n++;
			printf("chain_certs=%d chain_len=%u\n", n, (unsigned)len);
		}
		print_addr("local", getsockname, fd);
		print_addr("peer", getpeername, fd);
	}
	if (request) {
		char buf[16384];
		ssize_t n;

		dprintf(fd, "%s\r\n\r\n", request);
		while ((n = read(fd, buf, sizeof buf)) > 0)
			fwrite(buf, 1, (size_t)n, stdout);
		if (n < 0)
			printf("READ_ERR %s\n", errname(errno));
	}
	close(fd);
	freeaddrinfo(ai);
	return 0;
}
