/* SPDX-License-Identifier: MIT */
/*
 * kmigrate: an IPPROTO_TLS listener and a plain TCP listener share a port
 * with SO_REUSEPORT (run in a network namespace with
 * net.ipv4.tcp_migrate_req = 1). Connections queue up behind the TLS
 * listener; closing it makes TCP migrate them to the plain listener. Those
 * migrated connections must behave as plain TCP ones: their readers are
 * woken when data arrives, and nothing of ssa.ko is left in them (the test
 * unloads the module in between and sends more: tests/kernel/guest/83-migrate.t).
 *
 *   kmigrate CERT KEY PORT
 *
 * Prints MIGRATED n, ACCEPTED n, WOKEN n, NOT_WOKEN n (data queued but no
 * wake-up), then "PAUSE" and waits for a line on stdin; then sends again and
 * prints AFTER n (connections that got the second message).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ssa/in_tls.h>

#define NCLIENTS 24
#define NMAX 64

static long migrated(void)
{
	char hdr[4096], val[4096];
	FILE *f = fopen("/proc/net/netstat", "r");
	long v = -1;

	if (!f)
		return -1;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		char *hs, *vs, *h = strtok_r(hdr, " \n", &hs), *x = strtok_r(val, " \n", &vs);

		if (!h || strcmp(h, "TcpExt:"))
			continue;
		while ((h = strtok_r(NULL, " \n", &hs)) && (x = strtok_r(NULL, " \n", &vs)))
			if (!strcmp(h, "TCPMigrateReqSuccess"))
				v = atol(x);
	}
	fclose(f);
	return v;
}

static int listener(int proto, const struct sockaddr_in *a, const char *cert, const char *key,
		    int backlog)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, proto);

	if (fd < 0)
		return -1;
	if (cert && (setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, cert, strlen(cert) + 1) ||
		     setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, key, strlen(key) + 1)))
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)a, sizeof(*a)) || listen(fd, backlog))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int tls, tcp, cl[NCLIENTS], ch[NMAX], nch = 0, ep, woken = 0, not_woken = 0, after = 0;
	long m0, m1;
	char line[16];
	pid_t pid;

	if (argc != 4)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)atoi(argv[3]));
	tls = listener(IPPROTO_TLS, &a, argv[1], argv[2], 2);
	tcp = listener(0, &a, NULL, NULL, NMAX);
	if (tls < 0 || tcp < 0) {
		printf("ERR listeners: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < NCLIENTS; i++) {
		cl[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(cl[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(1500 * 1000);
	m0 = migrated();
	close(tls);
	usleep(300 * 1000);
	m1 = migrated();
	printf("MIGRATED %ld\n", m1 - m0);

	ep = epoll_create1(0);
	for (;;) {
		struct pollfd p = { .fd = tcp, .events = POLLIN };
		int c;

		if (poll(&p, 1, 500) <= 0)
			break;
		c = accept4(tcp, NULL, NULL, SOCK_NONBLOCK);
		if (c < 0 || nch == NMAX)
			break;
		{
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (unsigned int)nch };

			epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
		}
		ch[nch++] = c;
	}
	printf("ACCEPTED %d\n", nch);

	/* data arrives after the readers wait for it */
	pid = fork();
	if (pid == 0) {
		usleep(300 * 1000);
		for (int i = 0; i < NCLIENTS; i++)
			send(cl[i], "ping\n", 5, MSG_NOSIGNAL);
		_exit(0);
	}
	{
		char seen[NMAX] = { 0 };
		int left = 3000;

		while (left > 0 && woken < nch) {
			struct epoll_event ev[NMAX];
			int n = epoll_wait(ep, ev, NMAX, 100);

			left -= 100;
			for (int i = 0; i < n; i++)
				if (!seen[ev[i].data.u32]) {
					/* level-triggered: report each one once */
					seen[ev[i].data.u32] = 1;
					epoll_ctl(ep, EPOLL_CTL_DEL, ch[ev[i].data.u32], NULL);
					woken++;
				}
			if (n > 0)
				left += 100; /* only waiting counts */
		}
		for (int i = 0; i < nch; i++) {
			char b[8];

			if (!seen[i] && recv(ch[i], b, sizeof(b), MSG_PEEK | MSG_DONTWAIT) > 0)
				not_woken++;
			while (recv(ch[i], b, sizeof(b), MSG_DONTWAIT) > 0)
				;
		}
	}
	waitpid(pid, NULL, 0);
	printf("WOKEN %d\nNOT_WOKEN %d\n", woken, not_woken);
	printf("PAUSE\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < NCLIENTS; i++)
		send(cl[i], "more\n", 5, MSG_NOSIGNAL);
	usleep(500 * 1000);
	for (int i = 0; i < nch; i++) {
		char b[8];

		if (recv(ch[i], b, sizeof(b), MSG_DONTWAIT) > 0)
			after++;
	}
	printf("AFTER %d\n", after);
	for (int i = 0; i < nch; i++)
		close(ch[i]);
	for (int i = 0; i < NCLIENTS; i++)
		close(cl[i]);
	close(tcp);
	return 0;
}
