/* SPDX-License-Identifier: MIT */
/*
 * bulk_server: a plain OpenSSL TLS server (not SSA) for the bulk-transfer
 * tests. One detached thread per connection.
 *
 *   bulk_server CERT_CHAIN_PEM KEY_PEM PORT [-6] [-x FAULT]
 *
 * Listens on 127.0.0.1 (::1 with -6), prints "READY" once listening.
 * Per connection:
 *   client -> server   "BULK <seed> <nbytes>\n", then nbytes of payload
 *   server -> client   nbytes of the stream gen(seed) (see below), then the
 *                      32-byte SHA-256 of the payload received,
 *                      then close_notify
 * The server then waits (up to 30 s) for the client's close_notify and
 * reports on stderr when it does not come. Every error goes to stderr as
 * "bulk_server: conn N: ..." and only ends that connection.
 *
 * The stream gen(s): splitmix64 outputs from state s, each written as
 * 8 bytes little-endian, truncated to the length wanted. bulk_client
 * uses the same generator.
 *
 * -x FAULT, for testing the tests (each applies to every connection):
 *   corrupt    flip one bit in the middle of the stream sent
 *   digest     flip one bit of the digest sent
 *   short      send one byte less of the stream
 *   truncate   end with a TCP close instead of close_notify
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "bulk_gen.h"

#define BUF_SIZE 65536
#define MAX_BYTES (1ull << 40)

enum fault { F_NONE, F_CORRUPT, F_DIGEST, F_SHORT, F_TRUNCATE };

static enum fault fault = F_NONE;
static SSL_CTX *ctx;
static atomic_uint conn_counter;

struct conn {
	int fd;
	unsigned n;
	char peer[INET6_ADDRSTRLEN + 8];
	SSL *ssl;
	uint8_t *buf;
};

/* Print "bulk_server: conn N (peer): WHAT: reason" with the OpenSSL queue. */
static void conn_err(struct conn *c, const char *what, int ret)
{
	char ossl[512] = "";
	unsigned long e;
	int se = c->ssl && ret <= 0 ? SSL_get_error(c->ssl, ret) : -1, saved = errno;
	size_t off = 0;

	while ((e = ERR_get_error()) != 0 && off < sizeof ossl - 2) {
		if (off)
			ossl[off++] = ';';
		ERR_error_string_n(e, ossl + off, sizeof ossl - off);
		off += strlen(ossl + off);
	}
	fprintf(stderr, "bulk_server: conn %u (%s): %s", c->n, c->peer, what);
	if (se >= 0)
		fprintf(stderr, ": SSL error %d%s", se,
			se == SSL_ERROR_ZERO_RETURN ? " (close_notify)" :
			se == SSL_ERROR_SYSCALL ? " (syscall/EOF)" : "");
	if (se == SSL_ERROR_SYSCALL && saved)
		fprintf(stderr, " errno=%s", strerror(saved));
	if (ossl[0])
		fprintf(stderr, " [%s]", ossl);
	fputc('\n', stderr);
}

/* Read exactly len bytes; 0 or -1 after reporting. */
static int read_exact(struct conn *c, uint8_t *p, size_t len, const char *what)
{
	while (len) {
		int r;

		errno = 0;
		r = SSL_read(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
		if (r <= 0) {
			conn_err(c, what, r);
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int write_all(struct conn *c, const uint8_t *p, size_t len, const char *what)
{
	while (len) {
		int r;

		errno = 0;
		r = SSL_write(c->ssl, p, (int)len);
		if (r <= 0) {
			conn_err(c, what, r);
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static void serve(struct conn *c)
{
	char line[128];
	size_t ll = 0;
	uint64_t seed, nbytes, left;
	unsigned char digest[32];
	unsigned dlen = 0;
	EVP_MD_CTX *md = NULL;
	struct gen g;
	int r;
	char tail;

	errno = 0;
	if ((r = SSL_accept(c->ssl)) != 1) {
		conn_err(c, "handshake failed", r);
		return;
	}
	/* Header line, byte by byte so that no payload is consumed. */
	for (;;) {
		if (read_exact(c, (uint8_t *)&line[ll], 1, "reading the header") != 0)
			return;
		if (line[ll] == '\n')
			break;
		if (++ll == sizeof line - 1) {
			fprintf(stderr, "bulk_server: conn %u (%s): header line too long\n", c->n,
				c->peer);
			return;
		}
	}
	line[ll] = '\0';
	if (sscanf(line, "BULK %" SCNu64 " %" SCNu64 "%c", &seed, &nbytes, &tail) != 2 ||
	    nbytes > MAX_BYTES) {
		fprintf(stderr, "bulk_server: conn %u (%s): bad header '%s'\n", c->n, c->peer,
			line);
		return;
	}
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		conn_err(c, "EVP_DigestInit_ex", 1);
		goto out;
	}
	for (left = nbytes; left;) {
		size_t n = left < BUF_SIZE ? (size_t)left : BUF_SIZE;

		errno = 0;
		r = SSL_read(c->ssl, c->buf, (int)n);
		if (r <= 0) {
			char what[128];

			snprintf(what, sizeof what, "reading the payload (%" PRIu64 " of %" PRIu64
				 " bytes received)", nbytes - left, nbytes);
			conn_err(c, what, r);
			goto out;
		}
		EVP_DigestUpdate(md, c->buf, (size_t)r);
		left -= (uint64_t)r;
	}
	EVP_DigestFinal_ex(md, digest, &dlen);
	gen_init(&g, seed);
	left = fault == F_SHORT && nbytes ? nbytes - 1 : nbytes;
	for (uint64_t off = 0; left;) {
		size_t n = left < BUF_SIZE ? (size_t)left : BUF_SIZE;

		gen_fill(&g, c->buf, n);
		if (fault == F_CORRUPT && off <= nbytes / 2 && nbytes / 2 < off + n)
			c->buf[nbytes / 2 - off] ^= 0x10;
		if (write_all(c, c->buf, n, "sending the stream") != 0)
			goto out;
		left -= n;
		off += n;
	}
	if (fault == F_DIGEST)
		digest[7] ^= 0x01;
	if (write_all(c, digest, sizeof digest, "sending the digest") != 0)
		goto out;
	if (fault == F_TRUNCATE)
		goto out; /* plain TCP close, no close_notify */
	errno = 0;
	r = SSL_shutdown(c->ssl);
	if (r < 0) {
		conn_err(c, "sending close_notify", r);
		goto out;
	}
	shutdown(c->fd, SHUT_WR);
	if (r == 0) {
		/* Wait for the client's close_notify. Anything else is an error. */
		errno = 0;
		r = SSL_read(c->ssl, c->buf, 1);
		if (r > 0)
			fprintf(stderr, "bulk_server: conn %u (%s): data after the payload\n",
				c->n, c->peer);
		else if (SSL_get_error(c->ssl, r) != SSL_ERROR_ZERO_RETURN)
			conn_err(c, "waiting for the client's close_notify", r);
	}
out:
	EVP_MD_CTX_free(md);
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;

	serve(c);
	ERR_clear_error();
	SSL_free(c->ssl);
	close(c->fd);
	free(c->buf);
	free(c);
	OPENSSL_thread_stop();
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: bulk_server CERT_CHAIN_PEM KEY_PEM PORT [-6] "
			"[-x corrupt|digest|short|truncate]\n");
}

int main(int argc, char **argv)
{
	const char *chain, *key;
	int v6 = 0, o, lfd, one = 1;
	long port;
	char *end;
	struct sockaddr_storage ss;
	socklen_t sl;
	pthread_attr_t attr;

	while ((o = getopt(argc, argv, "6x:")) != -1) {
		if (o == '6') {
			v6 = 1;
		} else if (o == 'x') {
			if (strcmp(optarg, "corrupt") == 0)
				fault = F_CORRUPT;
			else if (strcmp(optarg, "digest") == 0)
				fault = F_DIGEST;
			else if (strcmp(optarg, "short") == 0)
				fault = F_SHORT;
			else if (strcmp(optarg, "truncate") == 0)
				fault = F_TRUNCATE;
			else {
				usage();
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	if (argc - optind != 3) {
		usage();
		return 2;
	}
	chain = argv[optind];
	key = argv[optind + 1];
	port = strtol(argv[optind + 2], &end, 10);
	if (*end || port <= 0 || port > 65535) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		fprintf(stderr, "bulk_server: cannot set up TLS with %s and %s:\n", chain, key);
		ERR_print_errors_fp(stderr);
		return 1;
	}

	memset(&ss, 0, sizeof ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *s4;
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(lfd, (struct sockaddr *)&ss, sl) != 0 || listen(lfd, 256) != 0) {
		fprintf(stderr, "bulk_server: cannot listen on %s port %ld: %s\n",
			v6 ? "::1" : "127.0.0.1", port, strerror(errno));
		return 1;
	}
	printf("READY\n");
	fflush(stdout);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		struct timeval tv = { .tv_sec = 30 };
		struct conn *c;
		pthread_t t;
		int fd, rc;

		fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR) {
				fprintf(stderr, "bulk_server: accept: %s\n", strerror(errno));
				if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
				    errno == ENOBUFS)
					sleep(1);
			}
			continue;
		}
		/* A stuck peer ends its thread instead of holding it forever. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		c = calloc(1, sizeof *c);
		if (!c || !(c->buf = malloc(BUF_SIZE)) || !(c->ssl = SSL_new(ctx)) ||
		    !SSL_set_fd(c->ssl, fd)) {
			fprintf(stderr, "bulk_server: out of memory for a connection\n");
			if (c) {
				SSL_free(c->ssl);
				free(c->buf);
			}
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->n = atomic_fetch_add(&conn_counter, 1) + 1;
		if (peer.ss_family == AF_INET6) {
			struct sockaddr_in6 *p6 = (struct sockaddr_in6 *)&peer;
			char a[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &p6->sin6_addr, a, sizeof a);
			snprintf(c->peer, sizeof c->peer, "[%s]:%u", a, ntohs(p6->sin6_port));
		} else {
			struct sockaddr_in *p4 = (struct sockaddr_in *)&peer;
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &p4->sin_addr, a, sizeof a);
			snprintf(c->peer, sizeof c->peer, "%s:%u", a, ntohs(p4->sin_port));
		}
		rc = pthread_create(&t, &attr, conn_thread, c);
		if (rc != 0) {
			fprintf(stderr, "bulk_server: conn %u: pthread_create: %s\n", c->n,
				strerror(rc));
			SSL_free(c->ssl);
			close(fd);
			free(c->buf);
			free(c);
		}
	}
}
