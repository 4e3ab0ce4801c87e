/* SPDX-License-Identifier: MIT */
/*
 * https-server: a tiny HTTPS server with the Secure Socket API.
 *
 *   https-server CERT_CHAIN.pem KEY.pem PORT
 *
 * Serves one page naming the TLS version and cipher of the request's
 * connection and the SNI name the client asked for. Offers ALPN http/1.1.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

static void respond(int c)
{
	char req[4096], sni[256] = "", cipher[128] = "", body[512], head[256];
	socklen_t l1 = sizeof sni, l2 = sizeof cipher, l3 = sizeof(int);
	int version = 0, nb, nh;

	if (read(c, req, sizeof req) <= 0)
		return;
	getsockopt(c, IPPROTO_TLS, TLS_HOSTNAME, sni, &l1);
	getsockopt(c, IPPROTO_TLS, TLS_CHOSEN_CIPHER, cipher, &l2);
	getsockopt(c, IPPROTO_TLS, TLS_CHOSEN_VERSION, &version, &l3);
	nb = snprintf(body, sizeof body, "Hello over TLS 0x%04x with %s, SNI '%s'.\n", version,
		      cipher, sni);
	nh = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		      "Content-Length: %d\r\nConnection: close\r\n\r\n", nb);
	if (write(c, head, (size_t)nh) == nh)
		(void)!write(c, body, (size_t)nb);
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	const char alpn[] = "http/1.1";
	int fd, c;

	if (argc != 4) {
		fprintf(stderr, "usage: %s CERT_CHAIN.pem KEY.pem PORT\n", argv[0]);
		return 2;
	}
	addr.sin6_port = htons((unsigned short)atoi(argv[3]));
	fd = socket(AF_INET6, SOCK_STREAM, IPPROTO_TLS);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, argv[1], strlen(argv[1]) + 1) ||
	    setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, argv[2], strlen(argv[2]) + 1) ||
	    setsockopt(fd, IPPROTO_TLS, TLS_ALPN, alpn, sizeof alpn) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof addr) || listen(fd, 128)) {
		perror("https-server");
		return 1;
	}
	while ((c = accept(fd, NULL, NULL)) >= 0) {
		respond(c);
		close(c); /* close_notify */
	}
	perror("accept");
	return 1;
}
