/* SPDX-License-Identifier: MIT */
/* The control protocol's pure codec: bounds-checked readers and writers,
 * message headers, accept records and CONNECT results blobs. No I/O here (see wire_io.c). */
#include "wire.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

void ssa_wbuf_init(struct ssa_wbuf *w, void *buf, size_t cap)
{
	w->p = buf;
	w->len = 0;
	w->cap = cap;
	w->err = false;
}

void ssa_put_bytes(struct ssa_wbuf *w, const void *data, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = true;
		return;
	}
	if (n)
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

void ssa_put_u32(struct ssa_wbuf *w, uint32_t v) { ssa_put_bytes(w, &v, sizeof v); }
void ssa_put_i32(struct ssa_wbuf *w, int32_t v) { ssa_put_bytes(w, &v, sizeof v); }
void ssa_put_u64(struct ssa_wbuf *w, uint64_t v) { ssa_put_bytes(w, &v, sizeof v); }

void ssa_put_blob(struct ssa_wbuf *w, const void *data, size_t n)
{
	if (n > UINT32_MAX) {
		w->err = true;
		return;
	}
	ssa_put_u32(w, (uint32_t)n);
	ssa_put_bytes(w, data, n);
}

void ssa_put_addr(struct ssa_wbuf *w, const struct sockaddr *sa, socklen_t len)
{
	ssa_put_blob(w, sa, sa ? len : 0);
}

void ssa_rbuf_init(struct ssa_rbuf *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->off = 0;
	r->err = false;
}

const void *ssa_get_bytes(struct ssa_rbuf *r, size_t n)
{
	const void *q;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

uint32_t ssa_get_u32(struct ssa_rbuf *r)
{
	uint32_t v = 0;
	const void *q = ssa_get_bytes(r, sizeof v);

	if (q)
		memcpy(&v, q, sizeof v);
	return v;
}

int32_t ssa_get_i32(struct ssa_rbuf *r)
{
	int32_t v = 0;
	const void *q = ssa_get_bytes(r, sizeof v);

	if (q)
		memcpy(&v, q, sizeof v);
	return v;
}

uint64_t ssa_get_u64(struct ssa_rbuf *r)
{
	uint64_t v = 0;
	const void *q = ssa_get_bytes(r, sizeof v);

	if (q)
		memcpy(&v, q, sizeof v);
	return v;
}

const void *ssa_get_blob(struct ssa_rbuf *r, size_t max, size_t *n)
{
	uint32_t len = ssa_get_u32(r);

	*n = 0;
	if (r->err)
		return NULL;
	if (len > max) {
		r->err = true;
		return NULL;
	}
	*n = len;
	return ssa_get_bytes(r, len);
}

void ssa_get_addr(struct ssa_rbuf *r, struct sockaddr_storage *ss, socklen_t *len)
{
	size_t n;
	const void *q = ssa_get_blob(r, sizeof *ss, &n);
	sa_family_t fam;

	*len = 0;
	memset(ss, 0, sizeof *ss);
	if (!q || n == 0)
		return;
	if (n < sizeof fam) {
		r->err = true;
		return;
	}
	memcpy(&fam, q, sizeof fam);
	if (!((fam == AF_INET && n == sizeof(struct sockaddr_in)) ||
	      (fam == AF_INET6 && n == sizeof(struct sockaddr_in6)))) {
		r->err = true;
		return;
	}
	memcpy(ss, q, n);
	*len = (socklen_t)n;
}

bool ssa_rbuf_done(const struct ssa_rbuf *r)
{
	return !r->err && r->off == r->len;
}

int ssa_check_string(const void *val, size_t optlen, size_t max)
{
	const char *s = val;

	if (!val || optlen == 0 || optlen - 1 > max)
		return EINVAL;
	if (s[optlen - 1] != '\0' || memchr(s, '\0', optlen - 1))
		return EINVAL;
	return 0;
}

bool ssa_hostname_ok(const char *s)
{
	size_t label = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		char ch = *s;

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == ':' || ch == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

int ssa_check_hostname(const void *val, size_t optlen)
{
	if (ssa_check_string(val, optlen, SSA_WIRE_HOSTNAME_MAX) || !ssa_hostname_ok(val))
		return EINVAL;
	return 0;
}

bool ssa_results_valid(const void *blk, size_t len)
{
	struct ssa_rbuf r;
	size_t n;

	if (len > SSA_WIRE_RESULTS_MAX)
		return false;
	ssa_rbuf_init(&r, blk, len);
	while (!r.err && r.off < r.len) {
		(void)ssa_get_i32(&r);
		(void)ssa_get_blob(&r, SSA_WIRE_RESULTS_MAX, &n);
	}
	return ssa_rbuf_done(&r);
}

int ssa_results_find(const void *blk, size_t len, int32_t name, const void **val,
		     size_t *vlen)
{
	struct ssa_rbuf r;

	if (!ssa_results_valid(blk, len))
		return EINVAL;
	ssa_rbuf_init(&r, blk, len);
	while (r.off < r.len) {
		int32_t nm = ssa_get_i32(&r);
		size_t n;
		const void *v = ssa_get_blob(&r, SSA_WIRE_RESULTS_MAX, &n);

		if (nm == name) {
			*val = v;
			*vlen = n;
			return 0;
		}
	}
	return ENOENT;
}

int ssa_wire_parse_hdr(const void *buf, size_t len, struct ssa_wire_hdr *hdr)
{
	struct ssa_rbuf r;

	if (len < SSA_WIRE_HDR_LEN)
		return EINVAL;
	ssa_rbuf_init(&r, buf, len);
	hdr->magic = ssa_get_u32(&r);
	{
		const uint8_t *t = ssa_get_bytes(&r, 4);

		memcpy(&hdr->type, t, 2);
		memcpy(&hdr->flags, t + 2, 2);
	}
	hdr->status = ssa_get_i32(&r);
	hdr->len = ssa_get_u32(&r);
	if (hdr->magic != SSA_WIRE_MAGIC || hdr->flags != 0 || hdr->type == 0 ||
	    hdr->type > SSA_MSG_TYPE_MAX || hdr->status < 0 || hdr->status > 4095 ||
	    hdr->len != len - SSA_WIRE_HDR_LEN)
		return EINVAL;
	return 0;
}

void ssa_wire_put_hdr(struct ssa_wbuf *w, uint16_t type, int32_t status, uint32_t len)
{
	uint16_t flags = 0;

	ssa_put_u32(w, SSA_WIRE_MAGIC);
	ssa_put_bytes(w, &type, sizeof type);
	ssa_put_bytes(w, &flags, sizeof flags);
	ssa_put_i32(w, status);
	ssa_put_u32(w, len);
}

static void put_fixed_addr(struct ssa_wbuf *w, const struct sockaddr_storage *ss, socklen_t len)
{
	uint8_t zero[sizeof(struct sockaddr_in6)] = { 0 };

	if (len > sizeof zero)
		len = 0;
	ssa_put_u32(w, len);
	ssa_put_bytes(w, ss, len);
	ssa_put_bytes(w, zero, sizeof zero - len);
}

void ssa_accept_rec_encode(const struct ssa_accept_rec *rec, uint8_t out[SSA_ACCEPT_REC_LEN])
{
	struct ssa_wbuf w;

	ssa_wbuf_init(&w, out, SSA_ACCEPT_REC_LEN);
	ssa_put_u32(&w, SSA_ACCEPT_MAGIC);
	ssa_put_u32(&w, rec->flags);
	ssa_put_u64(&w, rec->id);
	put_fixed_addr(&w, &rec->local, rec->local_len);
	put_fixed_addr(&w, &rec->peer, rec->peer_len);
	ssa_put_u64(&w, rec->instance);
}

static int get_fixed_addr(struct ssa_rbuf *r, struct sockaddr_storage *ss, socklen_t *len)
{
	uint32_t n = ssa_get_u32(r);
	const uint8_t *p = ssa_get_bytes(r, sizeof(struct sockaddr_in6));
	sa_family_t fam;

	if (!p || !(n == sizeof(struct sockaddr_in) || n == sizeof(struct sockaddr_in6)))
		return EINVAL;
	memcpy(&fam, p, sizeof fam);
	if ((fam == AF_INET && n != sizeof(struct sockaddr_in)) ||
	    (fam == AF_INET6 && n != sizeof(struct sockaddr_in6)) ||
	    (fam != AF_INET && fam != AF_INET6))
		return EINVAL;
	memset(ss, 0, sizeof *ss);
	memcpy(ss, p, n);
	*len = n;
	return 0;
}

int ssa_accept_rec_decode(const void *buf, size_t len, struct ssa_accept_rec *rec)
{
	struct ssa_rbuf r;

	if (len != SSA_ACCEPT_REC_LEN)
		return EINVAL;
	ssa_rbuf_init(&r, buf, len);
	if (ssa_get_u32(&r) != SSA_ACCEPT_MAGIC)
		return EINVAL;
	rec->flags = ssa_get_u32(&r);
	if (rec->flags & ~SSA_ACCEPT_KTLS)
		return EINVAL;
	rec->id = ssa_get_u64(&r);
	if (get_fixed_addr(&r, &rec->local, &rec->local_len) ||
	    get_fixed_addr(&r, &rec->peer, &rec->peer_len))
		return EINVAL;
	rec->instance = ssa_get_u64(&r);
	return r.err ? EINVAL : 0;
}

void ssa_key_intake_req_encode(uint8_t out[SSA_KEY_INTAKE_REQ_LEN])
{
	struct ssa_wbuf w;

	ssa_wbuf_init(&w, out, SSA_KEY_INTAKE_REQ_LEN);
	ssa_put_u32(&w, SSA_KEY_INTAKE_MAGIC);
	ssa_put_u32(&w, SSA_KEY_INTAKE_VERSION);
}

int ssa_key_intake_req_decode(const void *buf, size_t len)
{
	struct ssa_rbuf r;

	if (len != SSA_KEY_INTAKE_REQ_LEN)
		return EINVAL;
	ssa_rbuf_init(&r, buf, len);
	if (ssa_get_u32(&r) != SSA_KEY_INTAKE_MAGIC)
		return EINVAL;
	return ssa_get_u32(&r) == SSA_KEY_INTAKE_VERSION ? 0 : EPROTONOSUPPORT;
}

void ssa_key_intake_rep_encode(int status, const uint8_t *ticket,
			       uint8_t out[SSA_KEY_INTAKE_REP_LEN])
{
	static const uint8_t none[SSA_KEY_TICKET_LEN];
	struct ssa_wbuf w;

	ssa_wbuf_init(&w, out, SSA_KEY_INTAKE_REP_LEN);
	ssa_put_u32(&w, (uint32_t)status);
	ssa_put_bytes(&w, status == 0 && ticket ? ticket : none, SSA_KEY_TICKET_LEN);
}

int ssa_key_intake_rep_decode(const void *buf, size_t len, int *status,
			      uint8_t ticket[SSA_KEY_TICKET_LEN])
{
	struct ssa_rbuf r;
	uint32_t st;
	const void *t;

	if (len != SSA_KEY_INTAKE_REP_LEN)
		return EINVAL;
	ssa_rbuf_init(&r, buf, len);
	st = ssa_get_u32(&r);
	t = ssa_get_bytes(&r, SSA_KEY_TICKET_LEN);
	if (r.err || !t || st > 4095)
		return EINVAL;
	*status = (int)st;
	memcpy(ticket, t, SSA_KEY_TICKET_LEN);
	return 0;
}
