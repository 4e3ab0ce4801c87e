/* SPDX-License-Identifier: MIT */
/*
 * conform_peer: the peer of the differential conformance suite
 * (tests/progs/conform.c, tests/t/60-conformance.t). Not an SSA program:
 * it serves the same behaviours over plain TCP or over TLS (OpenSSL in
 * this process), so that one scenario program can be run against both and
 * the two traces compared.
 *
 *   conform_peer -m plain|tls -p PORT [-c CHAIN.pem -k KEY.pem]
 *
 * Listens on [::]:PORT (dual stack: 127.0.0.1 and ::1 both work; PORT 0
 * picks one) and prints "READY <port>" on stdout. One thread per
 * connection. The client's first line picks the behaviour:
 *
 *   "<CMD> <ARG> <TAG>\n"     ARG a number or "-", TAG a name or "-"
 *
 *   ECHO       echo every byte until the client's end of stream, then a
 *              clean close (TLS: close_notify) of our side
 *   SEND n     send n bytes of the pattern 'a'+i%26, then a clean close;
 *              keep reading (and discarding) until the client ends
 *   SPLIT      send "abc", wait 150 ms, send "defgh", then as ECHO
 *   CLOSE      a clean close at once (close_notify, then close(): a client
 *              writing after that gets a TCP reset)
 *   RESET      close with SO_LINGER {1,0}: a TCP reset, no close_notify
 *   SILENT     never send; read and discard until the client ends
 *   STALL      never read; when the client closes (or after 5 s) close
 *              with a reset
 *   HALFCLOSE  send "greeting\n", then end our direction (close_notify and
 *              shutdown(SHUT_WR)); keep reading until the client ends
 *   SINK       read until the client's end, then answer
 *              "n=<bytes> h=<fnv1a-64 hex>\n" and close cleanly
 *   SLOWSINK   as SINK, pausing 2 ms after every 64 KiB (backpressure)
 *   QUERY tag  answer "end=<how> bytes=<n>\n" for the connection that
 *              carried TAG (waiting up to 3 s for it to end), then close
 *
 * How a connection ended (for QUERY): "eof" (TCP FIN; TLS: close_notify),
 * "reset" (ECONNRESET), "truncated" (TLS only: the TCP stream ended
 * without close_notify), "error:..." otherwise, "none" if not ended yet.
 * bytes counts what the client sent after its first line.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ctx; /* NULL: plain TCP */

/* ---- the record of how tagged connections ended ----------------------- */
#define NREC 4096
struct rec {
	char tag[64];
	char end[48];
	unsigned long long bytes;
};
static struct rec recs[NREC];
static unsigned nrec;
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rec_cond = PTHREAD_COND_INITIALIZER;

static void record(const char *tag, const char *end, unsigned long long bytes)
{
	struct rec *r;

	if (!tag[0] || strcmp(tag, "-") == 0)
		return;
	pthread_mutex_lock(&rec_lock);
	r = &recs[nrec++ % NREC];
	snprintf(r->tag, sizeof r->tag, "%s", tag);
	snprintf(r->end, sizeof r->end, "%s", end);
	r->bytes = bytes;
	pthread_cond_broadcast(&rec_cond);
	pthread_mutex_unlock(&rec_lock);
}

/* The record of tag, waiting up to ms; false if none came. */
static bool lookup(const char *tag, int ms, char *end, size_t cap, unsigned long long *bytes)
{
	struct timespec dl;
	bool found = false;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&rec_lock);
	for (;;) {
		unsigned lo = nrec > NREC ? nrec - NREC : 0;

		for (unsigned i = nrec; i > lo; i--) {
			struct rec *r = &recs[(i - 1) % NREC];

			if (strcmp(r->tag, tag) == 0) {
				snprintf(end, cap, "%s", r->end);
				*bytes = r->bytes;
				found = true;
				break;
			}
		}
		if (found || pthread_cond_timedwait(&rec_cond, &rec_lock, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&rec_lock);
	return found;
}

/* ---- one connection, plain or TLS ------------------------------------- */
struct conn {
	int fd;
	SSL *ssl;
	char end[48]; /* how the client's stream ended, once it did */
};

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* > 0 bytes read; 0 the stream ended (c->end says how). */
static ssize_t c_read(struct conn *c, void *buf, size_t len)
{
	if (!c->ssl) {
		ssize_t n;

		do
			n = read(c->fd, buf, len);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			return n;
		if (n == 0)
			snprintf(c->end, sizeof c->end, "eof");
		else if (errno == ECONNRESET)
			snprintf(c->end, sizeof c->end, "reset");
		else
			snprintf(c->end, sizeof c->end, "error:%s", errname(errno));
		return 0;
	}
	ERR_clear_error();
	errno = 0;
	int n = SSL_read(c->ssl, buf, (int)(len > 1 << 30 ? 1 << 30 : len));

	if (n > 0)
		return n;
	int e = SSL_get_error(c->ssl, n), se = errno;
	unsigned long l = ERR_peek_error();

	if (e == SSL_ERROR_ZERO_RETURN)
		snprintf(c->end, sizeof c->end, "eof");
	else if (e == SSL_ERROR_SYSCALL && se == ECONNRESET)
		snprintf(c->end, sizeof c->end, "reset");
	else if ((e == SSL_ERROR_SSL && ERR_GET_REASON(l) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
		 (e == SSL_ERROR_SYSCALL && se == 0))
		snprintf(c->end, sizeof c->end, "truncated");
	else if (e == SSL_ERROR_SYSCALL)
		snprintf(c->end, sizeof c->end, "error:%s", errname(se));
	else
		snprintf(c->end, sizeof c->end, "error:tls");
	return 0;
}

static bool c_write(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		if (c->ssl) {
			int n = SSL_write(c->ssl, p, (int)(len > 1 << 20 ? 1 << 20 : len));

			if (n <= 0)
				return false;
			p += n;
			len -= (size_t)n;
		} else {
			ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return false;
			p += n;
			len -= (size_t)n;
		}
	}
	return true;
}

/* End our direction: close_notify (TLS), then a TCP FIN. */
static void c_shut_wr(struct conn *c)
{
	if (c->ssl)
		SSL_shutdown(c->ssl);
	shutdown(c->fd, SHUT_WR);
}

/* Read and discard until the client's stream ends; returns the count. */
static unsigned long long c_drain(struct conn *c)
{
	char buf[16384];
	unsigned long long t = 0;
	ssize_t n;

	while ((n = c_read(c, buf, sizeof buf)) > 0)
		t += (unsigned long long)n;
	return t;
}

static void c_reset(struct conn *c)
{
	struct linger lg = { 1, 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(c->fd);
	c->fd = -1;
}

static void c_free(struct conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The first line, one byte at a time so nothing after it is consumed. */
static bool first_line(struct conn *c, char *line, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		char ch;

		if (c_read(c, &ch, 1) != 1)
			return false;
		if (ch == '\n') {
			line[n] = 0;
			return true;
		}
		line[n++] = ch;
	}
	return false;
}

static void serve(struct conn *c)
{
	char line[256], cmd[32] = "", arg[64] = "-", tag[64] = "-";
	unsigned long long bytes = 0;
	char buf[65536];
	ssize_t n;

	if (!first_line(c, line, sizeof line))
		return;
	if (sscanf(line, "%31s %63s %63s", cmd, arg, tag) < 1)
		return;

	if (strcmp(cmd, "ECHO") == 0 || strcmp(cmd, "SPLIT") == 0) {
		if (strcmp(cmd, "SPLIT") == 0) {
			if (!c_write(c, "abc", 3))
				return;
			usleep(150000);
			if (!c_write(c, "defgh", 5))
				return;
		}
		while ((n = c_read(c, buf, sizeof buf)) > 0) {
			bytes += (unsigned long long)n;
			if (!c_write(c, buf, (size_t)n)) {
				bytes += c_drain(c);
				break;
			}
		}
		record(tag, c->end, bytes);
		if (strcmp(c->end, "eof") == 0)
			c_shut_wr(c);
	} else if (strcmp(cmd, "SEND") == 0) {
		unsigned long long want = strtoull(arg, NULL, 10), i = 0;

		while (i < want) {
			size_t k = want - i > sizeof buf ? sizeof buf : (size_t)(want - i);

			for (size_t j = 0; j < k; j++)
				buf[j] = (char)('a' + (i + j) % 26);
			if (!c_write(c, buf, k))
				break;
			i += k;
		}
		c_shut_wr(c);
		bytes = c_drain(c);
		record(tag, c->end, bytes);
	} else if (strcmp(cmd, "CLOSE") == 0) {
		c_shut_wr(c);
	} else if (strcmp(cmd, "RESET") == 0) {
		c_reset(c);
	} else if (strcmp(cmd, "SILENT") == 0) {
		bytes = c_drain(c);
		record(tag, c->end, bytes);
		if (strcmp(c->end, "eof") == 0)
			c_shut_wr(c);
	} else if (strcmp(cmd, "STALL") == 0) {
		struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

		poll(&p, 1, 5000);
		c_reset(c);
	} else if (strcmp(cmd, "HALFCLOSE") == 0) {
		if (!c_write(c, "greeting\n", 9))
			return;
		c_shut_wr(c);
		bytes = c_drain(c);
		record(tag, c->end, bytes);
	} else if (strcmp(cmd, "SINK") == 0 || strcmp(cmd, "SLOWSINK") == 0) {
		bool slow = cmd[0] == 'S' && cmd[1] == 'L';
		uint64_t h = 0xcbf29ce484222325ull;
		unsigned long long mark = 0;
		char out[96];

		while ((n = c_read(c, buf, sizeof buf)) > 0) {
			h = fnv1a(h, (unsigned char *)buf, (size_t)n);
			bytes += (unsigned long long)n;
			if (slow && bytes - mark >= 65536) {
				mark = bytes;
				usleep(2000);
			}
		}
		record(tag, c->end, bytes);
		if (strcmp(c->end, "eof") == 0) {
			snprintf(out, sizeof out, "n=%llu h=%016llx\n", bytes, (unsigned long long)h);
			c_write(c, out, strlen(out));
			c_shut_wr(c);
		}
	} else if (strcmp(cmd, "QUERY") == 0) {
		char end[48], out[128];
		unsigned long long b = 0;

		if (lookup(arg, 3000, end, sizeof end, &b))
			snprintf(out, sizeof out, "end=%s bytes=%llu\n", end, b);
		else
			snprintf(out, sizeof out, "end=none\n");
		c_write(c, out, strlen(out));
		c_shut_wr(c);
		c_drain(c);
	} else {
		c_write(c, "unknown command\n", 16);
		c_shut_wr(c);
	}
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct timeval tv = { .tv_sec = 30 };

	/* No thread stays forever on a client that went quiet. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (ctx) {
		c->ssl = SSL_new(ctx);
		if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) || SSL_accept(c->ssl) != 1) {
			/* e.g. a port probe that only connects: not an error. */
			c_free(c);
			ERR_clear_error();
			return NULL;
		}
	}
	serve(c);
	c_free(c);
	ERR_clear_error();
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	const char *mode = NULL, *chain = NULL, *key = NULL;
	socklen_t al = sizeof a;
	pthread_attr_t at;
	struct rlimit rl;
	int opt, lfd, on = 1, off = 0, port = -1;

	while ((opt = getopt(argc, argv, "m:p:c:k:")) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': chain = optarg; break;
		case 'k': key = optarg; break;
		default: goto usage;
		}
	}
	if (!mode || port < 0 || (strcmp(mode, "plain") && strcmp(mode, "tls")) ||
	    (!strcmp(mode, "tls") && (!chain || !key)))
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!strcmp(mode, "tls")) {
		ctx = SSL_CTX_new(TLS_server_method());
		if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
		SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	}
	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin6_port = htons((uint16_t)port);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) ||
	    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al)) {
		perror("conform_peer: listen");
		return 1;
	}
	printf("READY %u\n", ntohs(a.sin6_port));
	fflush(stdout);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct conn *c;
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE) {
				if (errno == EMFILE || errno == ENFILE)
					usleep(10000);
				continue;
			}
			perror("conform_peer: accept");
			return 1;
		}
		c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		if (pthread_create(&t, &at, conn_thread, c) != 0) {
			close(fd);
			free(c);
		}
	}
usage:
	fprintf(stderr, "usage: conform_peer -m plain|tls -p PORT [-c CHAIN -k KEY]\n");
	return 2;
}
