/* SPDX-License-Identifier: MIT */
/*
 * fault_big: one write() of a large buffer through a TLS socket, checked at
 * the receiver (issue 4, item 6). Run it under libssa.
 *
 *   fault_big -n HOSTNAME PORT MIB
 *
 * Connects to a TLS sink on 127.0.0.1:PORT, sends "SINK <bytes>\n", then
 * the whole payload (MIB MiB of a splitmix64 stream) with ONE write() call
 * (SO_SNDTIMEO 60 s, so a stall fails instead of hanging). The sink answers
 * "<bytes received> <sha256 hex>\n".
 * Prints "CONNECTED", then
 *   WRITE rc=<bytes> errno=- ms=N
 *   SENT <bytes> <sha256 hex of the payload>
 *   SINK <the sink's line>
 * and "MATCH" or "MISMATCH". Exit status 0 on MATCH.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <ssa/in_tls.h>

#include "test_util.h"

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 60 };
	const char *host = NULL;
	unsigned char md[32];
	char hex[65], hdr[64], reply[160];
	size_t len, got = 0;
	uint64_t seed = 0x65fa017;
	uint8_t *buf;
	double t0;
	long rc;
	int fd, o, hl;

	while ((o = getopt(argc, argv, "n:")) != -1) {
		if (o == 'n')
			host = optarg;
		else
			return 2;
	}
	if (argc - optind != 2 || !host) {
		fprintf(stderr, "usage: fault_big -n HOSTNAME PORT MIB\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[optind]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	len = (size_t)strtoul(argv[optind + 1], NULL, 10) << 20;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	buf = malloc(len);
	if (!buf || len % 8) {
		printf("FAIL malloc\n");
		return 1;
	}
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = splitmix64(&seed);

		memcpy(buf + i, &v, 8);
	}
	if (!EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL)) {
		printf("FAIL EVP_Digest\n");
		return 1;
	}
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);

	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TLS);
	if (fd < 0 || setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host,
				 (socklen_t)strlen(host) + 1) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		printf("FAIL connect: %s\n", ename(errno));
		return 1;
	}
	printf("CONNECTED\n");
	hl = snprintf(hdr, sizeof hdr, "SINK %zu\n", len);
	if (write(fd, hdr, (size_t)hl) != hl) {
		printf("FAIL header: %s\n", ename(errno));
		return 1;
	}
	t0 = now_ms();
	errno = 0;
	rc = write(fd, buf, len);
	printf("WRITE rc=%ld errno=%s ms=%.0f\n", rc, rc < 0 ? ename(errno) : "-", now_ms() - t0);
	printf("SENT %zu %s\n", len, hex);
	while (got < sizeof reply - 1 && (got == 0 || reply[got - 1] != '\n')) {
		ssize_t r = read(fd, reply + got, sizeof reply - 1 - got);

		if (r <= 0) {
			printf("FAIL reading the sink's answer: %s\n", r ? ename(errno) : "EOF");
			return 1;
		}
		got += (size_t)r;
	}
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	printf("SINK %s\n", reply);
	{
		char want[100];

		snprintf(want, sizeof want, "%zu %s", len, hex);
		printf("%s\n", strcmp(want, reply) == 0 && rc == (long)len ? "MATCH" : "MISMATCH");
		close(fd);
		free(buf);
		return strcmp(want, reply) == 0 && rc == (long)len ? 0 : 1;
	}
}
