/* SPDX-License-Identifier: MIT */
/*
 * kserver: a TLS echo server through the kernel front end: socket(...,
 * IPPROTO_TLS), TLS_CERTIFICATE_CHAIN + TLS_PRIVATE_KEY, bind, listen,
 * accept. Uses only libc and <ssa/in_tls.h>.
 *
 *   kserver -c CHAIN -k KEY [-6] [-p PORT] [-n CONNECTIONS]
 *
 * Binds 127.0.0.1 (or ::1 with -6) on PORT (default 0: any) and prints
 * "LISTEN port=N" with the real port (getsockname). For each of CONNECTIONS
 * (default 1) accepted connections, one at a time: prints
 * "ACCEPT peer=ADDR:PORT sni=NAME version=0x0304", echoes all data back until
 * the peer closes, prints "CLOSED bytes=N". Exit 0 after the last one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ssa/in_tls.h>

static void die(const char *what, int fd)
{
	char reason[512] = "";
	socklen_t len = sizeof reason;
	int e = errno;

	if (fd >= 0)
		getsockopt(fd, IPPROTO_TLS, TLS_ERROR, reason, &len);
	printf("ERR %s: %s reason=%s\n", what, strerror(e), reason);
	exit(1);
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port;

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof host);
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof host);
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	}
	snprintf(buf, n, "%s:%u", host, port);
}

int main(int argc, char **argv)
{
	const char *chain = NULL, *key = NULL;
	int v6 = 0, port = 0, count = 1, c, fd;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	char buf[16384], addr[80];

	while ((c = getopt(argc, argv, "c:k:6p:n:")) != -1) {
		switch (c) {
		case 'c': chain = optarg; break;
		case 'k': key = optarg; break;
		case '6': v6 = 1; break;
		case 'p': port = atoi(optarg); break;
		case 'n': count = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: kserver -c CHAIN -k KEY [-6] [-p PORT] [-n N]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, IPPROTO_TLS);
	if (fd < 0)
		die("socket", -1);
	if (chain && setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, chain, (socklen_t)strlen(chain) + 1) < 0)
		die("TLS_CERTIFICATE_CHAIN", fd);
	if (key && setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, key, (socklen_t)strlen(key) + 1) < 0)
		die("TLS_PRIVATE_KEY", fd);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((unsigned short)port);
		len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4->sin_port = htons((unsigned short)port);
		len = sizeof *s4;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		die("bind", fd);
	if (listen(fd, 16) < 0)
		die("listen", fd);
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname", fd);
	printf("LISTEN port=%u\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	for (int i = 0; i < count; i++) {
		char sni[256] = "";
		int cfd, ver = 0;
		long total = 0;
		ssize_t r;

		len = sizeof ss;
		cfd = accept(fd, (struct sockaddr *)&ss, &len);
		if (cfd < 0)
			die("accept", fd);
		addr_str(&ss, addr, sizeof addr);
		len = sizeof sni;
		getsockopt(cfd, IPPROTO_TLS, TLS_HOSTNAME, sni, &len);
		len = sizeof ver;
		getsockopt(cfd, IPPROTO_TLS, TLS_CHOSEN_VERSION, &ver, &len);
		printf("ACCEPT peer=%s sni=%s version=0x%04x\n", addr, sni, (unsigned)ver);
		while ((r = read(cfd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
			for (ssize_t off = 0; r > 0 && off < r;) {
				ssize_t w = write(cfd, buf + off, (size_t)(r - off));

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				off += w;
			}
			total += r > 0 ? r : 0;
		}
		printf("CLOSED bytes=%ld%s%s\n", total, r < 0 ? " error=" : "", r < 0 ? strerror(errno) : "");
		close(cfd);
	}
	close(fd);
	return 0;
}
