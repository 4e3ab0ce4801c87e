/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the control protocol decoder (src/proto/wire_codec.c).
 *
 * The input is one datagram as ssad receives it. It goes through
 * ssa_wire_parse_hdr and, when the header is valid, through the same
 * sequence of ssa_rbuf getters that src/ssad/libssa_front/requests.c uses for that
 * request type. Every value decoded is encoded again with the ssa_wbuf
 * writers and must give back the payload byte for byte: the decoder and the
 * encoder must agree on every input the decoder accepts.
 *
 * The payload is also decoded as every other request type, so that each
 * decoder sees every shape of input, valid header or not.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                  \
	do {                      \
		if (!(c))         \
			abort();  \
	} while (0)

/* Re-encoding of an accepted payload must give back the same bytes. */
static void same(const struct ssa_wbuf *w, const uint8_t *p, size_t len)
{
	CHECK(!w->err);
	CHECK(w->len == len);
	CHECK(len == 0 || memcmp(w->p, p, len) == 0);
}

static void dec_socket(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r;
	int32_t domain, type;

	ssa_rbuf_init(&r, p, len);
	domain = ssa_get_i32(&r);
	type = ssa_get_i32(&r);
	if (ssa_rbuf_done(&r)) {
		uint8_t out[8];
		struct ssa_wbuf w;

		CHECK(len == 8);
		ssa_wbuf_init(&w, out, sizeof out);
		ssa_put_i32(&w, domain);
		ssa_put_i32(&w, type);
		same(&w, p, len);
	} else {
		CHECK(len != 8);
	}
}

static void dec_setopt(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r;
	int32_t level, name;
	size_t n;
	const void *val, *ticket;

	ssa_rbuf_init(&r, p, len);
	level = ssa_get_i32(&r);
	name = ssa_get_i32(&r);
	val = ssa_get_blob(&r, SSA_WIRE_MAX_OPTVAL, &n);
	/* as requests.c reads it: a key intake ticket may follow the value */
	ticket = r.off + SSA_KEY_TICKET_LEN == r.len ? ssa_get_bytes(&r, SSA_KEY_TICKET_LEN) : NULL;
	CHECK(r.off <= r.len);
	if (!ssa_rbuf_done(&r))
		return;
	CHECK(val != NULL);
	CHECK(n <= SSA_WIRE_MAX_OPTVAL);
	CHECK((const uint8_t *)val + n + (ticket ? SSA_KEY_TICKET_LEN : 0) == p + len);
	{
		uint8_t out[12 + SSA_WIRE_MAX_OPTVAL + SSA_KEY_TICKET_LEN];
		struct ssa_wbuf w;

		ssa_wbuf_init(&w, out, sizeof out);
		ssa_put_i32(&w, level);
		ssa_put_i32(&w, name);
		ssa_put_blob(&w, val, n);
		if (ticket)
			ssa_put_bytes(&w, ticket, SSA_KEY_TICKET_LEN);
		same(&w, p, len);
	}
	/* the option table (engine/opt_table.c) checks every string option like this */
	if (ssa_check_string(val, n, 255) == 0) {
		const char *s = val;

		CHECK(n >= 1 && n - 1 <= 255);
		CHECK(s[n - 1] == '\0' && strlen(s) == n - 1);
	}
	if (ssa_check_string(val, n, SSA_WIRE_MAX_OPTVAL) == 0)
		CHECK(strlen(val) == n - 1);
}

static void dec_getopt(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r;
	int32_t level, name;
	uint32_t max;

	ssa_rbuf_init(&r, p, len);
	level = ssa_get_i32(&r);
	name = ssa_get_i32(&r);
	max = ssa_get_u32(&r);
	if (ssa_rbuf_done(&r)) {
		uint8_t out[12];
		struct ssa_wbuf w;

		ssa_wbuf_init(&w, out, sizeof out);
		ssa_put_i32(&w, level);
		ssa_put_i32(&w, name);
		ssa_put_u32(&w, max);
		same(&w, p, len);
	}
}

/* CONNECT: address [, u32 flags [, host name blob (SSA_CONNECT_HOSTNAME)]] */
static void dec_connect(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r;
	struct sockaddr_storage ss;
	socklen_t alen = 12345;
	uint32_t flags = 0;
	bool has_flags;
	const void *host = NULL;
	size_t hlen = 0;

	ssa_rbuf_init(&r, p, len);
	ssa_get_addr(&r, &ss, &alen);
	CHECK(alen == 0 || alen == sizeof(struct sockaddr_in) ||
	      alen == sizeof(struct sockaddr_in6));
	if (alen)
		CHECK(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	if (alen)
		CHECK(!r.err);
	has_flags = !r.err && r.len - r.off >= 4;
	if (has_flags)
		flags = ssa_get_u32(&r);
	if (flags & SSA_CONNECT_HOSTNAME) {
		host = ssa_get_blob(&r, SSA_WIRE_MAX_OPTVAL, &hlen);
		if (host && ssa_check_hostname(host, hlen) == 0)
			CHECK(hlen >= 2 && hlen <= SSA_WIRE_HOSTNAME_MAX + 1 &&
			      ((const char *)host)[hlen - 1] == '\0');
	}
	if (ssa_rbuf_done(&r)) {
		uint8_t out[4 + sizeof ss + 8 + SSA_WIRE_MAX_OPTVAL];
		struct ssa_wbuf w;

		ssa_wbuf_init(&w, out, sizeof out);
		ssa_put_addr(&w, alen ? (struct sockaddr *)&ss : NULL, alen);
		if (has_flags)
			ssa_put_u32(&w, flags);
		if (flags & SSA_CONNECT_HOSTNAME)
			ssa_put_blob(&w, host, hlen);
		same(&w, p, len);
	}
}

/* The replies ssad sends and the front ends decode: INFO (and CONNECT below). */
static void dec_info_reply(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r;
	struct sockaddr_storage a, b;
	socklen_t al, bl;
	uint64_t id;
	int32_t domain, state, error;

	/* id, domain, state, error, local address, peer address */
	ssa_rbuf_init(&r, p, len);
	id = ssa_get_u64(&r);
	domain = ssa_get_i32(&r);
	state = ssa_get_i32(&r);
	error = ssa_get_i32(&r);
	ssa_get_addr(&r, &a, &al);
	ssa_get_addr(&r, &b, &bl);
	if (ssa_rbuf_done(&r)) {
		uint8_t out[20 + 2 * (sizeof(struct sockaddr_storage) + 4)];
		struct ssa_wbuf w;

		ssa_wbuf_init(&w, out, sizeof out);
		ssa_put_u64(&w, id);
		ssa_put_i32(&w, domain);
		ssa_put_i32(&w, state);
		ssa_put_i32(&w, error);
		ssa_put_addr(&w, al ? (struct sockaddr *)&a : NULL, al);
		ssa_put_addr(&w, bl ? (struct sockaddr *)&b : NULL, bl);
		same(&w, p, len);
	}
}

/*
 * A CONNECT reply as libssa decodes it (ctl_requests.c): local and peer
 * address [, u32 flags [, results blob (SSA_REPLY_RESULTS)]]. A blob that
 * ssa_results_valid() accepts is walked entry by entry: every entry is
 * found by ssa_results_find() (the first of its name), and re-encoding
 * the entries gives back the blob.
 */
static void dec_connect_reply(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r, e;
	struct sockaddr_storage a, b;
	socklen_t al, bl;
	size_t n;
	const uint8_t *blk;
	uint8_t out[SSA_WIRE_RESULTS_MAX];
	struct ssa_wbuf w;

	ssa_rbuf_init(&r, p, len);
	ssa_get_addr(&r, &a, &al);
	ssa_get_addr(&r, &b, &bl);
	if (r.err || r.len - r.off <= 4 || ssa_get_u32(&r) != SSA_REPLY_RESULTS)
		return;
	blk = ssa_get_blob(&r, SSA_WIRE_RESULTS_MAX, &n);
	if (!ssa_rbuf_done(&r))
		return;
	if (!ssa_results_valid(blk, n)) {
		const void *v;
		size_t vl;

		CHECK(ssa_results_find(blk, n, 109, &v, &vl) == EINVAL);
		return;
	}
	CHECK(n <= SSA_WIRE_RESULTS_MAX);
	ssa_wbuf_init(&w, out, sizeof out);
	ssa_rbuf_init(&e, blk, n);
	while (e.off < e.len) {
		int32_t name = ssa_get_i32(&e);
		size_t vl, fl;
		const uint8_t *v = ssa_get_blob(&e, SSA_WIRE_RESULTS_MAX, &vl);
		const void *f;

		CHECK(!e.err);
		CHECK(ssa_results_find(blk, n, name, &f, &fl) == 0);
		CHECK((const uint8_t *)f <= v && (const uint8_t *)f + fl <= blk + n);
		ssa_put_i32(&w, name);
		ssa_put_blob(&w, v, vl);
	}
	same(&w, blk, n);
}

/* LISTEN: one i32 backlog. */
static void dec_listen(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r;

	ssa_rbuf_init(&r, p, len);
	(void)ssa_get_i32(&r);
	CHECK(ssa_rbuf_done(&r) == (len == 4));
}

/* Accept records read by accept() from the listening stream. */
static void dec_accept_rec(const uint8_t *p, size_t len)
{
	struct ssa_accept_rec rec;

	if (ssa_accept_rec_decode(p, len, &rec) == 0) {
		uint8_t out[SSA_ACCEPT_REC_LEN];
		struct ssa_accept_rec again;

		CHECK(len == SSA_ACCEPT_REC_LEN);
		CHECK(rec.local_len == sizeof(struct sockaddr_in) ||
		      rec.local_len == sizeof(struct sockaddr_in6));
		CHECK(rec.peer_len == sizeof(struct sockaddr_in) ||
		      rec.peer_len == sizeof(struct sockaddr_in6));
		ssa_accept_rec_encode(&rec, out);
		CHECK(ssa_accept_rec_decode(out, sizeof out, &again) == 0);
		CHECK(again.id == rec.id && again.local_len == rec.local_len &&
		      again.peer_len == rec.peer_len &&
		      memcmp(&again.local, &rec.local, rec.local_len) == 0 &&
		      memcmp(&again.peer, &rec.peer, rec.peer_len) == 0);
	}
}

static void dec_empty(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r;

	ssa_rbuf_init(&r, p, len);
	CHECK(ssa_rbuf_done(&r) == (len == 0));
}

/* Once err is set, every later get fails and returns zero/NULL. */
static void sticky_err(const uint8_t *p, size_t len)
{
	struct ssa_rbuf r;
	size_t n = 99;

	ssa_rbuf_init(&r, p, len);
	while (!r.err)
		(void)ssa_get_bytes(&r, 3);
	CHECK(r.off <= r.len);
	CHECK(ssa_get_u32(&r) == 0);
	CHECK(ssa_get_u64(&r) == 0);
	CHECK(ssa_get_bytes(&r, 0) == NULL);
	CHECK(ssa_get_blob(&r, 100, &n) == NULL && n == 0);
	CHECK(!ssa_rbuf_done(&r));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssa_wire_hdr h;
	const uint8_t *payload;
	size_t plen;

	if (size > SSA_WIRE_MAX_REPLY)
		return 0;
	/* the key intake's request (read by the supervisor) and reply (by
	 * libssa): what decodes encodes back to the same bytes */
	if (ssa_key_intake_req_decode(data, size) == 0) {
		uint8_t req[SSA_KEY_INTAKE_REQ_LEN];

		ssa_key_intake_req_encode(req);
		CHECK(size == sizeof req && memcmp(req, data, size) == 0);
	}
	{
		uint8_t t[SSA_KEY_TICKET_LEN], rep[SSA_KEY_INTAKE_REP_LEN];
		int st;

		if (ssa_key_intake_rep_decode(data, size, &st, t) == 0) {
			CHECK(st >= 0 && st <= 4095);
			ssa_key_intake_rep_encode(st, t, rep);
			CHECK(size == sizeof rep);
			CHECK(st != 0 || memcmp(rep, data, size) == 0);
		}
	}
	/* ssa_wire_recv never hands more than its buffer to the parser */
	if (ssa_wire_parse_hdr(data, size, &h) == 0) {
		CHECK(size >= SSA_WIRE_HDR_LEN);
		CHECK(h.magic == SSA_WIRE_MAGIC && h.flags == 0);
		CHECK(h.type >= 1 && h.type <= SSA_MSG_TYPE_MAX);
		CHECK(h.status >= 0 && h.status <= 4095);
		CHECK(h.len == size - SSA_WIRE_HDR_LEN);
		payload = data + SSA_WIRE_HDR_LEN;
		plen = h.len;
		switch (h.type) {
		case SSA_MSG_SOCKET:
			dec_socket(payload, plen);
			break;
		case SSA_MSG_SETOPT:
			dec_setopt(payload, plen);
			break;
		case SSA_MSG_GETOPT:
			dec_getopt(payload, plen);
			break;
		case SSA_MSG_CONNECT:
			dec_connect(payload, plen);
			dec_connect_reply(payload, plen);
			break;
		case SSA_MSG_INFO:
			dec_empty(payload, plen);
			dec_info_reply(payload, plen);
			break;
		case SSA_MSG_STATUS:
			dec_empty(payload, plen);
			break;
		case SSA_MSG_BIND:
			dec_connect(payload, plen); /* the same address blob */
			break;
		case SSA_MSG_LISTEN:
			dec_listen(payload, plen);
			break;
		default:
			break;
		}
		return 0;
	}
	/* Header refused: give the whole input to every decoder, so that each
	 * one sees every shape of payload (and the header parser's bounds are
	 * not the only thing standing between the decoders and the input). */
	payload = size >= SSA_WIRE_HDR_LEN ? data + SSA_WIRE_HDR_LEN : data;
	plen = size >= SSA_WIRE_HDR_LEN ? size - SSA_WIRE_HDR_LEN : size;
	dec_socket(payload, plen);
	dec_setopt(payload, plen);
	dec_getopt(payload, plen);
	dec_connect(payload, plen);
	dec_info_reply(payload, plen);
	dec_connect_reply(payload, plen);
	dec_listen(payload, plen);
	dec_accept_rec(data, size);
	sticky_err(data, size);
	return 0;
}
