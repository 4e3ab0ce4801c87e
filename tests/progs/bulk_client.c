/* SPDX-License-Identifier: MIT */
/*
 * bulk_client: bulk transfers through SSA sockets, checked end to end
 * against bulk_server.
 *
 *   bulk_client [-6] [-n HOSTNAME] [-t SECONDS] [-w FILE] -c CONNECTIONS -p PARALLEL
 *               -b BYTES_EACH_WAY ADDRESS PORT
 *
 * Runs CONNECTIONS connections, at most PARALLEL at a time (one thread
 * each). Connection i (1-based):
 *   socket(IPPROTO_TLS); TLS_REMOTE_HOSTNAME if -n; connect;
 *   send "BULK <seed> <BYTES>\n" and BYTES of the stream gen(seed ^ 0xdeadbeef);
 *   read BYTES and compare them with gen(seed) (SHA-256, and byte by byte to
 *   name the first bad offset); read the 32-byte digest the server computed
 *   and compare it with the SHA-256 of what was sent; then read() must
 *   return 0 (the server's close_notify) and TLS_ERROR must still be
 *   readable and empty; close.
 * The generator is bulk_server's: splitmix64, 8 bytes little-endian a step.
 * -t bounds each blocking read/write (SO_RCVTIMEO/SO_SNDTIMEO, default 120 s)
 * so that a stuck transfer fails instead of hanging.
 * -w FILE: each connection stops after uploading half of BYTES until FILE
 * exists (at most -t seconds), so that a test can do things (reloads...)
 * while every transfer is surely in the middle, however fast the machine.
 *
 * Prints "bulk: N ok, M failed, X MiB each way, T s" (X: total over the
 * successful connections) and, on stderr, one line per failed connection.
 * Exit status: 0 all ok, 1 some failed, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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

#include "bulk_gen.h"

#define BUF_SIZE 65536

/* Settings, fixed before the threads start. */
static const char *hostname;
static const char *wait_file;
static struct addrinfo *target;
static unsigned n_conns, timeout_s = 120;
static uint64_t n_bytes;

static atomic_uint next_conn, n_ok, n_failed;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

struct conn {
	unsigned n;
	int fd;
	uint8_t *buf, *want;
	char why[768];
};

/* Record the first reason of a failure, with TLS_ERROR when there is one. */
__attribute__((format(printf, 2, 3))) static int conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (c->why[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
	n = strlen(c->why);
	if (c->fd >= 0 && n < sizeof c->why - 32) {
		char tls[512] = "";
		socklen_t len = sizeof tls;

		if (getsockopt(c->fd, IPPROTO_TLS, TLS_ERROR, tls, &len) != 0)
			snprintf(c->why + n, sizeof c->why - n, " [TLS_ERROR unavailable: %s]",
				 strerror(errno));
		else if (tls[0])
			snprintf(c->why + n, sizeof c->why - n, " [TLS_ERROR: %s]", tls);
	}
	return -1;
}

static int write_all(struct conn *c, const uint8_t *p, size_t len, uint64_t *done)
{
	while (len) {
		ssize_t w = write(c->fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return conn_fail(c, "write failed after %" PRIu64 " of %" PRIu64
					 " payload bytes: %s", *done, n_bytes,
					 w < 0 ? strerror(errno) : "wrote 0");
		p += w;
		len -= (size_t)w;
		*done += (uint64_t)w;
	}
	return 0;
}

/* -w: hold the upload at its middle until the file exists (once). */
static int wait_for_file(struct conn *c)
{
	unsigned waited_ms = 0;

	while (access(wait_file, F_OK) != 0) {
		if (waited_ms >= timeout_s * 1000u)
			return conn_fail(c, "%s did not appear within %u s", wait_file, timeout_s);
		usleep(10000);
		waited_ms += 10;
	}
	return 0;
}

/* Read exactly len bytes (what names the phase in errors). */
static int read_exact(struct conn *c, uint8_t *p, size_t len, const char *what,
		      uint64_t done, uint64_t total)
{
	while (len) {
		ssize_t r = read(c->fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return conn_fail(c, "read of %s failed after %" PRIu64 " of %" PRIu64
					 " bytes: %s", what, done, total, strerror(errno));
		if (r == 0)
			return conn_fail(c, "EOF in %s after %" PRIu64 " of %" PRIu64 " bytes",
					 what, done, total);
		p += r;
		len -= (size_t)r;
		done += (uint64_t)r;
	}
	return 0;
}

static int sha_init(struct conn *c, EVP_MD_CTX **md)
{
	*md = EVP_MD_CTX_new();
	if (!*md || !EVP_DigestInit_ex(*md, EVP_sha256(), NULL))
		return conn_fail(c, "EVP_DigestInit_ex failed");
	return 0;
}

static int run_conn(struct conn *c)
{
	uint64_t seed = splitmix64(&(uint64_t){ 0x5eedull << 32 | c->n }), done;
	EVP_MD_CTX *sent_md = NULL, *got_md = NULL, *want_md = NULL;
	unsigned char sent_h[32], got_h[32], want_h[32], peer_h[32];
	uint64_t first_bad = UINT64_MAX;
	struct timeval tv = { .tv_sec = timeout_s };
	char hdr[64];
	struct gen g;
	int hl, rc = -1;
	uint8_t extra;
	ssize_t r;

	c->fd = socket(target->ai_family, SOCK_STREAM, IPPROTO_TLS);
	if (c->fd < 0)
		return conn_fail(c, "socket: %s", strerror(errno));
	if (hostname && setsockopt(c->fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, hostname,
				   (socklen_t)strlen(hostname) + 1) != 0)
		return conn_fail(c, "setsockopt TLS_REMOTE_HOSTNAME: %s", strerror(errno));
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
		return conn_fail(c, "setsockopt SO_RCVTIMEO/SO_SNDTIMEO: %s", strerror(errno));
	if (connect(c->fd, target->ai_addr, target->ai_addrlen) != 0)
		return conn_fail(c, "connect: %s", strerror(errno));

	if (sha_init(c, &sent_md) || sha_init(c, &got_md) || sha_init(c, &want_md))
		goto out;
	hl = snprintf(hdr, sizeof hdr, "BULK %" PRIu64 " %" PRIu64 "\n", seed, n_bytes);
	done = 0;
	if (write_all(c, (uint8_t *)hdr, (size_t)hl, &done))
		goto out;

	/* Upload. The server answers only once it has everything. */
	gen_init(&g, seed ^ 0xdeadbeefull);
	done = 0;
	while (done < n_bytes) {
		size_t n = n_bytes - done < BUF_SIZE ? (size_t)(n_bytes - done) : BUF_SIZE;

		if (wait_file && done >= n_bytes / 2 && wait_for_file(c))
			goto out;
		gen_fill(&g, c->buf, n);
		EVP_DigestUpdate(sent_md, c->buf, n);
		if (write_all(c, c->buf, n, &done))
			goto out;
	}
	EVP_DigestFinal_ex(sent_md, sent_h, NULL);

	/* Download, checked against the generator. */
	gen_init(&g, seed);
	done = 0;
	while (done < n_bytes) {
		size_t n = n_bytes - done < BUF_SIZE ? (size_t)(n_bytes - done) : BUF_SIZE;

		do
			r = read(c->fd, c->buf, n);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			conn_fail(c, "read of the server's stream failed after %" PRIu64
				  " of %" PRIu64 " bytes: %s", done, n_bytes, strerror(errno));
			goto out;
		}
		if (r == 0) {
			conn_fail(c, "EOF in the server's stream after %" PRIu64 " of %" PRIu64
				  " bytes", done, n_bytes);
			goto out;
		}
		gen_fill(&g, c->want, (size_t)r);
		EVP_DigestUpdate(got_md, c->buf, (size_t)r);
		EVP_DigestUpdate(want_md, c->want, (size_t)r);
		if (first_bad == UINT64_MAX && memcmp(c->buf, c->want, (size_t)r) != 0) {
			for (size_t i = 0; i < (size_t)r; i++)
				if (c->buf[i] != c->want[i]) {
					first_bad = done + i;
					break;
				}
		}
		done += (uint64_t)r;
	}
	EVP_DigestFinal_ex(got_md, got_h, NULL);
	EVP_DigestFinal_ex(want_md, want_h, NULL);
	if (memcmp(got_h, want_h, sizeof got_h) != 0) {
		conn_fail(c, "server's stream corrupted: SHA-256 mismatch, first bad byte at "
			  "offset %" PRIu64, first_bad);
		goto out;
	}
	if (read_exact(c, peer_h, sizeof peer_h, "the server's digest", 0, sizeof peer_h))
		goto out;
	if (memcmp(peer_h, sent_h, sizeof sent_h) != 0) {
		conn_fail(c, "the server's SHA-256 of our payload differs from ours");
		goto out;
	}
	do
		r = read(c->fd, &extra, 1);
	while (r < 0 && errno == EINTR);
	if (r != 0) {
		conn_fail(c, "expected EOF (close_notify) after the digest, read returned %zd%s%s",
			  r, r < 0 ? ": " : "", r < 0 ? strerror(errno) : " (extra data)");
		goto out;
	}
	{
		/* A clean end (close_notify) leaves the socket with no error; an
		 * error is recorded in TLS_ERROR. */
		char tls[512] = "";
		socklen_t len = sizeof tls;

		if (getsockopt(c->fd, IPPROTO_TLS, TLS_ERROR, tls, &len) != 0) {
			conn_fail(c, "EOF, but TLS_ERROR cannot be read after it: %s",
				  strerror(errno));
			goto out;
		}
		if (tls[0]) {
			conn_fail(c, "EOF with an error");
			goto out;
		}
	}
	rc = 0;
out:
	EVP_MD_CTX_free(sent_md);
	EVP_MD_CTX_free(got_md);
	EVP_MD_CTX_free(want_md);
	return rc;
}

static void *worker(void *arg)
{
	struct conn c = { .fd = -1 };

	(void)arg;
	c.buf = malloc(BUF_SIZE);
	c.want = malloc(BUF_SIZE);
	for (;;) {
		unsigned n = atomic_fetch_add(&next_conn, 1) + 1;

		if (n > n_conns)
			break;
		c.n = n;
		c.fd = -1;
		c.why[0] = '\0';
		if (!c.buf || !c.want)
			conn_fail(&c, "out of memory");
		else
			run_conn(&c);
		if (c.fd >= 0 && close(c.fd) != 0)
			conn_fail(&c, "close: %s", strerror(errno));
		if (c.why[0]) {
			atomic_fetch_add(&n_failed, 1);
			pthread_mutex_lock(&err_lock);
			fprintf(stderr, "bulk_client: connection %u: %s\n", n, c.why);
			pthread_mutex_unlock(&err_lock);
		} else {
			atomic_fetch_add(&n_ok, 1);
		}
	}
	free(c.buf);
	free(c.want);
	return NULL;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bulk_client [-6] [-n HOSTNAME] [-t SECONDS] [-w FILE] -c CONNECTIONS "
			"-p PARALLEL -b BYTES_EACH_WAY ADDRESS PORT\n");
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST,
				  .ai_family = AF_INET };
	uint64_t conns = 0, par = 0, bytes = UINT64_MAX, t = 0;
	pthread_t *threads;
	struct timespec t0, t1;
	double secs;
	int o, rc;

	while ((o = getopt(argc, argv, "6n:t:c:p:b:w:")) != -1) {
		switch (o) {
		case 'w':
			wait_file = optarg;
			break;
		case '6':
			hints.ai_family = AF_INET6;
			break;
		case 'n':
			hostname = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &t) || t == 0 || t > 86400) {
				usage();
				return 2;
			}
			timeout_s = (unsigned)t;
			break;
		case 'c':
			if (parse_u64(optarg, &conns) || conns == 0 || conns > 1000000) {
				usage();
				return 2;
			}
			break;
		case 'p':
			if (parse_u64(optarg, &par) || par == 0 || par > 4096) {
				usage();
				return 2;
			}
			break;
		case 'b':
			if (parse_u64(optarg, &bytes) || bytes > (1ull << 40)) {
				usage();
				return 2;
			}
			break;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 2 || !conns || !par || bytes == UINT64_MAX) {
		usage();
		return 2;
	}
	if ((rc = getaddrinfo(argv[optind], argv[optind + 1], &hints, &target)) != 0) {
		fprintf(stderr, "bulk_client: %s %s: %s\n", argv[optind], argv[optind + 1],
			gai_strerror(rc));
		return 2;
	}
	n_conns = (unsigned)conns;
	n_bytes = bytes;
	if (par > conns)
		par = conns;
	signal(SIGPIPE, SIG_IGN); /* a broken connection shows as EPIPE */

	threads = calloc(par, sizeof *threads);
	if (!threads) {
		fprintf(stderr, "bulk_client: out of memory\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < par; i++) {
		if ((rc = pthread_create(&threads[i], NULL, worker, NULL)) != 0) {
			fprintf(stderr, "bulk_client: pthread_create: %s\n", strerror(rc));
			par = i;
			break;
		}
	}
	for (uint64_t i = 0; i < par; i++)
		pthread_join(threads[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* Connections no thread ran (pthread_create failed) count as failed. */
	if (n_ok + n_failed < n_conns)
		n_failed = n_conns - n_ok;
	printf("bulk: %u ok, %u failed, %.1f MiB each way, %.2f s\n", (unsigned)n_ok,
	       (unsigned)n_failed, (double)n_ok * (double)n_bytes / 1048576.0, secs);
	fflush(stdout);
	free(threads);
	freeaddrinfo(target);
	return n_failed ? 1 : 0;
}
