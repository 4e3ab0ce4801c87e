/* SPDX-License-Identifier: MIT */
/*
 * echo-server: a TLS echo server with the Secure Socket API.
 *
 *   echo-server CERT_CHAIN.pem KEY.pem PORT
 *
 * Every accepted socket has finished its TLS handshake; the private key
 * is read by the TLS service, never by this program.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

static void serve(int c)
{
	char buf[16384];
	ssize_t n;

	while ((n = read(c, buf, sizeof buf)) > 0)
		if (write(c, buf, (size_t)n) != n)
			break;
	close(c); /* close_notify */
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	int fd, c;

	if (argc != 4) {
		fprintf(stderr, "usage: %s CERT_CHAIN.pem KEY.pem PORT\n", argv[0]);
		return 2;
	}
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	addr.sin6_port = htons((unsigned short)atoi(argv[3]));
	fd = socket(AF_INET6, SOCK_STREAM, IPPROTO_TLS); /* IPv6 and IPv4 */
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, argv[1], strlen(argv[1]) + 1) ||
	    setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, argv[2], strlen(argv[2]) + 1) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof addr) || listen(fd, 128)) {
		perror("echo-server");
		return 1;
	}
	for (;;) {
		c = accept(fd, NULL, NULL);
		if (c < 0) {
			perror("accept");
			return 1;
		}
		if (fork() == 0) {
			close(fd);
			serve(c);
			_exit(0);
		}
		close(c);
	}
}
