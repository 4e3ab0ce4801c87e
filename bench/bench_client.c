/* SPDX-License-Identifier: MIT */
/*
 * ssa-bench client tests; each prints one JSON object on stdout.
 *
 *   hs         full (or with -r resumed) handshakes: -t threads for -s seconds;
 *              each connection = connect + handshake + a 1-byte request and
 *              answer (so the server has finished too) + close. Gives the rate
 *              and the set-up latency p50/p99 of the connections.
 *   bulk-up    -b bytes client -> server on one connection (after the handshake)
 *   bulk-down  -b bytes server -> client
 *   rtt        -n round trips of 64 bytes each way; p50/p99
 *   hold       -n idle connections opened by -t threads and held: prints
 *              "WARM" after one warm-up connection and "HELD ok errors secs"
 *              once all are open, each time waiting for a line on stdin.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#define CHUNK (256 * 1024)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[300];
static long errors;

static void note_error(const char *msg)
{
	pthread_mutex_lock(&lock);
	if (errors++ == 0) snprintf(first_error, sizeof first_error, "%s", msg);
	pthread_mutex_unlock(&lock);
}

/* JSON string: the messages we print contain no control characters, but
 * quotes and backslashes are escaped anyway. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') putchar('\\');
		putchar((unsigned char)*s < 0x20 ? ' ' : *s);
	}
	putchar('"');
}

static void json_head(const char *test)
{
	printf("{\"test\":\"%s\",\"mode\":\"%s\"", test, mode_name(opt.mode));
}

static void json_tail(void)
{
	printf(",\"errors\":%ld,\"first_error\":", errors);
	json_str(first_error);
	printf("}\n");
	fflush(stdout);
}

static int send_req(struct bconn *c, int op, uint64_t arg)
{
	struct bench_req r;

	memset(&r, 0, sizeof r);
	r.op = (uint8_t)op;
	r.arg = arg;
	return bconn_write_full(c, &r, sizeof r);
}

/* ---- hs ----------------------------------------------------------------- */

struct hs_thread {
	pthread_t t;
	double end;
	double *lat;
	size_t n, cap;
	long resumed;
	double finished;
};

static void *hs_run(void *arg)
{
	struct hs_thread *h = arg;
	SSL_SESSION *sess = NULL;
	char err[300], b;

	while (now_s() < h->end) {
		struct bconn c;
		double t0 = now_s();

		if (bconn_connect(&c, sess, err, sizeof err) != 0) {
			note_error(err);
			usleep(1000);
			continue;
		}
		if (send_req(&c, REQ_HANDSHAKE, 0) != 0 || bconn_read_full(&c, &b, 1) != 0) {
			note_error("no answer after the handshake");
			bconn_close(&c);
			continue;
		}
		if (h->n == h->cap) {
			h->cap = h->cap ? 2 * h->cap : 1024;
			h->lat = realloc(h->lat, h->cap * sizeof *h->lat);
			if (!h->lat) die("out of memory");
		}
		h->lat[h->n++] = (now_s() - t0) * 1e6;
		if (opt.resume)
			h->resumed += bconn_resumed(&c); /* SSA: ssad keeps the session */
		if (opt.resume && c.ssl) {
			SSL_SESSION *s = SSL_get1_session(c.ssl);

			if (s && SSL_SESSION_is_resumable(s)) {
				if (sess) SSL_SESSION_free(sess);
				sess = s;
			} else if (s) {
				SSL_SESSION_free(s);
			}
		}
		bconn_close(&c);
	}
	if (sess) SSL_SESSION_free(sess);
	h->finished = now_s();
	OPENSSL_thread_stop();
	return NULL;
}

static int test_hs(void)
{
	int n = opt.conc > 0 ? opt.conc : 1;
	struct hs_thread *th = xmalloc((size_t)n * sizeof *th);
	double t0 = now_s(), t1 = t0, *all;
	size_t total = 0, k = 0;
	long resumed = 0;

	for (int i = 0; i < n; i++) {
		th[i].end = t0 + opt.seconds;
		if (pthread_create(&th[i].t, NULL, hs_run, &th[i]) != 0) die("pthread_create failed");
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i].t, NULL);
		total += th[i].n;
		resumed += th[i].resumed;
		if (th[i].finished > t1) t1 = th[i].finished;
	}
	all = xmalloc((total ? total : 1) * sizeof *all);
	for (int i = 0; i < n; i++) {
		if (th[i].n) memcpy(all + k, th[i].lat, th[i].n * sizeof *all);
		k += th[i].n;
		free(th[i].lat);
	}
	json_head("hs");
	printf(",\"conc\":%d,\"resume\":%d,\"seconds\":%.4f,\"conns\":%zu,\"resumed\":%ld,\"rate\":%.2f", n, opt.resume,
	       t1 - t0, total, resumed, (double)total / (t1 - t0));
	printf(",\"p50_us\":%.1f,\"p99_us\":%.1f", percentile(all, total, 50), percentile(all, total, 99));
	json_tail();
	free(all);
	free(th);
	return total > 0 ? 0 : 1;
}

/* ---- bulk --------------------------------------------------------------- */

static int test_bulk(int up)
{
	struct bconn c;
	char err[300], cipher[128];
	char *buf = xmalloc(CHUNK);
	uint64_t left = opt.bytes, ack = 0;
	double t0, t1;
	int ok = 0;

	memset(buf, 'u', CHUNK);
	if (bconn_connect(&c, NULL, err, sizeof err) != 0) {
		note_error(err);
		json_head(up ? "bulk-up" : "bulk-down");
		json_tail();
		free(buf);
		return 1;
	}
	bconn_cipher(&c, cipher, sizeof cipher);
	t0 = now_s();
	if (send_req(&c, up ? REQ_UPLOAD : REQ_DOWNLOAD, opt.bytes) != 0) {
		note_error("request failed");
	} else if (up) {
		while (left > 0) {
			size_t n = left < CHUNK ? (size_t)left : CHUNK;

			if (bconn_write_full(&c, buf, n) != 0) break;
			left -= n;
		}
		if (left > 0) note_error("write failed");
		else if (bconn_read_full(&c, &ack, sizeof ack) != 0 || ack != opt.bytes) note_error("no acknowledgement");
		else ok = 1;
	} else {
		while (left > 0) {
			long r = bconn_read_some(&c, buf, left < CHUNK ? (size_t)left : CHUNK);

			if (r <= 0) break;
			left -= (uint64_t)r;
		}
		if (left > 0) note_error("short download");
		else ok = 1;
	}
	t1 = now_s();
	bconn_close(&c);
	json_head(up ? "bulk-up" : "bulk-down");
	printf(",\"bytes\":%llu,\"seconds\":%.4f,\"mib_s\":%.2f,\"cipher\":", (unsigned long long)opt.bytes, t1 - t0,
	       ok ? (double)opt.bytes / 1048576.0 / (t1 - t0) : 0.0);
	json_str(cipher);
	json_tail();
	free(buf);
	return ok ? 0 : 1;
}

/* ---- rtt ---------------------------------------------------------------- */

#define RTT_WARMUP 200

static int test_rtt(void)
{
	struct bconn c;
	char err[300], ping[PING_SIZE], cipher[128];
	long n = opt.count > 0 ? opt.count : 10000, done = 0;
	double *lat = xmalloc((size_t)n * sizeof *lat);

	memset(ping, 'p', sizeof ping);
	if (bconn_connect(&c, NULL, err, sizeof err) != 0) {
		note_error(err);
	} else {
		bconn_cipher(&c, cipher, sizeof cipher);
		if (send_req(&c, REQ_PINGPONG, (uint64_t)(n + RTT_WARMUP)) != 0) note_error("request failed");
		for (long i = 0; i < n + RTT_WARMUP && errors == 0; i++) {
			double t0 = now_s();

			if (bconn_write_full(&c, ping, sizeof ping) != 0 || bconn_read_full(&c, ping, sizeof ping) != 0) {
				note_error("ping-pong failed");
				break;
			}
			if (i >= RTT_WARMUP) lat[done++] = (now_s() - t0) * 1e6;
		}
		bconn_close(&c);
	}
	json_head("rtt");
	printf(",\"rounds\":%ld", done);
	if (done > 0) {
		double sum = 0;

		for (long i = 0; i < done; i++) sum += lat[i];
		printf(",\"mean_us\":%.2f", sum / (double)done);
		printf(",\"p50_us\":%.2f,\"p99_us\":%.2f", percentile(lat, (size_t)done, 50),
		       percentile(lat, (size_t)done, 99));
	}
	json_tail();
	free(lat);
	return done == n ? 0 : 1;
}

/* ---- hold --------------------------------------------------------------- */

struct hold_thread {
	pthread_t t;
	struct bconn *c;
	long from, to;
};

static struct bconn *held;

static void *hold_run(void *arg)
{
	struct hold_thread *h = arg;
	char err[300];

	for (long i = h->from; i < h->to; i++) {
		if (bconn_connect(&held[i], NULL, err, sizeof err) != 0) {
			held[i].fd = -1;
			note_error(err);
		} else if (send_req(&held[i], REQ_HOLD, 0) != 0) {
			note_error("request failed");
			bconn_close(&held[i]);
		} else if (held[i].ssl) {
			SSL_set_mode(held[i].ssl, SSL_MODE_RELEASE_BUFFERS);
		}
	}
	OPENSSL_thread_stop();
	return NULL;
}

static void wait_line(void)
{
	char line[64];

	if (!fgets(line, sizeof line, stdin)) { /* driver gone: carry on and finish */
	}
}

static int test_hold(void)
{
	long n = opt.count > 0 ? opt.count : 10000, ok = 0;
	int nt = opt.conc > 0 ? opt.conc : 16;
	struct hold_thread *th = xmalloc((size_t)nt * sizeof *th);
	struct bconn warm;
	char err[300];
	double t0, t1;

	held = xmalloc((size_t)n * sizeof *held);
	if (bconn_connect(&warm, NULL, err, sizeof err) != 0 || send_req(&warm, REQ_HOLD, 0) != 0)
		die("warm-up connection: %s", err);
	printf("WARM\n");
	fflush(stdout);
	wait_line();
	t0 = now_s();
	for (int i = 0; i < nt; i++) {
		th[i].from = n * i / nt;
		th[i].to = n * (i + 1) / nt;
		if (pthread_create(&th[i].t, NULL, hold_run, &th[i]) != 0) die("pthread_create failed");
	}
	for (int i = 0; i < nt; i++) pthread_join(th[i].t, NULL);
	t1 = now_s();
	for (long i = 0; i < n; i++) ok += held[i].fd >= 0;
	printf("HELD %ld %ld %.3f\n", ok, errors, t1 - t0);
	fflush(stdout);
	wait_line();
	for (long i = 0; i < n; i++)
		if (held[i].fd >= 0) bconn_close(&held[i]);
	bconn_close(&warm);
	json_head("hold");
	printf(",\"conns\":%ld,\"held\":%ld,\"open_seconds\":%.3f", n, ok, t1 - t0);
	json_tail();
	free(held);
	free(th);
	return ok == n ? 0 : 1;
}

int client_main(const char *test)
{
	if (tls_init_client() != 0) return 1;
	if (strcmp(test, "hs") == 0) return test_hs();
	if (strcmp(test, "bulk-up") == 0) return test_bulk(1);
	if (strcmp(test, "bulk-down") == 0) return test_bulk(0);
	if (strcmp(test, "rtt") == 0) return test_rtt();
	if (strcmp(test, "hold") == 0) return test_hold();
	fprintf(stderr, "ssa-bench: unknown test %s\n", test);
	return 2;
}
