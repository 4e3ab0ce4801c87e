/* SPDX-License-Identifier: MIT */
/*
 * ssa-bench server: one thread per active connection. An idle connection
 * (REQ_HOLD) is parked in an epoll set and its thread ends, so that 10,000
 * held connections do not cost 10,000 threads.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#define CHUNK (256 * 1024)

static int park_ep = -1;

/* Read until the client closes, then close our end. */
static void drain_and_close(struct bconn *c)
{
	char buf[4096];

	while (bconn_read_some(c, buf, sizeof buf) > 0) {
	}
	bconn_close(c);
}

static void serve(struct bconn *c)
{
	struct bench_req req;
	char *buf;

	if (bconn_read_full(c, &req, sizeof req) != 0) {
		bconn_close(c);
		return;
	}
	switch (req.op) {
	case REQ_HANDSHAKE:
		(void)bconn_write_full(c, "h", 1);
		break;
	case REQ_UPLOAD: {
		uint64_t left = req.arg;

		buf = xmalloc(CHUNK);
		while (left > 0) {
			long r = bconn_read_some(c, buf, left < CHUNK ? (size_t)left : CHUNK);

			if (r <= 0) break;
			left -= (uint64_t)r;
		}
		free(buf);
		if (left == 0) (void)bconn_write_full(c, &req.arg, sizeof req.arg);
		break;
	}
	case REQ_DOWNLOAD: {
		uint64_t left = req.arg;

		buf = xmalloc(CHUNK);
		memset(buf, 'd', CHUNK);
		while (left > 0) {
			size_t n = left < CHUNK ? (size_t)left : CHUNK;

			if (bconn_write_full(c, buf, n) != 0) break;
			left -= n;
		}
		free(buf);
		break;
	}
	case REQ_PINGPONG: {
		char ping[PING_SIZE];

		for (uint64_t i = 0; i < req.arg; i++)
			if (bconn_read_full(c, ping, sizeof ping) != 0 || bconn_write_full(c, ping, sizeof ping) != 0)
				break;
		break;
	}
	case REQ_HOLD: {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct bconn *p = xmalloc(sizeof *p);

		if (c->ssl) SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
		*p = *c;
		ev.data.ptr = p;
		if (epoll_ctl(park_ep, EPOLL_CTL_ADD, c->fd, &ev) == 0) return;
		free(p);
		break;
	}
	default:
		break;
	}
	drain_and_close(c);
}

static void *conn_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct bconn c;

	if (bconn_accept(&c, fd) == 0) serve(&c);
	OPENSSL_thread_stop();
	return NULL;
}

/* Parked (idle) connections: any event means the client is going away. */
static void *park_thread(void *arg)
{
	struct epoll_event evs[256];

	(void)arg;
	for (;;) {
		int n = epoll_wait(park_ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			struct bconn *p = evs[i].data.ptr;

			(void)epoll_ctl(park_ep, EPOLL_CTL_DEL, p->fd, NULL);
			drain_and_close(p);
			free(p);
		}
	}
	return NULL;
}

int server_main(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int lfd, port;

	if (tls_init_server() != 0) return 1;
	park_ep = epoll_create1(EPOLL_CLOEXEC);
	if (park_ep < 0) die("epoll_create1: %s", strerror(errno));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
#if defined(__SANITIZE_ADDRESS__)
	pthread_attr_setstacksize(&attr, 2u << 20);
#else
	pthread_attr_setstacksize(&attr, 256u << 10);
#endif
	if (pthread_create(&t, &attr, park_thread, NULL) != 0) die("pthread_create failed");
	lfd = bench_listen(&port);
	printf("READY %d\n", port);
	fflush(stdout);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
			if (errno == EMFILE || errno == ENFILE) {
				usleep(10000);
				continue;
			}
			die("accept: %s", strerror(errno));
		}
		if (pthread_create(&t, &attr, conn_thread, (void *)(intptr_t)fd) != 0) {
			fprintf(stderr, "ssa-bench server: pthread_create failed; dropping a connection\n");
			close(fd);
		}
	}
}
