/* SPDX-License-Identifier: MIT */
/* The hand-over state's format: writer and strict parser (handover_state.h). */
#include "handover_state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tag {
	T_ID = 1, T_DOMAIN, T_BACKLOG, T_UID, T_GID, T_PID, T_PROGRAM, T_PROFILE, T_KEY,
	T_KTLS, T_NODELAY, T_PEER_AUTH, T_ALPN, T_VERSIONS, T_SESSION, T_CHECKS,
	T_DISABLED, T_CHAIN, T_PRIVKEY, T_TRUSTED, T_MAX
};

/* Fields every listener must carry, once. */
static const enum tag required[] = { T_ID, T_DOMAIN, T_BACKLOG, T_UID, T_GID, T_PID,
				     T_PROGRAM, T_PROFILE, T_KEY };

void ssa_ho_wipe_free(void *p, size_t len)
{
	if (p)
		explicit_bzero(p, len);
	free(p);
}

void ssa_ho_listener_clear(struct ssa_ho_listener *l)
{
	free(l->program);
	free(l->profile);
	for (uint32_t i = 0; i < l->n_disabled; i++)
		free(l->disabled[i]);
	for (uint32_t i = 0; i < SSA_HO_MAX_IDS; i++) {
		free(l->chain[i].pem);
		ssa_ho_wipe_free(l->key[i].pem, l->key[i].len);
	}
	free(l->trusted.pem);
	explicit_bzero(l, sizeof *l);
}

void ssa_ho_state_clear(struct ssa_ho_state *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		ssa_ho_listener_clear(&s->l[i]);
	free(s->l);
	s->l = NULL;
	s->n = 0;
}

/* ---- writer ---------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool fail;
};

static void put(struct wbuf *w, const void *v, size_t n)
{
	if (w->fail)
		return;
	if (n > SSA_HO_MAX_TOTAL - w->len) {
		w->fail = true;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *np;

		while (cap < w->len + n)
			cap *= 2;
		/* Not realloc: the old buffer may hold keys and is wiped. */
		if (!(np = malloc(cap))) {
			w->fail = true;
			return;
		}
		if (w->len)
			memcpy(np, w->p, w->len);
		ssa_ho_wipe_free(w->p, w->cap);
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void put_le(struct wbuf *w, uint64_t v, int bytes)
{
	uint8_t b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, (size_t)bytes);
}

static void field(struct wbuf *w, enum tag t, const void *v, size_t n)
{
	put_le(w, (uint64_t)t, 2);
	put_le(w, n, 4);
	put(w, v, n);
}

static void field_int(struct wbuf *w, enum tag t, uint64_t v, int bytes)
{
	put_le(w, (uint64_t)t, 2);
	put_le(w, (uint64_t)bytes, 4);
	put_le(w, v, bytes);
}

static void field_str(struct wbuf *w, enum tag t, const char *s)
{
	field(w, t, s, strlen(s));
}

static void encode_listener(struct wbuf *w, const struct ssa_ho_listener *l)
{
	uint8_t key[24], two[12];

	field_int(w, T_ID, l->id, 8);
	field_int(w, T_DOMAIN, (uint32_t)l->domain, 4);
	field_int(w, T_BACKLOG, (uint32_t)l->backlog, 4);
	field_int(w, T_UID, l->uid, 4);
	field_int(w, T_GID, l->gid, 4);
	field_int(w, T_PID, (uint32_t)l->pid, 4);
	field_str(w, T_PROGRAM, l->program ? l->program : "?");
	field_str(w, T_PROFILE, l->profile ? l->profile : "");
	for (int i = 0; i < 8; i++) {
		key[i] = (uint8_t)(l->key_dev >> (8 * i));
		key[8 + i] = (uint8_t)(l->key_ino >> (8 * i));
		key[16 + i] = (uint8_t)(l->key_cookie >> (8 * i));
	}
	field(w, T_KEY, key, sizeof key);
	field_int(w, T_KTLS, l->ktls_want, 1);
	field_int(w, T_NODELAY, (uint32_t)l->nodelay, 4);
	field_int(w, T_PEER_AUTH, (uint32_t)l->peer_auth, 4);
	if (l->alpn_len)
		field(w, T_ALPN, l->alpn, l->alpn_len);
	for (int i = 0; i < 4; i++) {
		two[i] = (uint8_t)((uint32_t)l->min_version >> (8 * i));
		two[4 + i] = (uint8_t)((uint32_t)l->max_version >> (8 * i));
	}
	field(w, T_VERSIONS, two, 8);
	for (int i = 0; i < 8; i++)
		two[i] = (uint8_t)((uint64_t)l->session_ttl >> (8 * i));
	for (int i = 0; i < 4; i++)
		two[8 + i] = (uint8_t)((uint32_t)l->session_reuse >> (8 * i));
	field(w, T_SESSION, two, 12);
	two[0] = l->crl_checks;
	two[1] = l->ocsp_stapled;
	field(w, T_CHECKS, two, 2);
	for (uint32_t i = 0; i < l->n_disabled; i++)
		field_str(w, T_DISABLED, l->disabled[i]);
	for (uint32_t i = 0; i < l->n_ids; i++) {
		field(w, T_CHAIN, l->chain[i].pem, l->chain[i].len);
		field(w, T_PRIVKEY, l->key[i].pem, l->key[i].len);
	}
	if (l->trusted.len)
		field(w, T_TRUSTED, l->trusted.pem, l->trusted.len);
}

int ssa_ho_encode(const struct ssa_ho_state *s, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };

	if (s->n > SSA_HO_MAX_LISTENERS)
		return EINVAL;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->l[i].n_ids > SSA_HO_MAX_IDS || s->l[i].n_disabled > SSA_HO_MAX_DISABLED ||
		    s->l[i].alpn_len > 255)
			return EINVAL;
	put(&w, SSA_HO_MAGIC, 8);
	put_le(&w, SSA_HO_VERSION, 4);
	put_le(&w, s->generation, 8);
	put_le(&w, s->n, 4);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct ssa_ho_listener *l = &s->l[i];
		size_t at = w.len;

		put_le(&w, 0, 4); /* the record's length, filled in below */
		encode_listener(&w, l);
		if (!w.fail) {
			uint64_t rl = w.len - at - 4;

			for (int b = 0; b < 4; b++)
				w.p[at + (size_t)b] = (uint8_t)(rl >> (8 * b));
		}
	}
	if (w.fail) {
		ssa_ho_wipe_free(w.p, w.cap);
		return w.len >= SSA_HO_MAX_TOTAL ? EINVAL : ENOMEM;
	}
	*out = w.p;
	*len = w.len;
	return 0;
}

/* ---- parser ---------------------------------------------------------- */

struct rbuf {
	const uint8_t *p;
	size_t len, off;
};

static bool get_le(struct rbuf *r, uint64_t *v, int bytes)
{
	if (r->len - r->off < (size_t)bytes)
		return false;
	*v = 0;
	for (int i = 0; i < bytes; i++)
		*v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
	r->off += (size_t)bytes;
	return true;
}

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int bad(char *why, size_t wlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *why, size_t wlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, wlen, fmt, ap);
	va_end(ap);
	return EINVAL;
}

/* A string value: no NUL inside, at most max bytes. NULL: out of memory
 * or invalid (*err says). */
static char *str_of(const uint8_t *v, size_t n, size_t max, int *err)
{
	char *s;

	if (n > max || memchr(v, '\0', n)) {
		*err = EINVAL;
		return NULL;
	}
	if (!(s = malloc(n + 1))) {
		*err = ENOMEM;
		return NULL;
	}
	memcpy(s, v, n);
	s[n] = '\0';
	return s;
}

static int pem_of(const uint8_t *v, size_t n, struct ssa_ho_pem *out)
{
	int err = 0;

	if (n == 0)
		return EINVAL;
	out->pem = str_of(v, n, SSA_HO_MAX_PEM, &err);
	out->len = out->pem ? n : 0;
	return err;
}

/* The fixed-size fields: their value's length must be exactly right. */
static int fixed_field(struct ssa_ho_listener *l, enum tag t, const uint8_t *v, size_t n)
{
	static const size_t size[T_MAX] = {
		[T_ID] = 8, [T_DOMAIN] = 4, [T_BACKLOG] = 4, [T_UID] = 4, [T_GID] = 4,
		[T_PID] = 4, [T_KEY] = 24, [T_KTLS] = 1, [T_NODELAY] = 4, [T_PEER_AUTH] = 4,
		[T_VERSIONS] = 8, [T_SESSION] = 12, [T_CHECKS] = 2,
	};

	if (n != size[t])
		return EINVAL;
	switch (t) {
	case T_ID: l->id = le(v, 8); break;
	case T_DOMAIN: l->domain = (int32_t)le(v, 4); break;
	case T_BACKLOG: l->backlog = (int32_t)le(v, 4); break;
	case T_UID: l->uid = (uint32_t)le(v, 4); break;
	case T_GID: l->gid = (uint32_t)le(v, 4); break;
	case T_PID: l->pid = (int32_t)le(v, 4); break;
	case T_KEY:
		l->key_dev = le(v, 8);
		l->key_ino = le(v + 8, 8);
		l->key_cookie = le(v + 16, 8);
		break;
	case T_KTLS:
		if (v[0] > 1)
			return EINVAL;
		l->ktls_want = v[0];
		break;
	case T_NODELAY: l->nodelay = (int32_t)le(v, 4); break;
	case T_PEER_AUTH: l->peer_auth = (int32_t)le(v, 4); break;
	case T_VERSIONS:
		l->min_version = (int32_t)le(v, 4);
		l->max_version = (int32_t)le(v + 4, 4);
		break;
	case T_SESSION:
		l->session_ttl = (int64_t)le(v, 8);
		l->session_reuse = (int32_t)le(v + 8, 4);
		break;
	case T_CHECKS:
		if (v[0] > 1 || v[1] > 1)
			return EINVAL;
		l->crl_checks = v[0];
		l->ocsp_stapled = v[1];
		break;
	default:
		return EINVAL;
	}
	return 0;
}

/* One field of a listener. Repeated fields count up; a chain opens an
 * identity that its key must close before the next chain. */
static int one_field(struct ssa_ho_listener *l, enum tag t, const uint8_t *v, size_t n,
		     uint32_t *chains)
{
	int err = 0;

	switch (t) {
	case T_PROGRAM:
		l->program = str_of(v, n, SSA_HO_PATH_MAX, &err);
		return err;
	case T_PROFILE:
		l->profile = str_of(v, n, SSA_HO_NAME_MAX, &err);
		return err;
	case T_ALPN:
		if (n == 0 || n > 255)
			return EINVAL;
		memcpy(l->alpn, v, n);
		l->alpn_len = (uint32_t)n;
		return 0;
	case T_DISABLED:
		if (l->n_disabled >= SSA_HO_MAX_DISABLED || n == 0)
			return EINVAL;
		l->disabled[l->n_disabled] = str_of(v, n, SSA_HO_NAME_MAX, &err);
		if (!err)
			l->n_disabled++;
		return err;
	case T_CHAIN:
		if (*chains != l->n_ids || *chains >= SSA_HO_MAX_IDS)
			return EINVAL;
		if (!(err = pem_of(v, n, &l->chain[*chains])))
			(*chains)++;
		return err;
	case T_PRIVKEY:
		if (*chains != l->n_ids + 1)
			return EINVAL;
		if (!(err = pem_of(v, n, &l->key[l->n_ids])))
			l->n_ids++;
		return err;
	case T_TRUSTED:
		return pem_of(v, n, &l->trusted);
	default:
		return fixed_field(l, t, v, n);
	}
}

static bool repeatable(enum tag t)
{
	return t == T_DISABLED || t == T_CHAIN || t == T_PRIVKEY;
}

static int decode_listener(struct rbuf *r, struct ssa_ho_listener *l, char *why, size_t wlen)
{
	bool seen[T_MAX] = { false };
	uint32_t chains = 0;

	l->session_ttl = -1;
	l->session_reuse = -1;
	while (r->off < r->len) {
		uint64_t t, n;
		int err;

		if (!get_le(r, &t, 2) || !get_le(r, &n, 4))
			return bad(why, wlen, "a field header runs past the record");
		if (n > r->len - r->off)
			return bad(why, wlen, "field %u: its length runs past the record", (unsigned)t);
		if (t == 0 || t >= T_MAX)
			return bad(why, wlen, "unknown field %u", (unsigned)t);
		if (seen[t] && !repeatable((enum tag)t))
			return bad(why, wlen, "field %u repeated", (unsigned)t);
		seen[t] = true;
		err = one_field(l, (enum tag)t, r->p + r->off, (size_t)n, &chains);
		if (err == ENOMEM)
			return ENOMEM;
		if (err)
			return bad(why, wlen, "field %u: invalid value", (unsigned)t);
		r->off += (size_t)n;
	}
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!seen[required[i]])
			return bad(why, wlen, "required field %u missing", (unsigned)required[i]);
	if (chains != l->n_ids)
		return bad(why, wlen, "a certificate chain without its private key");
	if (l->domain != 2 /* AF_INET */ && l->domain != 10 /* AF_INET6 */)
		return bad(why, wlen, "address family %d is not IPv4 or IPv6", (int)l->domain);
	if (l->backlog < 1 || l->backlog > 4096 || l->pid <= 0)
		return bad(why, wlen, "backlog or pid out of range");
	return 0;
}

static int decode_all(struct rbuf *r, struct ssa_ho_state *s, char *why, size_t wlen)
{
	uint64_t version, n;

	if (r->len < 8 || memcmp(r->p, SSA_HO_MAGIC, 8) != 0)
		return bad(why, wlen, "not a hand-over state (bad magic)");
	r->off = 8;
	if (!get_le(r, &version, 4) || !get_le(r, &s->generation, 8) || !get_le(r, &n, 4))
		return bad(why, wlen, "truncated header");
	if (version != SSA_HO_VERSION)
		return bad(why, wlen, "version %llu, not %u", (unsigned long long)version,
			   SSA_HO_VERSION);
	if (n > SSA_HO_MAX_LISTENERS)
		return bad(why, wlen, "%llu listeners, more than %u", (unsigned long long)n,
			   SSA_HO_MAX_LISTENERS);
	if (n && !(s->l = calloc((size_t)n, sizeof *s->l)))
		return ENOMEM;
	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		uint64_t rl;
		struct rbuf rec;
		char sub[160];
		int err;

		if (!get_le(r, &rl, 4) || rl > r->len - r->off)
			return bad(why, wlen, "listener %u: record runs past the end", i);
		rec = (struct rbuf){ .p = r->p + r->off, .len = (size_t)rl };
		s->n = i + 1; /* cleared on failure, whatever it holds */
		if ((err = decode_listener(&rec, &s->l[i], sub, sizeof sub)) != 0)
			return err == EINVAL ? bad(why, wlen, "listener %u: %s", i, sub) : err;
		r->off += (size_t)rl;
	}
	if (r->off != r->len)
		return bad(why, wlen, "%zu bytes after the last listener", r->len - r->off);
	return 0;
}

int ssa_ho_decode(const uint8_t *buf, size_t len, struct ssa_ho_state *s, char *why, size_t wlen)
{
	struct rbuf r = { .p = buf, .len = len };
	int err;

	memset(s, 0, sizeof *s);
	if (wlen)
		why[0] = '\0';
	if (len > SSA_HO_MAX_TOTAL)
		return bad(why, wlen, "state of %zu bytes, over the limit", len);
	err = decode_all(&r, s, why, wlen);
	if (err) {
		if (err == ENOMEM)
			snprintf(why, wlen, "out of memory");
		ssa_ho_state_clear(s);
	}
	return err;
}
