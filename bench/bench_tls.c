/* SPDX-License-Identifier: MIT */
/* ssa-bench transports: plain TCP, in-process OpenSSL, IPPROTO_TLS (SSA). */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <ssa/in_tls.h>

static SSL_CTX *cctx, *sctx;

const char *mode_name(enum bench_mode m)
{
	switch (m) {
	case MODE_PLAIN: return "plain";
	case MODE_OPENSSL: return "openssl";
	case MODE_SSA: return "ssa";
	}
	return "?";
}

int parse_mode(const char *s, enum bench_mode *m)
{
	if (strcmp(s, "plain") == 0) *m = MODE_PLAIN;
	else if (strcmp(s, "openssl") == 0) *m = MODE_OPENSSL;
	else if (strcmp(s, "ssa") == 0) *m = MODE_SSA;
	else return -1;
	return 0;
}

static void ssl_err(char *err, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e) ERR_error_string_n(e, buf, sizeof buf);
	snprintf(err, len, "%s: %s", what, e ? buf : strerror(errno));
	ERR_clear_error();
}

/* The baseline client does what an SSA client does: TLS 1.3 here, chain
 * and host name verification against the test trust store. */
int tls_init_client(void)
{
	if (opt.mode != MODE_OPENSSL) return 0;
	cctx = SSL_CTX_new(TLS_client_method());
	if (!cctx) return -1;
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	if (!opt.cafile || SSL_CTX_load_verify_locations(cctx, opt.cafile, NULL) != 1) {
		fprintf(stderr, "ssa-bench: cannot load trust store %s\n", opt.cafile ? opt.cafile : "(none: -C)");
		return -1;
	}
	if (opt.resume) SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	else SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_OFF);
	return 0;
}

int tls_init_server(void)
{
	if (opt.mode != MODE_OPENSSL) return 0;
	sctx = SSL_CTX_new(TLS_server_method());
	if (!sctx) return -1;
	SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
	if (!opt.cert || !opt.key || SSL_CTX_use_certificate_chain_file(sctx, opt.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(sctx, opt.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(sctx) != 1) {
		fprintf(stderr, "ssa-bench: cannot load identity %s / %s\n", opt.cert ? opt.cert : "(none: -c)",
			opt.key ? opt.key : "(none: -k)");
		return -1;
	}
	if (opt.ciphersuites && SSL_CTX_set_ciphersuites(sctx, opt.ciphersuites) != 1) {
		fprintf(stderr, "ssa-bench: bad ciphersuites %s\n", opt.ciphersuites);
		return -1;
	}
	if (opt.tickets) {
		SSL_CTX_set_num_tickets(sctx, 1);
	} else {
		/* Full handshakes only, as ssad with session-tickets = no. */
		SSL_CTX_set_num_tickets(sctx, 0);
		SSL_CTX_set_options(sctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
	}
	return 0;
}

void set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int fill_addr(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, opt.host, &sa->sin_addr) == 1 ? 0 : -1;
}

int bconn_connect(struct bconn *c, SSL_SESSION *sess, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	int fd;

	c->fd = -1;
	c->ssl = NULL;
	if (fill_addr(&sa, opt.port) != 0) {
		snprintf(err, errlen, "bad address %s", opt.host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, opt.mode == MODE_SSA ? IPPROTO_TLS : 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (opt.mode == MODE_SSA) {
		if (setsockopt(fd, IPPROTO_TLS, TLS_REMOTE_HOSTNAME, opt.sni, (socklen_t)strlen(opt.sni) + 1) != 0) {
			snprintf(err, errlen, "setsockopt(TLS_REMOTE_HOSTNAME): %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	/* Before connect() in both modes, as curl does: libssa holds it and
	 * sends it with the CONNECT. */
	set_nodelay(fd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		char why[256] = "";
		socklen_t wl = sizeof why;

		if (opt.mode == MODE_SSA) (void)getsockopt(fd, IPPROTO_TLS, TLS_ERROR, why, &wl);
		snprintf(err, errlen, "connect: %s%s%s", strerror(e), why[0] ? ": " : "", why);
		close(fd);
		return -1;
	}
	c->fd = fd;
	if (opt.mode != MODE_OPENSSL) return 0;
	c->ssl = SSL_new(cctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1 || SSL_set_tlsext_host_name(c->ssl, opt.sni) != 1 ||
	    SSL_set1_host(c->ssl, opt.sni) != 1 || (sess && SSL_set_session(c->ssl, sess) != 1)) {
		ssl_err(err, errlen, "SSL setup");
		bconn_close(c);
		return -1;
	}
	if (SSL_connect(c->ssl) != 1) {
		ssl_err(err, errlen, "SSL_connect");
		SSL_free(c->ssl);
		c->ssl = NULL;
		bconn_close(c);
		return -1;
	}
	return 0;
}

int bench_listen(int *port_out)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd, one = 1;

	if (fill_addr(&sa, opt.port) != 0) die("bad address %s", opt.host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, opt.mode == MODE_SSA ? IPPROTO_TLS : 0);
	if (fd < 0) die("socket: %s", strerror(errno));
	if (opt.mode == MODE_SSA) {
		if (!opt.cert || !opt.key) die("the ssa server needs -c CHAIN -k KEY");
		if (setsockopt(fd, IPPROTO_TLS, TLS_CERTIFICATE_CHAIN, opt.cert, (socklen_t)strlen(opt.cert) + 1) != 0)
			die("setsockopt(TLS_CERTIFICATE_CHAIN, %s): %s", opt.cert, strerror(errno));
		if (setsockopt(fd, IPPROTO_TLS, TLS_PRIVATE_KEY, opt.key, (socklen_t)strlen(opt.key) + 1) != 0)
			die("setsockopt(TLS_PRIVATE_KEY, %s): %s", opt.key, strerror(errno));
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("bind: %s", strerror(errno));
	if (listen(fd, 4096) != 0) die("listen: %s", strerror(errno));
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) die("getsockname: %s", strerror(errno));
	*port_out = ntohs(sa.sin_port);
	return fd;
}

int bconn_accept(struct bconn *c, int fd)
{
	c->fd = fd;
	c->ssl = NULL;
	set_nodelay(fd);
	if (opt.mode != MODE_OPENSSL) return 0;
	c->ssl = SSL_new(sctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1 || SSL_accept(c->ssl) != 1) {
		ERR_clear_error();
		bconn_close(c);
		return -1;
	}
	return 0;
}

long bconn_read_some(struct bconn *c, void *buf, size_t n)
{
	if (c->ssl) {
		size_t got = 0;

		if (SSL_read_ex(c->ssl, buf, n, &got) == 1) return (long)got;
		int e = SSL_get_error(c->ssl, 0);
		ERR_clear_error();
		return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	for (;;) {
		ssize_t r = read(c->fd, buf, n);

		if (r >= 0) return (long)r;
		if (errno != EINTR) return -1;
	}
}

int bconn_read_full(struct bconn *c, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		long r = bconn_read_some(c, p, n);

		if (r <= 0) return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int bconn_write_full(struct bconn *c, const void *buf, size_t n)
{
	const char *p = buf;

	if (c->ssl) {
		size_t done = 0;

		if (n == 0) return 0;
		if (SSL_write_ex(c->ssl, buf, n, &done) == 1 && done == n) return 0;
		ERR_clear_error();
		return -1;
	}
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);

		if (w < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void bconn_close(struct bconn *c)
{
	if (c->ssl) {
		(void)SSL_shutdown(c->ssl); /* close_notify, as close() on an SSA socket */
		ERR_clear_error();
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) close(c->fd);
	c->fd = -1;
}

void bconn_cipher(struct bconn *c, char *buf, size_t len)
{
	buf[0] = 0;
	if (c->ssl) {
		const SSL_CIPHER *ci = SSL_get_current_cipher(c->ssl);

		snprintf(buf, len, "%s", ci ? SSL_CIPHER_standard_name(ci) : "");
	} else if (opt.mode == MODE_SSA) {
		socklen_t l = (socklen_t)len;

		if (getsockopt(c->fd, IPPROTO_TLS, TLS_CHOSEN_CIPHER, buf, &l) != 0) buf[0] = 0;
	}
}

int bconn_resumed(struct bconn *c)
{
	int v = 0;
	socklen_t l = sizeof v;

	if (c->ssl)
		return SSL_session_reused(c->ssl);
	if (opt.mode == MODE_SSA && getsockopt(c->fd, IPPROTO_TLS, TLS_RESUMED_SESSION, &v, &l) != 0)
		return 0;
	return v;
}
