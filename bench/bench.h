/* SPDX-License-Identifier: MIT */
/*
 * ssa-bench: the benchmark program behind bench/run.py (see docs/performance.md).
 *
 * One binary, two roles. "ssa-bench server" accepts connections and serves
 * the requests below; "ssa-bench client TEST" runs one measurement and prints
 * one JSON object on stdout. Each side speaks one of three transports:
 *
 *   plain    TCP (the application side of stunnel4 proxies)
 *   openssl  in-process OpenSSL 3 (the baseline)
 *   ssa      IPPROTO_TLS sockets: run it with libssa preloaded and ssad up
 *
 * After connecting (and, for TLS, after the handshake) the client sends one
 * 16-byte request; the server serves it, then reads until the client closes.
 */
#ifndef SSA_BENCH_H
#define SSA_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

enum bench_mode { MODE_PLAIN, MODE_OPENSSL, MODE_SSA };

/* Requests (struct bench_req.op). */
#define REQ_HANDSHAKE 'H' /* server answers one byte */
#define REQ_UPLOAD 'U'    /* client sends arg bytes; server answers 8 bytes */
#define REQ_DOWNLOAD 'D'  /* server sends arg bytes */
#define REQ_PINGPONG 'P'  /* arg rounds: client sends 64 bytes, server echoes */
#define REQ_HOLD 'Z'      /* nothing: an idle connection until the client closes */

#define PING_SIZE 64

struct bench_req {
	uint8_t op;
	uint8_t pad[7];
	uint64_t arg;
};

/* One connection, whatever the transport. */
struct bconn {
	int fd;
	SSL *ssl; /* MODE_OPENSSL only */
};

/* Settings shared by both roles (command line). */
struct bench_opts {
	enum bench_mode mode;
	const char *host;         /* numeric address to connect to / bind */
	int port;
	const char *sni;          /* name the client verifies */
	const char *cafile;       /* trust anchors of the OpenSSL client */
	const char *cert, *key;   /* server identity (chain file, key file) */
	const char *ciphersuites; /* OpenSSL server: TLS 1.3 suites */
	int tickets;              /* OpenSSL server: issue session tickets */
	int resume;               /* OpenSSL client: resume sessions */
	int conc;                 /* client threads */
	double seconds;           /* hs: how long to run */
	uint64_t bytes;           /* bulk: bytes to move */
	long count;               /* rtt: round trips; hold: connections */
};

extern struct bench_opts opt;

/* bench_tls.c: transports */
const char *mode_name(enum bench_mode m);
int parse_mode(const char *s, enum bench_mode *m);
int tls_init_client(void);
int tls_init_server(void);
/* Connect (TCP, plus the handshake for openssl/ssa); sess: session to
 * resume or NULL. 0 or -1 with a message in err. */
int bconn_connect(struct bconn *c, SSL_SESSION *sess, char *err, size_t errlen);
int bench_listen(int *port_out);
/* After accept(): the server-side handshake (openssl). */
int bconn_accept(struct bconn *c, int fd);
/* Full reads and writes: 0, or -1 (error or early end). */
int bconn_read_full(struct bconn *c, void *buf, size_t n);
int bconn_write_full(struct bconn *c, const void *buf, size_t n);
/* Some bytes: >0, 0 at a clean end, -1 on error. */
long bconn_read_some(struct bconn *c, void *buf, size_t n);
void bconn_close(struct bconn *c);
/* Negotiated cipher suite, "" if unknown (plain). */
void bconn_cipher(struct bconn *c, char *buf, size_t len);
int bconn_resumed(struct bconn *c);
void set_nodelay(int fd);

/* bench_util.c */
double now_s(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void raise_nofile(void);
double percentile(double *v, size_t n, double p); /* sorts v */
void *xmalloc(size_t n);

/* bench_server.c / bench_client.c */
int server_main(void);
int client_main(const char *test);

#endif
