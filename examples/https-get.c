/* SPDX-License-Identifier: MIT */
/*
 * https-get: fetch a page over HTTPS with the Secure Socket API.
 * No TLS library: the TLS is done by the operating system's SSA service.
 *
 *   https-get HOST PORT [PATH]      e.g.  https-get localhost 443 /
 *
 * HOST may be a name (verified against the certificate, and sent as SNI)
 * or an IP address (the certificate must then be valid for that address).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

static int is_ip(const char *host)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST }, *res;

	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	freeaddrinfo(res);
	return 1;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	const char *host, *port, *path;
	char req[1024], buf[16384];
	int fd = -1, rc, saved = 0;
	ssize_t n;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s HOST PORT [PATH]\n", argv[0]);
		return 2;
	}
	host = argv[1], port = argv[2], path = argc > 3 ? argv[3] : "/";
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		fprintf(stderr, "%s: %s\n", host, gai_strerror(rc));
		return 1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM, IPPROTO_TLS); /* the one changed line */
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (!is_ip(host))
			setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, host, strlen(host) + 1);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		{
			char why[256] = "";
			socklen_t len = sizeof why;

			getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &len);
			fprintf(stderr, "connect: %s%s%s\n", strerror(saved), why[0] ? ": " : "", why);
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (saved == EPROTONOSUPPORT)
			fprintf(stderr, "socket: %s (is ssad running?)\n", strerror(saved));
		return 1;
	}
	n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s%s%s\r\nConnection: close\r\n\r\n",
		     path, strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "");
	if (write(fd, req, (size_t)n) != n) {
		perror("write");
		return 1;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n < 0) {
		perror("read");
		return 1;
	}
	close(fd); /* sends close_notify */
	return 0;
}
